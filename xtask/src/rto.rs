//! `cargo xtask rto`: prints the worst-case recovery-time budget and the recovery-point bounds
//! that `deployment::rto` reads from the synthesized templates.

use std::io::Write;

use anyhow::Result;
use deployment::rto::{RTO_GOAL_SECONDS, RTO_LIMIT_SECONDS, TYPICAL_PROMOTION_SECONDS, budget};

use crate::exit;

/// Flags of `rto`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Suffix and configuration, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
}

/// Runs `rto`; returns the exit code.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let (_, s) = crate::synth::synthesize(&args.synth.env_dir, &args.synth.suffix)?;
    let b = budget(&s.primary.to_json(), &s.secondary.to_json())?;
    writeln!(
        out,
        "recovery time, worst case, from the {} templates:",
        s.manifest.suffix
    )?;
    for l in &b.critical {
        writeln!(out, "  {:>5} s  {:<46} {}", l.seconds, l.step, l.source)?;
    }
    let restored = b.restored();
    writeln!(
        out,
        "  {restored:>5} s  service restored (limit {} s, goal {} s)",
        RTO_LIMIT_SECONDS, RTO_GOAL_SECONDS
    )?;
    writeln!(
        out,
        "  {:>5} s  typically: the same with the promotion as AWS publishes it (under {TYPICAL_PROMOTION_SECONDS} s)",
        b.typical()
    )?;
    writeln!(
        out,
        "  (each call answered at once; under throttling one task's retries add at most {} s)",
        b.retry_seconds
    )?;
    writeln!(out, "then:")?;
    let mut total = restored;
    for l in &b.after {
        total += l.seconds;
        writeln!(out, "  {:>5} s  {:<46} {}", l.seconds, l.step, l.source)?;
    }
    writeln!(out, "  {total:>5} s  runbook complete")?;
    writeln!(out, "recovery point:")?;
    for (store, bound) in &b.rpo {
        writeln!(out, "  {store:<24} {bound}")?;
    }
    writeln!(
        out,
        "restore from backup (data corruption, not a region loss):"
    )?;
    for (what, bound) in &b.restore {
        writeln!(out, "  {what:<24} {bound}")?;
    }
    Ok(if restored > RTO_LIMIT_SECONDS {
        writeln!(out, "over the {RTO_LIMIT_SECONDS} s limit")?;
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}
