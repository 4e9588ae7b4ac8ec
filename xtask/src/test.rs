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

/// The programs the test suite runs, and what to install for each.
pub const PREREQUISITES: [(&str, &str); 3] = [
    (
        "python3",
        "Python 3 with venv (Debian/Ubuntu: apt install python3 python3-venv)",
    ),
    (
        "node",
        "Node.js 18 or later (nodejs.org, or apt install nodejs)",
    ),
    (
        "npm",
        "npm (comes with Node.js from nodejs.org; apt install npm)",
    ),
];

/// The prerequisites not found as executables in the folders of `path` (a PATH value).
pub fn missing(path: &std::ffi::OsStr) -> Vec<&'static str> {
    use std::os::unix::fs::PermissionsExt;
    let found = |program: &str| {
        std::env::split_paths(path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    };
    PREREQUISITES
        .iter()
        .filter(|(program, _)| !found(program))
        .map(|(_, what)| *what)
        .collect()
}

/// Runs `test`.
pub fn run(args: &Args) -> Result<()> {
    let absent = missing(&std::env::var_os("PATH").unwrap_or_default());
    if !absent.is_empty() {
        anyhow::bail!(
            "the test suite needs what is not on the PATH: {}. Install it, then run cargo xtask test again",
            absent.join("; ")
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn missing_prerequisites_are_named_with_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(missing(path).len(), 3);
        for program in ["python3", "npm"] {
            let file = dir.path().join(program);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // A file that is not executable does not count.
        std::fs::write(dir.path().join("node"), "").unwrap();
        assert_eq!(missing(path), [PREREQUISITES[1].1]);
    }
}
