//! The library behind `cargo xtask`: every command takes its arguments and a writer, so tests
//! drive them exactly as the binary does. Only xtask reads env/*.toml, writes files and runs
//! other programs.

pub mod fsx;
pub mod schemas;
pub mod synth;
pub mod test;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes.
pub mod exit {
    /// Done; nothing to report.
    pub const SUCCESS: u8 = 0;
    /// Bad input or a failed step; the message says which.
    pub const FAILURE: u8 = 1;
    /// A check found differences (`schemas --check`).
    pub const DIFFERENCES: u8 = 2;
}

/// Trading DR: a warm-standby, two-region deployment as Cargo packages.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write both regional templates and the deploy manifest to out/<suffix>/.
    Synth(synth::Args),
    /// Refresh (or --check) the vendored CloudFormation schemas from the pinned cfn-lint.
    Schemas(schemas::Args),
    /// Install the pinned Python tools into .venv, then run the whole test suite.
    Test(test::Args),
}

/// The workspace root (the parent of xtask/).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
