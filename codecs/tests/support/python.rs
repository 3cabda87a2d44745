//! Runs `tools/oracle/oracle.py` (Confluent's official Python client) for live checks.
//!
//! The interpreter is `$KCODEC_PYTHON`, else `<workspace root>/.venv/bin/python`. Without one,
//! the caller prints a skip line and returns — unless `KCODEC_REQUIRE_PYTHON=1`, which makes
//! the missing venv a failure (CI sets it).

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The venv's interpreter, or `None` (after printing why) when the test should skip.
pub fn python(test: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("KCODEC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    if candidate.exists() {
        return Some(candidate);
    }
    if std::env::var("KCODEC_REQUIRE_PYTHON").as_deref() == Ok("1") {
        panic!(
            "{test}: no python venv at {} (run tools/python-env.sh)",
            candidate.display()
        );
    }
    println!("{test}: skipped: no python venv (run tools/python-env.sh)");
    None
}

/// Sends one request to oracle.py and returns its JSON answer.
pub fn oracle(python: &PathBuf, request: &Value) -> Value {
    let mut child = Command::new(python)
        .arg(root().join("tools/oracle/oracle.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start oracle.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "oracle.py failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).expect("oracle.py answers JSON")
}
