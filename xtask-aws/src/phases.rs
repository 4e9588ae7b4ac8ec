//! What `diff`, `deploy` and `destroy` share: the synthesized stacks, their clients, template
//! upload, and the resolution of a phase's parameters from the manifest.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context as _, Result, bail};
use deployment::{ParameterSource, Phase, Synthesis};
use environment::{Environment, RegionRole};

use crate::aws;
use crate::stack::{ParamValue, Stack, TemplateSource};
pub use xtask::online::Common;

/// The synthesized deployment and the means to reach its stacks.
pub struct Context {
    /// The environment.
    pub env: Environment,
    /// Templates and manifest.
    pub synthesis: Synthesis,
    /// The command's flags.
    pub common: Common,
    /// The bucket each stack's template is uploaded to (see [`Context::locate_staging`]).
    staging: BTreeMap<RegionRole, String>,
    /// The stack whose region is impaired (`--impaired-region`), checked by [`Context::prepare`].
    impaired: Option<RegionRole>,
    /// What the runbooks recorded, read once by [`Context::prepare`] so that the whole command
    /// works from one reading: (stack whose region holds it, SSM name) → value, `None` when the
    /// parameter does not exist.
    recorded: BTreeMap<(RegionRole, String), Option<String>>,
}

/// What the runbooks recorded in the recovery region, read before anything changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveState {
    /// The region serving traffic (`shared/active-region`), when recorded.
    pub active_region: Option<String>,
    /// The failover flag (`shared/flags/failover-active`), when recorded.
    pub failover_flag: Option<String>,
    /// The region of the global database's writer, when it exists.
    pub writer_region: Option<String>,
    /// Whether the recovery region could not be read (it is the impaired one).
    pub unknown: bool,
}

impl LiveState {
    /// Whether the recovery region serves: the runbooks say so, or its cluster writes.
    pub fn failed_over(&self, recovery_region: &str) -> bool {
        self.failover_flag.as_deref() == Some("true")
            || self.active_region.as_deref() == Some(recovery_region)
            || self.writer_region.as_deref() == Some(recovery_region)
    }
}

/// A phase's parameters, or why they cannot be known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Every parameter has a value.
    Ready(BTreeMap<String, ParamValue>),
    /// An input comes from a stack that is not deployed (or lacks the output).
    Blocked(String),
}

impl Context {
    /// Synthesizes the environment of `common` in memory.
    pub fn new(common: &Common) -> Result<Self> {
        let (env, synthesis) =
            xtask::synth::synthesize(&common.synth.env_dir, &common.synth.suffix)?;
        Ok(Context {
            env,
            synthesis,
            common: common.clone(),
            staging: BTreeMap::new(),
            impaired: None,
            recorded: BTreeMap::new(),
        })
    }

    /// The stack of `role`.
    pub async fn stack(&self, role: RegionRole) -> Result<Stack> {
        let entry = self
            .synthesis
            .manifest
            .stacks
            .get(&role)
            .with_context(|| format!("the manifest has no {role} stack"))?;
        Ok(Stack::of(entry, &self.common.target).await)
    }

    /// The template of `role` as compact JSON.
    pub fn template_json(&self, role: RegionRole) -> String {
        serde_json::to_string(&self.synthesis.template(role).to_json())
            .expect("a template serialises")
    }

    /// Whether the stack of `role` is in the impaired region.
    pub fn is_impaired(&self, role: RegionRole) -> bool {
        self.impaired == Some(role)
    }

    /// The region of the stack of `role`.
    pub fn region(&self, role: RegionRole) -> &str {
        &self.synthesis.manifest.stacks[&role].region
    }

    /// Before anything changes: checks `--impaired-region`, makes sure every other region
    /// answers (within seconds; an unreachable one stops the command and names the flag), reads
    /// and prints what the runbooks recorded in the recovery region, and finds the staging
    /// buckets. `command` is `deploy` or `diff`, for messages.
    pub async fn prepare(&mut self, command: &str, out: &mut dyn Write) -> Result<LiveState> {
        if let Some(region) = &self.common.impaired_region {
            let role = RegionRole::ALL
                .into_iter()
                .find(|r| self.region(*r) == region)
                .with_context(|| {
                    format!(
                        "--impaired-region {region}: this environment deploys to {} and {}",
                        self.region(RegionRole::Primary),
                        self.region(RegionRole::Secondary)
                    )
                })?;
            self.impaired = Some(role);
        }
        for role in RegionRole::ALL {
            if self.is_impaired(role) {
                continue;
            }
            let stack = &self.synthesis.manifest.stacks[&role].name;
            if let Err(why) = aws::probe(self.region(role), stack, &self.common.target).await {
                bail!(
                    "{region} does not answer ({why}). Nothing was changed. If {region} is impaired, `cargo xtask {command} --suffix {suffix} --impaired-region {region}` works on the other region alone; a full {command} must follow its recovery",
                    region = self.region(role),
                    suffix = self.env.suffix
                );
            }
        }
        self.read_recorded().await?;
        let live = self.live_state().await?;
        let recovery = self.region(RegionRole::Secondary).to_string();
        if live.unknown {
            writeln!(
                out,
                "live state: unknown ({recovery} is impaired); what the runbooks own keeps its deployed values"
            )?;
        } else {
            let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "not recorded".into());
            writeln!(
                out,
                "live state in {recovery}: active region {}, failover flag {}, database writer in {}{}",
                shown(&live.active_region),
                shown(&live.failover_flag),
                shown(&live.writer_region),
                if live.failed_over(&recovery) {
                    " — failed over: the recovery region's phases run first"
                } else {
                    ""
                }
            )?;
        }
        if let Some(role) = self.impaired {
            writeln!(
                out,
                "{} is impaired: its phases are skipped",
                self.region(role)
            )?;
        }
        self.locate_staging().await?;
        Ok(live)
    }

    /// The SSM parameters the live state shows: the active region and the failover flag, both
    /// recorded in the recovery region.
    fn live_parameters(&self) -> [(RegionRole, String); 2] {
        let paths = self.env.parameter_paths();
        [
            (RegionRole::Secondary, paths.active_region()),
            (
                RegionRole::Secondary,
                paths.flag(cfn::naming::FAILOVER_FLAG),
            ),
        ]
    }

    /// Reads, once, every parameter the runbooks record that the live state or a phase needs;
    /// the impaired region is not read.
    async fn read_recorded(&mut self) -> Result<()> {
        let mut wanted: std::collections::BTreeSet<(RegionRole, String)> =
            self.live_parameters().into_iter().collect();
        for phase in &self.synthesis.manifest.phases {
            for source in phase.parameters.values() {
                if let ParameterSource::Runtime {
                    region, parameter, ..
                } = source
                {
                    wanted.insert((*region, parameter.clone()));
                }
            }
        }
        for (role, name) in wanted {
            if !self.is_impaired(role) {
                let value = self.read_parameter(role, &name).await?;
                self.recorded.insert((role, name), value);
            }
        }
        Ok(())
    }

    /// What [`Context::read_recorded`] read of `name` in the region of `role`.
    fn recorded(&self, role: RegionRole, name: &str) -> Result<Option<String>> {
        self.recorded
            .get(&(role, name.to_string()))
            .cloned()
            .with_context(|| format!("{name} was not read: prepare the context first"))
    }

    /// What the runbooks recorded in the recovery region (as [`Context::read_recorded`] read
    /// it), and where the global database writes.
    async fn live_state(&self) -> Result<LiveState> {
        if self.is_impaired(RegionRole::Secondary) {
            return Ok(LiveState {
                unknown: true,
                ..LiveState::default()
            });
        }
        let [(role, active), (_, flag)] = self.live_parameters();
        let global = self
            .env
            .namer(RegionRole::Primary)
            .name(&cfn::naming::GLOBAL_CLUSTER, None);
        let rds = aws::rds(self.region(RegionRole::Secondary), &self.common.target).await;
        Ok(LiveState {
            active_region: self.recorded(role, &active)?,
            failover_flag: self.recorded(role, &flag)?,
            writer_region: crate::cleanup::writer(&rds, &global)
                .await?
                .map(|w| w.region),
            unknown: false,
        })
    }

    /// The phases in the order to run them: as the manifest says, but while failed over the
    /// recovery region's phases first, so a fix reaches the serving region before the other.
    pub fn phase_order(&self, live: &LiveState) -> Vec<&Phase> {
        let mut phases: Vec<&Phase> = self.synthesis.manifest.phases.iter().collect();
        if live.failed_over(self.region(RegionRole::Secondary)) {
            phases.sort_by_key(|p| p.stack != RegionRole::Secondary);
        }
        phases
    }

    /// Finds the bucket each stack's template goes to: `--staging-bucket` for both, else the
    /// account's staging bucket in each stack's region, which `cargo xtask bootstrap` makes.
    /// Stops, before any stack is touched, when that bucket does not exist.
    pub async fn locate_staging(&mut self) -> Result<()> {
        let regions: BTreeMap<RegionRole, String> = self
            .synthesis
            .manifest
            .stacks
            .iter()
            .map(|(role, entry)| (*role, entry.region.clone()))
            .collect();
        // An empty value (as from an unset variable) means no bucket was named.
        if let Some(bucket) = self
            .common
            .staging_bucket
            .as_deref()
            .filter(|b| !b.is_empty())
        {
            self.staging = regions.keys().map(|r| (*r, bucket.to_string())).collect();
            return Ok(());
        }
        let order: Vec<&str> = RegionRole::ALL
            .iter()
            .filter(|r| !self.is_impaired(**r))
            .map(|r| regions[r].as_str())
            .collect();
        let account = aws::account_id(&order, &self.common.target).await?;
        for (role, region) in regions {
            if self.is_impaired(role) {
                continue;
            }
            let bucket = cfn::naming::staging_bucket(&region, &account);
            let s3 = aws::s3(&region, &self.common.target).await;
            match crate::bootstrap::presence(&s3, &bucket, &region, &account).await? {
                crate::bootstrap::Presence::Ours => {}
                crate::bootstrap::Presence::Missing => bail!(
                    "the staging bucket s3://{bucket} does not exist in {region} (account {account}): run `cargo xtask bootstrap` first (once per account; it makes the staging bucket in every region), or pass --staging-bucket BUCKET. No stack was touched"
                ),
                crate::bootstrap::Presence::Forbidden => bail!(
                    "the staging bucket s3://{bucket} in {region} is not readable with these credentials (403): check that they belong to account {account}, or pass --staging-bucket BUCKET. No stack was touched"
                ),
            }
            self.staging.insert(role, bucket);
        }
        Ok(())
    }

    /// Uploads the template of `role` to its staging bucket, named by content, and returns the
    /// URL CloudFormation reads it from.
    pub async fn template_source(&self, role: RegionRole) -> Result<TemplateSource> {
        let body = self.template_json(role);
        let bucket = self.staging.get(&role).with_context(|| {
            format!("no staging bucket located for the {role} stack (locate_staging first)")
        })?;
        let region = self.region(role);
        let key = format!(
            "trading-dr/{}/{role}-{:016x}.template.json",
            self.env.suffix,
            fnv1a(body.as_bytes())
        );
        let s3 = aws::s3(region, &self.common.target).await;
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .body(body.into_bytes().into())
            .content_type("application/json")
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot upload the {role} template to s3://{bucket}/{key}: {}",
                    aws::describe_error(&e)
                )
            })?;
        Ok(TemplateSource::Url(format!(
            "https://{bucket}.s3.{region}.amazonaws.com/{key}"
        )))
    }

    /// Refuses, before anything changes, when a stack of the deployment is in the middle of an
    /// operation: another deploy or destroy of the same environment is running (or one was
    /// cut off and CloudFormation is still finishing it). `what` is the refused command.
    pub async fn refuse_if_busy(&self, what: &str) -> Result<()> {
        for role in RegionRole::ALL {
            if self.is_impaired(role) {
                continue;
            }
            let stack = self.stack(role).await?;
            if let Some(d) = stack.describe().await?
                && d.busy()
            {
                bail!(
                    "stack {} in {} is {}: another deploy or destroy of {} is running. Nothing was {what}; wait until it ends (the CloudFormation console shows it), then run this again",
                    stack.name,
                    stack.region,
                    d.status,
                    self.env.suffix
                );
            }
        }
        Ok(())
    }

    /// SSM parameter `name` in the region of the `role` stack; `None` when it does not exist
    /// (that stack was never deployed).
    async fn read_parameter(&self, role: RegionRole, name: &str) -> Result<Option<String>> {
        let region = self.region(role);
        let ssm = aws::ssm(region, &self.common.target).await;
        match ssm.get_parameter().name(name).send().await {
            Ok(answer) => Ok(answer.parameter().and_then(|p| p.value()).map(String::from)),
            Err(e) => {
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found())
                {
                    return Ok(None);
                }
                bail!(
                    "cannot read SSM parameter {name} in {region}, where the runbooks record their state: {}",
                    aws::describe_error(&e)
                )
            }
        }
    }

    /// Whether the stack of `phase` has a deployed value for parameter `name` that a change set
    /// can keep (not a failed first creation, which is made again), its state read once into
    /// `cache`.
    async fn has_deployed(
        &self,
        phase: &Phase,
        name: &str,
        cache: &mut Option<Option<crate::stack::Deployed>>,
    ) -> Result<bool> {
        if cache.is_none() {
            *cache = Some(self.stack(phase.stack).await?.describe().await?);
        }
        Ok(
            matches!(cache, Some(Some(d)) if d.parameters.contains_key(name) && !d.needs_recreation()),
        )
    }

    /// Resolves the parameters of `phase` from the deployed stacks.
    pub async fn resolve(&self, phase: &Phase) -> Result<Resolution> {
        let mut values = BTreeMap::new();
        let mut target_state = None;
        for (name, source) in &phase.parameters {
            match source {
                ParameterSource::Value(v) => {
                    values.insert(name.clone(), ParamValue::Value(v.clone()));
                }
                ParameterSource::Previous => {
                    if self.has_deployed(phase, name, &mut target_state).await? {
                        values.insert(name.clone(), ParamValue::UsePrevious);
                    }
                }
                ParameterSource::Runtime {
                    region,
                    parameter,
                    values: mapping,
                    absent,
                } => {
                    if self.is_impaired(*region) {
                        // What the runbooks recorded cannot be read: keep the deployed value.
                        if self.has_deployed(phase, name, &mut target_state).await? {
                            values.insert(name.clone(), ParamValue::UsePrevious);
                            continue;
                        }
                        return Ok(Resolution::Blocked(format!(
                            "parameter {name} is what the runbooks recorded in {}, which is impaired, and the stack has no deployed value to keep",
                            self.region(*region)
                        )));
                    }
                    let value = match self.recorded(*region, parameter)? {
                        None => absent.clone(),
                        Some(live) if mapping.is_empty() => live,
                        Some(live) => mapping.get(&live).cloned().with_context(|| {
                            format!(
                                "SSM parameter {parameter} holds {live:?}, which the runbooks never write (they write {}); set it back, then deploy again",
                                mapping.keys().cloned().collect::<Vec<_>>().join(" or ")
                            )
                        })?,
                    };
                    values.insert(name.clone(), ParamValue::Value(value));
                }
                ParameterSource::Output { stack, output } => {
                    if self.is_impaired(*stack) {
                        if self.has_deployed(phase, name, &mut target_state).await? {
                            values.insert(name.clone(), ParamValue::UsePrevious);
                            continue;
                        }
                        return Ok(Resolution::Blocked(format!(
                            "parameter {name} needs output {output} of the stack in {}, which is impaired, and the stack never had it: this change must wait for {} to recover",
                            self.region(*stack),
                            self.region(*stack)
                        )));
                    }
                    let source = self.stack(*stack).await?;
                    let Some(d) = source.describe().await? else {
                        return Ok(Resolution::Blocked(format!(
                            "parameter {name} comes from output {output} of stack {} in {}, which is not deployed yet",
                            source.name, source.region
                        )));
                    };
                    let Some(v) = d.outputs.get(output) else {
                        return Ok(Resolution::Blocked(format!(
                            "parameter {name} comes from output {output} of stack {} in {}, which has no such output (status {})",
                            source.name, source.region, d.status
                        )));
                    };
                    values.insert(name.clone(), ParamValue::Value(v.clone()));
                }
            }
        }
        Ok(Resolution::Ready(values))
    }
}

/// Prints each runbook-owned parameter of `phase` whose value now differs from the deployed one:
/// the runbooks changed it (a failover or failback), so the change is expected, not drift.
pub fn runbook_owned_changes(
    phase: &Phase,
    deployed: &crate::stack::Deployed,
    values: &BTreeMap<String, ParamValue>,
    out: &mut dyn Write,
) -> Result<()> {
    for (name, source) in &phase.parameters {
        let ParameterSource::Runtime { parameter, .. } = source else {
            continue;
        };
        if let (Some(ParamValue::Value(now)), Some(before)) =
            (values.get(name), deployed.parameters.get(name))
            && now != before
        {
            writeln!(
                out,
                "  runbook-owned: {name} {before} → {now} (as the runbooks recorded it in {parameter}; expected)"
            )?;
        }
    }
    Ok(())
}

/// A stable 64-bit hash (FNV-1a) that names uploaded templates by content.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Prints a phase header.
pub fn header(
    out: &mut dyn Write,
    index: usize,
    total: usize,
    phase: &Phase,
    stack: &Stack,
) -> Result<()> {
    writeln!(
        out,
        "phase {}/{total} {}: stack {} in {}",
        index + 1,
        phase.name,
        stack.name,
        stack.region
    )?;
    Ok(())
}

/// Asks on the terminal unless `yes`; refuses when there is no terminal to ask on.
pub fn confirm(yes: bool, question: &str, expected: &str) -> Result<bool> {
    use std::io::IsTerminal;
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!("{question}: no terminal to ask on; pass --yes to proceed without asking");
    }
    eprint!("{question} [type {expected} to proceed] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == expected)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_is_stable() {
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
