//! `cargo xtask schemas`: copy the CloudFormation registry schemas of the resource types we use
//! from the pinned cfn-lint's package data into components/cfn/schemas/, where the cfn crate's
//! build script turns them into typed builders. `--check` only reports drift.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::exit;
use crate::fsx::write_all_atomically;

/// Flags of `schemas`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Report vendored schemas that differ from cfn-lint's, change nothing, exit 2 on drift.
    #[arg(long)]
    pub check: bool,
}

/// The folder of vendored schemas.
pub fn schema_dir() -> PathBuf {
    crate::workspace_root().join("components/cfn/schemas")
}

/// The data folder of the cfn-lint installed in the project's virtual environment.
pub fn cfn_lint_schemas() -> Result<PathBuf> {
    let python = crate::test::venv().join("bin/python");
    if !python.is_file() {
        bail!(
            "{} not found: run `cargo xtask test` once, it creates .venv with the pinned tools",
            python.display()
        );
    }
    let sh = xshell::Shell::new()?;
    let dir = xshell::cmd!(
        sh,
        "{python} -c 'import cfnlint, os; print(os.path.dirname(cfnlint.__file__))'"
    )
    .read()
    .context("cannot locate cfn-lint in .venv")?;
    Ok(PathBuf::from(dir.trim()).join("data/schemas"))
}

/// The vendored form of every listed type: file name → content. The form is the registry
/// schema with sorted keys and without `handlers` (IAM permissions of CloudFormation's own
/// handlers, which nothing here reads).
pub fn vendored_form(cfn_lint: &Path, types: &[String]) -> Result<BTreeMap<String, String>> {
    let providers_path = cfn_lint.join("providers/us-east-1.json");
    let providers: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(&providers_path)
            .with_context(|| format!("cannot read {}", providers_path.display()))?,
    )?;
    let mut out = BTreeMap::new();
    for t in types {
        let Some(hash) = providers.get(t) else {
            bail!("{t} is not a resource type cfn-lint knows in us-east-1: check types.txt");
        };
        let path = cfn_lint.join(format!("resources/{hash}.json"));
        let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        if let Some(o) = schema.as_object_mut() {
            o.remove("handlers");
        }
        let mut text = serde_json::to_string_pretty(&sorted(schema))?;
        text.push('\n');
        out.insert(format!("{}.json", t.replace("::", "_")), text);
    }
    Ok(out)
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(o) => {
            let m: BTreeMap<String, Value> = o.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(m.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The types listed in types.txt.
pub fn listed_types(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join("types.txt");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}

/// Vendored files that differ from cfn-lint's form, are missing, or are no longer listed.
pub fn drift(dir: &Path, wanted: &BTreeMap<String, String>) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (name, text) in wanted {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(current) if &current == text => {}
            Ok(_) => problems.push(format!("{name} differs from cfn-lint's schema")),
            Err(_) => problems.push(format!("{name} is missing")),
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if name.ends_with(".json") && !wanted.contains_key(&name) {
            problems.push(format!("{name} is not listed in types.txt"));
        }
    }
    Ok(problems)
}

/// Runs `schemas`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let dir = schema_dir();
    let wanted = vendored_form(&cfn_lint_schemas()?, &listed_types(&dir)?)?;
    let problems = drift(&dir, &wanted)?;
    if args.check {
        for p in &problems {
            writeln!(out, "{p}")?;
        }
        if problems.is_empty() {
            writeln!(out, "{} vendored schemas match cfn-lint", wanted.len())?;
            return Ok(exit::SUCCESS);
        }
        writeln!(out, "run `cargo xtask schemas` to refresh them")?;
        return Ok(exit::DIFFERENCES);
    }
    let files: Vec<(PathBuf, String)> = wanted
        .iter()
        .map(|(name, text)| (dir.join(name), text.clone()))
        .collect();
    write_all_atomically(&files)?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".json") && !wanted.contains_key(&name) {
            std::fs::remove_file(&path)?;
            writeln!(out, "removed {name}")?;
        }
    }
    writeln!(
        out,
        "{} schemas vendored, {} changed",
        wanted.len(),
        problems.len()
    )?;
    Ok(exit::SUCCESS)
}
