//! What `topics`, `produce`, `consume` and `groups` share: finding the cluster (and its
//! `kcodec dev`, if it is one), checking it answers, the schema registry and `k=v` properties.

use crate::discovery::{self, DevInfo};
use crate::error::CliError;
use clap::Args;
use kcodec_registry::SchemaRegistry;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// The default timeout of one network step.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Options of the admin-style commands (`topics`, `groups`): the cluster, the timeout of each
/// network step, and librdkafka client settings.
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Timeout of each network step, in milliseconds.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS, value_name = "MS")]
    pub timeout_ms: u64,
    /// A librdkafka client property, KEY=VALUE (repeatable), e.g. security.protocol=SASL_SSL.
    #[arg(long = "command-property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub command_properties: Vec<(String, String)>,
    /// A properties file of librdkafka client settings (applied before --command-property).
    #[arg(long, value_name = "FILE")]
    pub command_config: Option<std::path::PathBuf>,
}

impl AdminArgs {
    /// The timeout of one network step.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// A client config for `cluster`: `defaults`, then the user's properties over them.
    pub fn config(
        &self,
        cluster: &Cluster,
        defaults: &[(&str, &str)],
    ) -> Result<rdkafka::ClientConfig, CliError> {
        let mut c = rdkafka::ClientConfig::new();
        c.set("bootstrap.servers", &cluster.bootstrap);
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        apply_config(
            &mut c,
            self.command_config.as_deref(),
            &self.command_properties,
        )?;
        Ok(c)
    }

    /// The cluster, checked reachable within the timeout.
    pub async fn connect(&self) -> Result<Cluster, CliError> {
        let cluster = self.connect.cluster()?;
        cluster.check_reachable(self.timeout()).await?;
        Ok(cluster)
    }
}

/// `--bootstrap-server`, shared by every command that talks to Kafka.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Kafka's bootstrap servers (HOST:PORT[,HOST:PORT...]). Default: env
    /// KCODEC_BOOTSTRAP_SERVER, else the only running `kcodec dev`.
    #[arg(long, value_name = "HOST:PORT", env = "KCODEC_BOOTSTRAP_SERVER")]
    pub bootstrap_server: Option<String>,
}

/// The cluster a command talks to.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The bootstrap servers given to librdkafka.
    pub bootstrap: String,
    /// The `kcodec dev` serving it, when it is one.
    pub dev: Option<DevInfo>,
}

impl ConnectArgs {
    /// The cluster: `--bootstrap-server` (or its env), else the only running `kcodec dev`.
    pub fn cluster(&self) -> Result<Cluster, CliError> {
        if let Some(bootstrap) = self
            .bootstrap_server
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            return Ok(Cluster {
                bootstrap: bootstrap.to_owned(),
                dev: discovery::find(bootstrap),
            });
        }
        let mut devs = discovery::running();
        match devs.len() {
            0 => Err(CliError::Usage(
                "no Kafka to talk to: pass --bootstrap-server HOST:PORT, set KCODEC_BOOTSTRAP_SERVER, or start `kcodec dev`"
                    .to_owned(),
            )),
            1 => {
                let dev = devs.remove(0);
                Ok(Cluster {
                    bootstrap: dev.bootstrap.clone(),
                    dev: Some(dev),
                })
            }
            _ => Err(CliError::Usage(format!(
                "several `kcodec dev` are running ({}): pass --bootstrap-server",
                devs.iter()
                    .map(|d| d.bootstrap.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }
}

impl Cluster {
    /// Fails in one line unless one of the bootstrap servers accepts a TCP connection within
    /// `timeout` (librdkafka itself retries silently until its own timeouts).
    pub async fn check_reachable(&self, timeout: Duration) -> Result<(), CliError> {
        let addresses = discovery::addresses(&self.bootstrap);
        if addresses.is_empty() {
            return Err(CliError::Usage(format!(
                "--bootstrap-server {:?} names no server",
                self.bootstrap
            )));
        }
        let mut last = String::new();
        for address in &addresses {
            match tokio::time::timeout(timeout, TcpStream::connect(address.as_str())).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = format!("no answer within {} ms", timeout.as_millis()),
            }
        }
        Err(CliError::Failed(format!(
            "cannot connect to Kafka at {}: {last}",
            self.bootstrap
        )))
    }
}

/// `--registry`, shared by `produce` and `consume`.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// The schema registry's URL. Default: env KCODEC_REGISTRY_URL, else the registry of the
    /// `kcodec dev` serving the bootstrap servers.
    #[arg(long, value_name = "URL", env = "KCODEC_REGISTRY_URL")]
    pub registry: Option<String>,
}

impl RegistryArgs {
    /// A registry client when one is needed (`needed`) or named; an error when needed and none
    /// can be found.
    pub fn client(
        &self,
        cluster: &Cluster,
        needed: bool,
    ) -> Result<Option<Arc<dyn SchemaRegistry>>, CliError> {
        let url = self
            .registry
            .clone()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| cluster.dev.as_ref().and_then(|d| d.registry.clone()));
        match url {
            None if needed => Err(CliError::Usage(
                "this format needs a schema registry: pass --registry URL or set KCODEC_REGISTRY_URL"
                    .to_owned(),
            )),
            None => Ok(None),
            Some(_) if !needed => Ok(None),
            Some(url) => {
                let client = kcodec_registry::http::HttpRegistryConfig::new(&url)
                    .build()
                    .map_err(|source| CliError::Registry {
                        context: format!("schema registry {url}"),
                        source,
                    })?;
                Ok(Some(Arc::new(client)))
            }
        }
    }
}

/// Parses `key=value` (the value may contain `=`).
pub fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// Reads a Java-style properties file of librdkafka settings: `key=value` (or `key: value`)
/// lines; blank lines and lines starting with `#` or `!` are skipped.
pub fn read_properties_file(path: &std::path::Path) -> Result<Vec<(String, String)>, CliError> {
    const LIMIT: u64 = 1 << 20;
    let size = std::fs::metadata(path)
        .map_err(|e| CliError::io(format!("reading {}", path.display()), e))?
        .len();
    if size > LIMIT {
        return Err(CliError::Usage(format!(
            "{} is larger than {LIMIT} bytes: not a client configuration",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let split = line.find(['=', ':']).ok_or_else(|| {
            CliError::Usage(format!(
                "{} line {}: expected KEY=VALUE, got {line:?}",
                path.display(),
                n + 1
            ))
        })?;
        out.push((
            line[..split].trim().to_owned(),
            line[split + 1..].trim().to_owned(),
        ));
    }
    Ok(out)
}

/// Applies a properties file (if given), then `KEY=VALUE` properties, to a client config.
pub fn apply_config(
    config: &mut rdkafka::ClientConfig,
    file: Option<&std::path::Path>,
    properties: &[(String, String)],
) -> Result<(), CliError> {
    if let Some(file) = file {
        for (k, v) in read_properties_file(file)? {
            config.set(k, v);
        }
    }
    for (k, v) in properties {
        config.set(k, v);
    }
    Ok(())
}

/// Kafka's boolean property reading: `true` (any case, trimmed) is true, anything else false.
pub fn bool_property(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties() {
        assert_eq!(
            parse_property("a.b=c=d").unwrap(),
            ("a.b".to_owned(), "c=d".to_owned())
        );
        assert!(parse_property("novalue").is_err());
        assert!(bool_property(" TRUE "));
        assert!(!bool_property("yes"));
    }

    #[test]
    fn properties_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.properties");
        std::fs::write(
            &path,
            "# comment\n\nacks = all\n! other\nclient.id: cli\nx=a=b\n",
        )
        .unwrap();
        assert_eq!(
            read_properties_file(&path).unwrap(),
            [
                ("acks".to_owned(), "all".to_owned()),
                ("client.id".to_owned(), "cli".to_owned()),
                ("x".to_owned(), "a=b".to_owned())
            ]
        );
        std::fs::write(&path, "novalue\n").unwrap();
        assert!(read_properties_file(&path).is_err());
    }
}
