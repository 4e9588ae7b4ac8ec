//! One CloudFormation stack: describe it, make and read change sets, execute them while
//! streaming stack events, delete it.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};

use crate::aws::describe_error;
use crate::changes::{Change, from_sdk};

/// The longest we wait for one stack operation (an Aurora global database takes long).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// A DNS-validated certificate normally issues within minutes once its zone answers; one still
/// pending after this long almost always means the zone is not delegated.
pub const SLOW_CERTIFICATE: Duration = Duration::from_secs(10 * 60);

/// Certificates pending for longer than `threshold`, given when each started, that have not
/// been reported yet.
pub fn slow_certificates(
    pending: &std::collections::BTreeMap<String, Instant>,
    reported: &HashSet<String>,
    now: Instant,
    threshold: Duration,
) -> Vec<String> {
    pending
        .iter()
        .filter(|(id, started)| {
            !reported.contains(*id) && now.duration_since(**started) >= threshold
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// A stack as it is deployed.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The stack id (an ARN), stable across deletion.
    pub id: String,
    /// The stack status, e.g. `CREATE_COMPLETE`.
    pub status: String,
    /// Outputs by name.
    pub outputs: BTreeMap<String, String>,
    /// Parameters by name.
    pub parameters: BTreeMap<String, String>,
}

impl Deployed {
    /// Whether the stack only exists as a failed first creation (or an unexecuted change
    /// set), which cannot be updated.
    pub fn needs_recreation(&self) -> bool {
        matches!(
            self.status.as_str(),
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "REVIEW_IN_PROGRESS" | "CREATE_FAILED"
        )
    }

    /// Whether an earlier deletion failed (the stack is half deleted; deleting it again is
    /// the only way on).
    pub fn delete_failed(&self) -> bool {
        self.status == "DELETE_FAILED"
    }

    /// Whether the stack is in the middle of an operation.
    pub fn busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }
}

/// A parameter value for a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// This value.
    Value(String),
    /// The value the stack has now.
    UsePrevious,
}

/// Where CloudFormation reads the template from.
#[derive(Debug, Clone)]
pub enum TemplateSource {
    /// An S3 URL, at most 1 MB.
    Url(String),
    /// The template the stack has now.
    Previous,
}

/// What a change set says.
#[derive(Debug, Clone)]
pub enum ChangeSetResult {
    /// The template and parameters equal what is deployed.
    NoChanges,
    /// The change set `id` holds these changes.
    Changes {
        /// The change set's id.
        id: String,
        /// Its changes.
        changes: Vec<Change>,
    },
}

/// A resource CloudFormation could not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// The service's reason.
    pub reason: String,
}

impl Failure {
    /// `Id (Type): reason; …` for messages.
    pub fn list(failures: &[Failure]) -> String {
        if failures.is_empty() {
            return "CloudFormation named no resource".to_string();
        }
        failures
            .iter()
            .map(|f| format!("{} ({}): {}", f.logical_id, f.resource_type, f.reason))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How a deletion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// The stack is gone.
    Gone,
    /// The stack is in DELETE_FAILED; these resources are left.
    Failed(Vec<Failure>),
}

/// One stack in one region.
pub struct Stack {
    /// The client for the stack's region.
    pub client: Client,
    /// The stack name.
    pub name: String,
    /// The region, for messages.
    pub region: String,
    /// Time between polls.
    pub poll: Duration,
}

/// A CloudFormation ClientRequestToken for one request (at most 128 of `[a-zA-Z0-9-]`):
/// the operation and the time, unique per call of this process.
fn request_token(operation: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("trading-dr-{operation}-{nanos}")
}

/// `Ok(())` when an error message says the stack does not exist (an answer, not a failure),
/// else the error, introduced by `context`.
fn absent_or_fail(message: String, context: impl FnOnce() -> String) -> Result<()> {
    if message.contains("does not exist") {
        Ok(())
    } else {
        bail!("{}: {message}", context())
    }
}

impl Stack {
    /// The stack of manifest entry `entry`, reached through `target`.
    pub async fn of(entry: &deployment::StackEntry, target: &xtask::online::Target) -> Stack {
        Stack {
            client: crate::aws::cloudformation(&entry.region, target).await,
            name: entry.name.clone(),
            region: entry.region.clone(),
            poll: target.poll_interval(),
        }
    }

    /// The deployed template as it was submitted (before transforms), when the stack exists.
    pub async fn template(&self) -> Result<Option<serde_json::Value>> {
        match self
            .client
            .get_template()
            .stack_name(&self.name)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send()
            .await
        {
            Ok(t) => Ok(t
                .template_body()
                .and_then(|body| serde_json::from_str(body).ok())),
            Err(e) => {
                absent_or_fail(describe_error(&e), || {
                    format!(
                        "cannot read the template of {} in {}",
                        self.name, self.region
                    )
                })?;
                Ok(None)
            }
        }
    }

    /// The deployed stack, or `None` when there is none (a deleted stack counts as none).
    pub async fn describe(&self) -> Result<Option<Deployed>> {
        self.describe_by(&self.name).await
    }

    async fn describe_by(&self, name_or_id: &str) -> Result<Option<Deployed>> {
        let response = match self
            .client
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                absent_or_fail(describe_error(&e), || {
                    format!("cannot describe stack {} in {}", self.name, self.region)
                })?;
                return Ok(None);
            }
        };
        let Some(s) = response.stacks().first() else {
            return Ok(None);
        };
        let status = s
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(Deployed {
            id: s.stack_id().unwrap_or_default().to_string(),
            status,
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
        }))
    }

    /// Creates a change set and waits until CloudFormation has computed it.
    pub async fn change_set(
        &self,
        template: &TemplateSource,
        parameters: &BTreeMap<String, ParamValue>,
        create: bool,
        label: &str,
    ) -> Result<ChangeSetResult> {
        let name = format!(
            "xtask-{label}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        );
        let mut request = self
            .client
            .create_change_set()
            .stack_name(&self.name)
            .change_set_name(&name)
            .change_set_type(if create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .capabilities(Capability::CapabilityNamedIam)
            // The primary's template declares the AWS::SecretsManager transform (its hosted
            // rotation function): CloudFormation refuses it without this acknowledgement.
            .capabilities(Capability::CapabilityAutoExpand)
            .include_nested_stacks(false)
            .description(format!("cargo xtask, phase {label}"));
        request = match template {
            TemplateSource::Url(u) => request.template_url(u),
            TemplateSource::Previous => request.use_previous_template(true),
        };
        for (key, value) in parameters {
            let p = Parameter::builder().parameter_key(key);
            request = request.parameters(match value {
                ParamValue::Value(v) => p.parameter_value(v).build(),
                ParamValue::UsePrevious => p.use_previous_value(true).build(),
            });
        }
        let created = match request.send().await {
            Ok(c) => c,
            Err(e) => {
                let message = describe_error(&e);
                if message.contains("No updates are to be performed") {
                    return Ok(ChangeSetResult::NoChanges);
                }
                bail!(
                    "CloudFormation rejected the change set for stack {} in {}: {message}",
                    self.name,
                    self.region
                );
            }
        };
        let id = created.id().unwrap_or(&name).to_string();

        let started = Instant::now();
        loop {
            let d = self
                .client
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(&self.name)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot read change set {id}: {}", describe_error(&e))
                })?;
            match d.status() {
                Some(ChangeSetStatus::CreateComplete) => break,
                Some(ChangeSetStatus::Failed) => {
                    let reason = d.status_reason().unwrap_or_default().to_string();
                    let _ = self.delete_change_set(&id).await;
                    if reason.contains("didn't contain changes")
                        || reason.contains("No updates are to be performed")
                    {
                        return Ok(ChangeSetResult::NoChanges);
                    }
                    bail!(
                        "the change set for stack {} in {} failed: {reason}",
                        self.name,
                        self.region
                    );
                }
                _ if started.elapsed() > Duration::from_secs(600) => {
                    bail!(
                        "the change set for stack {} took over 10 minutes",
                        self.name
                    )
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }

        let mut changes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(&self.name)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot read change set {id}: {}", describe_error(&e))
                })?;
            changes.extend(page.changes().iter().filter_map(from_sdk));
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        if changes.is_empty() {
            let _ = self.delete_change_set(&id).await;
            return Ok(ChangeSetResult::NoChanges);
        }
        Ok(ChangeSetResult::Changes { id, changes })
    }

    /// Deletes a change set that will not be executed.
    pub async fn delete_change_set(&self, id: &str) -> Result<()> {
        self.client
            .delete_change_set()
            .change_set_name(id)
            .stack_name(&self.name)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot delete change set {id}: {}", describe_error(&e))
            })?;
        Ok(())
    }

    /// Executes change set `id` and streams the stack's events until it settles.
    pub async fn execute(&self, id: &str, label: &str, out: &mut dyn Write) -> Result<()> {
        let seen = self.event_ids().await?;
        let since = Instant::now();
        // A token per request: if the SDK retries a call that reached CloudFormation, the
        // retry is the same request, not a second execution refused as InvalidChangeSetStatus.
        self.client
            .execute_change_set()
            .change_set_name(id)
            .stack_name(&self.name)
            .client_request_token(request_token("execute"))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot execute the change set of stack {}: {}",
                    self.name,
                    describe_error(&e)
                )
            })?;
        let status = self
            .watch(&self.name.clone(), seen, since, label, out)
            .await?;
        match status.as_deref() {
            Some("CREATE_COMPLETE" | "UPDATE_COMPLETE") => Ok(()),
            other => bail!(
                "stack {} in {} ended in {}",
                self.name,
                self.region,
                other.unwrap_or("deletion")
            ),
        }
    }

    /// Deletes the stack and streams its events until it is gone; a failed deletion is an
    /// error naming the resources that failed and why.
    pub async fn delete(&self, label: &str, out: &mut dyn Write) -> Result<()> {
        match self.delete_retaining(&[], label, out).await? {
            Deletion::Gone => Ok(()),
            Deletion::Failed(failures) => bail!(
                "stack {} in {} ended in DELETE_FAILED: {}",
                self.name,
                self.region,
                Failure::list(&failures)
            ),
        }
    }

    /// Deletes the stack, leaving the resources `retain` (logical ids) in place, which
    /// CloudFormation allows only for a stack in DELETE_FAILED; streams its events until it is
    /// gone or the deletion failed.
    pub async fn delete_retaining(
        &self,
        retain: &[String],
        label: &str,
        out: &mut dyn Write,
    ) -> Result<Deletion> {
        let Some(deployed) = self.describe().await? else {
            return Ok(Deletion::Gone);
        };
        let seen = self.event_ids().await?;
        let since = Instant::now();
        self.client
            .delete_stack()
            .stack_name(&self.name)
            .set_retain_resources((!retain.is_empty()).then(|| retain.to_vec()))
            .client_request_token(request_token("delete"))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot delete stack {}: {}", self.name, describe_error(&e))
            })?;
        match self.watch(&deployed.id, seen, since, label, out).await? {
            None => Ok(Deletion::Gone),
            Some(status) if status == "DELETE_FAILED" => {
                Ok(Deletion::Failed(self.last_failures().await?))
            }
            Some(status) => bail!("stack {} in {} ended in {status}", self.name, self.region),
        }
    }

    /// The resources that failed to delete in the stack's latest deletion attempt, and why.
    pub async fn last_failures(&self) -> Result<Vec<Failure>> {
        let mut failures = Vec::new();
        // Newest first: stop at the start of the latest attempt.
        let start = |e: &Event| {
            e.resource_type == "AWS::CloudFormation::Stack" && e.status == "DELETE_IN_PROGRESS"
        };
        for e in self.events_until(&self.name, start).await? {
            if e.resource_type == "AWS::CloudFormation::Stack" {
                if e.status == "DELETE_IN_PROGRESS" {
                    break;
                }
                continue;
            }
            if e.status == "DELETE_FAILED"
                && !failures
                    .iter()
                    .any(|f: &Failure| f.logical_id == e.logical_id)
            {
                failures.push(Failure {
                    logical_id: e.logical_id,
                    resource_type: e.resource_type,
                    reason: e.reason,
                });
            }
        }
        failures.reverse();
        Ok(failures)
    }

    /// The physical ids and types of the stack's resources, by logical id.
    pub async fn resources(&self) -> Result<Vec<(String, String, String)>> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(&self.name)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot list resources of {}: {}",
                        self.name,
                        describe_error(&e)
                    )
                })?;
            for r in page.stack_resource_summaries() {
                all.push((
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                    r.resource_type().unwrap_or_default().to_string(),
                ));
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    async fn event_ids(&self) -> Result<HashSet<String>> {
        Ok(self
            .events(&self.name)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    /// The stack's events, newest first (the first pages are enough to find new ones).
    async fn events(&self, name_or_id: &str) -> Result<Vec<Event>> {
        self.events_until(name_or_id, |_| true).await
    }

    /// The stack's events, newest first, page by page until a page holds an event `enough`
    /// accepts (or the history ends). DescribeStackEvents answers about a hundred events a
    /// page, and a deletion of one of our stacks makes several hundred: reading only the first
    /// page lost the early failures of an attempt.
    async fn events_until(
        &self,
        name_or_id: &str,
        enough: impl Fn(&Event) -> bool,
    ) -> Result<Vec<Event>> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        // A bound on pages read at once: far more than one operation of our stacks makes.
        for _ in 0..50 {
            let response = match self
                .client
                .describe_stack_events()
                .stack_name(name_or_id)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    absent_or_fail(describe_error(&e), || {
                        format!("cannot read events of {}", self.name)
                    })?;
                    return Ok(all);
                }
            };
            let page: Vec<Event> = response
                .stack_events()
                .iter()
                .map(|e| Event {
                    id: e.event_id().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    reason: e.resource_status_reason().unwrap_or_default().to_string(),
                })
                .collect();
            let done = page.iter().any(&enough);
            all.extend(page);
            token = response.next_token().map(String::from);
            if done || token.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// Prints new events until the stack settles; returns the final status, `None` when the
    /// stack is gone.
    async fn watch(
        &self,
        name_or_id: &str,
        mut seen: HashSet<String>,
        since: Instant,
        label: &str,
        out: &mut dyn Write,
    ) -> Result<Option<String>> {
        let mut failures = Vec::new();
        let mut certificates: BTreeMap<String, Instant> = BTreeMap::new();
        let mut reported: HashSet<String> = HashSet::new();
        let mut unreadable = 0;
        loop {
            // Every page since the last poll (a burst of events spans pages); a read that fails
            // (throttled past the SDK's retries) is tried again on the next poll, a few times:
            // CloudFormation goes on either way.
            let read = self
                .events_until(name_or_id, |e| seen.contains(&e.id))
                .await;
            let events = match read {
                Ok(events) => {
                    unreadable = 0;
                    events
                }
                Err(e) if unreadable < 5 => {
                    unreadable += 1;
                    writeln!(out, "  could not read the events ({e:#}); reading again")?;
                    tokio::time::sleep(self.poll).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut fresh: Vec<Event> = events
                .into_iter()
                .filter(|e| !seen.contains(&e.id))
                .collect();
            fresh.reverse();
            for e in fresh {
                writeln!(
                    out,
                    "  [{:>5.0}s] {label:<12} {:<28} {:<40} {}{}{}",
                    since.elapsed().as_secs_f64(),
                    e.status,
                    e.resource_type,
                    e.logical_id,
                    if e.reason.is_empty() { "" } else { "  " },
                    e.reason
                )
                .context("cannot print")?;
                if e.status.ends_with("_FAILED") {
                    failures.push(format!(
                        "{} ({}): {}",
                        e.logical_id, e.resource_type, e.reason
                    ));
                }
                if e.resource_type == "AWS::CertificateManager::Certificate" {
                    if e.status == "CREATE_IN_PROGRESS" {
                        certificates
                            .entry(e.logical_id.clone())
                            .or_insert_with(Instant::now);
                    } else {
                        certificates.remove(&e.logical_id);
                    }
                }
                seen.insert(e.id);
            }
            for id in slow_certificates(&certificates, &reported, Instant::now(), SLOW_CERTIFICATE)
            {
                writeln!(
                    out,
                    "  certificate {id} has waited {} minutes for DNS validation: the zone is most likely not delegated. Add NS records for it in the parent zone (the primary stack's HostedZoneNameServers output) or set dns.parent_zone_id so the stack adds them; CloudFormation waits up to 72 hours otherwise",
                    SLOW_CERTIFICATE.as_secs() / 60
                )?;
                reported.insert(id);
            }
            let status = self.describe_by(name_or_id).await?.map(|d| d.status);
            let settled = match status.as_deref() {
                None => true,
                Some(s) => !s.ends_with("_IN_PROGRESS"),
            };
            if settled {
                if !failures.is_empty()
                    && !matches!(
                        status.as_deref(),
                        Some("CREATE_COMPLETE" | "UPDATE_COMPLETE") | None
                    )
                {
                    writeln!(out, "  failed resources:")?;
                    for f in &failures {
                        writeln!(out, "    {f}")?;
                    }
                }
                return Ok(status);
            }
            if since.elapsed() > OPERATION_TIMEOUT {
                bail!(
                    "stack {} is still {} after {} minutes; look at the AWS console",
                    self.name,
                    status.unwrap_or_default(),
                    OPERATION_TIMEOUT.as_secs() / 60
                );
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

struct Event {
    id: String,
    status: String,
    resource_type: String,
    logical_id: String,
    reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_pending_too_long_is_reported_once() {
        let start = Instant::now();
        let pending = BTreeMap::from([("Certificate".to_string(), start)]);
        let mut reported = HashSet::new();
        let threshold = Duration::from_secs(600);
        assert!(
            slow_certificates(
                &pending,
                &reported,
                start + Duration::from_secs(599),
                threshold
            )
            .is_empty()
        );
        let slow = slow_certificates(&pending, &reported, start + threshold, threshold);
        assert_eq!(slow, ["Certificate"]);
        reported.insert("Certificate".into());
        assert!(
            slow_certificates(&pending, &reported, start + threshold * 2, threshold).is_empty()
        );
    }
}
