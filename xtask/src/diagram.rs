//! `cargo xtask diagram`: the architecture drawn from the synthesized templates, not by hand.
//! Each region is a box holding the components its template contains (found from resource
//! types); the arrows between them are read from the templates too: Aurora's global cluster,
//! the DynamoDB global table's replicas, S3 replication rules, backup copy actions, the
//! EventBridge global endpoint, the configuration-change forwarding rule, the VPC peering, the
//! Route 53 failover records, the outside-in canary's target, and the calls the failover
//! runbook makes. Writes Graphviz DOT always, and SVG and PNG when `dot` is installed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use runbook::contract::Runbook;
use serde_json::Value;

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

/// A component box inside a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    /// `primary`, `secondary` or `global`.
    pub region: String,
    /// The component (`aurora`, `storage`, …).
    pub component: String,
    /// The label's lines.
    pub lines: Vec<String>,
}

impl Node {
    /// The DOT identifier.
    pub fn id(&self) -> String {
        format!("{}_{}", self.region, self.component)
    }
}

/// An arrow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// From (node id).
    pub from: String,
    /// To (node id).
    pub to: String,
    /// What flows.
    pub label: String,
    /// Replication (solid, bold) or a failover action (dashed).
    pub kind: EdgeKind,
}

/// What an arrow means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// Data or configuration copied between regions.
    Replication,
    /// Where traffic goes.
    Traffic,
    /// What the failover runbook and its signals act on.
    Failover,
}

/// The picture's content.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Region labels by role.
    pub regions: BTreeMap<String, String>,
    /// Component boxes.
    pub nodes: BTreeMap<String, Node>,
    /// Arrows.
    pub edges: BTreeSet<Edge>,
}

/// The component a resource belongs to: buckets are storage and the traffic switch is DNS's;
/// then by logical-id prefix (components that share resource types); then by type.
fn component(logical: &str, ty: &str) -> Option<&'static str> {
    const BY_ID: &[(&str, &str)] = &[
        ("FailoverSwitch", "dns"),
        ("Config", "configuration"),
        ("Runbook", "runbook"),
        (Runbook::Failover.logical_id(), "runbook"),
        (Runbook::Failback.logical_id(), "runbook"),
        ("FailoverTrigger", "runbook"),
        ("PrimaryFailure", "canaries"),
        ("OutsideIn", "canaries"),
        ("Canary", "canaries"),
        ("Alert", "canaries"),
    ];
    let service = ty.split("::").nth(1)?;
    if service == "S3" {
        return Some("storage");
    }
    if let Some((_, c)) = BY_ID.iter().find(|(p, _)| logical.starts_with(p)) {
        return Some(c);
    }
    Some(match service {
        "EC2" => "network",
        "KMS" => "keys",
        "RDS" | "SecretsManager" => "aurora",
        "DynamoDB" => "sessions",
        "ECS" | "ElasticLoadBalancingV2" | "ApplicationAutoScaling" => "service",
        "CertificateManager" | "Route53" => "dns",
        "Events" => "events",
        "Backup" => "backup",
        "Synthetics" | "SNS" | "CloudWatch" => "canaries",
        "SSM" => "configuration",
        "StepFunctions" => "runbook",
        _ => return None,
    })
}

/// [`component`] of a template resource.
fn component_of(id: &str, r: &Value) -> Option<&'static str> {
    component(id, r["Type"].as_str().unwrap_or(""))
}

/// Component titles, in the order the picture lists them.
const TITLES: &[(&str, &str)] = &[
    ("dns", "Route 53"),
    ("service", "Fargate service + ALB"),
    ("aurora", "Aurora PostgreSQL"),
    ("sessions", "DynamoDB sessions"),
    ("storage", "S3 buckets"),
    ("configuration", "SSM parameters"),
    ("events", "EventBridge"),
    ("backup", "AWS Backup"),
    ("network", "Network"),
    ("keys", "KMS key"),
    ("canaries", "Canaries + alarms"),
    ("runbook", "Failover runbooks"),
];

fn resources(t: &Value) -> Vec<(&String, &Value)> {
    t["Resources"]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// Strings found anywhere inside `v`.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn mentions(v: &Value, needle: &str) -> bool {
    let mut all = Vec::new();
    strings(v, &mut all);
    all.iter().any(|s| s.contains(needle))
}

/// The label lines of a component: its resources' telling details.
fn details(component: &str, all: &Value) -> Vec<String> {
    let mine: Vec<(&String, &Value)> = resources(all)
        .into_iter()
        .filter(|(id, r)| component_of(id, r) == Some(component))
        .collect();
    let count = |ty: &str| mine.iter().filter(|(_, r)| r["Type"] == ty).count();
    let names = |ty: &str, property: &str| -> Vec<String> {
        mine.iter()
            .filter(|(_, r)| r["Type"] == ty)
            .filter_map(|(_, r)| r["Properties"][property].as_str().map(String::from))
            .collect()
    };
    match component {
        "network" => vec![format!(
            "VPC, {} subnets, {} NAT, {} endpoints",
            count("AWS::EC2::Subnet"),
            count("AWS::EC2::NatGateway"),
            count("AWS::EC2::VPCEndpoint")
        )],
        "aurora" => {
            let mut l = vec![format!(
                "cluster, {} instance(s)",
                count("AWS::RDS::DBInstance")
            )];
            if count("AWS::RDS::GlobalCluster") > 0 {
                l.push("global cluster".into());
            }
            l
        }
        "sessions" => {
            if count("AWS::DynamoDB::GlobalTable") > 0 {
                vec!["global table".into()]
            } else {
                vec![]
            }
        }
        "storage" => names("AWS::S3::Bucket", "BucketName")
            .iter()
            .map(|n| n.split('-').next().unwrap_or(n).to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|n| format!("{n} bucket"))
            .collect(),
        "service" => vec![format!("{} service, HTTPS ALB", count("AWS::ECS::Service"))],
        "dns" => {
            let mut l = Vec::new();
            if count("AWS::CertificateManager::Certificate") > 0 {
                l.push("certificate".into());
            }
            if count("AWS::CloudWatch::Alarm") > 0 {
                l.push("traffic switch alarm".into());
            }
            if count("AWS::Route53::HostedZone") > 0 {
                l.push("hosted zone".into());
            }
            let checks = count("AWS::Route53::HealthCheck");
            if checks > 0 {
                l.push(format!("{checks} health checks"));
            }
            l
        }
        "events" => {
            let mut l = vec!["bus, archive".to_string()];
            if count("AWS::Events::Endpoint") > 0 {
                l.push("global endpoint".into());
            }
            l
        }
        "canaries" => vec![format!(
            "{} canaries, {} alarms",
            count("AWS::Synthetics::Canary"),
            count("AWS::CloudWatch::Alarm") + count("AWS::CloudWatch::CompositeAlarm")
        )],
        "configuration" => vec![format!("{} parameters", count("AWS::SSM::Parameter"))],
        "runbook" => names("AWS::StepFunctions::StateMachine", "StateMachineName"),
        _ => vec![],
    }
}

/// Builds the graph from both templates (as JSON) and their stacks' regions.
pub fn graph(
    primary: &Value,
    secondary: &Value,
    regions: (&str, &str),
    stacks: (&str, &str),
) -> Graph {
    let mut g = Graph::default();
    g.regions.insert(
        "primary".into(),
        format!("{} (primary): {}", regions.0, stacks.0),
    );
    g.regions.insert(
        "secondary".into(),
        format!("{} (recovery): {}", regions.1, stacks.1),
    );
    let templates = [("primary", primary), ("secondary", secondary)];
    for (role, t) in templates {
        let present: BTreeSet<&str> = resources(t)
            .iter()
            .filter_map(|(id, r)| component_of(id, r))
            .collect();
        for c in present {
            let title = TITLES.iter().find(|(k, _)| *k == c).map_or(c, |(_, v)| v);
            let mut lines = vec![title.to_string()];
            lines.extend(details(c, t));
            let node = Node {
                region: role.into(),
                component: c.into(),
                lines,
            };
            g.nodes.insert(node.id(), node);
        }
    }
    // A global table's replicas live in other regions without a resource of their own there.
    for ((role, t), (other, _)) in templates.iter().zip(templates.iter().rev()) {
        let other_region = if *role == "primary" {
            regions.1
        } else {
            regions.0
        };
        let replicated = resources(t).iter().any(|(_, r)| {
            r["Type"] == "AWS::DynamoDB::GlobalTable"
                && mentions(&r["Properties"]["Replicas"], other_region)
        });
        let id = format!("{other}_sessions");
        if replicated && !g.nodes.contains_key(&id) {
            g.nodes.insert(
                id,
                Node {
                    region: other.to_string(),
                    component: "sessions".into(),
                    lines: vec![
                        "DynamoDB sessions".into(),
                        "replica (of the global table)".into(),
                    ],
                },
            );
        }
    }
    let mut edges: Vec<Edge> = Vec::new();
    let mut edge = |from: &str, to: &str, label: &str, kind: EdgeKind| {
        edges.push(Edge {
            from: from.into(),
            to: to.into(),
            label: label.into(),
            kind,
        });
    };
    for ((role, t), (other, other_t)) in templates.iter().zip(templates.iter().rev()) {
        let other_region = if *role == "primary" {
            regions.1
        } else {
            regions.0
        };
        for (id, r) in resources(t) {
            let ty = r["Type"].as_str().unwrap_or("");
            let p = &r["Properties"];
            let c = component_of(id, r).unwrap_or("");
            let from = format!("{role}_{c}");
            let to = format!("{other}_{c}");
            match ty {
                "AWS::S3::Bucket" if !p["ReplicationConfiguration"].is_null() => {
                    let label = if r.to_string().contains("ReplicationTime") {
                        "S3 replication (RTC, 15 min)"
                    } else {
                        "S3 replication"
                    };
                    edge(&from, &to, label, EdgeKind::Replication);
                }
                "AWS::Backup::BackupPlan" if mentions(p, &format!(":backup:{other_region}:")) => {
                    edge(&from, &to, "backup copies", EdgeKind::Replication)
                }
                "AWS::Events::Endpoint" => edge(
                    &from,
                    &to,
                    "global endpoint (events replicated)",
                    EdgeKind::Replication,
                ),
                "AWS::Events::Rule" if mentions(p, &format!(":events:{other_region}:")) => {
                    edge(&from, &to, "parameter changes", EdgeKind::Replication)
                }
                "AWS::Events::Rule" if c == "runbook" => edge(
                    &format!("{role}_canaries"),
                    &from,
                    "primary-failure alarm starts failover",
                    EdgeKind::Failover,
                ),
                "AWS::EC2::VPCPeeringConnection" => {
                    edge(&to, &from, "VPC peering", EdgeKind::Replication)
                }
                "AWS::DynamoDB::GlobalTable" if mentions(p, other_region) => {
                    edge(&from, &to, "global table replica", EdgeKind::Replication)
                }
                // The member that joins through a parameter (not a resource of its own
                // template) is the secondary.
                "AWS::RDS::DBCluster" if joins_by_parameter(t, &p["GlobalClusterIdentifier"]) => {
                    edge(
                        &to,
                        &from,
                        "Aurora global database (storage replication)",
                        EdgeKind::Replication,
                    )
                }
                "AWS::Route53::HealthCheck" if mentions(p, other_region) => edge(
                    &format!("{other}_dns"),
                    &from,
                    "traffic switch (alarm state)",
                    EdgeKind::Failover,
                ),
                "AWS::Route53::RecordSet" => {
                    if let Some(failover) = p["Failover"].as_str() {
                        let target = if failover == "PRIMARY" {
                            "primary"
                        } else {
                            "secondary"
                        };
                        edge(
                            &from,
                            &format!("{target}_service"),
                            &format!("app: {failover}"),
                            EdgeKind::Traffic,
                        );
                    } else if let Some(name) = p["Name"].as_str() {
                        // Whatever in the other region probes this regional name.
                        for (oid, o) in resources(other_t) {
                            let oty = o["Type"].as_str().unwrap_or("");
                            if oty == "AWS::Synthetics::Canary" && mentions(&o["Properties"], name)
                            {
                                let oc = component_of(oid, o).unwrap_or("");
                                edge(
                                    &format!("{other}_{oc}"),
                                    &format!("{role}_service"),
                                    "outside-in HTTPS probe",
                                    EdgeKind::Failover,
                                );
                            }
                        }
                    }
                }
                "AWS::StepFunctions::StateMachine" if c == "runbook" => {
                    let text = p["DefinitionString"].to_string();
                    for (call, target, label) in [
                        ("rds:failoverGlobalCluster", "aurora", "promote"),
                        ("ecs:updateService", "service", "scale to full capacity"),
                        ("cloudwatch:putMetricData", "dns", "flip the traffic switch"),
                        ("ssm:putParameter", "configuration", "set the active region"),
                    ] {
                        if text.contains(call) {
                            edge(
                                &from,
                                &format!("{role}_{target}"),
                                label,
                                EdgeKind::Failover,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Only arrows between components that exist (a feature may be switched off).
    for e in edges {
        if g.nodes.contains_key(&e.from) && g.nodes.contains_key(&e.to) && e.from != e.to {
            g.edges.insert(e);
        }
    }
    g
}

/// Whether `value` is a `Ref` to a parameter of template `t`.
fn joins_by_parameter(t: &Value, value: &Value) -> bool {
    value["Ref"]
        .as_str()
        .is_some_and(|name| !t["Parameters"][name].is_null())
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
    use environment::RegionRole;
    let stack = |role: RegionRole| s.manifest.stacks[&role].name.clone();
    Ok(graph(
        &s.primary.to_json(),
        &s.secondary.to_json(),
        (
            &env.region(RegionRole::Primary).name,
            &env.region(RegionRole::Secondary).name,
        ),
        (&stack(RegionRole::Primary), &stack(RegionRole::Secondary)),
    ))
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
    fn both_regions_and_every_replication_path_are_drawn_from_the_templates() {
        let g = qa();
        assert!(g.regions["primary"].starts_with("us-east-1 (primary)"));
        assert!(g.regions["secondary"].starts_with("us-east-2 (recovery)"));
        let replication: BTreeSet<(String, String)> = g
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Replication)
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        for c in [
            "aurora",
            "sessions",
            "storage",
            "configuration",
            "events",
            "backup",
            "network",
        ] {
            assert!(
                replication.contains(&(format!("primary_{c}"), format!("secondary_{c}"))),
                "{c} replication missing: {replication:?}"
            );
        }
        assert!(replication.contains(&("secondary_backup".into(), "primary_backup".into())));
        let traffic: Vec<&Edge> = g
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Traffic)
            .collect();
        assert_eq!(
            traffic.len(),
            2,
            "PRIMARY and SECONDARY records: {traffic:?}"
        );
        for target in ["secondary_aurora", "secondary_service", "secondary_dns"] {
            assert!(
                g.edges
                    .iter()
                    .any(|e| e.from == "secondary_runbook" && e.to == target),
                "the runbook acts on {target}"
            );
        }
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
