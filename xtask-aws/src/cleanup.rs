//! What CloudFormation cannot delete on its own, read and removed the way AWS allows: ACM's
//! validation records left in the environment's zone, recovery points in backup vaults, and the
//! global database's writer after a failover. `destroy` reads all of it before deleting anything
//! (see its plan) and removes it just before the stack that holds it.

use anyhow::{Result, bail};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType};

use crate::aws::describe_error;

/// The domain ACM's DNS-validation targets are in.
const ACM_VALIDATION_DOMAIN: &str = ".acm-validations.aws";

/// Whether a record is one of ACM's DNS-validation CNAMEs (`_<hash>.<domain>` →
/// `_<hash>.<…>.acm-validations.aws.`): only ACM hands out targets in that domain, so such a
/// record is provably ACM's and nothing else of the environment's.
pub fn is_acm_validation(record: &ResourceRecordSet) -> bool {
    record.r#type() == &RrType::Cname
        && record.name().starts_with('_')
        && !record.resource_records().is_empty()
        && record.resource_records().iter().all(|r| {
            r.value()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .ends_with(ACM_VALIDATION_DOMAIN)
        })
}

/// A DNS name compared without case or trailing dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Whether Route 53 keeps `record` with the zone: its own SOA and NS at the apex.
pub fn is_zone_own(record: &ResourceRecordSet, zone_name: &str) -> bool {
    matches!(record.r#type(), RrType::Soa | RrType::Ns) && same_name(record.name(), zone_name)
}

/// Every record set of the zone.
pub async fn zone_records(
    route53: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>> {
    let mut all = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut request = route53.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, kind, identifier)) = next.take() {
            request = request
                .start_record_name(name)
                .start_record_type(kind)
                .set_start_record_identifier(identifier);
        }
        let page = request.send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot list the records of zone {zone_id}: {}",
                describe_error(&e)
            )
        })?;
        all.extend(page.resource_record_sets().iter().cloned());
        if !page.is_truncated() {
            return Ok(all);
        }
        match (page.next_record_name(), page.next_record_type()) {
            (Some(name), Some(kind)) => {
                next = Some((
                    name.to_string(),
                    kind.clone(),
                    page.next_record_identifier().map(String::from),
                ))
            }
            _ => return Ok(all),
        }
    }
}

/// Deletes `records` (as listed) from the zone in one change.
pub async fn delete_records(
    route53: &aws_sdk_route53::Client,
    zone_id: &str,
    records: &[ResourceRecordSet],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let changes = records
        .iter()
        .map(|r| {
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(r.clone())
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(ChangeBatch::builder().set_changes(Some(changes)).build()?)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot delete the validation records in zone {zone_id}: {}",
                describe_error(&e)
            )
        })?;
    Ok(())
}

/// A backup vault as destroy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultState {
    /// Whether Vault Lock protects it: its recovery points cannot be deleted before their
    /// retention ends, so destroy never touches them.
    pub locked: bool,
    /// The lock's minimum retention, in days.
    pub min_retention_days: Option<i64>,
    /// Its recovery points' ARNs (those not already being deleted).
    pub points: Vec<String>,
    /// Points AWS is deleting (DeleteRecoveryPoint is asynchronous: DELETING until gone).
    pub deleting: usize,
}

/// The vault `name` in the client's region; `None` when it does not exist.
pub async fn vault(backup: &aws_sdk_backup::Client, name: &str) -> Result<Option<VaultState>> {
    let described = match backup
        .describe_backup_vault()
        .backup_vault_name(name)
        .send()
        .await
    {
        Ok(d) => d,
        Err(e) => {
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception())
            {
                return Ok(None);
            }
            bail!(
                "cannot describe backup vault {name}: {}",
                describe_error(&e)
            );
        }
    };
    let mut points = Vec::new();
    let mut deleting = 0;
    let mut token: Option<String> = None;
    loop {
        let page = backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(name)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot list the recovery points of backup vault {name}: {}",
                    describe_error(&e)
                )
            })?;
        for p in page.recovery_points() {
            if p.status() == Some(&aws_sdk_backup::types::RecoveryPointStatus::Deleting) {
                deleting += 1;
            } else if let Some(arn) = p.recovery_point_arn() {
                points.push(arn.to_string());
            }
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    Ok(Some(VaultState {
        locked: described.locked().unwrap_or(false),
        min_retention_days: described.min_retention_days(),
        points,
        deleting,
    }))
}

/// Deletes the recovery points `points` of vault `name`.
pub async fn delete_points(
    backup: &aws_sdk_backup::Client,
    name: &str,
    points: &[String],
) -> Result<()> {
    for arn in points {
        backup
            .delete_recovery_point()
            .backup_vault_name(name)
            .recovery_point_arn(arn)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot delete recovery point {arn} of backup vault {name}: {}",
                    describe_error(&e)
                )
            })?;
    }
    Ok(())
}

/// Waits until vault `name` holds no recovery point, those being deleted included (AWS Backup
/// deletes asynchronously, and a vault that still counts one cannot be deleted), at most
/// `limit`, saying how many remain each minute; how many remained when it gave up.
pub async fn wait_until_empty(
    backup: &aws_sdk_backup::Client,
    name: &str,
    limit: std::time::Duration,
    poll: std::time::Duration,
    out: &mut dyn std::io::Write,
) -> Result<usize> {
    let started = std::time::Instant::now();
    let mut said = std::time::Duration::ZERO;
    loop {
        let left = vault(backup, name)
            .await?
            .map(|v| v.points.len() + v.deleting)
            .unwrap_or(0);
        if left == 0 || started.elapsed() >= limit {
            return Ok(left);
        }
        if started.elapsed() >= said {
            writeln!(
                out,
                "  backup vault {name}: {left} recovery points still being deleted"
            )?;
            said += std::time::Duration::from_secs(60);
        }
        tokio::time::sleep(poll).await;
    }
}

/// The global database's writer and how many members it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The writer cluster's ARN.
    pub cluster_arn: String,
    /// The writer's region (from its ARN).
    pub region: String,
    /// Members, the writer included.
    pub members: usize,
}

/// The writer of global cluster `id`; `None` when the global cluster does not exist or has no
/// writer.
pub async fn writer(rds: &aws_sdk_rds::Client, id: &str) -> Result<Option<Writer>> {
    let answer = match rds
        .describe_global_clusters()
        .global_cluster_identifier(id)
        .send()
        .await
    {
        Ok(a) => a,
        Err(e) => {
            if e.as_service_error()
                .is_some_and(|s| s.is_global_cluster_not_found_fault())
            {
                return Ok(None);
            }
            bail!(
                "cannot describe global cluster {id}: {}",
                describe_error(&e)
            );
        }
    };
    let Some(global) = answer.global_clusters().first() else {
        return Ok(None);
    };
    let members = global.global_cluster_members();
    Ok(members
        .iter()
        .find(|m| m.is_writer() == Some(true))
        .and_then(|m| m.db_cluster_arn())
        .map(|arn| Writer {
            cluster_arn: arn.to_string(),
            region: arn.split(':').nth(3).unwrap_or_default().to_string(),
            members: members.len(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::ResourceRecord;

    fn record(name: &str, kind: RrType, values: &[&str]) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(kind)
            .ttl(300)
            .set_resource_records(Some(
                values
                    .iter()
                    .map(|v| ResourceRecord::builder().value(*v).build().unwrap())
                    .collect(),
            ))
            .build()
            .unwrap()
    }

    #[test]
    fn only_acm_validation_cnames_are_recognised() {
        let acm = record(
            "_3f2a.app.qa.example.com.",
            RrType::Cname,
            &["_9bc1.abcdefghij.acm-validations.aws."],
        );
        assert!(is_acm_validation(&acm));
        // Someone's own CNAME, an underscore name pointing elsewhere, another type.
        for other in [
            record(
                "www.qa.example.com.",
                RrType::Cname,
                &["_x.acm-validations.aws."],
            ),
            record(
                "_dmarc.qa.example.com.",
                RrType::Cname,
                &["reports.example.net."],
            ),
            record(
                "_x.qa.example.com.",
                RrType::Txt,
                &["\"acm-validations.aws\""],
            ),
            record(
                "_x.qa.example.com.",
                RrType::Cname,
                &["_y.acm-validations.aws.evil.net."],
            ),
        ] {
            assert!(!is_acm_validation(&other), "{other:?}");
        }
    }

    #[test]
    fn the_zone_keeps_only_its_apex_soa_and_ns() {
        let zone = "qa.example.com";
        assert!(is_zone_own(
            &record("qa.example.com.", RrType::Ns, &["ns-1."]),
            zone
        ));
        assert!(is_zone_own(
            &record("QA.example.com", RrType::Soa, &["ns-1. h. 1"]),
            zone
        ));
        // A delegation below the apex is a record like any other.
        assert!(!is_zone_own(
            &record("sub.qa.example.com.", RrType::Ns, &["ns-1."]),
            zone
        ));
    }
}
