//! `cargo xtask destroy`: the manifest's destroy steps, in order: remove the primary's links to
//! the secondary, delete the secondary, delete the primary. Versioned buckets are emptied before
//! their stack is deleted. Afterwards it says what AWS keeps and how to remove it.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use deployment::{DestroyStep, ParameterSource};

use crate::aws;
use crate::phases::{Context, confirm};
use crate::stack::{ChangeSetResult, ParamValue, TemplateSource};
pub use xtask::online::DestroyArgs as Args;

/// What AWS keeps after the stacks are gone.
#[derive(Debug, Default)]
struct Kept {
    keys: Vec<(String, String)>,
    vaults: Vec<(String, String)>,
}

/// Runs `destroy`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    let context = Context::new(&args.common)?;
    let names: Vec<String> = context
        .synthesis
        .manifest
        .stacks
        .values()
        .map(|s| format!("{} ({})", s.name, s.region))
        .collect();
    let question = format!("destroy {} and everything in them?", names.join(" and "));
    if !confirm(args.yes, &question, context.env.suffix.as_str())? {
        anyhow::bail!("nothing destroyed: the suffix was not typed");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(destroy(&context, out))
}

async fn destroy(context: &Context, out: &mut dyn Write) -> Result<()> {
    let started = Instant::now();
    context.refuse_if_busy("deleted").await?;
    let mut kept = Kept::default();
    let steps = &context.synthesis.manifest.destroy;
    for (i, step) in steps.iter().enumerate() {
        match step {
            DestroyStep::Unlink { stack, parameters } => {
                let s = context.stack(*stack).await?;
                writeln!(
                    out,
                    "step {}/{}: unlink stack {} in {}",
                    i + 1,
                    steps.len(),
                    s.name,
                    s.region
                )?;
                let Some(deployed) = s.describe().await? else {
                    writeln!(out, "  not deployed")?;
                    continue;
                };
                if deployed.needs_recreation() {
                    writeln!(out, "  {}: nothing to unlink", deployed.status)?;
                    continue;
                }
                // Only the link parameters change; everything else keeps its value and the
                // deployed template is reused as it is.
                let mut values: std::collections::BTreeMap<String, ParamValue> = deployed
                    .parameters
                    .keys()
                    .map(|k| (k.clone(), ParamValue::UsePrevious))
                    .collect();
                for (k, v) in parameters {
                    if let ParameterSource::Value(v) = v {
                        values.insert(k.clone(), ParamValue::Value(v.clone()));
                    }
                }
                match s
                    .change_set(&TemplateSource::Previous, &values, false, "unlink")
                    .await?
                {
                    ChangeSetResult::NoChanges => writeln!(out, "  already unlinked")?,
                    ChangeSetResult::Changes { id, changes } => {
                        crate::changes::render(&changes, out)?;
                        s.execute(&id, "unlink", out).await?;
                    }
                }
            }
            DestroyStep::Delete { stack } => {
                let s = context.stack(*stack).await?;
                writeln!(
                    out,
                    "step {}/{}: delete stack {} in {}",
                    i + 1,
                    steps.len(),
                    s.name,
                    s.region
                )?;
                if s.describe().await?.is_none() {
                    writeln!(out, "  not deployed")?;
                    continue;
                }
                let resources = s.resources().await?;
                let s3 = aws::s3(&s.region, &context.common.target).await;
                for (logical, physical, ty) in &resources {
                    match ty.as_str() {
                        "AWS::S3::Bucket" if !physical.is_empty() => {
                            let n = crate::buckets::empty(&s3, physical).await?;
                            writeln!(
                                out,
                                "  emptied bucket {physical} ({logical}): {n} versions and delete markers"
                            )?;
                        }
                        "AWS::KMS::Key" => kept.keys.push((s.region.clone(), physical.clone())),
                        "AWS::Backup::BackupVault" => {
                            kept.vaults.push((s.region.clone(), physical.clone()))
                        }
                        _ => {}
                    }
                }
                s.delete(stack.as_str(), out).await?;
                writeln!(out, "  deleted")?;
            }
        }
    }
    writeln!(
        out,
        "destroyed {} in {:.1} s",
        context.env.suffix,
        started.elapsed().as_secs_f64()
    )?;
    report_kept(context, &kept, out)?;
    Ok(())
}

fn report_kept(context: &Context, kept: &Kept, out: &mut dyn Write) -> Result<()> {
    if kept.keys.is_empty() && kept.vaults.is_empty() {
        return Ok(());
    }
    writeln!(out, "AWS keeps, after the stacks are gone:")?;
    let days = context.env.config.keys.pending_window_days;
    for (region, key) in &kept.keys {
        writeln!(
            out,
            "  KMS key {key} in {region}: pending deletion for {days} days, then deleted by AWS. It cannot be used meanwhile; to keep it: aws kms cancel-key-deletion --key-id {key} --region {region}"
        )?;
    }
    for (region, vault) in &kept.vaults {
        writeln!(
            out,
            "  recovery points of backup vault {vault} in {region} stay until deleted (a vault with recovery points cannot be deleted): aws backup list-recovery-points-by-backup-vault --backup-vault-name {vault} --region {region}, then delete-recovery-point for each"
        )?;
    }
    Ok(())
}
