//! DNS, certificates and the data-plane traffic switch.
//!
//! The public hosted zone (primary stack) answers `app.<zone>` with failover alias records:
//! PRIMARY to the primary load balancer, SECONDARY to the secondary's. Each region also has its
//! own name (`primary.<zone>`, `secondary.<zone>`) covered by its certificate, which the health
//! checks and canaries use.
//!
//! The switch that moves traffic lives in the recovery region and is pure data plane: the
//! PRIMARY record's health is a calculated check of (the primary endpoint is healthy) AND (the
//! `failover-active` alarm in us-east-2 is not in alarm). The runbook flips that alarm by putting
//! one metric value in us-east-2 (`PutMetricData`, data plane); the alarm keeps its state while
//! no new data arrives. Nothing on the failover path calls Route 53's control plane, which lives
//! in us-east-1.
//!
//! ```
//! use cfn::naming::{Namer, Suffix};
//!
//! let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-2");
//! let (fragment, alarm) = dns::switch_alarm(&namer)?;
//! assert_eq!(fragment.resources().len(), 1);
//! assert_eq!(alarm, "failover-active-qa");
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::{certificatemanager as acm, cloudwatch, route53};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};

/// The CloudWatch namespace of the traffic switch's metric.
pub const SWITCH_NAMESPACE: &str = "TradingDR";
/// The metric the runbook sets to 1 (failed over) or 0 (primary serves).
pub const SWITCH_METRIC: &str = "FailoverActive";
/// The logical id of the calculated check that decides whether the primary serves (the PRIMARY
/// record's health; the events endpoint fails over on it too).
pub const SERVING_HEALTH_CHECK: &str = "PrimaryServingHealthCheck";

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// Properties of the hosted zone.
#[derive(Clone, Debug)]
pub struct ZoneProps {
    /// The zone, a subdomain delegated to Route 53 (e.g. `trading-dr.example.com`). Required.
    pub zone_name: String,
    /// Describes the zone. Required.
    pub comment: String,
    /// The parent zone, when it is in this account: the stack then delegates the zone itself
    /// (NS records in the parent), so certificates validate with no human step. Default: none.
    pub parent_zone_id: Option<String>,
}

/// Builds the public hosted zone; outputs its id and name servers (for delegation).
pub fn zone(props: &ZoneProps) -> Result<(Fragment, Handle<route53::HostedZone>), Error> {
    cfn::Problems::from(props.problems()).into_result("dns zone")?;
    let mut f = Fragment::new();
    let zone = f.add(
        id("HostedZone")?,
        route53::HostedZone::new()
            .name(props.zone_name.as_str())
            .hosted_zone_config(
                route53::hosted_zone::HostedZoneConfig::new().comment(props.comment.as_str()),
            ),
    )?;
    if let Some(parent) = &props.parent_zone_id {
        f.add(
            id("ZoneDelegation")?,
            route53::RecordSet::new()
                .hosted_zone_id(parent.as_str())
                .name(props.zone_name.as_str())
                .type_("NS")
                .ttl("300")
                .resource_records(zone.attr_name_servers()),
        )?;
    }
    f.output(
        id("HostedZoneId")?,
        "The public hosted zone",
        zone.reference(),
    )?;
    f.output(
        id("HostedZoneNameServers")?,
        "Name servers to delegate the zone to (NS records in the parent zone)",
        Expr::join_list(",", zone.attr_name_servers()),
    )?;
    Ok((f, zone))
}

/// The application's name in the zone.
pub fn app_name(zone_name: &str) -> String {
    format!("app.{zone_name}")
}

/// A region's own name in the zone (`primary.<zone>`).
pub fn regional_name(label: &str, zone_name: &str) -> String {
    format!("{label}.{zone_name}")
}

/// A DNS-validated certificate for the application's name and the region's own name, validated
/// in the zone (CloudFormation writes the validation records). Needs the zone delegated.
pub fn certificate(
    label: &str,
    zone_name: &str,
    zone_id: Expr,
) -> Result<(Fragment, Handle<acm::Certificate>), Error> {
    let app = app_name(zone_name);
    let regional = regional_name(label, zone_name);
    let mut f = Fragment::new();
    let cert = f.add(
        id("Certificate")?,
        acm::Certificate::new()
            .domain_name(app.as_str())
            .subject_alternative_names(vec![regional.as_str()])
            .validation_method("DNS")
            .domain_validation_options(vec![
                acm::certificate::DomainValidationOption::new()
                    .domain_name(app.as_str())
                    .hosted_zone_id(zone_id.clone()),
                acm::certificate::DomainValidationOption::new()
                    .domain_name(regional.as_str())
                    .hosted_zone_id(zone_id),
            ]),
    )?;
    Ok((f, cert))
}

/// The alias record `<label>.<zone>` → this region's load balancer.
pub fn regional_record(
    label: &str,
    zone_name: &str,
    zone_id: Expr,
    target_dns: Expr,
    target_zone: Expr,
) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    f.add(
        id("RegionalRecord")?,
        route53::RecordSet::new()
            .hosted_zone_id(zone_id)
            .name(regional_name(label, zone_name))
            .type_("A")
            .alias_target(
                route53::record_set::AliasTarget::new()
                    .dns_name(target_dns)
                    .hosted_zone_id(target_zone)
                    .evaluate_target_health(false),
            ),
    )?;
    Ok(f)
}

/// Interval and threshold of the HTTPS health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checking {
    /// Seconds between checks: 10 or 30. Default: 10.
    pub interval_seconds: u32,
    /// Consecutive failures before unhealthy, 1 to 10. Default: 3.
    pub failure_threshold: u32,
}

fn https_check(
    f: &mut Fragment,
    logical: &str,
    condition: Option<&LogicalId>,
    fqdn: &str,
    path: &str,
    checking: Checking,
    name: String,
) -> Result<Handle<route53::HealthCheck>, Error> {
    let check = route53::HealthCheck::new()
        .health_check_config(Expr::map([
            ("Type", Expr::from("HTTPS")),
            ("FullyQualifiedDomainName", Expr::from(fqdn)),
            ("Port", Expr::from(443)),
            ("ResourcePath", Expr::from(path)),
            ("EnableSNI", Expr::from(true)),
            ("RequestInterval", Expr::from(checking.interval_seconds)),
            ("FailureThreshold", Expr::from(checking.failure_threshold)),
        ]))
        .health_check_tags(vec![cfn::tag("Name", name)]);
    match condition {
        Some(c) => f.add_when(id(logical)?, c, check),
        None => f.add(id(logical)?, check),
    }
}

/// What the primary stack's failover records need.
#[derive(Clone, Debug)]
pub struct FailoverProps {
    /// Names the health checks. Required.
    pub namer: Namer,
    /// The zone's name. Required.
    pub zone_name: String,
    /// The zone. Required.
    pub zone_id: Expr,
    /// The primary load balancer's DNS name and hosted zone. Required.
    pub primary_target: (Expr, Expr),
    /// The deep health path. Required.
    pub health_path: String,
    /// Health check interval and threshold. Required.
    pub checking: Checking,
    /// The secondary side, known in the primary-link phase. Required.
    pub secondary: SecondaryTarget,
}

/// The secondary side of the failover records.
#[derive(Clone, Debug)]
pub struct SecondaryTarget {
    /// The condition under which the secondary's load balancer is known.
    pub condition: LogicalId,
    /// The secondary load balancer's DNS name and hosted zone.
    pub target: (Expr, Expr),
    /// The secondary region (where the switch alarm lives).
    pub region: String,
    /// The switch alarm's name.
    pub switch_alarm: String,
}

/// Builds the health checks, the data-plane switch and the failover records of `app.<zone>`.
pub fn failover(props: &FailoverProps) -> Result<Fragment, Error> {
    cfn::Problems::from(props.problems()).into_result("dns failover")?;
    let n = &props.namer;
    let s = &props.secondary;
    let mut f = Fragment::new();
    let primary_check = https_check(
        &mut f,
        "PrimaryHealthCheck",
        None,
        &regional_name("primary", &props.zone_name),
        &props.health_path,
        props.checking,
        n.name(&naming::HEALTH_CHECK, Some("primary")),
    )?;
    let secondary_check = https_check(
        &mut f,
        "SecondaryHealthCheck",
        Some(&s.condition),
        &regional_name("secondary", &props.zone_name),
        &props.health_path,
        props.checking,
        n.name(&naming::HEALTH_CHECK, Some("secondary")),
    )?;
    let switch = f.add_when(
        id("FailoverSwitchHealthCheck")?,
        &s.condition,
        route53::HealthCheck::new()
            .health_check_config(Expr::map([
                ("Type", Expr::from("CLOUDWATCH_METRIC")),
                (
                    "AlarmIdentifier",
                    route53::health_check::AlarmIdentifier::new()
                        .name(s.switch_alarm.as_str())
                        .region(s.region.as_str())
                        .into(),
                ),
                // Route 53 follows the switch's data stream, not its alarm's state: once the
                // runbook's datum ages out the check has "insufficient data". It keeps the last
                // status it determined, so a failover holds until failback writes 0 (a new
                // check, with none, is healthy: nobody failed over). With "Healthy" it read
                // healthy again minutes after every failover (Route 53 Developer Guide, "How
                // Amazon Route 53 determines whether a health check is healthy").
                (
                    "InsufficientDataHealthStatus",
                    Expr::from("LastKnownStatus"),
                ),
            ]))
            .health_check_tags(vec![cfn::tag(
                "Name",
                n.name(&naming::HEALTH_CHECK, Some("switch")),
            )]),
    )?;
    let serving = f.add_when(
        id(SERVING_HEALTH_CHECK)?,
        &s.condition,
        route53::HealthCheck::new()
            .health_check_config(Expr::map([
                ("Type", Expr::from("CALCULATED")),
                (
                    "ChildHealthChecks",
                    Expr::List(vec![primary_check.reference(), switch.reference()]),
                ),
                ("HealthThreshold", Expr::from(2)),
            ]))
            .health_check_tags(vec![cfn::tag(
                "Name",
                n.name(&naming::HEALTH_CHECK, Some("serving")),
            )]),
    )?;
    let alias = |(dns, zone): &(Expr, Expr)| {
        route53::record_set::AliasTarget::new()
            .dns_name(dns.clone())
            .hosted_zone_id(zone.clone())
            .evaluate_target_health(false)
    };
    let app = app_name(&props.zone_name);
    f.add(
        id("PrimaryRecord")?,
        route53::RecordSet::new()
            .hosted_zone_id(props.zone_id.clone())
            .name(app.as_str())
            .type_("A")
            .set_identifier("primary")
            .failover("PRIMARY")
            .health_check_id(Expr::if_(
                &s.condition,
                serving.reference(),
                primary_check.reference(),
            ))
            .alias_target(alias(&props.primary_target)),
    )?;
    f.add_when(
        id("SecondaryRecord")?,
        &s.condition,
        route53::RecordSet::new()
            .hosted_zone_id(props.zone_id.clone())
            .name(app.as_str())
            .type_("A")
            .set_identifier("secondary")
            .failover("SECONDARY")
            .health_check_id(secondary_check.reference())
            .alias_target(alias(&s.target)),
    )?;
    f.output(
        id("PrimaryHealthCheckId")?,
        "HTTPS health check of the primary endpoint",
        primary_check.reference(),
    )?;
    f.output(
        id("ApplicationUrl")?,
        "Where users reach the application",
        Expr::from(format!("https://{app}")),
    )?;
    Ok(f)
}

/// The `failover-active` alarm in the recovery region: in alarm once the runbook has put
/// [`SWITCH_METRIC`] = 1, back to OK when it puts 0, unchanged while no data arrives.
pub fn switch_alarm(namer: &Namer) -> Result<(Fragment, String), Error> {
    let name = namer.name(&naming::SWITCH_ALARM, None);
    let mut f = Fragment::new();
    let alarm_id = id("FailoverSwitchAlarm")?;
    f.add(
        alarm_id.clone(),
        cloudwatch::Alarm::new()
            .alarm_name(name.as_str())
            .alarm_description(
                "The data-plane traffic switch: in ALARM, Route 53 sends app traffic to the secondary",
            )
            .namespace(SWITCH_NAMESPACE)
            .metric_name(SWITCH_METRIC)
            .dimensions(vec![cloudwatch::alarm::Dimension::new()
                .name("Environment")
                .value(namer.suffix().as_str())])
            .statistic("Maximum")
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator("GreaterThanOrEqualToThreshold")
            .treat_missing_data("ignore")
            .actions_enabled(false),
    )?;
    f.suppress(
        &alarm_id,
        "alarms-have-actions",
        "the switch is read by a Route 53 health check; the runbook that flips it notifies",
    );
    f.output(
        id("FailoverSwitchAlarmName")?,
        "The data-plane traffic switch",
        Expr::from(name.as_str()),
    )?;
    Ok((f, name))
}

/// The rules of the DNS props; [`ZoneProps::problems`], [`FailoverProps::problems`] and the
/// configuration's validation use them.
pub mod rules {
    /// A lowercase domain of at least two labels (the environment's zone is below it).
    pub fn parent_domain(d: &str) -> Option<String> {
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let labels: Vec<&str> = d.split('.').collect();
        (labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || d.len() > 200).then(|| {
            format!(
                "{d:?} is not allowed: a lowercase domain of at least two labels, e.g. \"trading-dr.example.com\""
            )
        })
    }

    /// A Route 53 hosted zone id.
    pub fn zone_id(zone: &str) -> Option<String> {
        let ok = zone.starts_with('Z')
            && (2..=32).contains(&zone.len())
            && zone
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        (!ok).then(|| {
            format!(
                "{zone:?} is not allowed: a Route 53 hosted zone id such as \"Z0123456789ABCDEFGHIJ\""
            )
        })
    }

    /// Route 53 checks every 10 or 30 seconds.
    pub fn health_check_interval_seconds(s: u32) -> Option<String> {
        (![10, 30].contains(&s))
            .then(|| format!("{s} is not allowed: Route 53 checks every 10 or 30 seconds"))
    }

    /// Failures before a check is unhealthy: 1 to 10.
    pub fn health_check_failure_threshold(n: u32) -> Option<String> {
        (!(1..=10).contains(&n)).then(|| format!("{n} is not allowed: use 1 to 10"))
    }
}

impl ZoneProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        if let Some(zone) = &self.parent_zone_id {
            p.check("parent_zone_id", rules::zone_id(zone));
        }
        p.into_vec()
    }
}

impl FailoverProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "checking.interval_seconds",
            rules::health_check_interval_seconds(self.checking.interval_seconds),
        )
        .check(
            "checking.failure_threshold",
            rules::health_check_failure_threshold(self.checking.failure_threshold),
        );
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count};
    use serde_json::json;

    fn render_failover() -> serde_json::Value {
        let mut body = Fragment::new();
        let cond = body
            .condition(id("SecondaryServing").unwrap(), Expr::equals("a", "a"))
            .unwrap();
        body.merge(
            failover(&FailoverProps {
                namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
                zone_name: "dr.example.com".into(),
                zone_id: Expr::from("Z1"),
                primary_target: (Expr::from("alb-1.elb"), Expr::from("ZELB1")),
                health_path: "/health/deep".into(),
                checking: Checking {
                    interval_seconds: 10,
                    failure_threshold: 3,
                },
                secondary: SecondaryTarget {
                    condition: cond,
                    target: (Expr::from("alb-2.elb"), Expr::from("ZELB2")),
                    region: "us-east-2".into(),
                    switch_alarm: "failover-active-qa".into(),
                },
            })
            .unwrap(),
        )
        .unwrap();
        Template::new("t", body).to_json()
    }

    #[test]
    fn https_health_checks_on_both_regional_names() {
        let t = render_failover();
        for region in ["primary", "secondary"] {
            assert_has_resource_properties(
                &t,
                "AWS::Route53::HealthCheck",
                json!({"HealthCheckConfig": {
                    "Type": "HTTPS", "FullyQualifiedDomainName": format!("{region}.dr.example.com"),
                    "ResourcePath": "/health/deep", "RequestInterval": 10, "FailureThreshold": 3, "EnableSNI": true
                }}),
            );
        }
    }

    #[test]
    fn the_primary_record_is_healthy_only_while_the_switch_in_us_east_2_is_off() {
        let t = render_failover();
        assert_has_resource_properties(
            &t,
            "AWS::Route53::HealthCheck",
            json!({"HealthCheckConfig": {
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Name": "failover-active-qa", "Region": "us-east-2"},
                "InsufficientDataHealthStatus": "LastKnownStatus"
            }}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Route53::HealthCheck",
            json!({"HealthCheckConfig": {"Type": "CALCULATED", "HealthThreshold": 2,
                "ChildHealthChecks": [{"Ref": "PrimaryHealthCheck"}, {"Ref": "FailoverSwitchHealthCheck"}]}}),
        );
        assert_eq!(
            t["Resources"]["PrimaryRecord"]["Properties"]["HealthCheckId"],
            json!({"Fn::If": ["SecondaryServing", {"Ref": "PrimaryServingHealthCheck"}, {"Ref": "PrimaryHealthCheck"}]})
        );
        assert_has_resource_properties(
            &t,
            "AWS::Route53::RecordSet",
            json!({"Name": "app.dr.example.com", "Failover": "SECONDARY", "AliasTarget": {"DNSName": "alb-2.elb", "HostedZoneId": "ZELB2"}}),
        );
        assert_eq!(
            t["Resources"]["SecondaryRecord"]["Condition"],
            "SecondaryServing"
        );
    }

    #[test]
    fn the_switch_alarm_keeps_its_state_without_data() {
        let (f, name) =
            switch_alarm(&Namer::new(Suffix::parse("qa").unwrap(), "us-east-2")).unwrap();
        let t = Template::new("t", f).to_json();
        assert_eq!(name, "failover-active-qa");
        assert_has_resource_properties(
            &t,
            "AWS::CloudWatch::Alarm",
            json!({"Namespace": "TradingDR", "MetricName": "FailoverActive", "TreatMissingData": "ignore",
                   "Dimensions": [{"Name": "Environment", "Value": "qa"}]}),
        );
    }

    #[test]
    fn the_zone_delegates_itself_when_the_parent_is_ours() {
        let (f, _) = zone(&ZoneProps {
            zone_name: "qa.dr.example.com".into(),
            comment: "c".into(),
            parent_zone_id: Some("ZPARENT".into()),
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Route53::RecordSet",
            json!({"HostedZoneId": "ZPARENT", "Name": "qa.dr.example.com", "Type": "NS",
                   "ResourceRecords": {"Fn::GetAtt": ["HostedZone", "NameServers"]}}),
        );
    }

    #[test]
    fn certificates_cover_the_app_and_the_regional_name() {
        let (f, _) = certificate("secondary", "dr.example.com", Expr::from("Z1")).unwrap();
        let t = Template::new("t", f).to_json();
        assert_resource_count(&t, "AWS::CertificateManager::Certificate", 1);
        assert_has_resource_properties(
            &t,
            "AWS::CertificateManager::Certificate",
            json!({"DomainName": "app.dr.example.com", "SubjectAlternativeNames": ["secondary.dr.example.com"], "ValidationMethod": "DNS"}),
        );
    }
}
