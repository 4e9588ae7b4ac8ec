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
        Ok(Stack {
            client: aws::cloudformation(&entry.region, &self.common.target).await,
            name: entry.name.clone(),
            region: entry.region.clone(),
            poll: self.common.target.poll_interval(),
        })
    }

    /// The template of `role` as compact JSON.
    pub fn template_json(&self, role: RegionRole) -> String {
        serde_json::to_string(&self.synthesis.template(role).to_json())
            .expect("a template serialises")
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
            .map(|r| regions[r].as_str())
            .collect();
        let account = aws::account_id(&order, &self.common.target).await?;
        for (role, region) in regions {
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
        let region = &self.synthesis.manifest.stacks[&role].region;
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

    /// What the runbooks recorded in SSM parameter `name`, in the region of the `role` stack;
    /// `None` when it does not exist (that stack was never deployed).
    pub async fn runtime_value(&self, role: RegionRole, name: &str) -> Result<Option<String>> {
        let region = &self.synthesis.manifest.stacks[&role].region;
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
                    if target_state.is_none() {
                        target_state = Some(self.stack(phase.stack).await?.describe().await?);
                    }
                    if let Some(Some(d)) = &target_state
                        && d.parameters.contains_key(name)
                        && !d.needs_recreation()
                    {
                        values.insert(name.clone(), ParamValue::UsePrevious);
                    }
                }
                ParameterSource::Runtime {
                    region,
                    parameter,
                    values: mapping,
                    absent,
                } => {
                    let value = match self.runtime_value(*region, parameter).await? {
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
