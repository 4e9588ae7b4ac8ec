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

/// CloudFormation's limit for an inline template body, in bytes.
pub const INLINE_LIMIT: usize = 51_200;

/// The synthesized deployment and the means to reach its stacks.
pub struct Context {
    /// The environment.
    pub env: Environment,
    /// Templates and manifest.
    pub synthesis: Synthesis,
    /// The command's flags.
    pub common: Common,
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

    /// Where CloudFormation reads the template of `role`: uploaded to the staging bucket when
    /// one is given, else inline, which CloudFormation allows up to 51,200 bytes.
    pub async fn template_source(&self, role: RegionRole) -> Result<TemplateSource> {
        let body = self.template_json(role);
        // An empty value (as from an unset variable) means no bucket.
        let Some(bucket) = self
            .common
            .staging_bucket
            .as_deref()
            .filter(|b| !b.is_empty())
        else {
            if body.len() > INLINE_LIMIT {
                bail!(
                    "the {role} template is {} bytes even as compact JSON, over CloudFormation's inline limit of {INLINE_LIMIT}: pass --staging-bucket BUCKET to upload it",
                    body.len()
                );
            }
            return Ok(TemplateSource::Body(body));
        };
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
