//! `cargo xtask deploy`: synth, then the phases of the manifest in order. Each phase makes a
//! change set, shows it, executes it (after confirmation) while streaming stack events, and
//! hands its outputs to the next phase. A failed phase stops the run; a re-run continues from
//! the deployed state.

use std::io::Write;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::changes::{refused, render};
use crate::phases::{Context, LiveState, Resolution, confirm, header};
use crate::stack::ChangeSetResult;
pub use xtask::online::DeployArgs as Args;

/// Runs `deploy`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    xtask::synth::run(&args.common.synth, out)?;
    let mut context = Context::new(&args.common)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let live = context.prepare("deploy", out).await?;
        deploy(&context, &live, args, out).await
    })
}

async fn deploy(
    context: &Context,
    live: &LiveState,
    args: &Args,
    out: &mut dyn Write,
) -> Result<()> {
    let started = Instant::now();
    context.refuse_if_busy("changed").await?;
    let phases = context.phase_order(live);
    let mut skipped = Vec::new();
    for (index, phase) in phases.iter().copied().enumerate() {
        let phase_started = Instant::now();
        let stack = context.stack(phase.stack).await?;
        header(out, index, phases.len(), phase, &stack)?;
        if context.is_impaired(phase.stack) {
            writeln!(out, "  skipped: {} is impaired", stack.region)?;
            skipped.push(phase.name.as_str());
            continue;
        }
        let parameters = match context.resolve(phase).await? {
            Resolution::Ready(p) => p,
            Resolution::Blocked(why) => bail!("phase {} cannot start: {why}", phase.name),
        };
        let mut deployed = stack.describe().await?;
        if let Some(d) = &deployed {
            if d.busy() {
                bail!(
                    "stack {} is {}: wait until the running operation ends, then deploy again",
                    stack.name,
                    d.status
                );
            }
            if d.delete_failed() {
                bail!(
                    "stack {} in {} is DELETE_FAILED: a destroy did not finish. Run `cargo xtask destroy --suffix {}` to finish it, then deploy",
                    stack.name,
                    stack.region,
                    context.env.suffix
                );
            }
            if d.needs_recreation() {
                writeln!(
                    out,
                    "  stack {} is {} (a failed first creation): deleting it before creating it again",
                    stack.name, d.status
                )?;
                stack.delete(phase.name.as_str(), out).await?;
                deployed = None;
            }
        }
        if let Some(d) = &deployed {
            crate::phases::runbook_owned_changes(phase, d, &parameters, out)?;
        }
        let template = context.template_source(phase.stack).await?;
        let result = stack
            .change_set(
                &template,
                &parameters,
                deployed.is_none(),
                phase.name.as_str(),
            )
            .await?;
        let (id, changes) = match result {
            ChangeSetResult::NoChanges => {
                writeln!(out, "  no changes")?;
                continue;
            }
            ChangeSetResult::Changes { id, changes } => (id, changes),
        };
        render(&changes, out)?;
        let creating = deployed.is_none();
        // A change set that will not run is deleted; when it was to create the stack, the
        // empty stack CloudFormation made for it (REVIEW_IN_PROGRESS) goes too.
        let abandon = async |out: &mut dyn Write| -> Result<()> {
            stack.delete_change_set(&id).await?;
            if creating {
                stack.delete(phase.name.as_str(), out).await?;
            }
            Ok(())
        };
        let dangerous = refused(&changes);
        if !dangerous.is_empty() && !args.allow_replace_stateful {
            abandon(out).await?;
            bail!(
                "refusing phase {}: the change set {}; data would be lost. Pass --allow-replace-stateful if that is intended",
                phase.name,
                dangerous.join(", ")
            );
        }
        let question = format!("deploy phase {} ({} changes)?", phase.name, changes.len());
        let confirmed = confirm(args.yes, &question, "y");
        if !matches!(confirmed, Ok(true)) {
            abandon(out).await?;
            confirmed?;
            bail!("phase {} not deployed: not confirmed", phase.name);
        }
        stack.execute(&id, phase.name.as_str(), out).await.map_err(|e| {
            anyhow::anyhow!(
                "phase {} failed: {e:#}; later phases were not started. Fix the cause and run deploy again: it continues from the deployed state",
                phase.name
            )
        })?;
        writeln!(
            out,
            "  phase {} done in {:.1} s",
            phase.name,
            phase_started.elapsed().as_secs_f64()
        )?;
    }
    writeln!(
        out,
        "deployed {} of {} phases of {} in {:.1} s",
        phases.len() - skipped.len(),
        phases.len(),
        context.env.suffix,
        started.elapsed().as_secs_f64()
    )?;
    if !skipped.is_empty() {
        let region = &context.common.impaired_region.clone().unwrap_or_default();
        writeln!(
            out,
            "skipped phases {} ({region} is impaired): once {region} recovers, run `cargo xtask deploy --suffix {}` without --impaired-region so both regions match",
            skipped.join(", "),
            context.env.suffix
        )?;
        return Ok(());
    }
    store_artifacts(context, out).await
}

/// The primary output naming the configuration bucket.
const CONFIG_BUCKET_OUTPUT: &str = "ConfigBucketName";

/// Keeps what was deployed — both templates (with the task definitions in them) and the
/// manifest — in the primary's versioned configuration bucket, which replicates to the
/// secondary and which AWS Backup covers: ECS itself has no AWS Backup support.
async fn store_artifacts(context: &Context, out: &mut dyn Write) -> Result<()> {
    let primary = context.stack(environment::RegionRole::Primary).await?;
    let Some(bucket) = primary
        .describe()
        .await?
        .and_then(|d| d.outputs.get(CONFIG_BUCKET_OUTPUT).cloned())
    else {
        writeln!(
            out,
            "no configuration bucket: deployed templates not stored"
        )?;
        return Ok(());
    };
    let s3 = crate::aws::s3(&primary.region, &context.common.target).await;
    let prefix = format!("deployments/{}", context.env.suffix);
    let s = &context.synthesis;
    let files = [
        ("primary.template.json", s.primary.to_json_string()),
        ("secondary.template.json", s.secondary.to_json_string()),
        ("manifest.json", s.manifest.to_json_string()),
    ];
    for (name, body) in files {
        let key = format!("{prefix}/{name}");
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .content_type("application/json")
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "deployed, but storing s3://{bucket}/{key} failed: {}",
                    crate::aws::describe_error(&e)
                )
            })?;
    }
    writeln!(
        out,
        "stored the deployed templates and manifest in s3://{bucket}/{prefix}/ (versioned, replicated, backed up)"
    )?;
    Ok(())
}
