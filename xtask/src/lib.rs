//! The library behind `cargo xtask`: the whole command line, and the offline commands
//! (synth, rto, diagram, schemas, test). Every command takes its arguments and a writer, so
//! tests drive them exactly as the binary does. The commands that call AWS run in the
//! `xtask-aws` binary (see [`online`]); this crate never links the AWS SDK. Only xtask reads
//! env/*.toml, writes files and runs other programs.

pub mod cost;
pub mod diagram;
pub mod fsx;
pub mod online;
pub mod rto;
pub mod schemas;
pub mod synth;
pub mod test;
pub mod workspace;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes.
pub mod exit {
    /// Done; nothing to report.
    pub const SUCCESS: u8 = 0;
    /// Bad input or a failed step; the message says which.
    pub const FAILURE: u8 = 1;
    /// A check found differences (`diff`: changes to deploy; `schemas --check`: drift;
    /// `status`: a check needs action).
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
    /// Create (once per account) the versioned, encrypted, private staging bucket in each region
    /// that deploy and diff upload templates to; running it again changes nothing.
    Bootstrap(online::BootstrapArgs),
    /// Show what deploy would change, phase by phase (exit 0: none, 2: changes, 1: error).
    Diff(online::DiffArgs),
    /// Synth, then deploy the phases primary → secondary → primary-link through change sets.
    Deploy(online::DeployArgs),
    /// Delete both stacks in reverse order, emptying versioned buckets first.
    Destroy(online::DestroyArgs),
    /// Draw the architecture from the templates: DOT, and SVG/PNG when Graphviz is installed.
    Diagram(diagram::Args),
    /// Worst-case recovery time and recovery point bounds, from the templates (exit 1 over 15 min).
    Rto(rto::Args),
    /// What the environment costs a month per component and region, steady and after a
    /// failover, from the templates and vendored list prices (offline; --json for scripts)
    ///
    /// Usage no template says (data stored, requests, traffic) comes from `[cost]` in env/;
    /// a resource type without a price is listed as not priced, never counted as free.
    Cost(cost::Args),
    /// Start the failover runbook in the recovery region and stream it (--dry-run: preconditions only)
    ///
    /// Exit 0: done; 1: failed (the error and the path are printed); 3: the outage was not
    /// confirmed, nothing changed.
    Failover(online::RunbookArgs),
    /// Start the failback runbook (planned, back to the primary region) and stream it.
    Failback(online::RunbookArgs),
    /// Would failover work now? Every readiness check, read from both regions (exit 0: ready,
    /// 2: action required, 1: error)
    ///
    /// Read-only. A region that does not answer is named and its checks are `unknown`; the
    /// other region is still read.
    Status(online::StatusArgs),
    /// A game day: refuses unless status is ready, then a forced failover and a failback,
    /// measured, with a report (exit 0: passed; 1: failed or over the budget)
    ///
    /// The report (JSON and Markdown) goes to out/SUFFIX/drills/TIMESTAMP/ and to the primary's
    /// configuration bucket under drills/TIMESTAMP/.
    Drill(online::DrillArgs),
    /// Refresh (or --check) the vendored CloudFormation schemas from the pinned cfn-lint.
    Schemas(schemas::Args),
    /// Install the pinned Python tools into .venv, then run the whole test suite.
    Test(test::Args),
}

impl Command {
    /// Where an AWS command's calls go; `None` for an offline command.
    pub fn target(&self) -> Option<&online::Target> {
        match self {
            Command::Bootstrap(a) => Some(&a.target),
            Command::Diff(a) => Some(&a.common.target),
            Command::Deploy(a) => Some(&a.common.target),
            Command::Destroy(a) => Some(&a.common.target),
            Command::Failover(a) | Command::Failback(a) => Some(&a.target),
            Command::Status(a) => Some(&a.target),
            Command::Drill(a) => Some(&a.target),
            Command::Synth(_)
            | Command::Diagram(_)
            | Command::Rto(_)
            | Command::Cost(_)
            | Command::Schemas(_)
            | Command::Test(_) => None,
        }
    }

    /// Whether the command calls AWS (and so runs in the `xtask-aws` binary).
    pub fn is_online(&self) -> bool {
        match self {
            Command::Bootstrap(_)
            | Command::Diff(_)
            | Command::Deploy(_)
            | Command::Destroy(_)
            | Command::Failover(_)
            | Command::Failback(_)
            | Command::Status(_)
            | Command::Drill(_) => true,
            Command::Synth(_)
            | Command::Diagram(_)
            | Command::Rto(_)
            | Command::Cost(_)
            | Command::Schemas(_)
            | Command::Test(_) => false,
        }
    }
}

/// The process's exit code for a command's result; an error is printed first.
pub fn exit_code(result: anyhow::Result<u8>) -> std::process::ExitCode {
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::FAILURE)
        }
    }
}

/// Runs an offline command; its exit code. An AWS command is refused: it runs in `xtask-aws`.
pub fn run_offline(command: &Command, out: &mut dyn std::io::Write) -> anyhow::Result<u8> {
    match command {
        Command::Synth(args) => synth::run(args, out).map(|_| exit::SUCCESS),
        Command::Diagram(args) => diagram::run(args, out).map(|_| exit::SUCCESS),
        Command::Rto(args) => rto::run(args, out),
        Command::Cost(args) => cost::run(args, out),
        Command::Schemas(args) => schemas::run(args, out),
        Command::Test(args) => test::run(args).map(|_| exit::SUCCESS),
        _ => anyhow::bail!(
            "this command calls AWS: run it through `cargo xtask`, which hands it to {}",
            online::PACKAGE
        ),
    }
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
