//! The commands that call AWS, seen from the offline tool: their flags (so `cargo xtask --help`
//! lists them and a bad flag is refused at once), and the hand-over to the `xtask-aws` binary,
//! which links the AWS SDK. Offline commands never link the SDK: a fresh clone's first
//! `cargo xtask synth` compiles only the crates that synthesize.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

/// The package (and binary) that runs the AWS commands.
pub const PACKAGE: &str = "xtask-aws";

/// Names the `xtask-aws` binary to run instead of building it through cargo (tests, or a
/// prebuilt binary in a pipeline).
pub const BINARY_ENV: &str = "TRADING_DR_XTASK_AWS";

/// Where the AWS calls go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Target {
    /// Send every AWS call to this endpoint (a local emulator such as moto) instead of AWS.
    /// The standard AWS_ENDPOINT_URL variable works too.
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
}

impl Target {
    /// Whether calls go to an emulator (explicitly or through AWS_ENDPOINT_URL).
    pub fn is_emulator(&self) -> bool {
        self.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some()
    }

    /// How long to wait between polls: emulators answer at once.
    pub fn poll_interval(&self) -> std::time::Duration {
        if self.is_emulator() {
            std::time::Duration::from_millis(200)
        } else {
            std::time::Duration::from_secs(5)
        }
    }
}

/// Flags every command that deploys or compares stacks takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Suffix, configuration folder and output folder, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Upload templates to this S3 bucket (in both regions) instead of the account's staging
    /// bucket in each region that `cargo xtask bootstrap` makes. The bucket must exist, and
    /// CloudFormation in both regions must be able to read it.
    #[arg(long, value_name = "BUCKET", env = "TRADING_DR_STAGING_BUCKET")]
    pub staging_bucket: Option<String>,
    /// During an outage of REGION: run only the phases that do not touch it (they are listed
    /// as skipped), keep the deployed values of what comes from its stack, and refuse what
    /// needs it. A full deploy must follow its recovery. Without this flag an unreachable region
    /// stops deploy and diff within seconds.
    #[arg(long, value_name = "REGION")]
    pub impaired_region: Option<String>,
    /// Where the AWS calls go.
    #[command(flatten)]
    pub target: Target,
}

/// Flags of `bootstrap`.
#[derive(Debug, Clone, clap::Args)]
pub struct BootstrapArgs {
    /// Folder holding default.toml and the per-environment files: the staging buckets go to
    /// every region any of them deploys to.
    #[arg(long, value_name = "DIR", default_value_os_t = crate::workspace_root().join("env"))]
    pub env_dir: PathBuf,
    /// Bootstrap this region instead (repeat for several); overrides the regions of the
    /// configuration.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Print one JSON object per region (bucket, region, outcome, repaired settings) instead
    /// of text.
    #[arg(long)]
    pub json: bool,
    /// Where the AWS calls go.
    #[command(flatten)]
    pub target: Target,
}

/// Flags of `diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// Suffix, configuration and AWS target.
    #[command(flatten)]
    pub common: Common,
}

/// Flags of `deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// Suffix, configuration, output and AWS target.
    #[command(flatten)]
    pub common: Common,
    /// Execute every change set without asking (for CI and scripts).
    #[arg(long)]
    pub yes: bool,
    /// Allow change sets that replace or remove Aurora clusters, the global cluster, tables,
    /// buckets, backup vaults, KMS keys or secrets. Data in them is lost.
    #[arg(long)]
    pub allow_replace_stateful: bool,
}

/// Flags of `destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    /// Suffix, configuration and AWS target.
    #[command(flatten)]
    pub common: Common,
    /// Destroy without asking for the suffix to be typed.
    #[arg(long)]
    pub yes: bool,
}

/// Flags of `failover` and `failback`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunbookArgs {
    /// Suffix and configuration folder, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Only read and print the preconditions (alarms, database writer, lock, service) through
    /// the runbook itself; nothing changes and no lock is taken.
    #[arg(long)]
    pub dry_run: bool,
    /// Failover only: proceed without the two outage signals agreeing (a drill, or a decision
    /// taken by people). The lock still holds.
    #[arg(long)]
    pub force: bool,
    /// Start without asking for the suffix to be typed.
    #[arg(long)]
    pub yes: bool,
    /// Stop streaming after this many minutes; the execution itself goes on.
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    pub watch_minutes: u64,
    /// Where the AWS calls go.
    #[command(flatten)]
    pub target: Target,
}

/// Flags of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Suffix and configuration folder, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Print one JSON object (suffix, active region, verdict, every check) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where the AWS calls go.
    #[command(flatten)]
    pub target: Target,
}

/// Flags of `drill`.
#[derive(Debug, Clone, clap::Args)]
pub struct DrillArgs {
    /// Suffix, configuration folder and output root (the report goes to OUT/SUFFIX/drills/).
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Start without asking for the suffix to be typed.
    #[arg(long)]
    pub yes: bool,
    /// How the primary is left: `graceful` switches over (no data loss: proves the runbooks move
    /// traffic, capacity and the writer and back); `ungraceful` fails over allowing data loss,
    /// as an outage does, then waits for AWS to rebuild the old primary before failing back
    /// (proves the outage path and measures the rebuild). Chosen explicitly: the two practise
    /// different things.
    #[arg(long, value_enum)]
    pub mode: DrillMode,
    /// Give up on a stage (failover, failback) after this many minutes; the report says where
    /// it stopped.
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    pub watch_minutes: u64,
    /// An ungraceful drill: how long to wait for the old primary to rejoin as a synchronized
    /// secondary before failing back (AWS: "a few minutes to several hours").
    #[arg(long, value_name = "MINUTES", default_value_t = 720)]
    pub rebuild_minutes: u64,
    /// Where the AWS calls go.
    #[command(flatten)]
    pub target: Target,
}

/// How a drill leaves the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrillMode {
    /// Switchover: no data loss, failback at once.
    Graceful,
    /// Failover with data loss, then the rebuild of the old primary, then failback.
    Ungraceful,
}

impl DrillMode {
    /// `graceful` or `ungraceful`.
    pub fn as_str(self) -> &'static str {
        match self {
            DrillMode::Graceful => "graceful",
            DrillMode::Ungraceful => "ungraceful",
        }
    }
}

/// How the AWS commands are reached: a named binary, or `cargo run` of their package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// Run this binary directly ([`BINARY_ENV`]).
    Binary(PathBuf),
    /// Build (when stale) and run the package through this cargo.
    Cargo {
        /// The cargo that runs xtask (`CARGO`), else `cargo` on the PATH.
        cargo: OsString,
        /// The workspace's manifest.
        manifest: PathBuf,
        /// Whether the binary has never been built (the first use says so).
        first_use: bool,
    },
}

impl Launcher {
    /// The launcher for this process: [`BINARY_ENV`] when set, else cargo; `first_use` when no
    /// `xtask-aws` binary sits beside the running xtask.
    pub fn from_env() -> Launcher {
        if let Some(binary) = std::env::var_os(BINARY_ENV) {
            return Launcher::Binary(binary.into());
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(PACKAGE)));
        Launcher::Cargo {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            manifest: crate::workspace_root().join("Cargo.toml"),
            first_use: !beside.is_some_and(|p| p.is_file()),
        }
    }

    /// The process that runs the command line `args` (without the program name).
    pub fn command(&self, args: &[OsString]) -> Command {
        match self {
            Launcher::Binary(path) => {
                let mut c = Command::new(path);
                c.args(args);
                c
            }
            Launcher::Cargo {
                cargo, manifest, ..
            } => {
                let mut c = Command::new(cargo);
                c.arg("run")
                    .arg("--quiet")
                    .arg("--manifest-path")
                    .arg(manifest)
                    .args(["--package", PACKAGE, "--bin", PACKAGE, "--"])
                    .args(args);
                c
            }
        }
    }
}

/// Runs the AWS command line `args` (already parsed and valid) in the `xtask-aws` binary and
/// returns its exit code.
pub fn delegate(args: &[OsString]) -> Result<u8> {
    run(&Launcher::from_env(), args)
}

/// Runs `args` through `launcher`; its exit code, or a failure when a signal ended it.
pub fn run(launcher: &Launcher, args: &[OsString]) -> Result<u8> {
    if let Launcher::Cargo {
        first_use: true, ..
    } = launcher
    {
        eprintln!(
            "building the AWS commands once (the AWS SDK takes a few minutes to compile the first time)…"
        );
    }
    let status = launcher
        .command(args)
        .status()
        .with_context(|| format!("cannot start the AWS commands ({})", shown(launcher)))?;
    // A signal leaves no code: report a failure.
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(crate::exit::FAILURE))
}

fn shown(launcher: &Launcher) -> String {
    match launcher {
        Launcher::Binary(p) => format!("{BINARY_ENV}={}", p.display()),
        Launcher::Cargo { cargo, .. } => {
            format!("{} run --package {PACKAGE}", Path::new(cargo).display())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn cargo_runs_the_aws_package_with_the_command_line_unchanged() {
        let launcher = Launcher::Cargo {
            cargo: "/opt/cargo".into(),
            manifest: "/w/Cargo.toml".into(),
            first_use: false,
        };
        let c = launcher.command(&args(&["deploy", "--suffix", "qa", "--yes"]));
        assert_eq!(c.get_program(), "/opt/cargo");
        let got: Vec<_> = c.get_args().collect();
        assert_eq!(
            got,
            [
                "run",
                "--quiet",
                "--manifest-path",
                "/w/Cargo.toml",
                "--package",
                "xtask-aws",
                "--bin",
                "xtask-aws",
                "--",
                "deploy",
                "--suffix",
                "qa",
                "--yes"
            ]
        );
    }

    #[test]
    fn a_named_binary_is_run_directly() {
        let c = Launcher::Binary("/bin/aws-commands".into()).command(&args(&["diff", "-h"]));
        assert_eq!(c.get_program(), "/bin/aws-commands");
        assert_eq!(c.get_args().collect::<Vec<_>>(), ["diff", "-h"]);
    }

    #[test]
    fn the_exit_code_of_the_aws_commands_is_passed_on() {
        // `sh -c 'exit 2'` stands in for a diff that found changes.
        let sh = Launcher::Binary("sh".into());
        assert_eq!(run(&sh, &args(&["-c", "exit 2"])).unwrap(), 2);
        assert_eq!(run(&sh, &args(&["-c", "exit 0"])).unwrap(), 0);
        // Killed by a signal: no code, reported as a failure.
        assert_eq!(run(&sh, &args(&["-c", "kill -9 $$"])).unwrap(), 1);
    }
}
