//! Finding a running `kcodec dev`: each one writes a small JSON file (bootstrap servers, schema
//! registry URL, broker count, pid) into a runtime directory and removes it on exit, so the
//! other commands given `--bootstrap-server B` can find the registry of the `kcodec dev` serving
//! `B`, or use the only one running when no bootstrap server is given.
//!
//! The directory is `$KCODEC_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/kcodec`, else `<temp dir>/kcodec`.

use crate::error::CliError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What a running `kcodec dev` publishes about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevInfo {
    /// The brokers' bootstrap servers (`host:port,host:port`).
    pub bootstrap: String,
    /// The dev schema registry's URL, if it runs one.
    pub registry: Option<String>,
    /// How many brokers the cluster has.
    pub brokers: i32,
    /// The process id of the `kcodec dev`.
    pub pid: u32,
}

impl DevInfo {
    fn to_json(&self) -> Value {
        json!({
            "bootstrap": self.bootstrap,
            "registry": self.registry,
            "brokers": self.brokers,
            "pid": self.pid,
        })
    }

    fn from_json(v: &Value) -> Option<DevInfo> {
        Some(DevInfo {
            bootstrap: v.get("bootstrap")?.as_str()?.to_owned(),
            registry: v.get("registry")?.as_str().map(str::to_owned),
            brokers: i32::try_from(v.get("brokers")?.as_i64()?).ok()?,
            pid: u32::try_from(v.get("pid")?.as_u64()?).ok()?,
        })
    }

    /// Whether this dev serves any of the addresses in `bootstrap` (a comma-separated list).
    pub fn serves(&self, bootstrap: &str) -> bool {
        let mine: Vec<String> = addresses(&self.bootstrap);
        addresses(bootstrap).iter().any(|a| mine.contains(a))
    }
}

/// The `host:port` entries of a bootstrap list, without `scheme://` prefixes, `localhost` as
/// `127.0.0.1` and `:9092` added where the port is missing.
pub fn addresses(bootstrap: &str) -> Vec<String> {
    bootstrap
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s.rsplit_once("://").map_or(s, |(_, rest)| rest);
            let s = if s.contains(':') {
                s.to_owned()
            } else {
                format!("{s}:9092")
            };
            match s.strip_prefix("localhost:") {
                Some(port) => format!("127.0.0.1:{port}"),
                None => s,
            }
        })
        .collect()
}

/// The directory discovery files live in.
pub fn runtime_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KCODEC_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("kcodec");
    }
    std::env::temp_dir().join("kcodec")
}

/// A discovery file, removed when dropped.
#[derive(Debug)]
pub struct DiscoveryFile {
    path: PathBuf,
}

impl DiscoveryFile {
    /// Writes `info` to `dev-<host>_<port>.json` (named after the first bootstrap server),
    /// atomically (a temporary file renamed into place).
    pub fn write(info: &DevInfo) -> Result<DiscoveryFile, CliError> {
        let dir = runtime_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::io(format!("creating {}", dir.display()), e))?;
        let first = addresses(&info.bootstrap)
            .into_iter()
            .next()
            .unwrap_or_default()
            .replace([':', '/', '\\'], "_");
        let path = dir.join(format!("dev-{first}.json"));
        let tmp = dir.join(format!(".dev-{first}.json.{}", std::process::id()));
        std::fs::write(&tmp, info.to_json().to_string())
            .map_err(|e| CliError::io(format!("writing {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
        Ok(DiscoveryFile { path })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DiscoveryFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` is still running.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Every running `kcodec dev` (files of dead processes are removed on the way).
pub fn running() -> Vec<DevInfo> {
    let Ok(entries) = std::fs::read_dir(runtime_dir()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("dev-") && name.ends_with(".json")) {
            continue;
        }
        // Discovery files are tiny; anything large is not ours.
        if entry
            .metadata()
            .map(|m| m.len() > 64 * 1024)
            .unwrap_or(true)
        {
            continue;
        }
        let Some(info) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| DevInfo::from_json(&v))
        else {
            continue;
        };
        if alive(info.pid) {
            out.push(info);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    out.sort_by(|a, b| a.bootstrap.cmp(&b.bootstrap));
    out
}

/// The running `kcodec dev` that serves `bootstrap`, if any.
pub fn find(bootstrap: &str) -> Option<DevInfo> {
    running().into_iter().find(|d| d.serves(bootstrap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(
            addresses("PLAINTEXT://localhost:9093, kafka ,10.0.0.1:1"),
            ["127.0.0.1:9093", "kafka:9092", "10.0.0.1:1"]
        );
    }

    #[test]
    fn json_round_trip_and_matching() {
        let info = DevInfo {
            bootstrap: "127.0.0.1:1,127.0.0.1:2".into(),
            registry: None,
            brokers: 2,
            pid: 7,
        };
        assert_eq!(DevInfo::from_json(&info.to_json()), Some(info.clone()));
        assert!(info.serves("localhost:2"));
        assert!(!info.serves("127.0.0.1:3"));
    }
}
