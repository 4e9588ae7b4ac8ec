//! `cargo xtask test`: make sure .venv holds the pinned Python tools, then run the whole test
//! suite with the environment the tests expect.

use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// Flags of `test`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test` (after `--`).
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

/// The project's virtual environment.
pub fn venv() -> PathBuf {
    crate::workspace_root().join(".venv")
}

/// Creates .venv and installs requirements.txt into it, unless it already matches.
pub fn ensure_venv(sh: &Shell) -> Result<()> {
    let root = crate::workspace_root();
    let requirements = root.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    let venv = venv();
    let stamp = venv.join(".installed-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let python = venv.join("bin/python");
    if !python.is_file() {
        eprintln!("creating {}", venv.display());
        cmd!(sh, "python3 -m venv {venv}")
            .run()
            .context("python3 -m venv failed: install python3 and python3-venv")?;
    }
    eprintln!("installing the pinned Python tools from requirements.txt");
    cmd!(
        sh,
        "{python} -m pip install --quiet --disable-pip-version-check -r {requirements}"
    )
    .run()
    .context("pip install failed")?;
    std::fs::write(&stamp, wanted)?;
    Ok(())
}

/// Installs the pinned asl-validator (tests/asl) unless it is there.
pub fn ensure_asl_validator(sh: &Shell) -> Result<()> {
    let dir = crate::workspace_root().join("tests/asl");
    if dir.join("node_modules/.bin/asl-validator").is_file() {
        return Ok(());
    }
    eprintln!("installing the pinned asl-validator into tests/asl");
    cmd!(sh, "npm ci --silent --no-audit --no-fund --prefix {dir}")
        .run()
        .context("npm ci failed: install Node.js and npm")?;
    Ok(())
}

/// Runs `test`.
pub fn run(args: &Args) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(crate::workspace_root());
    ensure_venv(&sh)?;
    ensure_asl_validator(&sh)?;
    let extra = &args.cargo_args;
    let _venv = sh.push_env("TRADING_DR_VENV", venv());
    cmd!(sh, "cargo test --workspace --locked {extra...}")
        .run()
        .context("the test suite failed")?;
    Ok(())
}
