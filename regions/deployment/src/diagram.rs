//! The architecture as a graph read from the synthesized templates, not drawn by hand. Each
//! region holds the components its template contains (found from resource types); the arrows
//! between them are read from the templates too: Aurora's global cluster, the DynamoDB global
//! table's replicas, S3 replication rules, backup copy actions, the EventBridge global
//! endpoint, the configuration-change forwarding rule, the VPC peering, the Route 53 failover
//! records, the outside-in canary's target, and the calls the failover runbook makes.
//! `cargo xtask diagram` turns it into Graphviz DOT and pictures.

use std::collections::{BTreeMap, BTreeSet};

use environment::{Environment, RegionRole};
use runbook::contract::Runbook;
use serde_json::Value;

use crate::Synthesis;

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

/// Each component's title, in drawing order: traffic, data, configuration, foundations, then
/// the runbooks.
pub const TITLES: &[(&str, &str)] = &[
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

/// The graph of a synthesized environment.
pub fn of(env: &Environment, s: &Synthesis) -> Graph {
    let stack = |role: RegionRole| s.manifest.stacks[&role].name.clone();
    graph(
        &s.primary.to_json(),
        &s.secondary.to_json(),
        (
            &env.region(RegionRole::Primary).name,
            &env.region(RegionRole::Secondary).name,
        ),
        (&stack(RegionRole::Primary), &stack(RegionRole::Secondary)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qa() -> Graph {
        let default = environment::Source::new(
            "env/default.toml",
            include_str!("../../../env/default.toml"),
        );
        let env = environment::load("qa", default, None).unwrap();
        of(&env, &crate::synth(&env).unwrap())
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
}
