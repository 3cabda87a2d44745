//! What the CLI's process tests share: a `kcodec registry serve` child and the Python venv.
#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `kcodec registry serve`, killed when dropped.
pub struct Serve {
    pub child: Child,
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kcodec registry serve --listen 127.0.0.1:0 EXTRA...` and reads its URL.
pub fn serve(extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .args(["registry", "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kcodec");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let prefix = "Schema registry listening on ";
    assert!(line.starts_with(prefix), "unexpected first line: {line:?}");
    Serve {
        child,
        url: line[prefix.len()..].trim().to_owned(),
    }
}

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The venv's python, per the project's rule: `KCODEC_PYTHON`, else `<root>/.venv/bin/python`.
/// `None` (after saying so) when neither exists, unless `KCODEC_REQUIRE_PYTHON=1`.
pub fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("KCODEC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    if candidate.exists() {
        return Some(candidate);
    }
    if std::env::var("KCODEC_REQUIRE_PYTHON").as_deref() == Ok("1") {
        panic!(
            "no python venv at {} (run tools/python-env.sh)",
            candidate.display()
        );
    }
    println!("skipped: no python venv (run tools/python-env.sh)");
    None
}
