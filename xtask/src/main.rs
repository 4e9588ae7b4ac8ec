//! `cargo xtask`: the workspace's command line, so that synthesizing, testing, deploying and
//! failing over need nothing but cargo. This binary parses every command's flags; the offline
//! commands run here, and the commands that call AWS are handed, unchanged, to the `xtask-aws`
//! binary (built on first use), so that synth never waits for the AWS SDK to compile.

use std::process::ExitCode;

use clap::Parser;
use xtask::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = if cli.command.is_online() {
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        xtask::online::delegate(&args)
    } else {
        xtask::run_offline(&cli.command, &mut std::io::stdout())
    };
    xtask::exit_code(result)
}
