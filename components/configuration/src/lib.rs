//! The application's configuration in SSM Parameter Store, and its replication to the secondary.
//!
//! Parameters live under `/<app>/<suffix>/`, in two trees:
//! - `shared/…` (feature flags, the active region) holds the same values in both regions.
//!   Changes made in the primary at run time (create, update, delete) are replicated to the
//!   secondary, event-driven: SSM's "Parameter Store Change" event starts a state machine in the
//!   primary that reads the new value and sends it as an event to the secondary region's default
//!   bus, where a rule starts a state machine that writes (or deletes) the parameter there. No
//!   function code: two small state machines, three rules, least-privilege roles.
//! - `region/…` (database endpoints, table, buckets) differs per region and is never replicated.
//!
//! Secrets never go into these String parameters: CloudFormation cannot create SecureString
//! parameters, and the credentials live in Secrets Manager with a replica in the secondary.
//!
//! ```
//! use cfn::naming::{ParameterPaths, Suffix};
//!
//! let props = configuration::ParametersProps {
//!     paths: ParameterPaths::new("trading", &Suffix::parse("qa").unwrap()),
//!     entries: vec![configuration::Entry::shared("active-region", "us-east-1", "The region serving traffic")],
//! };
//! let fragment = configuration::parameters(&props)?;
//! assert_eq!(fragment.resources().len(), 1);
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::arn::Arn;
use cfn::aws::{events, iam, logs, ssm, stepfunctions};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, Namer, ParameterPaths};
use cfn::states::{Catch, Retry, Then};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};
use serde_json::{Value, json};

/// One parameter.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The path below the prefix, e.g. `shared/flags/trading-enabled`.
    pub key: String,
    /// The value.
    pub value: Expr,
    /// What it holds.
    pub description: String,
}

impl Entry {
    /// A parameter under `shared/`, replicated to the secondary.
    pub fn shared(key: &str, value: impl Into<Expr>, description: &str) -> Self {
        Entry {
            key: ParameterPaths::shared_key(key),
            value: value.into(),
            description: description.to_string(),
        }
    }

    /// A parameter under `region/`, this region's own.
    pub fn regional(key: &str, value: impl Into<Expr>, description: &str) -> Self {
        Entry {
            key: ParameterPaths::region_key(key),
            value: value.into(),
            description: description.to_string(),
        }
    }
}

/// The parameters every region carries, under the same keys: the contract the application
/// reads. Region crates fill in what their enabled components provide.
#[derive(Clone, Debug)]
pub struct Standard {
    /// The region serving traffic (`shared/active-region`): a stack parameter the deployer sets
    /// from what the runbooks recorded, so no deploy reverts a failover.
    pub active_region: Expr,
    /// The failover flag's value (`shared/flags/failover-active`), the same way.
    pub failover_active: Expr,
    /// Feature flags (`shared/flags/<name>`).
    pub flags: std::collections::BTreeMap<String, String>,
    /// This region's Aurora cluster endpoint (`region/db/writer-endpoint`).
    pub db_writer_endpoint: Option<Expr>,
    /// This region's Aurora reader endpoint (`region/db/reader-endpoint`).
    pub db_reader_endpoint: Option<Expr>,
    /// The credentials secret's name, the same in both regions (`region/db/secret-name`).
    pub db_secret_name: Option<String>,
    /// The sessions table (`region/sessions/table`).
    pub sessions_table: Option<String>,
    /// The application event bus (`region/events/bus`).
    pub event_bus: Option<Expr>,
    /// This region's data bucket (`region/buckets/data`).
    pub data_bucket: Option<Expr>,
    /// This region's configuration bucket (`region/buckets/config`).
    pub config_bucket: Option<Expr>,
}

impl Standard {
    /// The entries, in a stable order.
    pub fn entries(&self) -> Vec<Entry> {
        let mut entries = vec![Entry::shared(
            "active-region",
            self.active_region.clone(),
            "The region serving traffic; the failover runbook changes it",
        )];
        entries.push(Entry::shared(
            &ParameterPaths::flag_key(cfn::naming::FAILOVER_FLAG),
            self.failover_active.clone(),
            "\"true\" while the recovery region serves after a failover; the runbooks set it",
        ));
        for (flag, value) in &self.flags {
            entries.push(Entry::shared(
                &ParameterPaths::flag_key(flag),
                value.as_str(),
                "Feature flag, replicated from the primary",
            ));
        }
        let regional: [(&str, Option<Expr>, &str); 7] = [
            (
                "db/writer-endpoint",
                self.db_writer_endpoint.clone(),
                "This region's Aurora cluster endpoint",
            ),
            (
                "db/reader-endpoint",
                self.db_reader_endpoint.clone(),
                "This region's Aurora reader endpoint",
            ),
            (
                "db/secret-name",
                self.db_secret_name.as_deref().map(Expr::from),
                "Secrets Manager secret with the master credentials (replicated)",
            ),
            (
                "sessions/table",
                self.sessions_table.as_deref().map(Expr::from),
                "The sessions table (a global table: the same name in both regions)",
            ),
            (
                "events/bus",
                self.event_bus.clone(),
                "The application event bus (same name in both regions)",
            ),
            (
                "buckets/data",
                self.data_bucket.clone(),
                "This region's data bucket",
            ),
            (
                "buckets/config",
                self.config_bucket.clone(),
                "This region's configuration bucket",
            ),
        ];
        for (key, value, description) in regional {
            if let Some(value) = value {
                entries.push(Entry::regional(key, value, description));
            }
        }
        entries
    }
}

/// Properties of the region's parameters.
#[derive(Clone, Debug)]
pub struct ParametersProps {
    /// The environment's paths, `/<app>/<suffix>/…`. Required.
    pub paths: ParameterPaths,
    /// The parameters. Required.
    pub entries: Vec<Entry>,
}

/// `shared/flags/trading-enabled` → `SharedFlagsTradingEnabled`.
fn logical_key(key: &str) -> String {
    key.split(['/', '-', '_', '.'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Builds one String parameter per entry.
pub fn parameters(props: &ParametersProps) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    for e in &props.entries {
        f.add(
            LogicalId::new(format!("Param{}", logical_key(&e.key)))?,
            ssm::Parameter::new()
                .name(props.paths.path(&e.key))
                .type_("String")
                .tier("Standard")
                .value(e.value.clone())
                .description(e.description.as_str()),
        )?;
    }
    Ok(f)
}

/// The event source of replicated changes.
fn source(app: &str) -> String {
    format!("{app}.configuration")
}

/// The detail type of replicated changes.
pub const DETAIL_TYPE: &str = "Configuration Change";

/// A missing parameter.
const NOT_FOUND: &str = "Ssm.ParameterNotFoundException";

/// `state` with retries with back-off for transient failures, `catch`, and what follows. A
/// read's missing parameter is not retried: only a task that reads a parameter names
/// `Ssm.ParameterNotFoundException` (an error name the called service can never raise is a
/// defect, as the service-model check in tests/tools says).
fn guarded(state: Value, catch: &[Catch], then: Then) -> Value {
    let reads = state["Resource"]
        .as_str()
        .is_some_and(|r| r.ends_with("ssm:getParameter"));
    let mut retry = Vec::new();
    if reads {
        retry.push(Retry::never([NOT_FOUND]));
    }
    retry.push(
        Retry::on(["States.ALL"])
            .every(2)
            .attempts(6)
            .backoff(2.0)
            .full_jitter(),
    );
    cfn::states::guarded(state, &retry, catch, then)
}

/// The primary's state machine: read the changed parameter, send it to the secondary.
pub fn source_definition(app: &str) -> Value {
    let source = source(app);
    json!({
        "Comment": "Sends a change of a shared configuration parameter to the secondary region",
        "StartAt": "Operation",
        "States": {
            "Operation": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.detail.operation", "StringEquals": "Delete", "Next": "SendDelete"}],
                "Default": "Read"
            },
            "Read": guarded(json!({
                "Type": "Task",
                "Resource": cfn::arn::states_sdk("ssm:getParameter"),
                "Parameters": {"Name.$": "$.detail.name"},
                "ResultSelector": {"name.$": "$.Parameter.Name", "value.$": "$.Parameter.Value"},
                "ResultPath": "$.parameter"
            }), &[Catch::on([NOT_FOUND], "DeletedMeanwhile")], Then::Next("SendPut")),
            "SendPut": guarded(json!({
                "Type": "Task",
                "Resource": cfn::arn::states_integration("events:putEvents"),
                "Parameters": {"Entries": [{
                    "Source": source,
                    "DetailType": DETAIL_TYPE,
                    "Detail": {"operation": "Put", "name.$": "$.parameter.name", "value.$": "$.parameter.value"}
                }]}
            }), &[], Then::End),
            "SendDelete": guarded(json!({
                "Type": "Task",
                "Resource": cfn::arn::states_integration("events:putEvents"),
                "Parameters": {"Entries": [{
                    "Source": source,
                    "DetailType": DETAIL_TYPE,
                    "Detail": {"operation": "Delete", "name.$": "$.detail.name"}
                }]}
            }), &[], Then::End),
            "DeletedMeanwhile": {
                "Type": "Succeed",
                "Comment": "The parameter was deleted before it could be read; its Delete event follows"
            }
        }
    })
}

/// The secondary's state machine: carry a new value to this region's copy of a shared
/// parameter.
///
/// Who owns what: the stacks create and delete parameters (each region's stack, the ones its
/// configuration declares); replication only carries new values to parameters that already
/// exist here. A change that arrives before the secondary stack has created its copy (a new
/// flag: phase 1 created it in the primary, phase 2 has not run yet) is left to the stack,
/// which creates it with the same configured value; deletes are left to the stacks too.
/// Replication creating the parameter first would make the stack's create fail
/// (`ParameterAlreadyExists`), whatever the timing, since the deployed secondary may not yet
/// know the new name. A shared parameter made by hand in the primary alone stays there.
pub fn target_definition() -> Value {
    json!({
        "Comment": "Carries a shared configuration value replicated from the primary region to this region's copy",
        "StartAt": "Operation",
        "States": {
            "Operation": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.detail.operation", "StringEquals": "Delete", "Next": "LeftToTheStack"}],
                "Default": "Exists"
            },
            "Exists": guarded(json!({
                "Type": "Task",
                "Resource": cfn::arn::states_sdk("ssm:getParameter"),
                "Parameters": {"Name.$": "$.detail.name"},
                "ResultPath": null
            }), &[Catch::on([NOT_FOUND], "LeftToTheStack")], Then::Next("Put")),
            "Put": guarded(json!({
                "Type": "Task",
                "Resource": cfn::arn::states_sdk("ssm:putParameter"),
                "Parameters": {"Name.$": "$.detail.name", "Value.$": "$.detail.value", "Type": "String", "Overwrite": true}
            }), &[], Then::End),
            "LeftToTheStack": {
                "Type": "Succeed",
                "Comment": "Created or deleted by the stacks, never by replication"
            }
        }
    })
}

/// Properties shared by both sides of the replication.
#[derive(Clone, Debug)]
pub struct ReplicationProps {
    /// Names the state machines, roles and rules. Required.
    pub namer: Namer,
    /// The application name (event source `<app>.configuration`). Required.
    pub app: String,
    /// The environment's paths: only `/<app>/<suffix>/shared/…` is replicated. Required.
    pub paths: ParameterPaths,
    /// ARN of the region's key, for the execution-log group. Required.
    pub key_arn: Expr,
    /// Days execution logs are kept. Required.
    pub log_retention_days: u32,
}

/// The ARN pattern of the shared parameters in this stack's region.
fn shared_parameters_arn(paths: &ParameterPaths) -> Expr {
    paths.arn(&ParameterPaths::shared_key("*")).expr()
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// A state machine with its role (given `statements`), logging and tracing.
fn state_machine(
    f: &mut Fragment,
    props: &ReplicationProps,
    logical: &str,
    qualifier: &str,
    definition: &Value,
    statements: Vec<Statement>,
) -> Result<Handle<stepfunctions::StateMachine>, Error> {
    let n = &props.namer;
    let group = f.add(
        id(&format!("{logical}Logs"))?,
        logs::LogGroup::new()
            .log_group_name(n.name(
                &naming::STATE_MACHINE_LOGS,
                Some(&format!("config-{qualifier}")),
            ))
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(props.log_retention_days),
    )?;
    let mut all = statements;
    all.push(cfn::iam::state_machine_observability());
    let role = f.add(
        id(&format!("{logical}Role"))?,
        iam::Role::new()
            .role_name(n.name(&naming::CONFIG_ROLE, Some(qualifier)))
            .description("Runs the configuration replication state machine")
            .assume_role_policy_document(assume_role_by("states.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("replicate-configuration")
                    .policy_document(policy(all)),
            ]),
    )?;
    f.add(
        id(logical)?,
        cfn::states::machine(
            n.name(&naming::CONFIG_REPLICATOR, Some(qualifier)),
            role.attr_arn(),
            Expr::from(serde_json::to_string(definition).expect("JSON")),
            group.attr_arn(),
            // Errors only, without data: executions carry parameter values.
            cfn::states::Logging::ErrorsOnly,
        ),
    )
}

/// A rule on the default bus matching `pattern` that starts `machine`.
fn rule_starting(
    f: &mut Fragment,
    props: &ReplicationProps,
    logical: &str,
    qualifier: &str,
    pattern: Value,
    machine: &Handle<stepfunctions::StateMachine>,
) -> Result<(), Error> {
    let role = f.add(
        id(&format!("{logical}Role"))?,
        iam::Role::new()
            .role_name(props.namer.name(&naming::CONFIG_ROLE, Some(qualifier)))
            .description("Lets EventBridge start the configuration replication state machine")
            .assume_role_policy_document(assume_role_by("events.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("start-replication")
                    .policy_document(policy([Statement::allow(
                        ["states:StartExecution"],
                        [machine.reference()],
                    )])),
            ]),
    )?;
    f.add(
        id(logical)?,
        events::Rule::new()
            .name(props.namer.name(&naming::CONFIG_RULE, Some(qualifier)))
            .description("Starts configuration replication")
            .event_bus_name("default")
            .state("ENABLED")
            .event_pattern(json_expr(&pattern))
            .targets(vec![
                events::rule::Target::new()
                    .id("replicate")
                    .arn(machine.reference())
                    .role_arn(role.attr_arn()),
            ]),
    )?;
    Ok(())
}

/// A JSON value as a template value.
fn json_expr(v: &Value) -> Expr {
    match v {
        Value::Null => Expr::Str(String::new()),
        Value::Bool(b) => Expr::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Expr::Int)
            .unwrap_or_else(|| Expr::Num(n.as_f64().unwrap_or_default())),
        Value::String(s) => Expr::Str(s.clone()),
        Value::Array(a) => Expr::List(a.iter().map(json_expr).collect()),
        Value::Object(o) => Expr::Map(o.iter().map(|(k, v)| (k.clone(), json_expr(v))).collect()),
    }
}

/// The logical id of the primary's replication state machine.
pub const SOURCE_MACHINE: &str = "ConfigReplicationSource";
/// The logical id of the secondary's replication state machine.
pub const TARGET_MACHINE: &str = "ConfigReplicationTarget";

/// The primary's side: SSM's change events of the shared parameters start a state machine that
/// reads each value and puts it as an event on this region's default bus; a rule forwards those
/// events to the secondary region's default bus.
pub fn source_side(props: &ReplicationProps, secondary_region: &str) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    let bus_here = Arn::new("events", "event-bus/default").expr();
    let machine = state_machine(
        &mut f,
        props,
        SOURCE_MACHINE,
        "source",
        &source_definition(&props.app),
        vec![
            Statement::allow(["ssm:GetParameter"], [shared_parameters_arn(&props.paths)]),
            Statement::allow(["events:PutEvents"], [bus_here]),
        ],
    )?;
    rule_starting(
        &mut f,
        props,
        "ConfigChangeRule",
        "changes",
        json!({
            "source": ["aws.ssm"],
            "detail-type": ["Parameter Store Change"],
            "detail": {"name": [{"prefix": props.paths.shared_tree()}]}
        }),
        &machine,
    )?;
    let bus_there = Arn::new("events", "event-bus/default")
        .in_region(secondary_region)
        .expr();
    let forward_role = f.add(
        id("ConfigForwardRole")?,
        iam::Role::new()
            .role_name(props.namer.name(&naming::CONFIG_ROLE, Some("forward")))
            .description("Lets EventBridge send configuration changes to the secondary region")
            .assume_role_policy_document(assume_role_by("events.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("forward-to-secondary")
                    .policy_document(policy([Statement::allow(
                        ["events:PutEvents"],
                        [bus_there.clone()],
                    )])),
            ]),
    )?;
    f.add(
        id("ConfigForwardRule")?,
        events::Rule::new()
            .name(props.namer.name(&naming::CONFIG_RULE, Some("forward")))
            .description("Sends configuration changes to the secondary region's default bus")
            .event_bus_name("default")
            .state("ENABLED")
            .event_pattern(json_expr(&replicated_changes(props)))
            .targets(vec![
                events::rule::Target::new()
                    .id("secondary")
                    .arn(bus_there)
                    .role_arn(forward_role.attr_arn()),
            ]),
    )?;
    Ok(f)
}

/// The pattern of this environment's replicated changes: every environment of the account puts
/// them on the same default buses, so the environment's parameter prefix is matched too (else
/// each environment's rules would forward and apply every other one's changes).
fn replicated_changes(props: &ReplicationProps) -> Value {
    json!({
        "source": [source(&props.app)],
        "detail-type": [DETAIL_TYPE],
        "detail": {"name": [{"prefix": props.paths.shared_tree()}]}
    })
}

/// The secondary's side: a rule on the default bus starts the state machine that applies each
/// change to this region's shared parameters.
pub fn target_side(props: &ReplicationProps) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    let machine = state_machine(
        &mut f,
        props,
        TARGET_MACHINE,
        "target",
        &target_definition(),
        vec![Statement::allow(
            ["ssm:GetParameter", "ssm:PutParameter"],
            [shared_parameters_arn(&props.paths)],
        )],
    )?;
    rule_starting(
        &mut f,
        props,
        "ConfigApplyRule",
        "apply",
        replicated_changes(props),
        &machine,
    )?;
    Ok(f)
}

/// The rules of the configuration's parameters; the configuration's validation uses them.
pub mod rules {
    /// A flag name: 1 to 63 lowercase letters, digits and hyphens, not one the runbooks own.
    pub fn flag_name(flag: &str) -> Option<String> {
        let ok = (1..=63).contains(&flag.len())
            && flag
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !ok {
            return Some(format!(
                "{flag:?} is not allowed as a flag name: 1 to 63 lowercase letters, digits and hyphens"
            ));
        }
        (flag == cfn::naming::FAILOVER_FLAG)
            .then(|| format!("{flag:?} is reserved: the failover and failback runbooks set it"))
    }

    /// A flag value: 1 to 4096 characters (a Standard parameter).
    pub fn flag_value(value: &str) -> Option<String> {
        (value.is_empty() || value.len() > 4096).then(|| {
            "is not allowed: a flag value has 1 to 4096 characters (a Standard parameter)".into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count, resources_of};

    fn props() -> ReplicationProps {
        ReplicationProps {
            namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
            app: "trading".into(),
            paths: ParameterPaths::new("trading", &Suffix::parse("qa").unwrap()),
            key_arn: Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            log_retention_days: 30,
        }
    }

    #[test]
    fn parameters_live_under_the_prefix_as_strings() {
        let f = parameters(&ParametersProps {
            paths: ParameterPaths::new("trading", &Suffix::parse("qa").unwrap()),
            entries: vec![
                Entry::shared("flags/trading-enabled", "true", "Trading on or off"),
                Entry::regional("db/writer-endpoint", Expr::from("db.example"), "Writer"),
            ],
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::SSM::Parameter",
            json!({"Name": "/trading/qa/shared/flags/trading-enabled", "Type": "String", "Value": "true"}),
        );
        assert!(t["Resources"].get("ParamRegionDbWriterEndpoint").is_some());
    }

    #[test]
    fn the_source_reads_shared_changes_and_forwards_them_to_the_secondary() {
        let t = Template::new("t", source_side(&props(), "us-east-2").unwrap()).to_json();
        assert_resource_count(&t, "AWS::StepFunctions::StateMachine", 1);
        assert_has_resource_properties(
            &t,
            "AWS::Events::Rule",
            json!({"EventPattern": {
                "source": ["aws.ssm"], "detail-type": ["Parameter Store Change"],
                "detail": {"name": [{"prefix": "/trading/qa/shared/"}]}
            }}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Events::Rule",
            json!({"Targets": [{"Id": "secondary", "Arn": {"Fn::Sub": "arn:${AWS::Partition}:events:us-east-2:${AWS::AccountId}:event-bus/default"}}]}),
        );
        let role = &t["Resources"]["ConfigReplicationSourceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"][0];
        assert_eq!(role["Action"], json!(["ssm:GetParameter"]));
        assert_eq!(
            role["Resource"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/trading/qa/shared/*"}])
        );
    }

    #[test]
    fn every_task_retries_and_the_definitions_end() {
        for definition in [source_definition("trading"), target_definition()] {
            for (name, state) in definition["States"].as_object().unwrap() {
                if state["Type"] == "Task" {
                    assert!(state["Retry"].is_array(), "{name} has no Retry");
                }
                let next = state.get("Next").and_then(Value::as_str);
                if let Some(next) = next {
                    assert!(definition["States"].get(next).is_some(), "{name} → {next}");
                }
            }
        }
        let t = Template::new("t", target_side(&props()).unwrap()).to_json();
        let (_, machine) = resources_of(&t, "AWS::StepFunctions::StateMachine")[0];
        assert_eq!(
            machine["Properties"]["TracingConfiguration"]["Enabled"],
            true
        );
    }
}
