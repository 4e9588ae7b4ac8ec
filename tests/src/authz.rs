//! Authorization as AWS evaluates it, over the synthesized templates of both regions.
//!
//! Every principal that acts at run time, and every call it makes, is derived from what the
//! templates themselves say: the state machines' definitions (each task's integration and
//! parameters), the event rules' targets, the alarms' actions, the encrypted log groups, the
//! trail, the buckets' replication and the canaries' artifacts. Each call is then evaluated the
//! way AWS evaluates a request
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
//! an explicit deny anywhere wins; within one account an allow in the identity policy or in the
//! resource's own policy suffices, except for KMS, whose key policy must allow the call itself,
//! or allow the account and so delegate to IAM
//! (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>). A service
//! principal (CloudWatch, EventBridge, CloudTrail, CloudWatch Logs) has no identity policy: only
//! the resource's policy can allow it.
//!
//! Where a resource is encrypted with a customer-managed key, the KMS calls the service makes
//! on the caller's behalf are evaluated too, with the request context AWS gives them
//! (`kms:ViaService`, `kms:CallerAccount`, the encryption context): publishing to an encrypted
//! topic needs `kms:GenerateDataKey` and `kms:Decrypt` through SNS
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html>), a DynamoDB item call
//! `kms:Decrypt` through DynamoDB, an S3 write `kms:GenerateDataKey` through S3, CloudWatch Logs
//! encrypts as `logs.<region>.amazonaws.com` with `aws:logs:arn` in the context.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::graph::sub_variables;

/// Name properties of types whose primary identifier is an ARN or generated.
const NAME_PROPERTIES: &[&str] = &[
    "TopicName",
    "StateMachineName",
    "Name",
    "ServiceName",
    "TrailName",
];

/// The account the model deploys into.
pub const ACCOUNT: &str = "123456789012";

/// One stack of the pair: its role, region and template.
#[derive(Clone, Debug)]
pub struct Stack {
    /// `primary` or `secondary`.
    pub role: String,
    /// Its region.
    pub region: String,
    /// The template.
    pub template: Value,
}

/// Both stacks as deployed after the link phase, and the manifest wiring outputs to parameters.
#[derive(Clone, Debug)]
pub struct World {
    /// The stacks.
    pub stacks: Vec<Stack>,
    manifest: Value,
}

/// Who makes a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An IAM role of a stack (its logical id and the stack's role).
    Role {
        /// The stack holding it.
        stack: String,
        /// Its logical id.
        id: String,
    },
    /// An AWS service acting as itself (`cloudwatch.amazonaws.com`).
    Service(String),
    /// Another account, as a bucket policy names it (Elastic Load Balancing's account).
    Account(String),
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Role { stack, id } => write!(f, "role {id} ({stack})"),
            Principal::Service(s) => write!(f, "service {s}"),
            Principal::Account(a) => write!(f, "account {a}"),
        }
    }
}

/// One call a principal makes at run time.
#[derive(Clone, Debug)]
pub struct Call {
    /// Who calls.
    pub principal: Principal,
    /// The action, `service:Operation`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// The request context: condition keys and their values.
    pub context: BTreeMap<String, String>,
    /// Why the call is made (the state, rule or resource it comes from).
    pub why: String,
    /// The region the call is served in.
    pub region: String,
}

/// A call AWS would deny, and what is missing.
#[derive(Clone, Debug)]
pub struct Denial {
    /// The call.
    pub call: Call,
    /// What would allow it.
    pub missing: String,
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} may not {} on {} ({}): {}",
            self.call.principal, self.call.action, self.call.resource, self.call.why, self.missing
        )
    }
}

impl World {
    /// The world of two templates and the manifest that wires them.
    pub fn new(primary: Value, secondary: Value, manifest: Value) -> World {
        let region = |r: &str| {
            manifest["stacks"][r]["region"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        World {
            stacks: vec![
                Stack {
                    role: "primary".into(),
                    region: region("primary"),
                    template: primary,
                },
                Stack {
                    role: "secondary".into(),
                    region: region("secondary"),
                    template: secondary,
                },
            ],
            manifest,
        }
    }

    fn stack(&self, role: &str) -> &Stack {
        self.stacks
            .iter()
            .find(|s| s.role == role)
            .expect("a stack of that role")
    }

    // ---- resolving the templates' values as CloudFormation would ----

    /// The value of `parameter` in `stack` after the link phase: the output the manifest feeds
    /// it from, else its default.
    fn parameter(&self, stack: &Stack, parameter: &str) -> Value {
        for phase in self.manifest["phases"]
            .as_array()
            .into_iter()
            .flatten()
            .rev()
        {
            if phase["stack"] != stack.role.as_str() {
                continue;
            }
            let from = &phase["parameters"][parameter]["output"];
            if let (Some(other), Some(output)) = (from["stack"].as_str(), from["output"].as_str()) {
                let other = self.stack(other);
                return self.resolve(other, &other.template["Outputs"][output]["Value"]);
            }
        }
        stack.template["Parameters"][parameter]["Default"].clone()
    }

    fn condition(&self, stack: &Stack, name: &str) -> bool {
        self.truth(stack, &stack.template["Conditions"][name])
    }

    fn truth(&self, stack: &Stack, v: &Value) -> bool {
        if let Some(a) = v.get("Fn::Not").and_then(Value::as_array) {
            return !self.truth(stack, &a[0]);
        }
        if let Some(a) = v.get("Fn::And").and_then(Value::as_array) {
            return a.iter().all(|c| self.truth(stack, c));
        }
        if let Some(a) = v.get("Fn::Or").and_then(Value::as_array) {
            return a.iter().any(|c| self.truth(stack, c));
        }
        if let Some(a) = v.get("Fn::Equals").and_then(Value::as_array) {
            return self.resolve(stack, &a[0]) == self.resolve(stack, &a[1]);
        }
        if let Some(c) = v.get("Condition").and_then(Value::as_str) {
            return self.condition(stack, c);
        }
        v.as_bool().unwrap_or(false)
    }

    /// The physical id of resource `id` (what `Ref` returns), by its type.
    fn physical_name(&self, stack: &Stack, id: &str) -> String {
        let body = &stack.template["Resources"][id];
        let t = body["Type"].as_str().unwrap_or_default();
        // The schema's writable identifier, else the type's name property where the
        // identifier is an ARN (a topic's TopicName, a state machine's StateMachineName).
        let named = cfn::type_info(t)
            .map(|i| i.name_properties.to_vec())
            .unwrap_or_default()
            .into_iter()
            .chain(NAME_PROPERTIES.iter().copied());
        named
            .map(|p| self.resolve(stack, &body["Properties"][p]))
            .find_map(|v| v.as_str().map(String::from))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{}-{}", stack.role, id.to_lowercase()))
    }

    fn arn(&self, stack: &Stack, service: &str, regional: bool, rest: &str) -> String {
        let region = if regional { stack.region.as_str() } else { "" };
        let account = if service == "s3" { "" } else { ACCOUNT };
        format!("arn:aws:{service}:{region}:{account}:{rest}")
    }

    fn reference(&self, stack: &Stack, id: &str) -> Value {
        match id {
            "AWS::AccountId" => return Value::from(ACCOUNT),
            "AWS::Region" => return Value::from(stack.region.as_str()),
            "AWS::Partition" => return Value::from("aws"),
            "AWS::URLSuffix" => return Value::from("amazonaws.com"),
            "AWS::StackName" => return Value::from(format!("trading-dr-{}", stack.role)),
            "AWS::NoValue" => return Value::Null,
            _ => {}
        }
        if stack.template["Parameters"].get(id).is_some() {
            return self.parameter(stack, id);
        }
        let t = stack.template["Resources"][id]["Type"]
            .as_str()
            .unwrap_or_default();
        let name = self.physical_name(stack, id);
        Value::from(match t {
            "AWS::SNS::Topic" => self.arn(stack, "sns", true, &name),
            "AWS::StepFunctions::StateMachine" => {
                self.arn(stack, "states", true, &format!("stateMachine:{name}"))
            }
            "AWS::SecretsManager::Secret" => {
                self.arn(stack, "secretsmanager", true, &format!("secret:{name}"))
            }
            "AWS::KMS::Key" => format!("key-{}-{}", stack.role, id.to_lowercase()),
            _ => name,
        })
    }

    fn attribute(&self, stack: &Stack, id: &str, attr: &str) -> Value {
        let t = stack.template["Resources"][id]["Type"]
            .as_str()
            .unwrap_or_default();
        let name = self.physical_name(stack, id);
        let arn = |service: &str, rest: String| Value::from(self.arn(stack, service, true, &rest));
        match (t, attr) {
            ("AWS::KMS::Key", "Arn") => arn(
                "kms",
                format!(
                    "key/{}",
                    self.reference(stack, id).as_str().unwrap_or_default()
                ),
            ),
            ("AWS::IAM::Role", "Arn") => {
                let path = self.resolve(
                    stack,
                    &stack.template["Resources"][id]["Properties"]["Path"],
                );
                let path = path.as_str().unwrap_or("/");
                Value::from(format!("arn:aws:iam::{ACCOUNT}:role{path}{name}"))
            }
            ("AWS::S3::Bucket", "Arn") => Value::from(format!("arn:aws:s3:::{name}")),
            ("AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable", "Arn") => {
                arn("dynamodb", format!("table/{name}"))
            }
            ("AWS::Logs::LogGroup", "Arn") => arn("logs", format!("log-group:{name}:*")),
            ("AWS::Events::EventBus", "Arn") => arn("events", format!("event-bus/{name}")),
            ("AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm", "Arn") => {
                arn("cloudwatch", format!("alarm:{name}"))
            }
            ("AWS::SNS::Topic", "TopicArn") => self.reference(stack, id),
            ("AWS::StepFunctions::StateMachine", "Arn") => self.reference(stack, id),
            ("AWS::ECS::Cluster", "Arn") => arn("ecs", format!("cluster/{name}")),
            ("AWS::CloudTrail::Trail", "Arn") => arn("cloudtrail", format!("trail/{name}")),
            ("AWS::Backup::BackupVault", "BackupVaultArn") => {
                arn("backup", format!("backup-vault:{name}"))
            }
            _ => Value::from(format!("{id}.{attr}")),
        }
    }

    /// `v` with every intrinsic function evaluated in `stack`, after the link phase.
    pub fn resolve(&self, stack: &Stack, v: &Value) -> Value {
        match v {
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().expect("one key");
                match k.as_str() {
                    "Ref" => self.reference(stack, arg.as_str().unwrap_or_default()),
                    "Fn::GetAtt" => {
                        let (id, attr) = match arg {
                            Value::Array(a) => (
                                a[0].as_str().unwrap_or_default().to_string(),
                                a[1].as_str().unwrap_or_default().to_string(),
                            ),
                            Value::String(s) => {
                                let (i, a) = s.split_once('.').unwrap_or((s, ""));
                                (i.to_string(), a.to_string())
                            }
                            _ => return Value::Null,
                        };
                        self.attribute(stack, &id, &attr)
                    }
                    "Fn::Sub" => {
                        let (text, vars) = match arg {
                            Value::String(s) => (s.as_str(), None),
                            Value::Array(a) => (a[0].as_str().unwrap_or_default(), a.get(1)),
                            _ => return Value::Null,
                        };
                        let mut out = text.to_string();
                        for name in sub_variables(text) {
                            let value = match vars.and_then(|m| m.get(name)) {
                                Some(local) => self.resolve(stack, local),
                                None => match name.split_once('.') {
                                    Some((id, attr)) => self.attribute(stack, id, attr),
                                    None => self.reference(stack, name),
                                },
                            };
                            let text = match value {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            out = out.replacen(&format!("${{{name}}}"), &text, 1);
                        }
                        Value::from(out.replace("${!", "${"))
                    }
                    "Fn::If" => {
                        let a = arg.as_array().cloned().unwrap_or_default();
                        let branch = if self.condition(stack, a[0].as_str().unwrap_or_default()) {
                            &a[1]
                        } else {
                            &a[2]
                        };
                        self.resolve(stack, branch)
                    }
                    "Fn::Join" => {
                        let sep = arg[0].as_str().unwrap_or_default();
                        let items = self.resolve(stack, &arg[1]);
                        let parts: Vec<String> = items
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| {
                                p.as_str()
                                    .map(String::from)
                                    .unwrap_or_else(|| p.to_string())
                            })
                            .collect();
                        Value::from(parts.join(sep))
                    }
                    "Fn::Select" => {
                        let i = arg[0].as_u64().unwrap_or(0) as usize;
                        self.resolve(stack, &arg[1])
                            .get(i)
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                    _ => Value::Object(
                        o.iter()
                            .map(|(k, v)| (k.clone(), self.resolve(stack, v)))
                            .collect(),
                    ),
                }
            }
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(stack, v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|v| self.resolve(stack, v))
                    .filter(|v| !v.is_null())
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn resources<'a>(
        &'a self,
        stack: &'a Stack,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        stack.template["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(move |(_, b)| {
                b["Condition"]
                    .as_str()
                    .is_none_or(|c| self.condition(stack, c))
            })
    }

    /// The resource of either stack whose `Ref` or ARN is `arn`, with its stack.
    pub fn find(&self, arn: &str) -> Option<(&Stack, &String, &Value)> {
        for stack in &self.stacks {
            for (id, body) in self.resources(stack) {
                let r = self.reference(stack, id);
                let a = self.attribute(stack, id, "Arn");
                let matches = r.as_str() == Some(arn)
                    || a.as_str()
                        .is_some_and(|a| a == arn || a.trim_end_matches(":*") == arn);
                if matches {
                    return Some((stack, id, body));
                }
            }
        }
        None
    }

    // ---- the policies that apply ----

    fn identity_statements(&self, p: &Principal) -> Vec<Value> {
        let Principal::Role { stack, id } = p else {
            return vec![];
        };
        let stack = self.stack(stack);
        let role = self.resolve(stack, &stack.template["Resources"][id]["Properties"]);
        let mut out = Vec::new();
        for policy in role["Policies"].as_array().into_iter().flatten() {
            out.extend(statement_list(&policy["PolicyDocument"]));
        }
        for (_, body) in self.resources(stack) {
            if body["Type"] == "AWS::IAM::Policy" || body["Type"] == "AWS::IAM::ManagedPolicy" {
                let props = self.resolve(stack, &body["Properties"]);
                let name = self.physical_name(stack, id);
                if props["Roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r.as_str() == Some(name.as_str()))
                {
                    out.extend(statement_list(&props["PolicyDocument"]));
                }
            }
        }
        out
    }

    /// The resource policy of the resource `arn` names (bucket, topic, key, log groups), its
    /// owner's type, and whether it is a key.
    fn resource_statements(&self, action: &str, arn: &str) -> (Vec<Value>, bool) {
        let service = action.split(':').next().unwrap_or_default();
        if service == "kms" {
            if let Some((stack, _, body)) = self.find(arn) {
                return (
                    statement_list(&self.resolve(stack, &body["Properties"]["KeyPolicy"])),
                    true,
                );
            }
            return (vec![], true);
        }
        let mut out = Vec::new();
        for stack in &self.stacks {
            for (_, body) in self.resources(stack) {
                let props = || self.resolve(stack, &body["Properties"]);
                match body["Type"].as_str().unwrap_or_default() {
                    "AWS::S3::BucketPolicy" if service == "s3" => {
                        let p = props();
                        let bucket = p["Bucket"].as_str().unwrap_or_default();
                        let bucket_arn = format!("arn:aws:s3:::{bucket}");
                        if arn == bucket_arn || arn.starts_with(&format!("{bucket_arn}/")) {
                            out.extend(statement_list(&p["PolicyDocument"]));
                        }
                    }
                    "AWS::SNS::TopicPolicy" if service == "sns" => {
                        let p = props();
                        if p["Topics"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|t| t.as_str() == Some(arn))
                        {
                            out.extend(statement_list(&p["PolicyDocument"]));
                        }
                    }
                    "AWS::Logs::ResourcePolicy" if service == "logs" => {
                        let p = props();
                        if let Ok(doc) = serde_json::from_str::<Value>(
                            p["PolicyDocument"].as_str().unwrap_or("{}"),
                        ) {
                            out.extend(statement_list(&doc));
                        }
                    }
                    _ => {}
                }
            }
        }
        (out, false)
    }

    /// AWS's decision on `call`: `None` when allowed, else what is missing.
    pub fn decide(&self, call: &Call) -> Option<String> {
        let identity = self.identity_statements(&call.principal);
        let (resource, is_key) = self.resource_statements(&call.action, &call.resource);
        let principal_arn = match &call.principal {
            Principal::Role { stack, id } => {
                let s = self.stack(stack);
                self.attribute(s, id, "Arn")
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
            Principal::Service(s) | Principal::Account(s) => s.clone(),
        };
        let ctx = &call.context;
        let applies = |s: &Value, with_principal: bool| {
            (!with_principal || principal_matches(&s["Principal"], &call.principal, &principal_arn))
                && action_matches(s, &call.action)
                && resource_matches(s, &call.resource)
                && conditions_hold(&s["Condition"], ctx)
        };
        let deny = |s: &Value| s["Effect"] == "Deny";
        let allow = |s: &Value| s["Effect"] == "Allow";
        if identity.iter().any(|s| deny(s) && applies(s, false)) {
            return Some("an identity-policy statement denies it".into());
        }
        if resource.iter().any(|s| deny(s) && applies(s, true)) {
            return Some("a resource-policy statement denies it".into());
        }
        let identity_allows = identity.iter().any(|s| allow(s) && applies(s, false));
        let resource_allows = resource.iter().any(|s| allow(s) && applies(s, true));
        let is_role = matches!(call.principal, Principal::Role { .. });
        if is_key {
            // The key policy decides: it allows the caller itself, or the account (then IAM).
            let account = Principal::Role {
                stack: String::new(),
                id: String::new(),
            };
            let delegates = resource.iter().any(|s| {
                allow(s)
                    && is_role
                    && principal_matches(
                        &s["Principal"],
                        &account,
                        &format!("arn:aws:iam::{ACCOUNT}:root"),
                    )
                    && action_matches(s, &call.action)
                    && conditions_hold(&s["Condition"], ctx)
            });
            return if resource_allows || (delegates && identity_allows) {
                None
            } else if delegates {
                Some(format!(
                    "the identity policy allows no {} on the key",
                    call.action
                ))
            } else {
                Some(format!(
                    "the key policy allows neither {} nor the account (with IAM) to {} in this context ({})",
                    if is_role { "the role" } else { "the service" },
                    call.action,
                    ctx.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            };
        }
        if resource_allows || (is_role && identity_allows) {
            None
        } else if is_role {
            Some(format!(
                "no identity-policy statement allows {} on {}",
                call.action, call.resource
            ))
        } else {
            Some(format!(
                "the resource's policy has no statement allowing {} to {}",
                principal_arn, call.action
            ))
        }
    }

    /// Every call AWS would deny.
    pub fn denials(&self) -> Vec<Denial> {
        self.calls()
            .into_iter()
            .filter_map(|call| self.decide(&call).map(|missing| Denial { call, missing }))
            .collect()
    }

    // ---- the calls, derived from the templates ----

    /// Every call every runtime principal makes, with the KMS calls services make for them.
    pub fn calls(&self) -> Vec<Call> {
        let mut out = Vec::new();
        for stack in &self.stacks {
            self.state_machine_calls(stack, &mut out);
            self.rule_calls(stack, &mut out);
            self.alarm_calls(stack, &mut out);
            self.log_group_calls(stack, &mut out);
            self.trail_calls(stack, &mut out);
            self.replication_calls(stack, &mut out);
            self.canary_calls(stack, &mut out);
            self.grant_calls(stack, &mut out);
            self.log_delivery_calls(stack, &mut out);
            self.endpoint_calls(stack, &mut out);
        }
        let with_kms: Vec<Call> = out.iter().flat_map(|c| self.kms_calls(c)).collect();
        out.extend(with_kms);
        out
    }

    fn call(
        &self,
        stack: &Stack,
        principal: Principal,
        action: &str,
        resource: String,
        why: String,
    ) -> Call {
        Call {
            principal,
            action: action.to_string(),
            resource,
            context: BTreeMap::from([
                ("aws:SecureTransport".into(), "true".into()),
                ("aws:PrincipalAccount".into(), ACCOUNT.into()),
            ]),
            why,
            region: stack.region.clone(),
        }
    }

    fn state_machine_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::StepFunctions::StateMachine" {
                continue;
            }
            let props = self.resolve(stack, &body["Properties"]);
            let Some(role) = self.role_of(stack, &props["RoleArn"]) else {
                continue;
            };
            let Ok(definition) =
                serde_json::from_str::<Value>(props["DefinitionString"].as_str().unwrap_or("{}"))
            else {
                continue;
            };
            let starts = self.inputs_of(stack, id);
            for (state, task) in tasks(&definition) {
                let resource = task["Resource"].as_str().unwrap_or_default();
                let why = format!("state {state} of {id}");
                for (action, arn) in
                    self.integration_resources(stack, id, resource, &task["Parameters"], &starts)
                {
                    out.push(self.call(stack, role.clone(), &action, arn, why.clone()));
                    if action == "cloudwatch:PutMetricData" {
                        let ns = task["Parameters"]["Namespace"].as_str().unwrap_or_default();
                        out.last_mut()
                            .expect("just pushed")
                            .context
                            .insert("cloudwatch:namespace".into(), ns.into());
                    }
                }
            }
            // Step Functions writes its execution logs to the log group as the role.
            for dest in props["LoggingConfiguration"]["Destinations"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let group = dest["CloudWatchLogsLogGroup"]["LogGroupArn"]
                    .as_str()
                    .unwrap_or_default();
                for action in [
                    "logs:CreateLogDelivery",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ] {
                    out.push(self.call(
                        stack,
                        role.clone(),
                        action,
                        "*".into(),
                        format!("logging of {id} to {group}"),
                    ));
                }
            }
        }
    }

    /// What the parameters of a task started by `starts` look like: the text prefixes the
    /// rule that starts the state machine matches (`detail.name` prefix), for `.$` names.
    fn inputs_of(&self, stack: &Stack, machine: &str) -> Vec<String> {
        let arn = self.reference(stack, machine);
        let mut prefixes = Vec::new();
        for s in &self.stacks {
            for (_, body) in self.resources(s) {
                if body["Type"] != "AWS::Events::Rule" {
                    continue;
                }
                let p = self.resolve(s, &body["Properties"]);
                if p["Targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["Arn"] == arn)
                {
                    for n in p["EventPattern"]["detail"]["name"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        if let Some(prefix) = n["prefix"].as_str() {
                            prefixes.push(format!("{prefix}example"));
                        }
                    }
                }
            }
        }
        prefixes
    }

    fn role_of(&self, stack: &Stack, arn: &Value) -> Option<Principal> {
        let arn = arn.as_str()?;
        self.resources(stack)
            .find(|(id, b)| {
                b["Type"] == "AWS::IAM::Role"
                    && self.attribute(stack, id, "Arn").as_str() == Some(arn)
            })
            .map(|(id, _)| Principal::Role {
                stack: stack.role.clone(),
                id: id.clone(),
            })
    }

    /// The IAM actions and resource ARNs a task's integration is authorized on, from its
    /// parameters (the Service Authorization Reference's resource types for each operation).
    fn integration_resources(
        &self,
        stack: &Stack,
        machine: &str,
        resource: &str,
        params: &Value,
        inputs: &[String],
    ) -> Vec<(String, String)> {
        let Some(api) = cfn::arn::states_api(resource) else {
            return vec![];
        };
        let api = api
            .trim_end_matches(".sync")
            .trim_end_matches(".waitForTaskToken");
        let Some((_, op)) = api.split_once(':') else {
            return vec![];
        };
        let action = cfn::arn::iam_action(api);
        let iam_service = action.split(':').next().unwrap_or_default();
        let region = stack.region.as_str();
        let arn = |svc: &str, rest: String| format!("arn:aws:{svc}:{region}:{ACCOUNT}:{rest}");
        let text = |k: &str| -> Vec<String> {
            match (&params[k], &params[format!("{k}.$")]) {
                (Value::String(s), _) => vec![s.clone()],
                (Value::Array(a), _) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                (_, Value::String(_)) => inputs.to_vec(),
                _ => vec![],
            }
        };
        let on = |arns: Vec<String>| {
            arns.into_iter()
                .map(|a| (action.clone(), a))
                .collect::<Vec<_>>()
        };
        match (iam_service, op) {
            ("sns", "publish") => on(text("TopicArn")),
            ("dynamodb", _) => on(text("TableName")
                .into_iter()
                .map(|t| arn("dynamodb", format!("table/{t}")))
                .collect()),
            ("events", "putEvents") => {
                let buses: Vec<String> = params["Entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["EventBusName"].as_str().unwrap_or("default").to_string())
                    .collect();
                on(buses
                    .into_iter()
                    .map(|b| {
                        if b.starts_with("arn:") {
                            b
                        } else {
                            arn("events", format!("event-bus/{b}"))
                        }
                    })
                    .collect())
            }
            ("ssm", _) => on(text("Name")
                .into_iter()
                .map(|n| arn("ssm", format!("parameter{n}")))
                .collect()),
            ("cloudwatch", "describeAlarms") => on(text("AlarmNames")
                .into_iter()
                .map(|n| arn("cloudwatch", format!("alarm:{n}")))
                .collect()),
            ("cloudwatch", _) => on(vec!["*".into()]),
            ("rds", _) => {
                let mut arns: Vec<String> = text("GlobalClusterIdentifier")
                    .into_iter()
                    .map(|g| format!("arn:aws:rds::{ACCOUNT}:global-cluster:{g}"))
                    .collect();
                arns.extend(text("TargetDbClusterIdentifier"));
                on(arns)
            }
            ("ecs", _) => {
                let cluster = text("Cluster").first().cloned().unwrap_or_default();
                let mut services = text("Services");
                services.extend(text("Service"));
                on(services
                    .into_iter()
                    .map(|s| arn("ecs", format!("service/{cluster}/{s}")))
                    .collect())
            }
            ("states", "describeExecution") => {
                // The execution is read from the state (a lock's holder): an execution of any
                // state machine that runs as the same role.
                let role = self.resolve(
                    stack,
                    &stack.template["Resources"][machine]["Properties"]["RoleArn"],
                );
                on(self
                    .resources(stack)
                    .filter(|(_, b)| b["Type"] == "AWS::StepFunctions::StateMachine")
                    .filter(|(_, b)| self.resolve(stack, &b["Properties"]["RoleArn"]) == role)
                    .map(|(id, _)| {
                        arn(
                            "states",
                            format!("execution:{}:example", self.physical_name(stack, id)),
                        )
                    })
                    .collect())
            }
            ("application-autoscaling", _) => on(vec![arn(
                "application-autoscaling",
                "scalable-target/0123456789abcdef".into(),
            )]),
            _ => on(vec!["*".into()]),
        }
    }

    fn rule_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::Events::Rule" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let bus = p["EventBusName"].as_str().unwrap_or("default");
            let rule_arn = if bus == "default" {
                format!(
                    "arn:aws:events:{}:{ACCOUNT}:rule/{}",
                    stack.region,
                    self.physical_name(stack, id)
                )
            } else {
                format!(
                    "arn:aws:events:{}:{ACCOUNT}:rule/{bus}/{}",
                    stack.region,
                    self.physical_name(stack, id)
                )
            };
            for target in p["Targets"].as_array().into_iter().flatten() {
                let arn = target["Arn"].as_str().unwrap_or_default().to_string();
                let why = format!(
                    "target {} of rule {id}",
                    target["Id"].as_str().unwrap_or_default()
                );
                let action = match arn.split(':').nth(2).unwrap_or_default() {
                    "states" => "states:StartExecution",
                    "events" => "events:PutEvents",
                    "sns" => "sns:Publish",
                    "logs" => "logs:PutLogEvents",
                    _ => continue,
                };
                let (principal, resource) = match self.role_of(stack, &target["RoleArn"]) {
                    Some(role) => (role, arn.clone()),
                    None => {
                        // Log targets are written through the group's streams.
                        let resource = if action.starts_with("logs:") {
                            format!("{}:log-stream:example", arn.trim_end_matches(":*"))
                        } else {
                            arn.clone()
                        };
                        (Principal::Service("events.amazonaws.com".into()), resource)
                    }
                };
                let mut call = self.call(stack, principal, action, resource, why);
                call.context
                    .insert("aws:SourceAccount".into(), ACCOUNT.into());
                call.context
                    .insert("aws:SourceArn".into(), rule_arn.clone());
                out.push(call);
            }
        }
    }

    fn alarm_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::CloudWatch::Alarm"
                && body["Type"] != "AWS::CloudWatch::CompositeAlarm"
            {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let alarm_arn = format!(
                "arn:aws:cloudwatch:{}:{ACCOUNT}:alarm:{}",
                stack.region,
                self.physical_name(stack, id)
            );
            for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                for action in p[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if action.starts_with("arn:aws:sns:") {
                        let mut call = self.call(
                            stack,
                            Principal::Service("cloudwatch.amazonaws.com".into()),
                            "sns:Publish",
                            action.to_string(),
                            format!("{key} of alarm {id}"),
                        );
                        call.context
                            .insert("aws:SourceAccount".into(), ACCOUNT.into());
                        call.context
                            .insert("aws:SourceArn".into(), alarm_arn.clone());
                        out.push(call);
                    }
                }
            }
        }
    }

    fn log_group_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::Logs::LogGroup" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let Some(key) = p["KmsKeyId"].as_str() else {
                continue;
            };
            let group = self
                .attribute(stack, id, "Arn")
                .as_str()
                .unwrap_or_default()
                .trim_end_matches(":*")
                .to_string();
            for action in ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"] {
                let mut call = self.call(
                    stack,
                    Principal::Service(format!("logs.{}.amazonaws.com", stack.region)),
                    action,
                    key.to_string(),
                    format!("CloudWatch Logs encrypting {id}"),
                );
                call.context
                    .insert("kms:EncryptionContext:aws:logs:arn".into(), group.clone());
                out.push(call);
            }
        }
    }

    fn trail_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::CloudTrail::Trail" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let bucket = p["S3BucketName"].as_str().unwrap_or_default();
            let trail = format!(
                "arn:aws:cloudtrail:{}:{ACCOUNT}:trail/{}",
                stack.region,
                self.physical_name(stack, id)
            );
            let service = Principal::Service("cloudtrail.amazonaws.com".into());
            let prefix = p["S3KeyPrefix"]
                .as_str()
                .map(|k| format!("{k}/"))
                .unwrap_or_default();
            let mut calls = vec![
                self.call(stack, service.clone(), "s3:GetBucketAcl", format!("arn:aws:s3:::{bucket}"), format!("trail {id}")),
                self.call(
                    stack,
                    service.clone(),
                    "s3:PutObject",
                    format!("arn:aws:s3:::{bucket}/{prefix}AWSLogs/{ACCOUNT}/CloudTrail/{}/2026/12/08/log.json.gz", stack.region),
                    format!("trail {id}"),
                ),
            ];
            calls[1]
                .context
                .insert("s3:x-amz-acl".into(), "bucket-owner-full-control".into());
            if let Some(key) = p["KMSKeyId"].as_str() {
                let mut k = self.call(
                    stack,
                    service.clone(),
                    "kms:GenerateDataKey",
                    key.to_string(),
                    format!("trail {id} encrypting its logs"),
                );
                k.context.insert(
                    "kms:EncryptionContext:aws:cloudtrail:arn".into(),
                    trail.clone(),
                );
                calls.push(k);
            }
            for mut c in calls {
                c.context.insert("aws:SourceArn".into(), trail.clone());
                c.context.insert("aws:SourceAccount".into(), ACCOUNT.into());
                out.push(c);
            }
        }
    }

    fn replication_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::S3::Bucket" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let config = &p["ReplicationConfiguration"];
            let Some(role) = self.role_of(stack, &config["Role"]) else {
                continue;
            };
            let source = format!("arn:aws:s3:::{}", self.physical_name(stack, id));
            let why = format!("replication of {id}");
            out.push(self.call(
                stack,
                role.clone(),
                "s3:GetReplicationConfiguration",
                source.clone(),
                why.clone(),
            ));
            out.push(self.call(
                stack,
                role.clone(),
                "s3:ListBucket",
                source.clone(),
                why.clone(),
            ));
            out.push(self.call(
                stack,
                role.clone(),
                "s3:GetObjectVersionForReplication",
                format!("{source}/example"),
                why.clone(),
            ));
            if let Some(key) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"].as_str() {
                let mut c = self.call(stack, role.clone(), "kms:Decrypt", key.to_string(), format!("{why}: reading the source objects"));
                c.context.insert("kms:ViaService".into(), format!("s3.{}.amazonaws.com", stack.region));
                c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                c.context.insert("kms:EncryptionContext:aws:s3:arn".into(), format!("{source}/example"));
                out.push(c);
            }
            for rule in config["Rules"].as_array().into_iter().flatten() {
                let dest = rule["Destination"]["Bucket"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                out.push(self.call(
                    stack,
                    role.clone(),
                    "s3:ReplicateObject",
                    format!("{dest}/example"),
                    why.clone(),
                ));
                out.push(self.call(
                    stack,
                    role.clone(),
                    "s3:ReplicateDelete",
                    format!("{dest}/example"),
                    why.clone(),
                ));
                if let Some(key) =
                    rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"].as_str()
                {
                    let region = key.split(':').nth(3).unwrap_or_default().to_string();
                    let mut c = self.call(
                        stack,
                        role.clone(),
                        "kms:Encrypt",
                        key.to_string(),
                        format!("{why}: encrypting the replicas"),
                    );
                    c.context.insert(
                        "kms:ViaService".into(),
                        format!("s3.{region}.amazonaws.com"),
                    );
                    c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                    c.context.insert(
                        "kms:EncryptionContext:aws:s3:arn".into(),
                        format!("{dest}/example"),
                    );
                    out.push(c);
                }
            }
        }
    }

    fn canary_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::Synthetics::Canary" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            let Some(role) = self.role_of(stack, &p["ExecutionRoleArn"]) else {
                continue;
            };
            let location = p["ArtifactS3Location"].as_str().unwrap_or_default();
            let path = location.trim_start_matches("s3://");
            let bucket = path.split('/').next().unwrap_or_default();
            let why = format!("canary {id} writing its artifacts");
            out.push(self.call(
                stack,
                role.clone(),
                "s3:PutObject",
                format!("arn:aws:s3:::{path}/example"),
                why.clone(),
            ));
            out.push(self.call(
                stack,
                role.clone(),
                "s3:GetBucketLocation",
                format!("arn:aws:s3:::{bucket}"),
                why.clone(),
            ));
            if let Some(key) = p["ArtifactConfig"]["S3Encryption"]["KmsKeyArn"].as_str() {
                let mut c = self.call(
                    stack,
                    role.clone(),
                    "kms:GenerateDataKey",
                    key.to_string(),
                    why.clone(),
                );
                c.context.insert(
                    "kms:ViaService".into(),
                    format!("s3.{}.amazonaws.com", stack.region),
                );
                c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                out.push(c);
            }
            let mut m = self.call(
                stack,
                role,
                "cloudwatch:PutMetricData",
                "*".into(),
                format!("canary {id} publishing its metrics"),
            );
            m.context
                .insert("cloudwatch:namespace".into(), "CloudWatchSynthetics".into());
            out.push(m);
        }
    }

    /// The application's calls: every statement its task role is granted (the grants are made
    /// by the same code that decides what the application may do), each resource with its
    /// wildcard filled in. What they add to the identity policy is the other side: bucket
    /// policies and the keys of what the application reads and writes.
    fn grant_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::ECS::TaskDefinition" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            for (what, key) in [
                ("task role", "TaskRoleArn"),
                ("execution role", "ExecutionRoleArn"),
            ] {
                let Some(role) = self.role_of(stack, &p[key]) else {
                    continue;
                };
                for st in self.identity_statements(&role) {
                    if st["Effect"] != "Allow" {
                        continue;
                    }
                    for action in list(&st["Action"]) {
                        for resource in list(&st["Resource"]) {
                            // A key grant is the caller's half of a service's use of the key,
                            // judged with the calls through that service, never called itself.
                            if resource == "*" || action.contains('*') || action.starts_with("kms:")
                            {
                                continue;
                            }
                            let example = resource.replace('*', "example");
                            out.push(self.call(
                                stack,
                                role.clone(),
                                &action,
                                example,
                                format!("the application's {what} of {id}"),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// S3 server access logs and the load balancers' access logs, delivered into their buckets.
    fn log_delivery_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            let p = self.resolve(stack, &body["Properties"]);
            match body["Type"].as_str().unwrap_or_default() {
                "AWS::S3::Bucket" => {
                    let Some(target) = p["LoggingConfiguration"]["DestinationBucketName"].as_str()
                    else {
                        continue;
                    };
                    let prefix = p["LoggingConfiguration"]["LogFilePrefix"]
                        .as_str()
                        .unwrap_or_default();
                    let mut c = self.call(
                        stack,
                        Principal::Service("logging.s3.amazonaws.com".into()),
                        "s3:PutObject",
                        format!("arn:aws:s3:::{target}/{prefix}2026-12-08-00-00-00-EXAMPLE"),
                        format!("server access logs of {id}"),
                    );
                    c.context.insert(
                        "aws:SourceArn".into(),
                        format!("arn:aws:s3:::{}", self.physical_name(stack, id)),
                    );
                    c.context.insert("aws:SourceAccount".into(), ACCOUNT.into());
                    out.push(c);
                }
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                    let attrs = p["LoadBalancerAttributes"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    let attr = |k: &str| {
                        attrs
                            .iter()
                            .find(|a| a["Key"] == k)
                            .and_then(|a| a["Value"].as_str().map(String::from))
                    };
                    if attr("access_logs.s3.enabled").as_deref() != Some("true") {
                        continue;
                    }
                    let bucket = attr("access_logs.s3.bucket").unwrap_or_default();
                    let prefix = attr("access_logs.s3.prefix")
                        .map(|p| format!("{p}/"))
                        .unwrap_or_default();
                    // The regional Elastic Load Balancing account writes them (regions before
                    // August 2022; https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
                    let elb = match stack.region.as_str() {
                        "us-east-1" => "127311923021",
                        "us-east-2" => "033677994240",
                        "us-west-2" => "797873946194",
                        _ => "000000000000",
                    };
                    out.push(self.call(
                        stack,
                        Principal::Account(format!("arn:aws:iam::{elb}:root")),
                        "s3:PutObject",
                        format!("arn:aws:s3:::{bucket}/{prefix}AWSLogs/{ACCOUNT}/elasticloadbalancing/{}/2026/12/08/example.log.gz", stack.region),
                        format!("access logs of {id}"),
                    ));
                }
                _ => {}
            }
        }
    }

    /// The global endpoint replicating events to the other region's bus, as its role.
    fn endpoint_calls(&self, stack: &Stack, out: &mut Vec<Call>) {
        for (id, body) in self.resources(stack) {
            if body["Type"] != "AWS::Events::Endpoint" {
                continue;
            }
            let p = self.resolve(stack, &body["Properties"]);
            if p["ReplicationConfig"]["State"] != "ENABLED" {
                continue;
            }
            let Some(role) = self.role_of(stack, &p["RoleArn"]) else {
                continue;
            };
            for bus in p["EventBuses"].as_array().into_iter().flatten() {
                let arn = bus["EventBusArn"].as_str().unwrap_or_default().to_string();
                out.push(self.call(
                    stack,
                    role.clone(),
                    "events:PutEvents",
                    arn,
                    format!("replication of endpoint {id}"),
                ));
            }
        }
    }

    /// The KMS calls a service makes on the caller's behalf for `call` when the resource is
    /// encrypted with a customer-managed key.
    fn kms_calls(&self, call: &Call) -> Vec<Call> {
        if let Some(calls) = self.s3_kms_calls(call) {
            return calls;
        }
        if let Some(calls) = self.global_table_kms_calls(call) {
            return calls;
        }
        let Some((stack, _, body)) = self.find(&call.resource) else {
            return vec![];
        };
        let p = self.resolve(stack, &body["Properties"]);
        let (key, service, actions): (Option<&str>, &str, &[&str]) = match (
            body["Type"].as_str().unwrap_or_default(),
            call.action.as_str(),
        ) {
            ("AWS::SNS::Topic", "sns:Publish") => (
                p["KmsMasterKeyId"].as_str(),
                "sns",
                &["kms:GenerateDataKey", "kms:Decrypt"],
            ),
            ("AWS::DynamoDB::Table", a) if a.starts_with("dynamodb:") => (
                p["SSESpecification"]["KMSMasterKeyId"].as_str(),
                "dynamodb",
                &["kms:Decrypt"],
            ),
            ("AWS::Events::EventBus", "events:PutEvents") => {
                // EventBridge encrypts as itself (events.amazonaws.com), not as the caller.
                let Some(key) = p["KmsKeyIdentifier"].as_str() else {
                    return vec![];
                };
                let bus = self.attribute(
                    stack,
                    &self.find(&call.resource).expect("found").1.clone(),
                    "Arn",
                );
                return ["kms:GenerateDataKey", "kms:Decrypt"]
                    .iter()
                    .map(|a| {
                        let mut c = self.call(
                            stack,
                            Principal::Service("events.amazonaws.com".into()),
                            a,
                            key.to_string(),
                            format!("EventBridge encrypting the event for {}", call.why),
                        );
                        c.context.insert("aws:SourceAccount".into(), ACCOUNT.into());
                        c.context.insert(
                            "aws:SourceArn".into(),
                            bus.as_str().unwrap_or_default().into(),
                        );
                        c.context.insert(
                            "kms:EncryptionContext:aws:events:event-bus:arn".into(),
                            bus.as_str().unwrap_or_default().into(),
                        );
                        c
                    })
                    .collect();
            }
            _ => return vec![],
        };
        let Some(key) = key else { return vec![] };
        actions
            .iter()
            .map(|a| {
                let mut c = Call {
                    action: a.to_string(),
                    resource: key.to_string(),
                    why: format!("{} through {service} for {}", a, call.why),
                    ..call.clone()
                };
                if let Principal::Role { .. } = call.principal {
                    c.context.insert(
                        "kms:ViaService".into(),
                        format!("{service}.{}.amazonaws.com", stack.region),
                    );
                    c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                } else {
                    c.context.insert("aws:SourceAccount".into(), ACCOUNT.into());
                }
                c
            })
            .collect()
    }
}

impl World {
    /// An item call on a replica of a global table: DynamoDB uses the replica's own key (the
    /// region's), as the caller, through DynamoDB
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html>).
    fn global_table_kms_calls(&self, call: &Call) -> Option<Vec<Call>> {
        let rest = call.resource.strip_prefix("arn:aws:dynamodb:")?;
        let region = rest.split(':').next()?;
        let table = rest.split(":table/").nth(1)?.split('/').next()?;
        for stack in &self.stacks {
            for (id, body) in self.resources(stack) {
                if body["Type"] != "AWS::DynamoDB::GlobalTable"
                    || self.physical_name(stack, id) != table
                {
                    continue;
                }
                let p = self.resolve(stack, &body["Properties"]);
                let replica = p["Replicas"]
                    .as_array()?
                    .iter()
                    .find(|r| r["Region"] == region)?;
                let key = replica["SSESpecification"]["KMSMasterKeyId"].as_str()?;
                let mut c = Call {
                    action: "kms:Decrypt".into(),
                    resource: key.to_string(),
                    why: format!("kms:Decrypt through dynamodb for {}", call.why),
                    ..call.clone()
                };
                c.context.insert(
                    "kms:ViaService".into(),
                    format!("dynamodb.{region}.amazonaws.com"),
                );
                c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                return Some(if matches!(call.principal, Principal::Role { .. }) {
                    vec![c]
                } else {
                    vec![]
                });
            }
        }
        None
    }

    /// An object call on a bucket encrypted with a customer-managed key: S3 uses the key as
    /// the caller (GetObject decrypts, PutObject generates a data key), through S3
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>).
    fn s3_kms_calls(&self, call: &Call) -> Option<Vec<Call>> {
        let rest = call.resource.strip_prefix("arn:aws:s3:::")?;
        let (bucket, _) = rest.split_once('/')?;
        let kms = match call.action.as_str() {
            "s3:GetObject" => "kms:Decrypt",
            "s3:PutObject" => "kms:GenerateDataKey",
            _ => return Some(vec![]),
        };
        if !matches!(call.principal, Principal::Role { .. }) {
            return Some(vec![]);
        }
        for stack in &self.stacks {
            for (id, body) in self.resources(stack) {
                if body["Type"] != "AWS::S3::Bucket" || self.physical_name(stack, id) != bucket {
                    continue;
                }
                let p = self.resolve(stack, &body["Properties"]);
                let key = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"].as_str()?;
                let mut c = Call {
                    action: kms.into(),
                    resource: key.to_string(),
                    why: format!("{kms} through s3 for {}", call.why),
                    ..call.clone()
                };
                c.context.insert(
                    "kms:ViaService".into(),
                    format!("s3.{}.amazonaws.com", stack.region),
                );
                c.context.insert("kms:CallerAccount".into(), ACCOUNT.into());
                return Some(vec![c]);
            }
        }
        Some(vec![])
    }
}

/// Every Task state of a definition, with its name, in branches and maps too.
pub fn tasks(definition: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, state) in definition["States"].as_object().into_iter().flatten() {
        if state["Type"] == "Task" {
            out.push((name.clone(), state.clone()));
        }
        for b in state["Branches"].as_array().into_iter().flatten() {
            out.extend(tasks(b));
        }
        for k in ["Iterator", "ItemProcessor"] {
            if state.get(k).is_some() {
                out.extend(tasks(&state[k]));
            }
        }
    }
    out
}

fn statement_list(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect(),
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` one; actions case-insensitively.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn action_matches(s: &Value, action: &str) -> bool {
    let any = |v: &Value| {
        list(v)
            .iter()
            .any(|a| glob(&a.to_lowercase(), &action.to_lowercase()))
    };
    if s.get("NotAction").is_some() {
        !any(&s["NotAction"])
    } else {
        any(&s["Action"])
    }
}

fn resource_matches(s: &Value, resource: &str) -> bool {
    let any = |v: &Value| list(v).iter().any(|r| glob(r, resource));
    if s.get("NotResource").is_some() {
        !any(&s["NotResource"])
    } else if s.get("Resource").is_some() {
        any(&s["Resource"])
    } else {
        // A resource policy without Resource applies to its resource.
        true
    }
}

fn principal_matches(p: &Value, who: &Principal, arn: &str) -> bool {
    if p == "*" || p["AWS"] == "*" {
        return true;
    }
    match who {
        Principal::Service(s) => list(&p["Service"]).iter().any(|x| x == s),
        Principal::Role { .. } => list(&p["AWS"])
            .iter()
            .any(|x| x == arn || *x == format!("arn:aws:iam::{ACCOUNT}:root") || x == ACCOUNT),
        Principal::Account(a) => list(&p["AWS"]).iter().any(|x| x == a),
    }
}

/// Whether every condition of a statement holds in `ctx`
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>).
pub fn conditions_hold(conditions: &Value, ctx: &BTreeMap<String, String>) -> bool {
    let Some(ops) = conditions.as_object() else {
        return true;
    };
    ops.iter().all(|(op, keys)| {
        let (op, if_exists) = match op.strip_suffix("IfExists") {
            Some(o) => (o, true),
            None => (op.as_str(), false),
        };
        let op = op
            .trim_start_matches("ForAnyValue:")
            .trim_start_matches("ForAllValues:");
        keys.as_object().into_iter().flatten().all(|(key, wanted)| {
            let wanted = list(wanted);
            let actual = ctx
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str());
            let negated = op.contains("Not");
            let Some(actual) = actual else {
                // A key absent from the request: only IfExists and negated operators hold.
                return if_exists || negated || op == "Null";
            };
            let hit = match op {
                "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" | "Bool" => {
                    wanted.iter().any(|w| w == actual)
                }
                "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
                    wanted.iter().any(|w| w.eq_ignore_ascii_case(actual))
                }
                "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" => {
                    wanted.iter().any(|w| glob(w, actual))
                }
                "Null" => wanted.iter().any(|w| w == "false"),
                _ => false,
            };
            if negated { !hit } else { hit }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
        assert!(glob("kms:GenerateDataKey*", "kms:GenerateDataKey"));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::c/x"));
        assert!(glob("s?s:*", "sns:Publish"));
    }

    #[test]
    fn conditions_follow_iam_on_absent_keys_and_operators() {
        let ctx = BTreeMap::from([(
            "kms:ViaService".to_string(),
            "sns.us-east-2.amazonaws.com".to_string(),
        )]);
        assert!(conditions_hold(
            &json!({"StringEquals": {"kms:ViaService": ["s3.x", "sns.us-east-2.amazonaws.com"]}}),
            &ctx
        ));
        assert!(!conditions_hold(
            &json!({"StringEquals": {"kms:ViaService": ["s3.x"]}}),
            &ctx
        ));
        assert!(!conditions_hold(
            &json!({"StringEquals": {"aws:SourceAccount": "1"}}),
            &ctx
        ));
        assert!(conditions_hold(
            &json!({"StringNotEquals": {"aws:SourceAccount": "1"}}),
            &ctx
        ));
        assert!(conditions_hold(
            &json!({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}),
            &ctx
        ));
        assert!(conditions_hold(
            &json!({"ArnLike": {"kms:ViaService": "sns.*"}}),
            &ctx
        ));
    }
}
