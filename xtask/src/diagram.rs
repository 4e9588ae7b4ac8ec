//! `cargo xtask diagram`: draws the graph `deployment::diagram` reads from the synthesized
//! templates, one box per region. Writes Graphviz DOT always, and SVG and PNG when `dot` is
//! installed.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use deployment::diagram::TITLES;
pub use deployment::diagram::{Edge, EdgeKind, Graph, Node};
use std::collections::BTreeSet;

use crate::fsx::write_all_atomically;

/// Flags of `diagram`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Suffix, configuration folder and output folder, as for `synth`.
    #[command(flatten)]
    pub synth: crate::synth::Args,
    /// Also write docs/architecture.dot and docs/architecture.svg (the picture the README
    /// shows); needs `dot`.
    #[arg(long)]
    pub docs: bool,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The graph as Graphviz DOT: deterministic, one box per region.
pub fn dot(g: &Graph) -> String {
    let mut d = String::new();
    let _ = writeln!(d, "digraph trading_dr {{");
    let _ = writeln!(
        d,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=2.5, labelloc=t, label=\"Trading DR, warm standby (generated from the templates by cargo xtask diagram)\\nblue: replicated between regions; green: where app traffic goes; red dashed: failover signals and actions\"];"
    );
    let _ = writeln!(
        d,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];"
    );
    let _ = writeln!(d, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for (role, label) in &g.regions {
        let color = if role == "primary" {
            "#e8f0fe"
        } else {
            "#fef7e0"
        };
        let _ = writeln!(d, "  subgraph cluster_{role} {{");
        let _ = writeln!(
            d,
            "    label={}; style=\"rounded,filled\"; fillcolor=\"{color}\";",
            quote(label)
        );
        // In TITLES order: traffic, data, configuration, foundations, then the runbooks.
        let mut nodes: Vec<&Node> = g.nodes.values().filter(|n| &n.region == role).collect();
        nodes.sort_by_key(|n| TITLES.iter().position(|(c, _)| *c == n.component));
        for n in nodes {
            let _ = writeln!(d, "    {} [label={}];", n.id(), quote(&n.lines.join("\n")));
        }
        let _ = writeln!(d, "  }}");
    }
    // Rows: each component's two regional boxes side by side, primary on the left. Only the
    // primary → secondary arrows shape the layout; the others are drawn over it.
    let components: BTreeSet<&str> = g.nodes.values().map(|n| n.component.as_str()).collect();
    for c in components {
        let (p, s) = (format!("primary_{c}"), format!("secondary_{c}"));
        if g.nodes.contains_key(&p) && g.nodes.contains_key(&s) {
            let _ = writeln!(d, "  {p} -> {s} [style=invis, weight=10];");
        }
    }
    // The runbooks sit to the right of what they act on.
    if g.nodes.contains_key("secondary_runbook") && g.nodes.contains_key("secondary_canaries") {
        let _ = writeln!(
            d,
            "  secondary_canaries -> secondary_runbook [style=invis];"
        );
    }
    for e in &g.edges {
        let shapes_layout = e.from.starts_with("primary_")
            && e.to.starts_with("secondary_")
            && e.kind == EdgeKind::Replication;
        let constraint = if shapes_layout {
            ""
        } else {
            ", constraint=false"
        };
        let style = match e.kind {
            EdgeKind::Replication => "color=\"#1a73e8\", penwidth=2",
            EdgeKind::Traffic => "color=\"#188038\", penwidth=2",
            EdgeKind::Failover => "color=\"#d93025\", style=dashed",
        };
        let _ = writeln!(
            d,
            "  {} -> {} [label={}, {style}{constraint}];",
            e.from,
            e.to,
            quote(&e.label)
        );
    }
    let _ = writeln!(d, "}}");
    d
}

/// Renders DOT with `dot` into `format` (svg, png); None when `dot` is not installed.
pub fn render(dot_source: &str, format: &str) -> Result<Option<Vec<u8>>> {
    use std::process::{Command, Stdio};
    let child = Command::new("dot")
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context("cannot run dot"),
    };
    child
        .stdin
        .take()
        .context("dot's input")?
        .write_all(dot_source.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        anyhow::bail!(
            "dot -T{format} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Some(out.stdout))
}

/// The graph of an environment.
pub fn of(env_dir: &Path, suffix: &str) -> Result<Graph> {
    let (env, s) = crate::synth::synthesize(env_dir, suffix)?;
    Ok(deployment::diagram::of(&env, &s))
}

/// Runs `diagram`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    let g = of(&args.synth.env_dir, &args.synth.suffix)?;
    let source = dot(&g);
    let dir = args.synth.out.join(&args.synth.suffix);
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        vec![(dir.join("architecture.dot"), source.clone().into_bytes())];
    let svg = render(&source, "svg")?;
    if let Some(svg) = &svg {
        files.push((dir.join("architecture.svg"), svg.clone()));
        if let Some(png) = render(&source, "png")? {
            files.push((dir.join("architecture.png"), png));
        }
    }
    if args.docs {
        let svg = svg.as_ref().context(
            "--docs writes docs/architecture.svg, which needs Graphviz's dot: install graphviz",
        )?;
        let docs = crate::workspace_root().join("docs");
        files.push((docs.join("architecture.dot"), source.clone().into_bytes()));
        files.push((docs.join("architecture.svg"), svg.clone()));
    }
    write_all_atomically(&files)?;
    writeln!(
        out,
        "{} components in {} regions, {} arrows ({} replication paths)",
        g.nodes.len(),
        g.regions.len(),
        g.edges.len(),
        g.edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Replication)
            .count()
    )?;
    for (path, _) in &files {
        writeln!(out, "wrote {}", crate::synth::shown(path))?;
    }
    if svg.is_none() {
        writeln!(
            out,
            "dot (Graphviz) is not installed: only the DOT file was written; `apt-get install graphviz` renders SVG and PNG"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qa() -> Graph {
        of(&crate::workspace_root().join("env"), "qa").unwrap()
    }

    #[test]
    fn the_dot_source_is_deterministic_and_names_every_node() {
        let g = qa();
        let d = dot(&g);
        assert_eq!(d, dot(&qa()));
        for id in g.nodes.keys() {
            assert!(
                d.contains(&format!("    {id} [label=")),
                "{id} is not declared"
            );
        }
        assert!(d.contains("subgraph cluster_primary") && d.contains("subgraph cluster_secondary"));
    }

    #[test]
    fn labels_are_quoted_for_dot() {
        assert_eq!(quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
    }
}
