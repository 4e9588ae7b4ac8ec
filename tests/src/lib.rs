//! Shared helpers of the workspace-wide tests, and our policy rules.

pub mod authz;
pub mod graph;
pub mod policy;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The environments whose templates are linted, checked and snapshotted.
pub const ENVIRONMENTS: &[&str] = &["qa", "prod"];

/// Synthesizes `suffix` from the workspace's env/ folder, in memory.
pub fn synth(suffix: &str) -> Synth {
    let (_, s) = xtask::synth::synthesize(&xtask::workspace_root().join("env"), suffix)
        .unwrap_or_else(|e| panic!("synth {suffix}: {e:#}"));
    Synth {
        primary: s.primary.to_json_string(),
        secondary: s.secondary.to_json_string(),
        manifest: s.manifest.to_json_string(),
    }
}

/// The three files synth writes, as text.
pub struct Synth {
    /// primary.template.json
    pub primary: String,
    /// secondary.template.json
    pub secondary: String,
    /// manifest.json
    pub manifest: String,
}

impl Synth {
    /// The two templates with their stack role and region.
    pub fn templates(&self) -> [(&'static str, &'static str, &str); 2] {
        [
            ("primary", "us-east-1", self.primary.as_str()),
            ("secondary", "us-east-2", self.secondary.as_str()),
        ]
    }
}

/// Parses a template.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("templates are JSON")
}

/// The project's virtual environment: `TRADING_DR_VENV`, else `.venv` in the workspace.
pub fn venv() -> PathBuf {
    std::env::var_os("TRADING_DR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| xtask::workspace_root().join(".venv"))
}

/// The pinned cfn-lint; panics with the fix when it is not installed.
pub fn cfn_lint() -> PathBuf {
    let path = venv().join("bin/cfn-lint");
    assert!(
        path.is_file(),
        "{} not found: run `cargo xtask test`, which installs the pinned tools into .venv",
        path.display()
    );
    path
}

/// Runs cfn-lint on `template` for `region` and returns its findings as JSON.
pub fn lint(template: &Path, region: &str) -> Vec<Value> {
    let out = Command::new(cfn_lint())
        .args(["--format", "json", "--regions", region, "--"])
        .arg(template)
        .output()
        .expect("cfn-lint runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint printed no JSON ({e}); exit {:?}\nstdout: {stdout}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
