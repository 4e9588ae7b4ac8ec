//! `cargo xtask`: the workspace's command line, so that synthesizing, testing and (later)
//! deploying need nothing but cargo. Each subcommand lives in its own module of the xtask
//! library; this file only parses flags and maps results to exit codes.

use std::process::ExitCode;

use clap::Parser;
use xtask::{Cli, Command, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    let result = match cli.command {
        Command::Synth(args) => xtask::synth::run(&args, &mut out).map(|_| exit::SUCCESS),
        Command::Diff(args) => xtask::diff::run(&args, &mut out),
        Command::Deploy(args) => xtask::deploy::run(&args, &mut out).map(|_| exit::SUCCESS),
        Command::Destroy(args) => xtask::destroy::run(&args, &mut out).map(|_| exit::SUCCESS),
        Command::Diagram(args) => xtask::diagram::run(&args, &mut out).map(|_| exit::SUCCESS),
        Command::Rto(args) => xtask::rto::run(&args, &mut out),
        Command::Failover(args) => {
            xtask::runbook::run(xtask::runbook::Runbook::Failover, &args, &mut out)
        }
        Command::Failback(args) => {
            xtask::runbook::run(xtask::runbook::Runbook::Failback, &args, &mut out)
        }
        Command::Schemas(args) => xtask::schemas::run(&args, &mut out),
        Command::Test(args) => xtask::test::run(&args).map(|_| exit::SUCCESS),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}
