//! Application events: a custom bus with the same name in both regions, encrypted with the
//! region's key, a rule that keeps every application event in a log group, and an archive for
//! replay. In the primary, the global endpoint (`AWS::Events::Endpoint`) routes producers to the
//! primary bus while the primary serves (the PRIMARY record's health check) and to us-east-2
//! otherwise,
//! with replication between the buses; it needs the secondary's bus, so it comes in the
//! primary-link phase.
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = events::BusProps {
//!     namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-2"),
//!     app: "trading".into(),
//!     key_arn: Expr::from("arn:aws:kms:us-east-2:111122223333:key/1"),
//!     archive_retention_days: 30,
//!     log_retention_days: 30,
//! };
//! let (fragment, bus) = events::bus(&props)?;
//! assert!(fragment.resources().len() >= 4);
//! assert_eq!(bus.grant_put_events().len(), 1);
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::arn::Arn;
use cfn::aws::{events, iam, logs};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// Properties of the region's bus.
#[derive(Clone, Debug)]
pub struct BusProps {
    /// Names the bus, archive, rule and log group (the bus name is the same in both regions).
    /// Required.
    pub namer: Namer,
    /// The application; its events have sources starting with `<app>.`. Required.
    pub app: String,
    /// ARN of the region's key. Required.
    pub key_arn: Expr,
    /// Days the archive keeps events for replay. Default: 30.
    pub archive_retention_days: u32,
    /// Days the event log group keeps events. Required.
    pub log_retention_days: u32,
}

/// The region's bus, for grants and the endpoint.
#[derive(Clone, Debug)]
pub struct Bus {
    bus: Handle<events::EventBus>,
}

impl Bus {
    /// The bus's ARN.
    pub fn arn(&self) -> Expr {
        self.bus.attr_arn()
    }

    /// The bus's name.
    pub fn name(&self) -> Expr {
        self.bus.reference()
    }

    /// Lets a principal put events on the bus (directly or through the global endpoint).
    pub fn grant_put_events(&self) -> Vec<Statement> {
        vec![Statement::allow(["events:PutEvents"], [self.arn()])]
    }
}

/// The ARN of the bus `namer` names in its region.
pub fn bus_arn(namer: &Namer) -> Expr {
    Arn::new(
        "events",
        format!("event-bus/{}", namer.name(&naming::EVENT_BUS, None)),
    )
    .in_region(namer.region())
    .expr()
}

/// Builds the bus, its archive, and the rule that logs application events.
pub fn bus(props: &BusProps) -> Result<(Fragment, Bus), Error> {
    cfn::Problems::from(props.problems()).into_result("events")?;
    let n = &props.namer;
    let mut f = Fragment::new();
    let bus = f.add(
        id("EventBus")?,
        events::EventBus::new()
            .name(n.name(&naming::EVENT_BUS, None))
            .description("Application events; the same bus name in both regions")
            .kms_key_identifier(props.key_arn.clone()),
    )?;
    let pattern = Expr::map([(
        "source",
        Expr::List(vec![Expr::map([(
            "prefix",
            Expr::from(format!("{}.", props.app)),
        )])]),
    )]);
    f.add(
        id("EventArchive")?,
        events::Archive::new()
            .archive_name(n.name(&naming::EVENT_ARCHIVE, None))
            .description("Application events kept for replay")
            .source_arn(bus.attr_arn())
            .kms_key_identifier(props.key_arn.clone())
            .retention_days(props.archive_retention_days)
            .event_pattern(pattern.clone()),
    )?;
    let group = f.add(
        id("EventLogGroup")?,
        logs::LogGroup::new()
            .log_group_name(n.name(&naming::EVENT_LOGS, None))
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(props.log_retention_days),
    )?;
    // EventBridge writes to a log group through the account's Logs resource policy.
    f.add(
        id("EventLogPolicy")?,
        logs::ResourcePolicy::new()
            .policy_name(n.name(&naming::EVENT_LOGS_POLICY, None))
            .policy_document(Expr::sub_with(
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EventBridgeWritesAppEvents\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":[\"events.amazonaws.com\",\"delivery.logs.amazonaws.com\"]},\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"${Group}:*\"}]}",
                [("Group", group.attr_arn())],
            )),
    )?;
    f.add(
        id("AppEventsRule")?,
        events::Rule::new()
            .name(n.name(&naming::EVENT_RULE, None))
            .description("Keeps every application event in the log group")
            .event_bus_name(bus.reference())
            .state("ENABLED")
            .event_pattern(pattern)
            .targets(vec![
                events::rule::Target::new().id("log").arn(group.attr_arn()),
            ]),
    )?;
    f.output(
        id("EventBusName")?,
        "The application event bus",
        bus.reference(),
    )?;
    f.output(
        id("EventBusArn")?,
        "The application event bus",
        bus.attr_arn(),
    )?;
    Ok((f, Bus { bus }))
}

/// Properties of the global endpoint.
#[derive(Clone, Debug)]
pub struct EndpointProps {
    /// Names the endpoint and its role. Required.
    pub namer: Namer,
    /// The condition under which the secondary's bus exists. Required.
    pub condition: LogicalId,
    /// The primary bus. Required.
    pub primary_bus: Expr,
    /// The secondary bus (same name, other region). Required.
    pub secondary_bus: Expr,
    /// The secondary region. Required.
    pub secondary_region: String,
    /// The Route 53 health check whose failure moves events to the secondary. Required.
    pub health_check_id: Expr,
}

/// Builds the global endpoint with failover routing and replication.
pub fn endpoint(props: &EndpointProps) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    let role = f.add_when(
        id("EventEndpointRole")?,
        &props.condition,
        iam::Role::new()
            .role_name(props.namer.name(&naming::EVENT_ENDPOINT_ROLE, None))
            .description("Lets the global endpoint replicate events between the two buses")
            .assume_role_policy_document(assume_role_by("events.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("replicate-events")
                    .policy_document(policy([Statement::allow(
                        ["events:PutEvents"],
                        [props.primary_bus.clone(), props.secondary_bus.clone()],
                    )])),
            ]),
    )?;
    let endpoint = f.add_when(
        id("EventEndpoint")?,
        &props.condition,
        events::Endpoint::new()
            .name(props.namer.name(&naming::EVENT_BUS, None))
            .description("Routes application events to the healthy region")
            .role_arn(role.attr_arn())
            .event_buses(vec![
                events::endpoint::EndpointEventBus::new().event_bus_arn(props.primary_bus.clone()),
                events::endpoint::EndpointEventBus::new()
                    .event_bus_arn(props.secondary_bus.clone()),
            ])
            .replication_config(events::endpoint::ReplicationConfig::new().state("ENABLED"))
            .routing_config(
                events::endpoint::RoutingConfig::new().failover_config(
                    events::endpoint::FailoverConfig::new()
                        .primary(
                            events::endpoint::Primary::new().health_check(Expr::sub_with(
                                Arn::new("route53", "healthcheck/${Check}")
                                    .without_region()
                                    .without_account()
                                    .to_sub(),
                                [("Check", props.health_check_id.clone())],
                            )),
                        )
                        .secondary(
                            events::endpoint::Secondary::new()
                                .route(props.secondary_region.as_str()),
                        ),
                ),
            ),
    )?;
    f.output_when(
        id("EventEndpointUrl")?,
        Some(&props.condition),
        "Where producers send events (fails over with the primary's health check)",
        endpoint.attr_endpoint_url(),
    )?;
    Ok(f)
}

/// The rules of the bus props; [`BusProps::problems`] and the configuration's validation both
/// use them.
pub mod rules {
    /// The archive keeps events 1 day or more (0 would keep them forever).
    pub fn archive_retention_days(d: u32) -> Option<String> {
        (d == 0).then(|| "0 is not allowed: 0 would keep events forever; use 1 or more days".into())
    }
}

impl BusProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "archive_retention_days",
            rules::archive_retention_days(self.archive_retention_days),
        )
        .check(
            "log_retention_days",
            cfn::rules::log_retention_days(self.log_retention_days),
        );
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::assert_has_resource_properties;
    use serde_json::json;

    fn namer(region: &str) -> Namer {
        Namer::new(Suffix::parse("qa").unwrap(), region)
    }

    #[test]
    fn the_bus_is_encrypted_logged_and_archived() {
        let (f, _) = bus(&BusProps {
            namer: namer("us-east-1"),
            app: "trading".into(),
            key_arn: Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            archive_retention_days: 30,
            log_retention_days: 30,
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Events::EventBus",
            json!({"Name": "trading-events-qa", "KmsKeyIdentifier": "arn:aws:kms:us-east-1:1:key/a"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Events::Archive",
            json!({"RetentionDays": 30, "EventPattern": {"source": [{"prefix": "trading."}]}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Events::Rule",
            json!({"Targets": [{"Id": "log", "Arn": {"Fn::GetAtt": ["EventLogGroup", "Arn"]}}]}),
        );
    }

    #[test]
    fn the_endpoint_fails_over_on_the_primary_health_check_and_replicates() {
        let mut body = Fragment::new();
        let cond = body
            .condition(id("SecondaryServing").unwrap(), Expr::equals("a", "a"))
            .unwrap();
        body.merge(
            endpoint(&EndpointProps {
                namer: namer("us-east-1"),
                condition: cond,
                primary_bus: bus_arn(&namer("us-east-1")),
                secondary_bus: bus_arn(&namer("us-east-2")),
                secondary_region: "us-east-2".into(),
                health_check_id: Expr::from("hc-1"),
            })
            .unwrap(),
        )
        .unwrap();
        let t = Template::new("t", body).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Events::Endpoint",
            json!({
                "ReplicationConfig": {"State": "ENABLED"},
                "RoutingConfig": {"FailoverConfig": {"Secondary": {"Route": "us-east-2"}}},
                "EventBuses": [
                    {"EventBusArn": {"Fn::Sub": "arn:${AWS::Partition}:events:us-east-1:${AWS::AccountId}:event-bus/trading-events-qa"}},
                    {"EventBusArn": {"Fn::Sub": "arn:${AWS::Partition}:events:us-east-2:${AWS::AccountId}:event-bus/trading-events-qa"}}
                ]
            }),
        );
        assert_eq!(
            t["Resources"]["EventEndpoint"]["Condition"],
            "SecondaryServing"
        );
    }
}
