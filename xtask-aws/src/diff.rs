//! `cargo xtask diff`: for each phase, what a deploy would change. A change set is made against
//! the deployed stack, printed and deleted; a stack that does not exist yet is shown as all
//! additions without touching AWS. Exit code 0: no changes; 2: changes; 1: error.

use std::io::Write;

use anyhow::Result;

use environment::RegionRole;

use crate::changes::{Change, render};
use crate::phases::{Context, LiveState, Resolution, header};
use crate::stack::ChangeSetResult;
use xtask::exit;
pub use xtask::online::DiffArgs as Args;

/// Runs `diff`; returns the exit code.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let mut context = Context::new(&args.common)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let live = context.prepare("diff", out).await?;
        diff(&context, &live, out).await
    })
}

/// The monthly cost of the deployed templates and of the proposed ones (`deployment::cost`),
/// so each stack's change set is shown with what it does to the bill.
struct Costs {
    deployed: deployment::cost::Estimate,
    proposed: deployment::cost::Estimate,
}

impl Costs {
    async fn read(context: &Context) -> Result<Costs> {
        let mut deployed = [serde_json::json!({}), serde_json::json!({})];
        for (slot, role) in [RegionRole::Primary, RegionRole::Secondary]
            .into_iter()
            .enumerate()
        {
            if context.is_impaired(role) {
                // Unknown: priced as the proposal, so the delta says nothing it cannot know.
                deployed[slot] = context.synthesis.template(role).to_json();
                continue;
            }
            let stack = context.stack(role).await?;
            if let Some(t) = stack.template().await? {
                deployed[slot] = t;
            }
        }
        let prices = deployment::cost::Prices::vendored()?;
        Ok(Costs {
            deployed: deployment::cost::estimate(
                &context.env,
                &deployed[0],
                &deployed[1],
                &prices,
            )?,
            proposed: xtask::cost::of(&context.env, &context.synthesis, &prices)?,
        })
    }

    fn line(&self, region: &str, out: &mut dyn Write) -> Result<()> {
        let now = self.deployed.region_standby(region);
        let then = self.proposed.region_standby(region);
        writeln!(
            out,
            "  monthly cost of {region}, steady: {} now, {} after this change ({})",
            xtask::cost::usd(now),
            xtask::cost::usd(then),
            xtask::cost::delta(then - now)
        )?;
        Ok(())
    }
}

async fn diff(context: &Context, live: &LiveState, out: &mut dyn Write) -> Result<u8> {
    let phases = context.phase_order(live);
    let mut pending = false;
    let costs = Costs::read(context).await?;
    let mut costed = std::collections::BTreeSet::new();
    for (index, phase) in phases.iter().copied().enumerate() {
        let stack = context.stack(phase.stack).await?;
        header(out, index, phases.len(), phase, &stack)?;
        if context.is_impaired(phase.stack) {
            writeln!(out, "  skipped: {} is impaired", stack.region)?;
            continue;
        }
        if costed.insert(phase.stack) {
            costs.line(&stack.region, out)?;
        }
        let deployed = stack.describe().await?;
        let Some(deployed) = deployed.filter(|d| !d.needs_recreation()) else {
            // Nothing deployed: every resource of the template is new.
            let template = context.synthesis.template(phase.stack);
            let adds: Vec<Change> = template
                .body()
                .resources()
                .iter()
                .map(|(id, r)| Change {
                    action: "Add".into(),
                    logical_id: id.to_string(),
                    resource_type: r.type_name.to_string(),
                    replacement: None,
                    details: vec![],
                })
                .collect();
            writeln!(out, "  stack {} does not exist yet", stack.name)?;
            render(&adds, out)?;
            pending = true;
            continue;
        };
        let parameters = match context.resolve(phase).await? {
            Resolution::Ready(p) => p,
            Resolution::Blocked(why) => {
                writeln!(out, "  cannot diff yet: {why}")?;
                pending = true;
                continue;
            }
        };
        if deployed.busy() {
            writeln!(
                out,
                "  stack is {}: diff again when it settles",
                deployed.status
            )?;
            pending = true;
            continue;
        }
        crate::phases::runbook_owned_changes(phase, &deployed, &parameters, out)?;
        let template = context.template_source(phase.stack).await?;
        match stack
            .change_set(
                &template,
                &parameters,
                false,
                &format!("diff-{}", phase.name),
            )
            .await?
        {
            ChangeSetResult::NoChanges => writeln!(out, "  no changes")?,
            ChangeSetResult::Changes { id, changes } => {
                render(&changes, out)?;
                stack.delete_change_set(&id).await?;
                pending = true;
            }
        }
    }
    writeln!(
        out,
        "monthly cost of {}, all regions: {} now, {} after this change ({}); after a failover {} (cargo xtask cost --suffix {} has the lines)",
        context.env.suffix.as_str(),
        xtask::cost::usd(costs.deployed.standby_total()),
        xtask::cost::usd(costs.proposed.standby_total()),
        xtask::cost::delta(costs.proposed.standby_total() - costs.deployed.standby_total()),
        xtask::cost::usd(costs.proposed.failover_total()),
        context.env.suffix.as_str(),
    )?;
    Ok(if pending {
        exit::DIFFERENCES
    } else {
        exit::SUCCESS
    })
}
