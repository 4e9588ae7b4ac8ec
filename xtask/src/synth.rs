//! `cargo xtask synth`: load and validate the environment, build both templates and the
//! manifest, and write them atomically to out/SUFFIX/. Nothing is written on any error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use deployment::Synthesis;
use environment::{Environment, RegionRole, Source};

use crate::fsx::write_all_atomically;

/// Flags of `synth`.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Args {
    /// Environment suffix: part of every name; env/SUFFIX.toml overrides env/default.toml
    /// when it exists (lowercase letters, digits, inner hyphens; the length limit is derived
    /// from the tightest AWS name limit).
    #[arg(long)]
    pub suffix: String,
    /// Folder holding default.toml and the per-environment files.
    #[arg(long, value_name = "DIR", default_value_os_t = crate::workspace_root().join("env"))]
    pub env_dir: PathBuf,
    /// Output root; files go to OUT/SUFFIX/.
    #[arg(long, value_name = "DIR", default_value_os_t = crate::workspace_root().join("out"))]
    pub out: PathBuf,
}

/// What one stack's template holds, as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSummary {
    /// Which stack.
    pub role: RegionRole,
    /// The stack name.
    pub name: String,
    /// The region.
    pub region: String,
    /// Resources in the template.
    pub resources: usize,
    /// Parameters in the template.
    pub parameters: usize,
    /// Outputs in the template.
    pub outputs: usize,
    /// Size of the template file in bytes.
    pub bytes: usize,
    /// Where it was written.
    pub path: PathBuf,
    /// The region's steady monthly cost in USD (`cargo xtask cost` has the lines).
    pub monthly_usd: f64,
}

/// A path as people should read it: relative to the current folder when inside it.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Reads env/default.toml and env/SUFFIX.toml (when the suffix is well formed and the file
/// exists) and validates them together.
pub fn load_environment(env_dir: &Path, suffix: &str) -> Result<Environment> {
    let read = |path: &Path| -> Result<Source> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", shown(path)))?;
        Ok(Source::new(shown(path), text))
    };
    let default = read(&env_dir.join("default.toml"))?;
    // Only a well-formed suffix names a file; a bad one is reported by validation.
    let overlay_path = env_dir.join(format!("{suffix}.toml"));
    let overlay = match cfn::naming::Suffix::parse(suffix) {
        Ok(_) if overlay_path.is_file() => Some(read(&overlay_path)?),
        _ => None,
    };
    environment::load(suffix, default, overlay).map_err(|e| anyhow!("{e}"))
}

/// Every region an environment of `env_dir` deploys to: those of env/default.toml and of each
/// env/SUFFIX.toml, in order of first appearance. A file whose name is not a well-formed suffix
/// names no environment and is skipped; a file that does not validate is an error.
pub fn configured_regions(env_dir: &Path) -> Result<Vec<String>> {
    let mut suffixes = Vec::new();
    let entries = std::fs::read_dir(env_dir)
        .with_context(|| format!("cannot read the folder {}", shown(env_dir)))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && stem != "default"
            && cfn::naming::Suffix::parse(stem).is_ok()
        {
            suffixes.push(stem.to_string());
        }
    }
    suffixes.sort();
    let default_path = env_dir.join("default.toml");
    let default_text = std::fs::read_to_string(&default_path)
        .with_context(|| format!("cannot read {}", shown(&default_path)))?;
    // The default file alone, under a suffix no overlay can shadow.
    let mut environments = vec![
        environment::load(
            "default",
            Source::new(shown(&default_path), default_text),
            None,
        )
        .map_err(|e| anyhow!("{e}"))?,
    ];
    for suffix in &suffixes {
        environments.push(load_environment(env_dir, suffix)?);
    }
    let mut regions: Vec<String> = Vec::new();
    for env in &environments {
        for role in RegionRole::ALL {
            let name = &env.region(role).name;
            if !regions.contains(name) {
                regions.push(name.clone());
            }
        }
    }
    Ok(regions)
}

/// Loads the environment and builds everything synth writes, in memory.
pub fn synthesize(env_dir: &Path, suffix: &str) -> Result<(Environment, Synthesis)> {
    let env = load_environment(env_dir, suffix)?;
    let synthesis = deployment::synth(&env)?;
    Ok((env, synthesis))
}

/// Prints each region crate's bill of materials, read from the workspace graph; a workspace
/// that cannot be read (no cargo on the PATH) is said, not fatal: the templates are written.
fn bill_of_materials(out: &mut dyn Write) -> Result<()> {
    let bills = crate::workspace::packages(&crate::workspace_root())
        .and_then(|m| crate::workspace::bills(&m));
    match bills {
        Ok(bills) => {
            for bill in bills {
                let assembled: Vec<&str> = bill.assembled().collect();
                writeln!(
                    out,
                    "{:<9} assembles {} components: {}",
                    bill.region,
                    assembled.len(),
                    assembled.join(" ")
                )?;
            }
        }
        Err(e) => writeln!(out, "bill of materials unavailable: {e:#}")?,
    }
    Ok(())
}

/// Runs `synth`, printing one line per stack to `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<Vec<StackSummary>> {
    let started = Instant::now();
    let (env, s) = synthesize(&args.env_dir, &args.suffix)?;
    let estimate = crate::cost::of(&env, &s, &deployment::cost::Prices::vendored()?)?;
    let dir = args.out.join(env.suffix.as_str());
    let mut files = Vec::new();
    let mut summaries = Vec::new();
    for (role, template) in [
        (RegionRole::Primary, &s.primary),
        (RegionRole::Secondary, &s.secondary),
    ] {
        let entry = &s.manifest.stacks[&role];
        let text = template.to_json_string();
        let path = dir.join(&entry.template);
        summaries.push(StackSummary {
            role,
            name: entry.name.clone(),
            region: entry.region.clone(),
            resources: template.body().resources().len(),
            parameters: template.body().parameters().len(),
            outputs: template.body().outputs().len(),
            bytes: text.len(),
            path: path.clone(),
            monthly_usd: estimate.region_standby(&entry.region),
        });
        files.push((path, text));
    }
    // The manifest goes last: a reader that sees it sees the templates it names.
    files.push((dir.join("manifest.json"), s.manifest.to_json_string()));
    write_all_atomically(&files)?;
    for s in &summaries {
        writeln!(
            out,
            "{:<9} {:<24} {:<9} {:>3} resources {:>2} parameters {:>2} outputs {:>7} bytes  {:>10}/month  {}",
            s.role,
            s.name,
            s.region,
            s.resources,
            s.parameters,
            s.outputs,
            s.bytes,
            crate::cost::usd(s.monthly_usd),
            shown(&s.path)
        )?;
    }
    writeln!(
        out,
        "manifest  {} phases: {}  {}  ({} ms)",
        s.manifest.phases.len(),
        s.manifest
            .phases
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" → "),
        shown(&dir.join("manifest.json")),
        started.elapsed().as_millis()
    )?;
    audit_line(&env, &s, out)?;
    bill_of_materials(out)?;
    Ok(summaries)
}

/// Says where the environment's API activity is recorded: its own trail, or the organisation's
/// (never nothing without saying so).
fn audit_line(env: &Environment, s: &Synthesis, out: &mut dyn Write) -> Result<()> {
    let trail = s.primary.to_json()["Resources"][AUDIT_TRAIL]["Properties"]["TrailName"]
        .as_str()
        .map(String::from);
    match trail {
        Some(name) => writeln!(
            out,
            "audit     trail {name}: every region, validated, encrypted, kept {} days, replicated to {}",
            env.config.audit.retention_days,
            env.region(RegionRole::Secondary).name
        )?,
        None if env.config.audit.organization_trail => writeln!(
            out,
            "audit     no trail of its own: the organisation's trail records the account (audit.organization_trail = true)"
        )?,
        None => writeln!(
            out,
            "audit     NO TRAIL: the primary stack was built without its audit feature; API activity is not recorded"
        )?,
    }
    Ok(())
}

/// The trail's logical id (the `audit` component's `TRAIL`).
const AUDIT_TRAIL: &str = "AuditTrail";
