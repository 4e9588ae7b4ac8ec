//! Our policy rules over synthesized templates, one pure function per rule, in the manner of
//! cdk-nag: each takes one resource (with its template for context) and says Compliant,
//! NonCompliant with the reason, or NotApplicable.

use serde_json::Value;

/// A rule's verdict on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule holds.
    Compliant,
    /// The rule is broken, and why.
    NonCompliant(String),
    /// The rule does not concern this resource.
    NotApplicable,
}

/// One resource as a rule sees it.
#[derive(Clone, Copy, Debug)]
pub struct ResourceView<'a> {
    /// The logical id.
    pub id: &'a str,
    /// The resource body (`Type`, `Properties`, policies).
    pub body: &'a Value,
    /// The whole template, for rules that need context.
    pub template: &'a Value,
    /// The environment suffix.
    pub suffix: &'a str,
    /// The stack's role: `primary` or `secondary`.
    pub role: &'a str,
}

impl ResourceView<'_> {
    fn type_name(&self) -> &str {
        self.body["Type"].as_str().unwrap_or_default()
    }

    fn props(&self) -> &Value {
        &self.body["Properties"]
    }
}

/// A named rule.
pub struct Rule {
    /// Short name, used in findings.
    pub name: &'static str,
    /// What the rule demands.
    pub description: &'static str,
    /// The check.
    pub check: fn(&ResourceView) -> Verdict,
}

/// Every rule, in the order of SPEC §4.
pub const RULES: &[Rule] = &[
    Rule {
        name: "names-carry-suffix",
        description: "every physical name and Name tag contains the environment suffix",
        check: names_carry_suffix,
    },
    Rule {
        name: "destroyable",
        description: "DeletionPolicy and UpdateReplacePolicy are Delete; no deletion protection",
        check: destroyable,
    },
    Rule {
        name: "encrypted-with-cmk",
        description: "log groups and data stores are encrypted with a customer-managed key",
        check: encrypted_with_cmk,
    },
    Rule {
        name: "no-wildcard-action",
        description: "no IAM statement allows Action \"*\"",
        check: no_wildcard_action,
    },
    Rule {
        name: "no-wildcard-resource",
        description: "no Resource \"*\" outside key policies and actions without resource-level permissions",
        check: no_wildcard_resource,
    },
    Rule {
        name: "no-open-ingress",
        description: "no security group open to 0.0.0.0/0 or ::/0, except a load balancer's on 80/443",
        check: no_open_ingress,
    },
    Rule {
        name: "http-only-redirects",
        description: "port 80 is open from anywhere only on a load balancer whose every port-80 listener redirects to HTTPS and forwards nothing",
        check: http_only_redirects,
    },
    Rule {
        name: "recoverable",
        description: "every data store can be restored to an earlier point: PITR, versions or backups",
        check: recoverable,
    },
    Rule {
        name: "replicated",
        description: "every data store of the primary is replicated to the secondary",
        check: replicated,
    },
    Rule {
        name: "https-only-listeners",
        description: "load balancer listeners serve HTTPS with a TLS 1.2+ policy, or redirect HTTP to HTTPS",
        check: https_only_listeners,
    },
    Rule {
        name: "tasks-in-private-subnets",
        description: "ECS services get no public IP and run in private subnets",
        check: tasks_in_private_subnets,
    },
    Rule {
        name: "alarms-have-actions",
        description: "every alarm notifies someone or something",
        check: alarms_have_actions,
    },
    Rule {
        name: "access-logged",
        description: "every bucket has S3 server access logging, except a bucket that receives another's access logs",
        check: access_logged,
    },
    Rule {
        name: "trail-hardened",
        description: "every CloudTrail trail logs, covers every region, validates its log files and encrypts them with a customer-managed key",
        check: trail_hardened,
    },
    Rule {
        name: "database-monitored",
        description: "every Aurora instance has enhanced monitoring, with a role to publish it",
        check: database_monitored,
    },
    Rule {
        name: "restores-tested",
        description: "every backup plan that protects Aurora or DynamoDB has a restore testing selection for that type, from a plan that includes the plan's vault",
        check: restores_tested,
    },
    Rule {
        name: "prod-vault-compliance-lock",
        description: "prod's backup vaults are locked in compliance mode (ChangeableForDays set), so nobody can delete recovery points early",
        check: prod_vault_compliance_lock,
    },
    Rule {
        name: "replication-watched",
        description: "every replication path (buckets, global tables, configuration replication, backup copies) has an alarm or alert on its failure",
        check: replication_watched,
    },
    Rule {
        name: "public-load-balancer-has-web-acl",
        description: "every internet-facing load balancer is associated with a WAF web ACL",
        check: public_load_balancer_has_web_acl,
    },
    Rule {
        name: "db-credentials-rotate",
        description: "every secret that holds database credentials has a rotation schedule",
        check: db_credentials_rotate,
    },
    Rule {
        name: "firewall-not-a-failover-signal",
        description: "no alarm on the web ACL's metrics feeds the failover signal (composite alarm, health check, runbook trigger)",
        check: firewall_not_a_failover_signal,
    },
    Rule {
        name: "recovery-account-can-read-copies",
        description: "a backup plan that copies to another account's vault lets that account use the region's key",
        check: recovery_account_can_read_copies,
    },
    Rule {
        name: "prod-copies-outside-the-account",
        description: "prod's primary copies its recovery points out of the account's reach: a logically air-gapped vault or another account",
        check: prod_copies_outside_the_account,
    },
    Rule {
        name: "events-scoped-to-environment",
        description: "every event rule matches only its environment's events: on the environment's own bus, or with the environment in its pattern",
        check: events_scoped_to_environment,
    },
    Rule {
        name: "tagged",
        description: "every taggable resource carries app, environment, region-role and cost-centre",
        check: tagged,
    },
    Rule {
        name: "depends-on-what-it-names",
        description: "a resource that names another of its template by physical name, or needs it made first (a service precondition), declares a dependency on it",
        check: depends_on_what_it_names,
    },
];

/// A broken rule on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's name.
    pub rule: &'static str,
    /// The resource's logical id.
    pub resource: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.rule, self.resource, self.reason)
    }
}

/// Runs every rule over every resource of `template`.
pub fn evaluate(template: &Value, suffix: &str, role: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(resources) = template["Resources"].as_object() else {
        return findings;
    };
    for (id, body) in resources {
        let view = ResourceView {
            id,
            body,
            template,
            suffix,
            role,
        };
        for rule in RULES {
            if suppressed(body, rule.name) {
                continue;
            }
            if let Verdict::NonCompliant(reason) = (rule.check)(&view) {
                findings.push(Finding {
                    rule: rule.name,
                    resource: id.clone(),
                    reason,
                });
            }
        }
    }
    findings
}

/// Whether the resource is exempt from `rule` with a stated reason (cdk-nag style).
fn suppressed(body: &Value, rule: &str) -> bool {
    body["Metadata"]["Policy"]["Suppressions"]
        .as_array()
        .is_some_and(|list| {
            list.iter()
                .any(|s| s["Rule"] == rule && s["Reason"].as_str().is_some_and(|r| r.len() >= 20))
        })
}

/// The literal text of a string or `Fn::Sub` value.
fn text_of(v: &Value) -> Option<&str> {
    v.as_str()
        .or_else(|| v.get("Fn::Sub").and_then(Value::as_str))
}

fn contains_suffix(name: &str, suffix: &str) -> bool {
    // Parameter paths carry it as a path segment: /<app>/<suffix>/…; names that AWS allows no
    // hyphens in (restore testing plans) carry it with underscores: restore_test_<suffix>.
    let underscored = suffix.replace('-', "_");
    name.contains(&format!("/{suffix}/"))
        || name.contains(&format!("-{suffix}-"))
        || name.ends_with(&format!("-{suffix}"))
        || name.ends_with(&format!("_{underscored}"))
}

/// Physical names that are not the type's primary identifier.
const NAMES_BESIDE_IDENTIFIER: &[(&str, &str)] = &[("AWS::EC2::SecurityGroup", "GroupName")];

/// Every physical name (the type's writable primary identifier) and every `Name` tag carries
/// the suffix.
pub fn names_carry_suffix(r: &ResourceView) -> Verdict {
    let mut names: Vec<(String, &Value)> = Vec::new();
    if let Some(info) = cfn::type_info(r.type_name()) {
        let extra = NAMES_BESIDE_IDENTIFIER
            .iter()
            .filter(|(t, _)| *t == r.type_name())
            .map(|(_, p)| p);
        for p in info.name_properties.iter().chain(extra) {
            if let Some(v) = r.props().get(*p) {
                names.push((p.to_string(), v));
            }
        }
    }
    if let Some(tags) = r.props().get("Tags").and_then(Value::as_array) {
        for t in tags {
            if t["Key"] == "Name" {
                names.push(("Tags.Name".into(), &t["Value"]));
            }
        }
    }
    if names.is_empty() {
        return Verdict::NotApplicable;
    }
    for (what, v) in names {
        // A reference to another resource of the template names that resource, whose own
        // name this rule checks.
        if target(v).is_some_and(|t| r.template["Resources"].get(t).is_some()) {
            continue;
        }
        match text_of(v) {
            Some(name) if contains_suffix(name, r.suffix) => {}
            Some(name) => {
                return Verdict::NonCompliant(format!(
                    "{what} {name:?} does not carry the suffix {:?}",
                    r.suffix
                ));
            }
            None => {
                return Verdict::NonCompliant(format!(
                    "{what} is computed ({v}); names must come from the naming function"
                ));
            }
        }
    }
    Verdict::Compliant
}

/// Delete on both policies, and no deletion protection switched on.
pub fn destroyable(r: &ResourceView) -> Verdict {
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if r.body.get(policy).and_then(Value::as_str) != Some("Delete") {
            return Verdict::NonCompliant(format!(
                "{policy} is {}, not Delete",
                r.body.get(policy).map_or("absent".into(), Value::to_string)
            ));
        }
    }
    for flag in ["DeletionProtection", "DeletionProtectionEnabled"] {
        if r.props().get(flag) == Some(&Value::Bool(true)) {
            return Verdict::NonCompliant(format!("{flag} is on"));
        }
    }
    Verdict::Compliant
}

/// A key reference that is a customer-managed key: a reference into the template (Ref/GetAtt),
/// a parameter or a key ARN, never an AWS-managed alias.
fn is_cmk(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty() && !s.contains("alias/aws/"),
        Some(_) => true,
    }
}

/// Log groups and data stores are encrypted with a customer-managed key.
pub fn encrypted_with_cmk(r: &ResourceView) -> Verdict {
    let p = r.props();
    let ok = match r.type_name() {
        "AWS::Logs::LogGroup" => is_cmk(p.get("KmsKeyId")),
        "AWS::S3::Bucket" => {
            let rule = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
            rule["SSEAlgorithm"] == "aws:kms" && is_cmk(rule.get("KMSMasterKeyID"))
        }
        "AWS::RDS::DBCluster" => {
            // A secondary cluster of a global database inherits encryption but needs its key.
            is_cmk(p.get("KmsKeyId"))
                && (p["StorageEncrypted"] == true || p.get("GlobalClusterIdentifier").is_some())
        }
        "AWS::RDS::GlobalCluster" => {
            p["StorageEncrypted"] == true || p.get("SourceDBClusterIdentifier").is_some()
        }
        "AWS::DynamoDB::GlobalTable" => {
            p["SSESpecification"]["SSEEnabled"] == true
                && p["SSESpecification"]["SSEType"] == "KMS"
                && branches(&p["Replicas"])
                    .iter()
                    .all(|x| is_cmk(x["SSESpecification"].get("KMSMasterKeyId")))
        }
        "AWS::DynamoDB::Table" => {
            p["SSESpecification"]["SSEEnabled"] == true
                && is_cmk(p["SSESpecification"].get("KMSMasterKeyId"))
        }
        "AWS::SNS::Topic" => is_cmk(p.get("KmsMasterKeyId")),
        "AWS::SecretsManager::Secret" => is_cmk(p.get("KmsKeyId")),
        "AWS::Events::EventBus" => is_cmk(p.get("KmsKeyIdentifier")),
        "AWS::Backup::BackupVault" => is_cmk(p.get("EncryptionKeyArn")),
        "AWS::SQS::Queue" => is_cmk(p.get("KmsMasterKeyId")),
        _ => return Verdict::NotApplicable,
    };
    if ok {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "{} is not encrypted with a customer-managed key",
            r.type_name()
        ))
    }
}

/// Every IAM statement inside the resource's properties.
fn statements(v: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(o) => {
            if let Some(s) = o.get("Statement") {
                match s {
                    Value::Array(a) => out.extend(a.iter()),
                    other => out.push(other),
                }
            }
            for (k, child) in o {
                if k != "Statement" {
                    out.extend(statements(child));
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| out.extend(statements(c))),
        _ => {}
    }
    out
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// No Allow statement grants every action.
pub fn no_wildcard_action(r: &ResourceView) -> Verdict {
    let all = statements(r.props());
    if all.is_empty() {
        return Verdict::NotApplicable;
    }
    for s in all {
        if s["Effect"] == "Allow" && as_list(&s["Action"]).iter().any(|a| *a == "*") {
            return Verdict::NonCompliant(format!(
                "statement {} allows Action \"*\"",
                s.get("Sid").map_or("without Sid".into(), Value::to_string)
            ));
        }
    }
    Verdict::Compliant
}

/// Actions that support no resource-level permissions, so `Resource: "*"` is the only form.
const RESOURCELESS_ACTIONS: &[&str] = &[
    "cloudwatch:PutMetricData",
    "ecr:GetAuthorizationToken",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

/// `Resource: "*"` only in key policies (where it means the key itself) and for actions that
/// support no resource-level permissions.
pub fn no_wildcard_resource(r: &ResourceView) -> Verdict {
    let all = statements(r.props());
    if all.is_empty() {
        return Verdict::NotApplicable;
    }
    if r.type_name() == "AWS::KMS::Key" {
        return Verdict::Compliant;
    }
    for s in all {
        if s["Effect"] != "Allow" || !as_list(&s["Resource"]).iter().any(|x| *x == "*") {
            continue;
        }
        let scoped: Vec<&Value> = as_list(&s["Action"])
            .into_iter()
            .filter(|a| {
                !a.as_str()
                    .is_some_and(|a| RESOURCELESS_ACTIONS.contains(&a))
            })
            .collect();
        if !scoped.is_empty() {
            return Verdict::NonCompliant(format!(
                "Resource \"*\" with actions that support resource-level permissions: {}",
                scoped
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Verdict::Compliant
}

/// The logical id a `Ref`/`GetAtt` names.
fn target(v: &Value) -> Option<&str> {
    v.get("Ref")
        .and_then(Value::as_str)
        .or_else(|| v.get("Fn::GetAtt").and_then(|g| g[0].as_str()))
}

/// No ingress from anywhere, except a load balancer's group on 80 or 443.
pub fn no_open_ingress(r: &ResourceView) -> Verdict {
    let (rules, group): (Vec<&Value>, Option<&str>) = match r.type_name() {
        "AWS::EC2::SecurityGroup" => (as_list(&r.props()["SecurityGroupIngress"]), Some(r.id)),
        "AWS::EC2::SecurityGroupIngress" => (vec![r.props()], target(&r.props()["GroupId"])),
        _ => return Verdict::NotApplicable,
    };
    for rule in rules {
        let open = rule["CidrIp"] == "0.0.0.0/0" || rule["CidrIpv6"] == "::/0";
        if !open {
            continue;
        }
        let web = [80, 443]
            .iter()
            .any(|p| rule["FromPort"] == *p && rule["ToPort"] == *p && rule["IpProtocol"] == "tcp");
        let alb = group.is_some_and(|g| !load_balancers_of(r.template, g).is_empty());
        if !(web && alb) {
            return Verdict::NonCompliant(format!(
                "ingress from anywhere on {}-{} {}",
                rule["FromPort"], rule["ToPort"], rule["IpProtocol"]
            ));
        }
    }
    Verdict::Compliant
}

/// The logical ids of the load balancers whose security groups include `sg`.
/// Every resource of `template`, as (logical id, body).
fn resources(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
    template["Resources"].as_object().into_iter().flatten()
}

fn load_balancers_of(template: &Value, sg: &str) -> Vec<String> {
    resources(template)
        .filter(|(_, r)| {
            r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
                && as_list(&r["Properties"]["SecurityGroups"])
                    .iter()
                    .any(|g| target(g) == Some(sg))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Port 80 open from anywhere only where it can do nothing but send the client to HTTPS: the
/// group fronts load balancers, each has a port-80 listener, and every such listener's actions
/// (and those of its rules) are redirects to HTTPS.
pub fn http_only_redirects(r: &ResourceView) -> Verdict {
    let (rules, group): (Vec<&Value>, Option<&str>) = match r.type_name() {
        "AWS::EC2::SecurityGroup" => (as_list(&r.props()["SecurityGroupIngress"]), Some(r.id)),
        "AWS::EC2::SecurityGroupIngress" => (vec![r.props()], target(&r.props()["GroupId"])),
        _ => return Verdict::NotApplicable,
    };
    let http_open = rules.iter().any(|rule| {
        (rule["CidrIp"] == "0.0.0.0/0" || rule["CidrIpv6"] == "::/0")
            && rule["FromPort"].as_i64().is_some_and(|f| f <= 80)
            && rule["ToPort"].as_i64().is_some_and(|t| t >= 80)
    });
    if !http_open {
        return Verdict::NotApplicable;
    }
    let balancers = group
        .map(|g| load_balancers_of(r.template, g))
        .unwrap_or_default();
    if balancers.is_empty() {
        return Verdict::NonCompliant(
            "port 80 open from anywhere on a group that fronts no load balancer: close it".into(),
        );
    }
    let redirects = |actions: &Value| {
        let actions = as_list(actions);
        !actions.is_empty()
            && actions
                .iter()
                .all(|a| a["Type"] == "redirect" && a["RedirectConfig"]["Protocol"] == "HTTPS")
    };
    for lb in balancers {
        let listeners: Vec<(&String, &Value)> = resources(r.template)
            .filter(|(_, x)| {
                x["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
                    && target(&x["Properties"]["LoadBalancerArn"]) == Some(lb.as_str())
                    && x["Properties"]["Port"] == 80
            })
            .collect();
        if listeners.is_empty() {
            return Verdict::NonCompliant(format!(
                "port 80 open from anywhere but {lb} has no port-80 listener: close it or add the redirect"
            ));
        }
        for (id, listener) in listeners {
            if !redirects(&listener["Properties"]["DefaultActions"]) {
                return Verdict::NonCompliant(format!(
                    "{id} on port 80 does not only redirect to HTTPS: plain HTTP would reach the application"
                ));
            }
            let forwarding_rule = resources(r.template).any(|(_, x)| {
                x["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
                    && target(&x["Properties"]["ListenerArn"]) == Some(id.as_str())
                    && !redirects(&x["Properties"]["Actions"])
            });
            if forwarding_rule {
                return Verdict::NonCompliant(format!(
                    "a rule of {id} on port 80 does more than redirect to HTTPS"
                ));
            }
        }
    }
    Verdict::Compliant
}

/// Data stores can go back in time: tables with point-in-time recovery on every replica,
/// buckets with versioning, Aurora clusters with continuous backups of at least 7 days.
pub fn recoverable(r: &ResourceView) -> Verdict {
    let p = r.props();
    let (ok, what) = match r.type_name() {
        "AWS::DynamoDB::GlobalTable" => (
            branches(&p["Replicas"]).iter().all(|x| {
                x["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true
            }),
            "point-in-time recovery on every replica",
        ),
        "AWS::DynamoDB::Table" => (
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true,
            "point-in-time recovery",
        ),
        "AWS::S3::Bucket" => (
            p["VersioningConfiguration"]["Status"] == "Enabled",
            "versioning",
        ),
        "AWS::RDS::DBCluster" => (
            p["BackupRetentionPeriod"].as_u64().is_some_and(|d| d >= 7),
            "a backup retention of at least 7 days",
        ),
        _ => return Verdict::NotApplicable,
    };
    if ok {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!("{} lacks {what}", r.type_name()))
    }
}

/// In the primary, data stores replicate to the secondary: buckets have a replication
/// configuration, the sessions table a second replica, Aurora clusters belong to a global
/// cluster, secrets have replica regions. (In the secondary they are the destinations.)
pub fn replicated(r: &ResourceView) -> Verdict {
    if r.role != "primary" {
        return Verdict::NotApplicable;
    }
    let p = r.props();
    let has_if_branch = |v: &Value| {
        v.get("Fn::If")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 3 && a[1].is_object())
            || v.is_object() && v.get("Fn::If").is_none()
    };
    let (ok, what) = match r.type_name() {
        "AWS::S3::Bucket" => (
            has_if_branch(&p["ReplicationConfiguration"]),
            "a replication configuration",
        ),
        "AWS::DynamoDB::GlobalTable" => {
            let max = match p["Replicas"].get("Fn::If").and_then(Value::as_array) {
                Some(a) if a.len() == 3 => as_list(&a[1]).len().max(as_list(&a[2]).len()),
                _ => as_list(&p["Replicas"]).len(),
            };
            (max >= 2, "a replica in the secondary region")
        }
        "AWS::RDS::DBCluster" => (
            p.get("GlobalClusterIdentifier").is_some(),
            "membership in a global cluster",
        ),
        "AWS::SecretsManager::Secret" => (!p["ReplicaRegions"].is_null(), "a replica region"),
        _ => return Verdict::NotApplicable,
    };
    if ok {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!("{} lacks {what}", r.type_name()))
    }
}

/// Listeners serve HTTPS with a TLS 1.2+ policy, or answer HTTP only with a redirect to HTTPS.
pub fn https_only_listeners(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::ElasticLoadBalancingV2::Listener" {
        return Verdict::NotApplicable;
    }
    let p = r.props();
    match p["Protocol"].as_str() {
        Some("HTTPS") => {
            let policy = p["SslPolicy"].as_str().unwrap_or_default();
            if policy.contains("TLS13-1-2")
                || policy.contains("TLS13-1-3")
                || policy.contains("TLS-1-2")
                || policy.contains("FS-1-2")
            {
                Verdict::Compliant
            } else {
                Verdict::NonCompliant(format!(
                    "HTTPS listener with policy {policy:?}, not TLS 1.2+"
                ))
            }
        }
        Some("HTTP") => {
            let redirects = as_list(&p["DefaultActions"])
                .iter()
                .all(|a| a["Type"] == "redirect" && a["RedirectConfig"]["Protocol"] == "HTTPS");
            if redirects {
                Verdict::Compliant
            } else {
                Verdict::NonCompliant("HTTP listener that does not redirect to HTTPS".into())
            }
        }
        other => Verdict::NonCompliant(format!("listener protocol {other:?}")),
    }
}

/// ECS services assign no public IP and use only subnets the template calls private.
pub fn tasks_in_private_subnets(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::ECS::Service" {
        return Verdict::NotApplicable;
    }
    let vpc = &r.props()["NetworkConfiguration"]["AwsvpcConfiguration"];
    if vpc["AssignPublicIp"] != "DISABLED" {
        return Verdict::NonCompliant("tasks get a public IP".into());
    }
    let subnets = as_list(&vpc["Subnets"]);
    let private = !subnets.is_empty()
        && subnets
            .iter()
            .all(|s| target(s).is_some_and(|id| id.starts_with("Private")));
    if private {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "tasks in subnets {subnets:?}, not the private ones"
        ))
    }
}

/// Every alarm has an action.
pub fn alarms_have_actions(r: &ResourceView) -> Verdict {
    if !matches!(
        r.type_name(),
        "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm"
    ) {
        return Verdict::NotApplicable;
    }
    if as_list(&r.props()["AlarmActions"]).is_empty() {
        Verdict::NonCompliant("alarm without AlarmActions".into())
    } else {
        Verdict::Compliant
    }
}

/// Every bucket logs its accesses, unless it is where another bucket's logs go.
pub fn access_logged(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::S3::Bucket" {
        return Verdict::NotApplicable;
    }
    if !r.props()["LoggingConfiguration"]["DestinationBucketName"].is_null() {
        return Verdict::Compliant;
    }
    let destination = resources(r.template).any(|(_, x)| {
        target(&x["Properties"]["LoggingConfiguration"]["DestinationBucketName"]) == Some(r.id)
    });
    if destination {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(
            "no server access logging (LoggingConfiguration): who read or wrote it cannot be told"
                .into(),
        )
    }
}

/// A trail that records every region, signs its log files and encrypts them with our key.
pub fn trail_hardened(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::CloudTrail::Trail" {
        return Verdict::NotApplicable;
    }
    let p = r.props();
    let missing: Vec<&str> = [
        (p["IsLogging"] == true, "IsLogging"),
        (p["IsMultiRegionTrail"] == true, "IsMultiRegionTrail"),
        (
            p["EnableLogFileValidation"] == true,
            "EnableLogFileValidation",
        ),
        (!p["KMSKeyId"].is_null(), "KMSKeyId"),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect();
    if missing.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!("the trail lacks {}", missing.join(", ")))
    }
}

/// Aurora instances publish OS metrics (enhanced monitoring) through a role.
pub fn database_monitored(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::RDS::DBInstance" {
        return Verdict::NotApplicable;
    }
    let p = r.props();
    let interval = p["MonitoringInterval"].as_i64().unwrap_or(0);
    if interval > 0 && !p["MonitoringRoleArn"].is_null() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "enhanced monitoring off (MonitoringInterval {interval}, MonitoringRoleArn {})",
            if p["MonitoringRoleArn"].is_null() {
                "missing"
            } else {
                "set"
            }
        ))
    }
}

/// Backups of Aurora and DynamoDB are restored on a schedule to prove they restore.
pub fn restores_tested(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::Backup::BackupSelection" {
        return Verdict::NotApplicable;
    }
    let arns = r.props()["BackupSelection"]["Resources"].to_string();
    let protected: Vec<&str> = [(":rds:", "Aurora"), (":dynamodb:", "DynamoDB")]
        .into_iter()
        .filter(|(service, _)| arns.contains(service) || arns.contains(&service.replace(':', "")))
        .map(|(_, kind)| kind)
        .collect();
    let tested = |kind: &str| {
        resources(r.template).any(|(_, x)| {
            x["Type"] == "AWS::Backup::RestoreTestingSelection"
                && x["Properties"]["ProtectedResourceType"] == kind
        })
    };
    let untested: Vec<&str> = protected.into_iter().filter(|k| !tested(k)).collect();
    if untested.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "backed up but never restored to test it: {} (add an AWS::Backup::RestoreTestingSelection)",
            untested.join(", ")
        ))
    }
}

/// In prod, vaults are locked in compliance mode.
pub fn prod_vault_compliance_lock(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::Backup::BackupVault" || r.suffix != "prod" {
        return Verdict::NotApplicable;
    }
    if r.props()["LockConfiguration"]["ChangeableForDays"].is_number() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(
            "prod's vault is not in compliance mode: someone with the account's admin credentials could delete its recovery points (set backup.vault_lock_mode = \"compliance\")".into(),
        )
    }
}

/// An internet-facing load balancer sits behind a web ACL (an association in the same template).
pub fn public_load_balancer_has_web_acl(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::ElasticLoadBalancingV2::LoadBalancer"
        || r.props()["Scheme"] == "internal"
    {
        return Verdict::NotApplicable;
    }
    let me = serde_json::json!({"Ref": r.id});
    let associated = resources(r.template).any(|(_, x)| {
        x["Type"] == "AWS::WAFv2::WebACLAssociation" && x["Properties"]["ResourceArn"] == me
    });
    if associated {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(
            "internet-facing with no web ACL: add an AWS::WAFv2::WebACLAssociation (the firewall component)".into(),
        )
    }
}

/// A secret that holds database credentials (an RDS cluster or instance reads it, or it is
/// attached to one) rotates: a rotation schedule names it or its attachment.
pub fn db_credentials_rotate(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::SecretsManager::Secret" {
        return Verdict::NotApplicable;
    }
    let me = serde_json::json!({"Ref": r.id});
    let reads_me = |x: &Value| {
        let text = x["Properties"].to_string();
        text.contains(&format!("resolve:secretsmanager:${{{}}}", r.id))
            || text.contains(&format!("\"Ref\":\"{}\"", r.id))
    };
    let attachments: Vec<Value> = resources(r.template)
        .filter(|(_, x)| {
            x["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
                && x["Properties"]["SecretId"] == me
        })
        .map(|(id, _)| serde_json::json!({"Ref": id}))
        .collect();
    let read_by_database = resources(r.template).any(|(_, x)| {
        matches!(
            x["Type"].as_str(),
            Some("AWS::RDS::DBCluster" | "AWS::RDS::DBInstance")
        ) && reads_me(x)
    });
    if attachments.is_empty() && !read_by_database {
        return Verdict::NotApplicable;
    }
    let rotated = resources(r.template).any(|(_, x)| {
        let id = &x["Properties"]["SecretId"];
        x["Type"] == "AWS::SecretsManager::RotationSchedule"
            && (*id == me || attachments.contains(id))
            && (!x["Properties"]["HostedRotationLambda"].is_null()
                || !x["Properties"]["RotationLambdaARN"].is_null())
    });
    if rotated {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(
            "holds database credentials that never rotate: add an AWS::SecretsManager::RotationSchedule (aurora.rotation_days)".into(),
        )
    }
}

/// Nothing the web ACL counts can start a failover: no alarm on `AWS/WAFV2` is named by a
/// composite alarm, a health check or an event rule (the runbook's trigger).
pub fn firewall_not_a_failover_signal(r: &ResourceView) -> Verdict {
    if !matches!(
        r.type_name(),
        "AWS::CloudWatch::CompositeAlarm" | "AWS::Route53::HealthCheck" | "AWS::Events::Rule"
    ) {
        return Verdict::NotApplicable;
    }
    let text = r.props().to_string();
    let fed: Vec<String> = resources(r.template)
        .filter(|(_, x)| {
            x["Type"] == "AWS::CloudWatch::Alarm" && x["Properties"]["Namespace"] == "AWS/WAFV2"
        })
        .filter(|(id, x)| {
            let name = x["Properties"]["AlarmName"].to_string();
            text.contains(&format!("\"{id}\""))
                || text.contains(&format!("${{{id}}}"))
                || (name != "null" && text.contains(name.trim_matches('"')))
        })
        .map(|(id, _)| id.clone())
        .collect();
    if fed.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "feeds the failover signal from the firewall's metrics ({}): a blocked attack must not move the application",
            fed.join(", ")
        ))
    }
}

/// The destination vault ARNs of a backup plan's copy actions, as text.
fn copy_destinations(r: &ResourceView) -> Vec<String> {
    let mut out = Vec::new();
    for rule in as_list(&r.props()["BackupPlan"]["BackupPlanRule"]) {
        let mut texts = Vec::new();
        strings_in(&rule["CopyActions"], &mut texts);
        out.extend(texts.into_iter().filter(|t| t.contains(":backup-vault:")));
    }
    out
}

/// The 12-digit account a vault ARN names, when it names one literally (not `${AWS::AccountId}`).
fn foreign_account(arn: &str) -> Option<String> {
    let plain = arn
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::Region}", "region")
        .replace("${AWS::AccountId}", "this-account");
    let account = plain.split(':').nth(4)?.to_string();
    (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())).then_some(account)
}

/// A copy to another account's vault needs that account in the region key's policy: it must
/// decrypt the copy and re-encrypt it under its own key.
pub fn recovery_account_can_read_copies(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::Backup::BackupPlan" {
        return Verdict::NotApplicable;
    }
    let accounts: Vec<String> = copy_destinations(r)
        .iter()
        .filter_map(|a| foreign_account(a))
        .collect();
    if accounts.is_empty() {
        return Verdict::NotApplicable;
    }
    let keys: Vec<String> = resources(r.template)
        .filter(|(_, x)| x["Type"] == "AWS::KMS::Key")
        .map(|(_, x)| x["Properties"]["KeyPolicy"].to_string())
        .collect();
    let missing: Vec<&String> = accounts
        .iter()
        .filter(|a| !keys.iter().any(|k| k.contains(&format!(":iam::{a}:root"))))
        .collect();
    if missing.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "copies to account {} whose copies cannot be read: the region key's policy does not let it use the key (keys::KeysProps::recovery_account)",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// In prod, the primary's daily recovery points are also copied out of the account's reach.
pub fn prod_copies_outside_the_account(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::Backup::BackupPlan" || r.suffix != "prod" || r.role != "primary" {
        return Verdict::NotApplicable;
    }
    let out = copy_destinations(r)
        .iter()
        .any(|a| a.contains(":backup-vault:air-gapped-vault-") || foreign_account(a).is_some());
    if out {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(
            "prod's recovery points stay in the account: set backup.air_gapped_vault = true or backup.copy_account_id".into(),
        )
    }
}

/// Whether the template holds an alarm on `namespace`/`metric` whose dimension `dimension` is
/// `value`.
fn alarm_on(
    template: &Value,
    namespace: &str,
    metric: &str,
    dimension: &str,
    value: &Value,
) -> bool {
    resources(template)
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(_, r)| &r["Properties"])
        .any(|p| {
            p["Namespace"] == namespace
                && p["MetricName"] == metric
                && as_list(&p["Dimensions"])
                    .iter()
                    .any(|d| d["Name"] == dimension && &d["Value"] == value)
        })
}

/// Every replication path has an alarm (or, for backup copies, an alert rule) on its failure.
pub fn replication_watched(r: &ResourceView) -> Verdict {
    let t = r.template;
    let me = serde_json::json!({ "Ref": r.id });
    let missing: Vec<String> = match r.type_name() {
        "AWS::S3::Bucket" if !r.props()["ReplicationConfiguration"].is_null() => {
            ["OperationsFailedReplication", "ReplicationLatency"]
                .into_iter()
                .filter(|m| !alarm_on(t, "AWS/S3", m, "SourceBucket", &me))
                .map(|m| format!("AWS/S3 {m}"))
                .collect()
        }
        "AWS::DynamoDB::GlobalTable" => {
            let name = &r.props()["TableName"];
            (!alarm_on(t, "AWS/DynamoDB", "ReplicationLatency", "TableName", name))
                .then(|| "AWS/DynamoDB ReplicationLatency".to_string())
                .into_iter()
                .collect()
        }
        "AWS::StepFunctions::StateMachine" if r.id.starts_with("ConfigReplication") => {
            (!alarm_on(t, "AWS/States", "ExecutionsFailed", "StateMachineArn", &me))
                .then(|| "AWS/States ExecutionsFailed".to_string())
                .into_iter()
                .collect()
        }
        "AWS::Backup::BackupPlan" => {
            let copies = r.props()["BackupPlan"]["BackupPlanRule"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| !rule["CopyActions"].is_null());
            let alerted = resources(t)
                .filter(|(_, x)| x["Type"] == "AWS::Events::Rule")
                .any(|(_, x)| {
                    let p = &x["Properties"]["EventPattern"];
                    as_list(&p["source"]).iter().any(|s| *s == "aws.backup")
                        && as_list(&p["detail-type"])
                            .iter()
                            .any(|d| *d == "Copy Job State Change")
                });
            (copies && !alerted)
                .then(|| "an EventBridge rule on failed copy jobs".to_string())
                .into_iter()
                .collect()
        }
        _ => return Verdict::NotApplicable,
    };
    if missing.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "its replication fails unnoticed: add {}",
            missing.join(" and ")
        ))
    }
}

/// The tags every taggable resource carries.
pub const REQUIRED_TAGS: &[&str] = &["app", "environment", "region-role", "cost-centre"];

/// Every element of a list that may stand behind `Fn::If`, in every branch.
fn branches(v: &Value) -> Vec<&Value> {
    match v.get("Fn::If").and_then(Value::as_array) {
        Some(a) if a.len() == 3 => branches(&a[1]).into_iter().chain(branches(&a[2])).collect(),
        _ => as_list(v),
    }
}

/// Every taggable resource carries the required tags.
pub fn tagged(r: &ResourceView) -> Verdict {
    if r.type_name() == "AWS::DynamoDB::GlobalTable" {
        // A global table carries its tags per replica.
        for replica in branches(&r.props()["Replicas"]) {
            let missing: Vec<&str> = REQUIRED_TAGS
                .iter()
                .copied()
                .filter(|k| !as_list(&replica["Tags"]).iter().any(|t| t["Key"] == *k))
                .collect();
            if !missing.is_empty() {
                return Verdict::NonCompliant(format!(
                    "replica {} lacks tags: {}",
                    replica["Region"],
                    missing.join(", ")
                ));
            }
        }
        return Verdict::Compliant;
    }
    let Some((property, style)) = cfn::type_info(r.type_name()).and_then(|i| i.tag_property) else {
        return Verdict::NotApplicable;
    };
    let tags = &r.props()[property];
    let missing: Vec<&str> = REQUIRED_TAGS
        .iter()
        .copied()
        .filter(|k| match style {
            cfn::TagStyle::List => !as_list(tags).iter().any(|t| t["Key"] == *k),
            cfn::TagStyle::Map => tags.get(*k).is_none(),
        })
        .collect();
    if missing.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!("missing tags: {}", missing.join(", ")))
    }
}

/// Every string inside a JSON value.
fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings_in(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings_in(i, out)),
        _ => {}
    }
}

/// An event rule sees every event on its bus that its pattern matches. On the account's default
/// bus (where AWS services and our replication put events) it must name the environment in its
/// pattern (a parameter path, an alarm or resource name carrying the suffix), or it reacts to
/// every environment's events, as the configuration rules once did. A rule on a bus of its own
/// (a `Ref` to a bus of this template, or a bus name carrying the suffix) is scoped by the bus.
pub fn events_scoped_to_environment(r: &ResourceView) -> Verdict {
    if r.type_name() != "AWS::Events::Rule" {
        return Verdict::NotApplicable;
    }
    let bus = &r.props()["EventBusName"];
    let own_bus = bus.get("Ref").is_some_and(|id| {
        id.as_str()
            .is_some_and(|id| r.template["Resources"][id]["Type"] == "AWS::Events::EventBus")
    }) || bus
        .as_str()
        .is_some_and(|b| b != "default" && contains_suffix(b, r.suffix));
    if own_bus {
        return Verdict::Compliant;
    }
    let mut texts = Vec::new();
    strings_in(&r.props()["EventPattern"], &mut texts);
    if texts.iter().any(|t| contains_suffix(t, r.suffix)) {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(format!(
            "its pattern on the {} bus names no environment: it matches every environment's events (add the environment, e.g. the parameter prefix /<app>/{}/, to the pattern)",
            bus.as_str().unwrap_or("default"),
            r.suffix
        ))
    }
}

/// Properties whose text names things only at run time, or not as a lookup at all: a match
/// there needs no order. Policy documents name resources without AWS looking them up; event
/// patterns, metric dimensions, environment variables and parameter values are read when
/// something happens; descriptions and tags are text; DNS names are names, not lookups.
const NAMED_WITHOUT_LOOKUP: &[&str] = &[
    "AlarmDescription",
    "AssumeRolePolicyDocument",
    "BackupPlanTags",
    "BackupVaultTags",
    "Definition",
    "DefinitionString",
    "Description",
    "Dimensions",
    "DomainName",
    "DomainValidationOptions",
    "EnvironmentVariables",
    "Environment",
    "EventPattern",
    "FullyQualifiedDomainName",
    "HealthCheckTags",
    "HostedZoneTags",
    "KeyPolicy",
    "MetricName",
    "Namespace",
    "PolicyDocument",
    "Policies",
    "SubjectAlternativeNames",
    "Tags",
    "Value",
];

/// Every text of `v` (strings and `Fn::Sub` texts) with the property path it sits at, skipping
/// the properties of [`NAMED_WITHOUT_LOOKUP`].
fn lookup_texts<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((path, s)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| lookup_texts(c, format!("{path}[{i}]"), out)),
        Value::Object(o) => {
            for (k, c) in o {
                if !NAMED_WITHOUT_LOOKUP.contains(&k.as_str()) {
                    let at = if k.starts_with("Fn::") {
                        path.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    lookup_texts(c, at, out);
                }
            }
        }
        _ => {}
    }
}

/// Whether `text` holds `name` as a whole token (not inside a longer name).
fn names(text: &str, name: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(part)
            && !text[at + name.len()..].chars().next().is_some_and(part)
    })
}

/// The service preconditions of creating `r` that name another resource: (what it needs, why,
/// the documentation). A load balancer that writes access logs needs the bucket policy that
/// lets ELB deliver them: "Access Denied for bucket … Please check S3bucket permission" when
/// the attribute is set; a trail needs its bucket's policy (InsufficientS3BucketPolicyException);
/// an ECS service with a target group needs a listener forwarding to it ("The target group …
/// does not have an associated load balancer").
fn preconditions(r: &ResourceView) -> Vec<(String, &'static str)> {
    let policies_of = |bucket: &Value| -> Vec<String> {
        resources(r.template)
            .filter(|(_, b)| {
                b["Type"] == "AWS::S3::BucketPolicy"
                    && (b["Properties"]["Bucket"] == *bucket
                        || target(&b["Properties"]["Bucket"])
                            .is_some_and(|t| target(bucket) == Some(t)))
            })
            .map(|(id, _)| id.clone())
            .collect()
    };
    let mut out = Vec::new();
    match r.type_name() {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let attrs = as_list(&r.props()["LoadBalancerAttributes"]);
            let attr = |k: &str| attrs.iter().find(|a| a["Key"] == k).map(|a| &a["Value"]);
            if attr("access_logs.s3.enabled").is_some_and(|v| v == "true")
                && let Some(bucket) = attr("access_logs.s3.bucket")
            {
                for p in policies_of(bucket) {
                    out.push((p, "ELB checks it may write access logs to the bucket when logging is switched on (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)"));
                }
            }
        }
        "AWS::CloudTrail::Trail" => {
            for p in policies_of(&r.props()["S3BucketName"]) {
                out.push((p, "CloudTrail checks its bucket's policy when the trail is made (InsufficientS3BucketPolicyException, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html)"));
            }
        }
        "AWS::ECS::Service" => {
            for lb in as_list(&r.props()["LoadBalancers"]) {
                let Some(tg) = target(&lb["TargetGroupArn"]) else {
                    continue;
                };
                for (id, b) in resources(r.template) {
                    let forwards = b["Type"].as_str().is_some_and(|t| {
                        t == "AWS::ElasticLoadBalancingV2::Listener"
                            || t == "AWS::ElasticLoadBalancingV2::ListenerRule"
                    }) && {
                        let mut refs = std::collections::BTreeSet::new();
                        crate::graph::references(&b["Properties"], &mut refs);
                        refs.contains(tg)
                    };
                    if forwards {
                        out.push((id.clone(), "ECS refuses a target group that no listener forwards to yet (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/create-application-load-balancer.html)"));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// CloudFormation orders only declared dependencies and makes the rest in parallel (and deletes
/// in the reverse order): a resource that names another of its template by physical name (a
/// composite alarm's rule naming its alarms, a rule naming a bus) or needs it by a service
/// precondition must depend on it, through `Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn`.
pub fn depends_on_what_it_names(r: &ResourceView) -> Verdict {
    let graph = crate::graph::Graph::of(r.template);
    let own: Vec<&Value> = cfn::type_info(r.type_name())
        .map(|i| {
            i.name_properties
                .iter()
                .filter_map(|p| r.props().get(*p))
                .collect()
        })
        .unwrap_or_default();
    let mut texts = Vec::new();
    if let Some(props) = r.props().as_object() {
        for (k, v) in props {
            if !NAMED_WITHOUT_LOOKUP.contains(&k.as_str()) && !own.contains(&v) {
                lookup_texts(v, k.clone(), &mut texts);
            }
        }
    }
    // An alarm that counts missing data as a breach judges its metric's source from the moment
    // it exists: the source it names in its dimensions must exist first, or a fresh stack
    // alarms (and, for the failover signal, fails over) before the first datum.
    if r.props()["TreatMissingData"] == "breaching" {
        for (i, d) in as_list(&r.props()["Dimensions"]).iter().enumerate() {
            if let Some(t) = text_of(&d["Value"]) {
                texts.push((format!("Dimensions[{i}].Value (missing data breaches)"), t));
            }
        }
    }
    // A rule that reacts to an alarm of the template's state changes is made after it.
    if r.type_name() == "AWS::Events::Rule"
        && as_list(&r.props()["EventPattern"]["detail-type"])
            .iter()
            .any(|t| *t == "CloudWatch Alarm State Change")
    {
        for (i, n) in as_list(&r.props()["EventPattern"]["detail"]["alarmName"])
            .iter()
            .enumerate()
        {
            if let Some(t) = n.as_str() {
                texts.push((format!("EventPattern.detail.alarmName[{i}]"), t));
            }
        }
    }
    let mut missing = Vec::new();
    for (other, body) in resources(r.template) {
        if other == r.id || graph.depends_on(r.id, other) {
            continue;
        }
        let Some(info) = cfn::type_info(body["Type"].as_str().unwrap_or_default()) else {
            continue;
        };
        for p in info.name_properties {
            let Some(name) = body["Properties"].get(*p).and_then(text_of) else {
                continue;
            };
            if name.len() < 6 || name.contains("${") {
                continue;
            }
            if let Some((path, _)) = texts.iter().find(|(_, t)| names(t, name)) {
                missing.push(format!(
                    "{path} names {other} ({name:?}) but does not depend on it: CloudFormation may make (and delete) them at the same time; refer to it with Ref/Fn::GetAtt or add DependsOn {other}"
                ));
            }
        }
    }
    for (needed, why) in preconditions(r) {
        if !graph.depends_on(r.id, &needed) {
            missing.push(format!(
                "needs {needed} made first but does not depend on it: {why}; add DependsOn {needed}"
            ));
        }
    }
    if missing.is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant(missing.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs `check` on resource `R` of a template holding `resources`.
    fn verdict(check: fn(&ResourceView) -> Verdict, resources: Value) -> Verdict {
        let template = json!({ "Resources": resources });
        let view = ResourceView {
            id: "R",
            body: &template["Resources"]["R"],
            template: &template,
            suffix: "qa",
            role: "primary",
        };
        check(&view)
    }

    fn nc(v: Verdict) -> bool {
        matches!(v, Verdict::NonCompliant(_))
    }

    #[test]
    fn a_suppression_needs_a_reason() {
        let bucket = |reason: &str| {
            json!({"Resources": {"B": {
                "Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
                "Properties": {"BucketName": "logs-qa", "VersioningConfiguration": {"Status": "Enabled"}},
                "Metadata": {"Policy": {"Suppressions": [{"Rule": "encrypted-with-cmk", "Reason": reason}]}}
            }}})
        };
        let rules = |t: &Value| {
            evaluate(t, "qa", "secondary")
                .into_iter()
                .map(|f| f.rule)
                .collect::<Vec<_>>()
        };
        assert!(
            !rules(&bucket("ELB access logs support SSE-S3 only")).contains(&"encrypted-with-cmk")
        );
        assert!(rules(&bucket("because")).contains(&"encrypted-with-cmk"));
    }

    #[test]
    fn names_carry_suffix_rule() {
        let bucket = |name: &str| json!({"R": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": name}}}});
        assert_eq!(
            verdict(
                names_carry_suffix,
                bucket("data-qa-us-east-1-${AWS::AccountId}")
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(names_carry_suffix, bucket("data-us-east-1"))));
        let vpc = |name: &str| json!({"R": {"Type": "AWS::EC2::VPC", "Properties": {"Tags": [{"Key": "Name", "Value": name}]}}});
        assert_eq!(
            verdict(names_carry_suffix, vpc("vpc-qa")),
            Verdict::Compliant
        );
        assert!(nc(verdict(names_carry_suffix, vpc("vpc-qaa"))));
        assert_eq!(
            verdict(
                names_carry_suffix,
                json!({"R": {"Type": "AWS::EC2::VPC", "Properties": {}}})
            ),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn destroyable_rule() {
        let r = |policy: &str, protect: bool| json!({"R": {"Type": "AWS::RDS::DBCluster", "DeletionPolicy": policy, "UpdateReplacePolicy": "Delete", "Properties": {"DeletionProtection": protect}}});
        assert_eq!(verdict(destroyable, r("Delete", false)), Verdict::Compliant);
        assert!(nc(verdict(destroyable, r("Retain", false))));
        assert!(nc(verdict(destroyable, r("Snapshot", false))));
        assert!(nc(verdict(destroyable, r("Delete", true))));
        assert!(nc(verdict(
            destroyable,
            json!({"R": {"Type": "AWS::S3::Bucket"}})
        )));
    }

    #[test]
    fn encrypted_with_cmk_rule() {
        let group = |key: Value| json!({"R": {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": key}}});
        assert_eq!(
            verdict(
                encrypted_with_cmk,
                group(json!({"Fn::GetAtt": ["Key", "Arn"]}))
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(encrypted_with_cmk, group(Value::Null))));
        let bucket = |alg: &str, key: &str| json!({"R": {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": alg, "KMSMasterKeyID": key}}]}}}});
        assert_eq!(
            verdict(
                encrypted_with_cmk,
                bucket("aws:kms", "arn:aws:kms:us-east-1:1:key/x")
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(encrypted_with_cmk, bucket("AES256", ""))));
        assert!(nc(verdict(
            encrypted_with_cmk,
            bucket("aws:kms", "alias/aws/s3")
        )));
        assert_eq!(
            verdict(encrypted_with_cmk, json!({"R": {"Type": "AWS::EC2::VPC"}})),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn no_wildcard_action_rule() {
        let role = |action: Value| json!({"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": action, "Resource": ["arn:x"]}]}}]}}});
        assert_eq!(
            verdict(no_wildcard_action, role(json!(["s3:GetObject"]))),
            Verdict::Compliant
        );
        assert!(nc(verdict(no_wildcard_action, role(json!("*")))));
        assert!(nc(verdict(
            no_wildcard_action,
            role(json!(["s3:GetObject", "*"]))
        )));
    }

    #[test]
    fn no_wildcard_resource_rule() {
        let role = |action: &str| json!({"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": [action], "Resource": "*"}]}}]}}});
        assert_eq!(
            verdict(no_wildcard_resource, role("ecr:GetAuthorizationToken")),
            Verdict::Compliant
        );
        assert!(nc(verdict(no_wildcard_resource, role("s3:GetObject"))));
        let key = json!({"R": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}]}}}});
        assert_eq!(verdict(no_wildcard_resource, key), Verdict::Compliant);
    }

    #[test]
    fn no_open_ingress_rule() {
        let sg = |cidr: &str, port: u16| json!({"R": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [{"CidrIp": cidr, "FromPort": port, "ToPort": port, "IpProtocol": "tcp"}]}}});
        assert_eq!(
            verdict(no_open_ingress, sg("10.0.0.0/16", 22)),
            Verdict::Compliant
        );
        assert!(nc(verdict(no_open_ingress, sg("0.0.0.0/0", 22))));
        // 443 from anywhere is fine only for a load balancer's group.
        assert!(nc(verdict(no_open_ingress, sg("0.0.0.0/0", 443))));
        let mut with_alb = sg("0.0.0.0/0", 443);
        with_alb["Alb"] = json!({"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"SecurityGroups": [{"Ref": "R"}]}});
        assert_eq!(
            verdict(no_open_ingress, with_alb.clone()),
            Verdict::Compliant
        );
        with_alb["R"]["Properties"]["SecurityGroupIngress"][0]["FromPort"] = json!(8080);
        with_alb["R"]["Properties"]["SecurityGroupIngress"][0]["ToPort"] = json!(8080);
        assert!(nc(verdict(no_open_ingress, with_alb)));
    }

    #[test]
    fn http_only_redirects_rule() {
        let template = |action: Value| {
            json!({
                "R": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                    {"CidrIp": "0.0.0.0/0", "FromPort": 80, "ToPort": 80, "IpProtocol": "tcp"}]}},
                "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"SecurityGroups": [{"Fn::GetAtt": ["R", "GroupId"]}]}},
                "Http": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                    "LoadBalancerArn": {"Ref": "Alb"}, "Port": 80, "DefaultActions": [action]}}
            })
        };
        let redirect = json!({"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}});
        assert_eq!(
            verdict(http_only_redirects, template(redirect.clone())),
            Verdict::Compliant
        );
        let forward = json!({"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}});
        assert_eq!(
            verdict(http_only_redirects, template(forward)),
            Verdict::NonCompliant(
                "Http on port 80 does not only redirect to HTTPS: plain HTTP would reach the application".into()
            )
        );
        let mut with_rule = template(redirect.clone());
        with_rule["Rule"] = json!({"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
            "ListenerArn": {"Ref": "Http"}, "Actions": [{"Type": "forward"}]}});
        assert!(nc(verdict(http_only_redirects, with_rule)));
        let mut no_listener = template(redirect);
        no_listener.as_object_mut().unwrap().remove("Http");
        assert!(nc(verdict(http_only_redirects, no_listener)));
    }

    #[test]
    fn recoverable_rule() {
        let bucket = |status: &str| json!({"R": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": status}}}});
        assert_eq!(verdict(recoverable, bucket("Enabled")), Verdict::Compliant);
        assert!(nc(verdict(recoverable, bucket("Suspended"))));
        let table = |second: bool| {
            json!({"R": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": {"Fn::If": ["C",
            [{"Region": "a", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}},
             {"Region": "b", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": second}}],
            [{"Region": "a", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}]]}}}})
        };
        assert_eq!(verdict(recoverable, table(true)), Verdict::Compliant);
        assert!(nc(verdict(recoverable, table(false))));
        let cluster = |days: u64| json!({"R": {"Type": "AWS::RDS::DBCluster", "Properties": {"BackupRetentionPeriod": days}}});
        assert_eq!(verdict(recoverable, cluster(35)), Verdict::Compliant);
        assert!(nc(verdict(recoverable, cluster(1))));
    }

    #[test]
    fn replicated_rule() {
        let bucket = |rc: Value| json!({"R": {"Type": "AWS::S3::Bucket", "Properties": {"ReplicationConfiguration": rc}}});
        assert_eq!(
            verdict(
                replicated,
                bucket(
                    json!({"Fn::If": ["L", {"Role": "r", "Rules": []}, {"Ref": "AWS::NoValue"}]})
                )
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(replicated, bucket(Value::Null))));
        let table = |n: usize| json!({"R": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": vec![json!({"Region": "a"}); n]}}});
        assert_eq!(verdict(replicated, table(2)), Verdict::Compliant);
        assert!(nc(verdict(replicated, table(1))));
        let cluster = json!({"R": {"Type": "AWS::RDS::DBCluster", "Properties": {}}});
        assert!(nc(verdict(replicated, cluster)));
    }

    #[test]
    fn https_only_listeners_rule() {
        let listener = |protocol: &str, extra: Value| {
            let mut props = json!({"Protocol": protocol});
            props
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"R": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": props}})
        };
        assert_eq!(
            verdict(
                https_only_listeners,
                listener(
                    "HTTPS",
                    json!({"SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"})
                )
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            https_only_listeners,
            listener("HTTPS", json!({"SslPolicy": "ELBSecurityPolicy-2016-08"}))
        )));
        assert_eq!(
            verdict(
                https_only_listeners,
                listener(
                    "HTTP",
                    json!({"DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS"}}]})
                )
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            https_only_listeners,
            listener("HTTP", json!({"DefaultActions": [{"Type": "forward"}]}))
        )));
    }

    #[test]
    fn tasks_in_private_subnets_rule() {
        let service = |ip: &str, subnet: &str| json!({"R": {"Type": "AWS::ECS::Service", "Properties": {"NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": ip, "Subnets": [{"Ref": subnet}]}}}}});
        assert_eq!(
            verdict(
                tasks_in_private_subnets,
                service("DISABLED", "PrivateSubnetA")
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            tasks_in_private_subnets,
            service("ENABLED", "PrivateSubnetA")
        )));
        assert!(nc(verdict(
            tasks_in_private_subnets,
            service("DISABLED", "PublicSubnetA")
        )));
    }

    #[test]
    fn access_logged_rule() {
        let logged = json!({
            "R": {"Type": "AWS::S3::Bucket", "Properties": {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}}}},
            "Logs": {"Type": "AWS::S3::Bucket", "Properties": {}}
        });
        assert_eq!(verdict(access_logged, logged.clone()), Verdict::Compliant);
        let mut destination = logged.clone();
        destination["R"] = logged["Logs"].clone();
        destination["Other"] = logged["R"].clone();
        destination["Other"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] =
            json!({"Ref": "R"});
        assert_eq!(verdict(access_logged, destination), Verdict::Compliant);
        let alone = json!({"R": {"Type": "AWS::S3::Bucket", "Properties": {}}});
        assert!(nc(verdict(access_logged, alone)));
    }

    #[test]
    fn restores_tested_rule() {
        let selection = json!({"Type": "AWS::Backup::BackupSelection", "Properties": {"BackupSelection": {
            "Resources": [{"Fn::GetAtt": ["AuroraCluster", "DBClusterArn"]}, "arn:aws:dynamodb:us-east-1:1:table/t"]}}});
        let test = |kind: &str| json!({"Type": "AWS::Backup::RestoreTestingSelection", "Properties": {"ProtectedResourceType": kind}});
        assert_eq!(
            verdict(
                restores_tested,
                json!({"R": selection, "A": test("Aurora"), "D": test("DynamoDB")})
            ),
            Verdict::Compliant
        );
        assert_eq!(
            verdict(restores_tested, json!({"R": selection, "A": test("Aurora")})),
            Verdict::NonCompliant("backed up but never restored to test it: DynamoDB (add an AWS::Backup::RestoreTestingSelection)".into())
        );
    }

    #[test]
    fn prod_vault_compliance_lock_rule() {
        let vault = |lock: Value| json!({"R": {"Type": "AWS::Backup::BackupVault", "Properties": {"LockConfiguration": lock}}});
        let template = vault(json!({"MinRetentionDays": 7, "ChangeableForDays": 3}));
        let view = |t: &Value, suffix: &'static str| {
            let v = ResourceView {
                id: "R",
                body: &t["Resources"]["R"],
                template: t,
                suffix,
                role: "primary",
            };
            prod_vault_compliance_lock(&v)
        };
        let t = json!({"Resources": template});
        assert_eq!(view(&t, "prod"), Verdict::Compliant);
        let governance = json!({"Resources": vault(json!({"MinRetentionDays": 7}))});
        assert!(nc(view(&governance, "prod")));
        assert_eq!(view(&governance, "qa"), Verdict::NotApplicable);
    }

    #[test]
    fn public_load_balancer_has_web_acl_rule() {
        let lb = |scheme: &str| json!({"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Scheme": scheme}});
        let association = json!({"Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {"ResourceArn": {"Ref": "R"}, "WebACLArn": {"Fn::GetAtt": ["Acl", "Arn"]}}});
        assert_eq!(
            verdict(
                public_load_balancer_has_web_acl,
                json!({"R": lb("internet-facing"), "A": association})
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            public_load_balancer_has_web_acl,
            json!({"R": lb("internet-facing")})
        )));
        assert_eq!(
            verdict(
                public_load_balancer_has_web_acl,
                json!({"R": lb("internal")})
            ),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn db_credentials_rotate_rule() {
        let secret = json!({"Type": "AWS::SecretsManager::Secret", "Properties": {}});
        let cluster = json!({"Type": "AWS::RDS::DBCluster", "Properties": {
            "MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${R}:SecretString:password}}"}}});
        let attachment = json!({"Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "R"}, "TargetId": {"Ref": "C"}}});
        let schedule = json!({"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {
            "SecretId": {"Ref": "T"}, "HostedRotationLambda": {"RotationType": "PostgreSQLSingleUser"}}});
        assert_eq!(
            verdict(
                db_credentials_rotate,
                json!({"R": secret, "C": cluster, "T": attachment, "S": schedule})
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            db_credentials_rotate,
            json!({"R": secret, "C": cluster})
        )));
        // A schedule without a function rotates nothing.
        let idle = json!({"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {"SecretId": {"Ref": "R"}}});
        assert!(nc(verdict(
            db_credentials_rotate,
            json!({"R": secret, "C": cluster, "S": idle})
        )));
        // A secret no database reads is not the rule's concern.
        assert_eq!(
            verdict(db_credentials_rotate, json!({"R": secret})),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn firewall_not_a_failover_signal_rule() {
        let waf_alarm = json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "waf-blocked-qa", "Namespace": "AWS/WAFV2", "MetricName": "BlockedRequests"}});
        let canary_alarm = json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "canary-qa", "Namespace": "CloudWatchSynthetics", "MetricName": "SuccessPercent"}});
        let composite = |rule: &str| {
            json!({"Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {"AlarmRule": rule}})
        };
        assert_eq!(
            verdict(
                firewall_not_a_failover_signal,
                json!({"R": composite("ALARM(\"canary-qa\")"), "W": waf_alarm, "C": canary_alarm})
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            firewall_not_a_failover_signal,
            json!({"R": composite("ALARM(\"canary-qa\") OR ALARM(\"waf-blocked-qa\")"), "W": waf_alarm, "C": canary_alarm})
        )));
        // Named by reference, as the composite alarm names its alarms so they are made first.
        let by_reference = json!({"Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {"AlarmRule": {"Fn::Sub": "ALARM(\"${C}\") OR ALARM(\"${W}\")"}}});
        assert!(nc(verdict(
            firewall_not_a_failover_signal,
            json!({"R": by_reference, "W": waf_alarm, "C": canary_alarm})
        )));
    }

    #[test]
    fn recovery_account_can_read_copies_rule() {
        let plan = json!({"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [
            {"RuleName": "daily", "CopyActions": [{"DestinationBackupVaultArn":
                {"Fn::Sub": "arn:${AWS::Partition}:backup:${AWS::Region}:210987654321:backup-vault:recovery"}}]}]}}});
        let key = |principal: &str| {
            json!({"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
            {"Principal": {"AWS": {"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::{principal}:root")}}}]}}})
        };
        assert_eq!(
            verdict(
                recovery_account_can_read_copies,
                json!({"R": plan, "K": key("210987654321")})
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(
            recovery_account_can_read_copies,
            json!({"R": plan, "K": key("${AWS::AccountId}")})
        )));
        // Copies within the account are not its concern.
        let local = json!({"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [
            {"RuleName": "daily", "CopyActions": [{"DestinationBackupVaultArn":
                {"Fn::Sub": "arn:${AWS::Partition}:backup:us-east-2:${AWS::AccountId}:backup-vault:backup-vault-qa"}}]}]}}});
        assert_eq!(
            verdict(recovery_account_can_read_copies, json!({"R": local})),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn prod_copies_outside_the_account_rule() {
        let plan = |vault: &str| {
            json!({"R": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [
            {"RuleName": "daily", "CopyActions": [{"Fn::If": ["Linked", {"DestinationBackupVaultArn":
                {"Fn::Sub": format!("arn:${{AWS::Partition}}:backup:us-east-2:${{AWS::AccountId}}:backup-vault:{vault}")}},
                {"Ref": "AWS::NoValue"}]}]}]}}}})
        };
        let view = |t: &Value, suffix: &str| {
            let v = ResourceView {
                id: "R",
                body: &t["Resources"]["R"],
                template: t,
                suffix,
                role: "primary",
            };
            prod_copies_outside_the_account(&v)
        };
        let gapped = json!({"Resources": plan("air-gapped-vault-prod")});
        let inside = json!({"Resources": plan("backup-vault-prod")});
        assert_eq!(view(&gapped, "prod"), Verdict::Compliant);
        assert!(nc(view(&inside, "prod")));
        assert_eq!(view(&inside, "qa"), Verdict::NotApplicable);
    }

    #[test]
    fn trail_hardened_rule() {
        let trail = |validation: bool| {
            json!({"R": {"Type": "AWS::CloudTrail::Trail", "Properties": {
            "IsLogging": true, "IsMultiRegionTrail": true, "EnableLogFileValidation": validation,
            "KMSKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}})
        };
        assert_eq!(verdict(trail_hardened, trail(true)), Verdict::Compliant);
        assert_eq!(
            verdict(trail_hardened, trail(false)),
            Verdict::NonCompliant("the trail lacks EnableLogFileValidation".into())
        );
    }

    #[test]
    fn database_monitored_rule() {
        let instance =
            |props: Value| json!({"R": {"Type": "AWS::RDS::DBInstance", "Properties": props}});
        assert_eq!(
            verdict(
                database_monitored,
                instance(
                    json!({"MonitoringInterval": 60, "MonitoringRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}})
                )
            ),
            Verdict::Compliant
        );
        assert!(nc(verdict(database_monitored, instance(json!({})))));
        assert!(nc(verdict(
            database_monitored,
            instance(json!({"MonitoringInterval": 60}))
        )));
    }

    #[test]
    fn replication_watched_rule() {
        let alarm = |metric: &str, dimension: &str, value: Value| {
            json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/S3", "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": value}]}})
        };
        let bucket = json!({"Type": "AWS::S3::Bucket", "Properties": {"ReplicationConfiguration": {"Rules": []}}});
        let watched = json!({
            "R": bucket,
            "A": alarm("OperationsFailedReplication", "SourceBucket", json!({"Ref": "R"})),
            "B": alarm("ReplicationLatency", "SourceBucket", json!({"Ref": "R"})),
        });
        assert_eq!(verdict(replication_watched, watched), Verdict::Compliant);
        let half = json!({
            "R": bucket,
            "A": alarm("OperationsFailedReplication", "SourceBucket", json!({"Ref": "R"})),
            "B": alarm("ReplicationLatency", "SourceBucket", json!({"Ref": "Other"})),
        });
        assert_eq!(
            verdict(replication_watched, half),
            Verdict::NonCompliant(
                "its replication fails unnoticed: add AWS/S3 ReplicationLatency".into()
            )
        );
        let plan = json!({"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [{"CopyActions": [{}]}]}}});
        assert!(nc(verdict(replication_watched, json!({"R": plan}))));
        let rule = json!({"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.backup"], "detail-type": ["Copy Job State Change"]}}});
        assert_eq!(
            verdict(replication_watched, json!({"R": plan, "E": rule})),
            Verdict::Compliant
        );
        let table = json!({"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"TableName": "sessions-qa"}});
        assert!(nc(verdict(replication_watched, json!({"R": table}))));
    }

    #[test]
    fn alarms_have_actions_rule() {
        let alarm = |actions: Value| json!({"R": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": actions}}});
        assert_eq!(
            verdict(alarms_have_actions, alarm(json!([{"Ref": "Topic"}]))),
            Verdict::Compliant
        );
        assert!(nc(verdict(alarms_have_actions, alarm(json!([])))));
        assert!(nc(verdict(
            alarms_have_actions,
            json!({"R": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}}})
        )));
    }

    #[test]
    fn tagged_rule() {
        let all = json!([{"Key": "app", "Value": "t"}, {"Key": "environment", "Value": "qa"}, {"Key": "region-role", "Value": "primary"}, {"Key": "cost-centre", "Value": "c"}]);
        let vpc =
            |tags: Value| json!({"R": {"Type": "AWS::EC2::VPC", "Properties": {"Tags": tags}}});
        assert_eq!(verdict(tagged, vpc(all.clone())), Verdict::Compliant);
        assert!(nc(verdict(
            tagged,
            vpc(json!([{"Key": "app", "Value": "t"}]))
        )));
        let param =
            json!({"R": {"Type": "AWS::SSM::Parameter", "Properties": {"Tags": {"app": "t"}}}});
        assert!(nc(verdict(tagged, param)));
        assert_eq!(
            verdict(tagged, json!({"R": {"Type": "AWS::EC2::Route"}})),
            Verdict::NotApplicable
        );
        let table = |tags: Value| json!({"R": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": [{"Region": "a", "Tags": tags}]}}});
        assert_eq!(verdict(tagged, table(all.clone())), Verdict::Compliant);
        assert!(nc(verdict(tagged, table(json!([])))));
    }

    #[test]
    fn events_scoped_to_environment_rule() {
        let rule = |bus: Value, pattern: Value| {
            json!({
                "R": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": bus, "EventPattern": pattern}},
                "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "trading-events-qa"}}
            })
        };
        let any_env =
            json!({"source": ["trading.configuration"], "detail-type": ["Configuration Change"]});
        let this_env = json!({"source": ["trading.configuration"], "detail": {"name": [{"prefix": "/trading/qa/shared/"}]}});
        assert!(nc(verdict(
            events_scoped_to_environment,
            rule(json!("default"), any_env.clone())
        )));
        assert_eq!(
            verdict(
                events_scoped_to_environment,
                rule(json!("default"), this_env)
            ),
            Verdict::Compliant
        );
        assert_eq!(
            verdict(
                events_scoped_to_environment,
                rule(json!({"Ref": "Bus"}), any_env.clone())
            ),
            Verdict::Compliant
        );
        // Another environment's prefix is not this one's.
        let other = json!({"detail": {"name": [{"prefix": "/trading/qa2/shared/"}]}});
        assert!(nc(verdict(
            events_scoped_to_environment,
            rule(json!("default"), other)
        )));
    }
    #[test]
    fn a_composite_alarm_depends_on_the_alarms_its_rule_names() {
        let alarm =
            json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "alarm-lag-qa"}});
        let composite = |extra: Value| {
            let mut r = json!({"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {
                "AlarmName": "alarm-primary-failure-qa",
                "AlarmRule": "ALARM(\"alarm-lag-qa\") OR ALARM(\"alarm-lag-qa-other\")"}});
            if let Value::Object(o) = extra {
                r.as_object_mut().unwrap().extend(o);
            }
            r
        };
        let v = verdict(
            depends_on_what_it_names,
            json!({"A": alarm.clone(), "R": composite(json!({}))}),
        );
        let Verdict::NonCompliant(why) = v else {
            panic!("{v:?}")
        };
        assert!(
            why.contains("AlarmRule names A (\"alarm-lag-qa\")"),
            "{why}"
        );
        assert_eq!(
            verdict(
                depends_on_what_it_names,
                json!({"A": alarm.clone(), "R": composite(json!({"DependsOn": ["A"]}))})
            ),
            Verdict::Compliant
        );
        // A name that only starts the same way is another name.
        let other =
            json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "alarm-lag"}});
        assert_eq!(
            verdict(
                depends_on_what_it_names,
                json!({"A": other, "R": composite(json!({}))})
            ),
            Verdict::Compliant
        );
        // A name in a policy document or an event pattern is not looked up when R is made.
        let rule = json!({"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"detail": {"alarmName": ["alarm-lag-qa"]}}}});
        assert_eq!(
            verdict(depends_on_what_it_names, json!({"A": alarm, "R": rule})),
            Verdict::Compliant
        );
    }

    #[test]
    fn a_load_balancer_that_logs_depends_on_its_bucket_policy() {
        let lb = |depends: Value| {
            json!({"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "DependsOn": depends,
            "Properties": {"LoadBalancerAttributes": [
                {"Key": "access_logs.s3.enabled", "Value": "true"},
                {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Logs"}}]}})
        };
        let resources = |depends: Value| {
            json!({
            "Logs": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "LogsPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Logs"}, "PolicyDocument": {}}},
            "R": lb(depends)})
        };
        let Verdict::NonCompliant(why) = verdict(depends_on_what_it_names, resources(json!([])))
        else {
            panic!()
        };
        assert!(why.contains("needs LogsPolicy made first"), "{why}");
        assert_eq!(
            verdict(depends_on_what_it_names, resources(json!(["LogsPolicy"]))),
            Verdict::Compliant
        );
    }

    #[test]
    fn a_service_depends_on_the_listener_of_its_target_group() {
        let resources = |depends: Value| {
            json!({
            "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {}},
            "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}]}},
            "R": {"Type": "AWS::ECS::Service", "DependsOn": depends, "Properties": {
                "LoadBalancers": [{"TargetGroupArn": {"Ref": "Tg"}}]}}})
        };
        assert!(nc(verdict(depends_on_what_it_names, resources(json!([])))));
        assert_eq!(
            verdict(depends_on_what_it_names, resources(json!("Listener"))),
            Verdict::Compliant
        );
    }

    #[test]
    fn a_breaching_alarm_and_the_rule_on_an_alarm_wait_for_what_they_watch() {
        let canary =
            json!({"Type": "AWS::Synthetics::Canary", "Properties": {"Name": "canary-oi-qa"}});
        let alarm = |value: Value| {
            json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "alarm-oi-qa", "TreatMissingData": "breaching",
            "Dimensions": [{"Name": "CanaryName", "Value": value}]}})
        };
        let Verdict::NonCompliant(why) = verdict(
            depends_on_what_it_names,
            json!({"C": canary.clone(), "R": alarm(json!("canary-oi-qa"))}),
        ) else {
            panic!("a breaching alarm named its canary by string")
        };
        assert!(why.contains("missing data breaches"), "{why}");
        assert_eq!(
            verdict(
                depends_on_what_it_names,
                json!({"C": canary, "R": alarm(json!({"Ref": "C"}))})
            ),
            Verdict::Compliant
        );
        let composite = json!({"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {"AlarmName": "alarm-primary-failure-qa"}});
        let rule = |depends: Value| {
            json!({"Type": "AWS::Events::Rule", "DependsOn": depends, "Properties": {
            "EventPattern": {"detail-type": ["CloudWatch Alarm State Change"],
                             "detail": {"alarmName": ["alarm-primary-failure-qa"]}}}})
        };
        assert!(nc(verdict(
            depends_on_what_it_names,
            json!({"A": composite.clone(), "R": rule(json!([]))})
        )));
        assert_eq!(
            verdict(
                depends_on_what_it_names,
                json!({"A": composite, "R": rule(json!(["A"]))})
            ),
            Verdict::Compliant
        );
    }
}
