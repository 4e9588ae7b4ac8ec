//! `cargo xtask destroy`: the manifest's destroy steps, in order: remove the primary's links to
//! the secondary, delete the secondary, delete the primary.
//!
//! CloudFormation alone leaves three things that make a real deletion fail, and destroy handles
//! each the way AWS allows. It first reads everything (nothing changes) and refuses, before
//! deleting anything, what it cannot finish: a global database whose writer is not in the
//! primary region (after a failover; AWS refuses to delete a writer that has other members), or
//! records in the zone that no stack made. It then prints its plan and asks. Before a stack is
//! deleted: its versioned buckets are emptied; the recovery points of its unlocked backup vaults
//! are deleted (a vault with recovery points cannot be deleted); and, before the zone's stack,
//! ACM's validation records (which CloudFormation writes and never removes) are deleted. A locked
//! vault is never touched: its stack is deleted around it (RetainResources), and the output says
//! what stays. A stack left in DELETE_FAILED by an earlier run is retried with what blocked it
//! named, so destroy can always be run again.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use anyhow::{Result, bail};
use aws_sdk_route53::types::ResourceRecordSet;
use deployment::{DestroyStep, ParameterSource};
use environment::RegionRole;

use crate::aws;
use crate::cleanup::{self, VaultState};
use crate::phases::{Context, confirm};
use crate::stack::{ChangeSetResult, Deletion, Deployed, Failure, ParamValue, TemplateSource};
pub use xtask::online::DestroyArgs as Args;

/// A backup vault of one of the stacks.
#[derive(Debug, Clone)]
struct Vault {
    role: RegionRole,
    region: String,
    name: String,
    logical_id: String,
    state: VaultState,
}

/// The environment's zone and what destroy must remove from it.
#[derive(Debug, Clone)]
struct Zone {
    role: RegionRole,
    id: String,
    name: String,
    validation: Vec<ResourceRecordSet>,
}

/// What destroy found, before changing anything.
#[derive(Debug, Default)]
struct Survey {
    /// Each stack as deployed (absent: not deployed).
    stacks: Vec<(RegionRole, Deployed)>,
    /// Stacks left in DELETE_FAILED, with what blocked them.
    blocked: Vec<(RegionRole, Vec<Failure>)>,
    vaults: Vec<Vault>,
    zone: Option<Zone>,
    keys: Vec<(String, String)>,
}

/// Runs `destroy`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    if let Some(region) = &args.common.impaired_region {
        bail!(
            "destroy deletes both regions and cannot skip one: run it once {region} answers again (--impaired-region is for deploy and diff)"
        );
    }
    let context = Context::new(&args.common)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        context.refuse_if_busy("deleted").await?;
        let survey = survey(&context).await?;
        print_plan(&context, &survey, out)?;
        let names: Vec<String> = context
            .synthesis
            .manifest
            .stacks
            .values()
            .map(|s| format!("{} ({})", s.name, s.region))
            .collect();
        let points: usize = survey
            .vaults
            .iter()
            .filter(|v| !v.state.locked)
            .map(|v| v.state.points.len())
            .sum();
        let question = format!(
            "destroy {} and everything in them{}?",
            names.join(" and "),
            if points > 0 {
                format!(", including {points} backup recovery points")
            } else {
                String::new()
            }
        );
        out.flush()?;
        if !confirm(args.yes, &question, context.env.suffix.as_str())? {
            bail!("nothing destroyed: the suffix was not typed");
        }
        destroy(&context, &survey, out).await
    })
}

/// Reads what destroy needs to know; refuses what it cannot finish. Changes nothing.
async fn survey(context: &Context) -> Result<Survey> {
    let mut survey = Survey::default();
    let mut global_cluster = None;
    let mut record_names: Vec<String> = Vec::new();
    for role in RegionRole::ALL {
        let stack = context.stack(role).await?;
        let Some(deployed) = stack.describe().await? else {
            continue;
        };
        if deployed.delete_failed() {
            survey.blocked.push((role, stack.last_failures().await?));
        }
        survey.stacks.push((role, deployed));
        for (logical, physical, ty) in stack.resources().await? {
            if physical.is_empty() {
                continue;
            }
            match ty.as_str() {
                "AWS::RDS::GlobalCluster" => global_cluster = Some(physical),
                "AWS::KMS::Key" => survey.keys.push((stack.region.clone(), physical)),
                "AWS::Route53::RecordSet" => record_names.push(physical),
                "AWS::Route53::HostedZone" => {
                    survey.zone = Some(Zone {
                        role,
                        id: physical,
                        name: cfn::naming::zone_name(
                            &context.env.suffix,
                            &context.env.config.dns.parent_domain,
                        ),
                        validation: vec![],
                    })
                }
                "AWS::Backup::BackupVault" | "AWS::Backup::LogicallyAirGappedBackupVault" => {
                    let backup = aws::backup(&stack.region, &context.common.target).await;
                    if let Some(state) = cleanup::vault(&backup, &physical).await? {
                        survey.vaults.push(Vault {
                            role,
                            region: stack.region.clone(),
                            name: physical,
                            logical_id: logical,
                            state,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(id) = global_cluster {
        refuse_if_writer_elsewhere(context, &id).await?;
    }
    if let Some(zone) = survey.zone.as_mut() {
        let route53 = aws::route53(&context.common.target).await;
        let records = cleanup::zone_records(&route53, &zone.id).await?;
        let mut foreign = Vec::new();
        for r in records {
            if cleanup::is_zone_own(&r, &zone.name) {
                continue;
            }
            if cleanup::is_acm_validation(&r) {
                zone.validation.push(r);
            } else if !record_names.iter().any(|n| cleanup::same_name(n, r.name())) {
                foreign.push(format!("{} {}", r.name(), r.r#type().as_str()));
            }
        }
        if !foreign.is_empty() {
            bail!(
                "zone {} ({}) holds records no stack of {} made: {}. Route 53 cannot delete a zone that still has them, and destroy deletes only what it can prove is the environment's or ACM's. Move or delete them, then run destroy again. Nothing was deleted",
                zone.name,
                zone.id,
                context.env.suffix,
                foreign.join(", ")
            );
        }
    }
    Ok(survey)
}

/// Refuses when the global database's writer is not in the primary region while other members
/// exist: AWS refuses to delete that writer, so the secondary stack would fail to delete.
async fn refuse_if_writer_elsewhere(context: &Context, global_cluster: &str) -> Result<()> {
    let primary_region = context.region(RegionRole::Primary);
    let rds = aws::rds(primary_region, &context.common.target).await;
    if let Some(w) = cleanup::writer(&rds, global_cluster).await?
        && w.region != primary_region
        && w.members > 1
    {
        bail!(
            "the global database {global_cluster} writes in {} (cluster {}), not in the primary region {primary_region}: AWS refuses to delete a global database's writer while it has other members, so the stacks cannot be deleted in this state. Run `cargo xtask failback --suffix {suffix}` first (the writer returns to {primary_region}), then destroy. Nothing was deleted",
            w.region,
            w.cluster_arn,
            suffix = context.env.suffix
        );
    }
    Ok(())
}

fn print_plan(context: &Context, survey: &Survey, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "destroy plan for {}:", context.env.suffix)?;
    if survey.stacks.is_empty() {
        writeln!(out, "  no stack is deployed")?;
    }
    for (role, deployed) in &survey.stacks {
        let entry = &context.synthesis.manifest.stacks[role];
        writeln!(
            out,
            "  stack {} in {}: {}",
            entry.name, entry.region, deployed.status
        )?;
    }
    for (role, failures) in &survey.blocked {
        writeln!(
            out,
            "  the last deletion of the {role} stack stopped at: {}; destroy removes what it can of that and tries again",
            Failure::list(failures)
        )?;
    }
    for v in &survey.vaults {
        let n = v.state.points.len();
        if v.state.locked {
            writeln!(
                out,
                "  backup vault {} in {}: locked (Vault Lock{}), so its {n} recovery points stay and so does the vault; the stack is deleted around it",
                v.name,
                v.region,
                v.state
                    .min_retention_days
                    .map(|d| format!(", minimum retention {d} days"))
                    .unwrap_or_default()
            )?;
        } else if n > 0 {
            writeln!(
                out,
                "  backup vault {} in {}: its {n} recovery points will be deleted (a vault holding any cannot be deleted)",
                v.name, v.region
            )?;
        }
    }
    if let Some(z) = &survey.zone
        && !z.validation.is_empty()
    {
        writeln!(
            out,
            "  zone {}: {} ACM certificate validation records will be deleted (CloudFormation leaves them behind)",
            z.name,
            z.validation.len()
        )?;
    }
    Ok(())
}

async fn destroy(context: &Context, survey: &Survey, out: &mut dyn Write) -> Result<()> {
    let started = Instant::now();
    let steps = &context.synthesis.manifest.destroy;
    let mut kept_vaults: Vec<&Vault> = Vec::new();
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
                if deployed.needs_recreation() || deployed.delete_failed() {
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
                let s3 = aws::s3(&s.region, &context.common.target).await;
                // The stack's own buckets, by logical id: the only ones destroy empties.
                let mut buckets: BTreeMap<String, String> = BTreeMap::new();
                for (logical, physical, ty) in &s.resources().await? {
                    if ty == "AWS::S3::Bucket" && !physical.is_empty() {
                        let n = crate::buckets::empty(&s3, physical).await?;
                        writeln!(
                            out,
                            "  emptied bucket {physical} ({logical}): {n} versions and delete markers"
                        )?;
                        buckets.insert(logical.clone(), physical.clone());
                    }
                }
                let vaults: Vec<&Vault> =
                    survey.vaults.iter().filter(|v| v.role == *stack).collect();
                for v in &vaults {
                    if v.state.locked {
                        continue;
                    }
                    let backup = aws::backup(&v.region, &context.common.target).await;
                    // Read again: a backup may have finished since the survey.
                    let points = cleanup::vault(&backup, &v.name)
                        .await?
                        .map(|s| s.points)
                        .unwrap_or_default();
                    cleanup::delete_points(&backup, &v.name, &points).await?;
                    if !points.is_empty() {
                        writeln!(
                            out,
                            "  deleted {} recovery points of backup vault {}",
                            points.len(),
                            v.name
                        )?;
                    }
                    // AWS Backup deletes asynchronously: the vault counts a point until it is
                    // gone, and refuses deletion until then.
                    let left = cleanup::wait_until_empty(
                        &backup,
                        &v.name,
                        VAULT_EMPTY_WAIT,
                        context.common.target.poll_interval(),
                        out,
                    )
                    .await?;
                    if left > 0 {
                        writeln!(
                            out,
                            "  backup vault {}: {left} recovery points still being deleted after {} min; the stack's deletion will name the vault",
                            v.name,
                            VAULT_EMPTY_WAIT.as_secs() / 60
                        )?;
                    }
                }
                if let Some(zone) = survey.zone.as_ref().filter(|z| z.role == *stack) {
                    let route53 = aws::route53(&context.common.target).await;
                    // Read again, so a re-run or a record added since is handled the same way.
                    let validation: Vec<ResourceRecordSet> =
                        cleanup::zone_records(&route53, &zone.id)
                            .await?
                            .into_iter()
                            .filter(cleanup::is_acm_validation)
                            .collect();
                    cleanup::delete_records(&route53, &zone.id, &validation).await?;
                    if !validation.is_empty() {
                        writeln!(
                            out,
                            "  deleted {} ACM validation records from zone {}",
                            validation.len(),
                            zone.name
                        )?;
                    }
                }
                let label = stack.as_str();
                let locked: Vec<String> = vaults
                    .iter()
                    .filter(|v| v.state.locked)
                    .map(|v| v.logical_id.clone())
                    .collect();
                let mut retained: Vec<String> = Vec::new();
                let mut attempt = 1;
                let mut deletion = s.delete_retaining(&retained, label, out).await?;
                while let Deletion::Failed(failures) = &deletion {
                    let next = next_attempt(failures, &locked, &retained, &buckets);
                    if next.is_stuck() || attempt >= DELETION_ATTEMPTS {
                        break;
                    }
                    if !next.retain.is_empty() {
                        writeln!(
                            out,
                            "  the locked backup vaults cannot be deleted: deleting the stack around them"
                        )?;
                        retained.extend(next.retain);
                        kept_vaults.extend(vaults.iter().filter(|v| v.state.locked));
                    }
                    for (logical, physical) in &next.refill {
                        let n = crate::buckets::empty(&s3, physical).await?;
                        writeln!(
                            out,
                            "  bucket {physical} ({logical}) received {n} {} after it was emptied (log deliveries arrive minutes late): emptied it again",
                            if n == 1 { "object" } else { "objects" }
                        )?;
                    }
                    attempt += 1;
                    writeln!(
                        out,
                        "  deleting the stack again (attempt {attempt} of at most {DELETION_ATTEMPTS})"
                    )?;
                    deletion = s.delete_retaining(&retained, label, out).await?;
                }
                if let Deletion::Failed(failures) = deletion {
                    bail!(
                        "stack {} in {} is DELETE_FAILED: {}. Fix what is named, then run destroy again: it retries the deletion",
                        s.name,
                        s.region,
                        Failure::list(&failures)
                    );
                }
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
    report_kept(context, survey, &kept_vaults, out)?;
    Ok(())
}

fn report_kept(
    context: &Context,
    survey: &Survey,
    kept_vaults: &[&Vault],
    out: &mut dyn Write,
) -> Result<()> {
    if survey.keys.is_empty() && kept_vaults.is_empty() {
        return Ok(());
    }
    writeln!(out, "AWS keeps, after the stacks are gone:")?;
    let days = context.env.config.keys.pending_window_days;
    for (region, key) in &survey.keys {
        writeln!(
            out,
            "  KMS key {key} in {region}: pending deletion for {days} days, then deleted by AWS. It cannot be used meanwhile; to keep it: aws kms cancel-key-deletion --key-id {key} --region {region}"
        )?;
    }
    for v in kept_vaults {
        writeln!(
            out,
            "  locked backup vault {} in {} with its {} recovery points: Vault Lock forbids deleting them before their retention ends. Delete them then (aws backup delete-recovery-point), then the vault (aws backup delete-backup-vault). They are encrypted with the region's KMS key above: cancel its deletion to keep them restorable",
            v.name,
            v.region,
            v.state.points.len()
        )?;
    }
    Ok(())
}

/// How long destroy waits for AWS Backup to finish deleting a vault's recovery points.
const VAULT_EMPTY_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How many times destroy deletes a stack before it gives up: the first attempt, one more for
/// the locked vaults, and rounds for buckets that log writers filled again.
const DELETION_ATTEMPTS: usize = 5;

/// What a failed deletion leaves destroy to do before it tries again.
#[derive(Debug, Default, PartialEq, Eq)]
struct NextAttempt {
    /// Locked vaults to delete the stack around (RetainResources).
    retain: Vec<String>,
    /// The stack's buckets that received objects after they were emptied: (logical, physical).
    refill: Vec<(String, String)>,
    /// A failure destroy cannot act on: it stops and names it.
    other: bool,
}

impl NextAttempt {
    fn is_stuck(&self) -> bool {
        self.other || (self.retain.is_empty() && self.refill.is_empty())
    }
}

/// Reads a DELETE_FAILED attempt: locked vaults not yet retained, the stack's own buckets that
/// S3 refused because objects arrived after destroy emptied them (CloudTrail, load balancer and
/// server access logs, canary artifacts keep arriving for minutes), and anything else.
fn next_attempt(
    failures: &[Failure],
    locked: &[String],
    retained: &[String],
    buckets: &BTreeMap<String, String>,
) -> NextAttempt {
    let mut next = NextAttempt::default();
    for f in failures {
        if locked.contains(&f.logical_id) {
            if !retained.contains(&f.logical_id) {
                next.retain.push(f.logical_id.clone());
            }
        } else if let Some(physical) = buckets
            .get(&f.logical_id)
            .filter(|_| f.reason.contains("not empty") || f.reason.contains("BucketNotEmpty"))
        {
            next.refill.push((f.logical_id.clone(), physical.clone()));
        } else {
            next.other = true;
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(logical: &str, reason: &str) -> Failure {
        Failure {
            logical_id: logical.into(),
            resource_type: "AWS::S3::Bucket".into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn late_log_deliveries_are_emptied_again_only_in_the_stacks_own_buckets() {
        let buckets =
            BTreeMap::from([("AccessLogsBucket".to_string(), "access-logs-qa".to_string())]);
        let not_empty = "The bucket you tried to delete is not empty";
        let next = next_attempt(
            &[failure("AccessLogsBucket", not_empty)],
            &[],
            &[],
            &buckets,
        );
        assert_eq!(
            next.refill,
            [("AccessLogsBucket".to_string(), "access-logs-qa".to_string())]
        );
        assert!(!next.is_stuck());
        // A bucket that is not the stack's (or another reason) stops destroy: it names it.
        let next = next_attempt(&[failure("Elsewhere", not_empty)], &[], &[], &buckets);
        assert!(next.is_stuck());
        let next = next_attempt(
            &[failure("AccessLogsBucket", "Access Denied")],
            &[],
            &[],
            &buckets,
        );
        assert!(next.is_stuck());
    }

    #[test]
    fn a_locked_vault_is_retained_once() {
        let locked = ["BackupVault".to_string()];
        let vault = failure(
            "BackupVault",
            "Backup vault cannot be deleted (contains 1 recovery points)",
        );
        let next = next_attempt(std::slice::from_ref(&vault), &locked, &[], &BTreeMap::new());
        assert_eq!(next.retain, ["BackupVault"]);
        let again = next_attempt(&[vault], &locked, &locked, &BTreeMap::new());
        assert!(again.is_stuck(), "retained already: nothing more to do");
    }
}
