//! `xtask-aws`: the AWS half of `cargo xtask`. It parses the same command line as `cargo xtask`
//! and runs the commands that call AWS; `cargo xtask` builds and starts it on first use. Run
//! directly, it serves the offline commands too, so any `cargo xtask` line works here.

use std::process::ExitCode;

use clap::Parser;
use xtask::{Cli, Command, exit};
use xtask_aws::runbook::Runbook;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    if let Some(target) = cli.command.target()
        && let Err(e) = credentials(target)
    {
        return xtask::exit_code(Err(e));
    }
    let result = match &cli.command {
        Command::Bootstrap(args) => xtask_aws::bootstrap::run(args, &mut out),
        Command::Diff(args) => xtask_aws::diff::run(args, &mut out),
        Command::Deploy(args) => xtask_aws::deploy::run(args, &mut out).map(|_| exit::SUCCESS),
        Command::Destroy(args) => xtask_aws::destroy::run(args, &mut out).map(|_| exit::SUCCESS),
        Command::Failover(args) => xtask_aws::runbook::run(Runbook::Failover, args, &mut out),
        Command::Failback(args) => xtask_aws::runbook::run(Runbook::Failback, args, &mut out),
        Command::Status(args) => xtask_aws::status::run(args, &mut out),
        Command::Drill(args) => xtask_aws::drill::run(args, &mut out),
        offline => xtask::run_offline(offline, &mut out),
    };
    xtask::exit_code(result)
}

/// Fails in one line, before any work, when there are no usable credentials.
fn credentials(target: &xtask::online::Target) -> anyhow::Result<()> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_string());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(xtask_aws::aws::check_credentials(&region, target))
}
