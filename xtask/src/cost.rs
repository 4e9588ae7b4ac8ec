//! `cargo xtask cost`: what the environment costs a month, per component and region, in the
//! steady state and after a failover, priced offline from the templates `synth` makes, the
//! vendored list prices and the environment's `[cost]` usage (`deployment::cost`).

use std::io::Write;

use anyhow::Result;
use deployment::cost::{CURRENCY, Estimate, Prices, estimate};
pub use deployment::cost::{delta, usd};
use environment::Environment;

use crate::exit;

/// Flags of `cost`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Suffix and configuration, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Print one JSON object: suffix, currency, both totals, the lines and what is not priced.
    #[arg(long)]
    pub json: bool,
}

/// The estimate of `env` from its freshly synthesized templates, at `prices`.
pub fn of(
    env: &Environment,
    synthesis: &deployment::Synthesis,
    prices: &Prices,
) -> Result<Estimate> {
    Ok(estimate(
        env,
        &synthesis.primary.to_json(),
        &synthesis.secondary.to_json(),
        prices,
    )?)
}

/// Runs `cost`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let (env, s) = crate::synth::synthesize(&args.synth.env_dir, &args.synth.suffix)?;
    let prices = Prices::vendored()?;
    let e = of(&env, &s, &prices)?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&e.to_json())?)?;
        return Ok(exit::SUCCESS);
    }
    let read = prices
        .rows()
        .values()
        .map(|r| r.read.clone())
        .max()
        .unwrap_or_default();
    writeln!(
        out,
        "monthly cost of {} in {CURRENCY}: on-demand list prices read {read} (regions/deployment/prices.toml), usage from [cost] in env/",
        e.suffix
    )?;
    writeln!(
        out,
        "  {:<9} {:<13} {:<42} {:>3} {:>12} {:>14}",
        "region", "component", "resource type", "n", "steady", "after failover"
    )?;
    for l in &e.lines {
        writeln!(
            out,
            "  {:<9} {:<13} {:<42} {:>3} {:>12} {:>14}",
            l.region,
            l.component,
            l.resource_type,
            l.count,
            usd(l.standby),
            usd(l.failover)
        )?;
    }
    let regions = [
        env.region(environment::RegionRole::Primary).name.clone(),
        env.region(environment::RegionRole::Secondary).name.clone(),
    ];
    for r in &regions {
        let (standby, failover) = e.region_totals(r);
        writeln!(
            out,
            "  {r:<9} {:<60} {:>12} {:>14}",
            "total",
            usd(standby),
            usd(failover)
        )?;
    }
    writeln!(
        out,
        "  {:<70} {:>12} {:>14}",
        "environment",
        usd(e.standby_total()),
        usd(e.failover_total())
    )?;
    writeln!(
        out,
        "the warm standby ({}) costs {} a month in the steady state; a failover adds {} a month while it lasts",
        regions[1],
        usd(e.region_standby(&regions[1])),
        delta(e.failover_total() - e.standby_total())
    )?;
    if e.not_priced.is_empty() {
        writeln!(out, "not priced: nothing")?;
    } else {
        writeln!(out, "not priced (not in the totals):")?;
        for n in &e.not_priced {
            writeln!(
                out,
                "  {:<9} {:<42} {:>3}  {}",
                n.region, n.resource_type, n.count, n.reason
            )?;
        }
    }
    Ok(exit::SUCCESS)
}
