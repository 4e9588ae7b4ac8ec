//! The library behind `cargo xtask`: every command takes its arguments and a writer, so tests
//! drive them exactly as the binary does. Only xtask reads env/*.toml, writes files and runs
//! other programs.

pub mod aws;
pub mod buckets;
pub mod changes;
pub mod deploy;
pub mod destroy;
pub mod diagram;
pub mod diff;
pub mod fsx;
pub mod phases;
pub mod rto;
pub mod runbook;
pub mod schemas;
pub mod stack;
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
    /// A check found differences (`diff`: changes to deploy; `schemas --check`: drift).
    pub const DIFFERENCES: u8 = 2;
    /// `failover` ran but changed nothing: the two outage signals did not agree.
    pub const NOT_CONFIRMED: u8 = 3;
}

/// Trading DR: a warm-standby, two-region deployment as Cargo packages.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write both regional templates and the deploy manifest to out/SUFFIX/.
    Synth(synth::Args),
    /// Show what deploy would change, phase by phase (exit 0: none, 2: changes, 1: error).
    Diff(diff::Args),
    /// Synth, then deploy the phases primary → secondary → primary-link through change sets.
    Deploy(deploy::Args),
    /// Delete both stacks in reverse order, emptying versioned buckets first.
    Destroy(destroy::Args),
    /// Draw the architecture from the templates: DOT, and SVG/PNG when Graphviz is installed.
    Diagram(diagram::Args),
    /// Worst-case recovery time and recovery point bounds, from the templates (exit 1 over 15 min).
    Rto(rto::Args),
    /// Start the failover runbook in the recovery region and stream it (--dry-run: preconditions only)
    ///
    /// Exit 0: done; 1: failed (the error and the path are printed); 3: the outage was not
    /// confirmed, nothing changed.
    Failover(runbook::Args),
    /// Start the failback runbook (planned, back to the primary region) and stream it.
    Failback(runbook::Args),
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
