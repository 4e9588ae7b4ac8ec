//! Monitoring from the outside: Synthetics canaries that call the deep health path over HTTPS
//! and check status and body, alarms on their success rate and duration, and an encrypted SNS
//! topic for notifications. Each region watches its own endpoint; the secondary also watches the
//! primary's from outside (us-east-2), and combines that with the global database's replication
//! lag into the composite alarm that starts failover: two independent signals of a primary
//! failure, both observable from the recovery region.
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = canaries::MonitoringProps::new(
//!     Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
//!     Expr::from("arn:aws:kms:us-east-1:111122223333:key/1"),
//! );
//! let (fragment, monitoring) = canaries::topic_and_bucket(&props)?;
//! assert!(fragment.resources().len() >= 3);
//! # let _ = monitoring;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::{cloudwatch, events, iam, s3, sns, synthetics};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, NameRule, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};

/// The canary script: GET the target URL, expect 200 and a body, fail otherwise. Plain Node.js
/// (`https`), so it runs the same on every Synthetics Node.js runtime.
pub const SCRIPT: &str = r#"const https = require('https');

const target = process.env.TARGET_URL;
const expected = process.env.EXPECTED_BODY || '';

function get(url) {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { timeout: 10000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`timeout calling ${url}`)));
    request.on('error', reject);
  });
}

exports.handler = async () => {
  const { status, body } = await get(target);
  if (status !== 200) {
    throw new Error(`${target} answered ${status}`);
  }
  if (body.length === 0 || !body.includes(expected)) {
    throw new Error(`${target} answered 200 without the expected body`);
  }
  return `${target} healthy`;
};
"#;

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// Properties of the region's monitoring.
#[derive(Clone, Debug)]
pub struct MonitoringProps {
    /// Names the topic, bucket, canaries and alarms. Required.
    pub namer: Namer,
    /// ARN of the region's key (topic, artifacts). Required.
    pub key_arn: Expr,
    /// E-mail addresses notified of alarms. Default: none.
    pub emails: Vec<String>,
    /// The Synthetics runtime, one AWS supports. Default: `syn-nodejs-puppeteer-13.1`.
    pub runtime: String,
    /// How often canaries run. Default: `rate(1 minute)`.
    pub schedule: String,
    /// Text the health response must contain. Default: empty (any non-empty body).
    pub expected_body: String,
    /// Alarm when the success rate falls below this percent. Default: 90.
    pub success_threshold_percent: u32,
    /// Alarm when a run takes longer than this, in milliseconds. Default: 5000.
    pub duration_threshold_ms: u32,
}

impl MonitoringProps {
    /// Props with the defaults.
    pub fn new(namer: Namer, key_arn: Expr) -> Self {
        MonitoringProps {
            namer,
            key_arn,
            emails: vec![],
            runtime: "syn-nodejs-puppeteer-13.1".into(),
            schedule: "rate(1 minute)".into(),
            expected_body: String::new(),
            success_threshold_percent: 90,
            duration_threshold_ms: 5000,
        }
    }
}

/// The region's notification topic and canary infrastructure.
#[derive(Clone, Debug)]
pub struct Monitoring {
    /// Alarms notify here.
    pub topic: Handle<sns::Topic>,
    artifacts: Handle<s3::Bucket>,
    role: Handle<iam::Role>,
}

/// Builds the topic (with subscriptions), the canaries' artifacts bucket and their role.
pub fn topic_and_bucket(props: &MonitoringProps) -> Result<(Fragment, Monitoring), Error> {
    cfn::Problems::from(props.problems()).into_result("canaries")?;
    let n = &props.namer;
    let mut f = Fragment::new();
    let topic = f.add(
        id("AlertTopic")?,
        sns::Topic::new()
            .topic_name(n.name(&naming::ALERT_TOPIC, None))
            .display_name("Trading DR alerts")
            .kms_master_key_id(props.key_arn.clone()),
    )?;
    // CloudWatch (alarms) and EventBridge (failure events) publish here, for this account only.
    f.add(
        id("AlertTopicPolicy")?,
        sns::TopicPolicy::new()
            .topics(vec![topic.reference()])
            .policy_document(policy(
                ["cloudwatch.amazonaws.com", "events.amazonaws.com"].map(|service| {
                    Statement::allow(["sns:Publish"], [topic.reference()])
                        .service(service)
                        .condition(
                            "StringEquals",
                            "aws:SourceAccount",
                            Expr::pseudo(cfn::Pseudo::AccountId),
                        )
                }),
            )),
    )?;
    for (i, email) in props.emails.iter().enumerate() {
        f.add(
            id(&format!("AlertSubscription{}", i + 1))?,
            sns::Subscription::new()
                .topic_arn(topic.reference())
                .protocol("email")
                .endpoint(email.as_str()),
        )?;
    }
    let bucket_id = id("CanaryArtifacts")?;
    let artifacts = f.add(
        bucket_id.clone(),
        storage::private_bucket(
            n.expr(&naming::CANARY_BUCKET, None),
            Some(props.key_arn.clone()),
        )
        .lifecycle_configuration(s3::bucket::LifecycleConfiguration::new().rules(vec![
                s3::bucket::Rule::new()
                    .id("expire-canary-artifacts")
                    .status("Enabled")
                    .expiration_in_days(30)
                    .noncurrent_version_expiration(
                        s3::bucket::NoncurrentVersionExpiration::new().noncurrent_days(1),
                    ),
            ])),
    )?;
    f.suppress(
        &bucket_id,
        "replicated",
        "canary screenshots and logs belong to the region whose canaries wrote them",
    );
    f.suppress(
        &bucket_id,
        "access-logged",
        "holds only the canaries' screenshots and run logs, written by the canary role and expiring after 30 days: no application data",
    );
    f.add(
        id("CanaryArtifactsPolicy")?,
        storage::bucket_policy(&artifacts, vec![]),
    )?;
    let role = f.add(
        id("CanaryRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::CANARY_ROLE, None))
            .description("Runs the Synthetics canaries")
            .assume_role_policy_document(assume_role_by("lambda.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("run-canaries")
                    .policy_document(policy([
                        Statement::allow(["s3:PutObject"], [Expr::sub("${CanaryArtifacts.Arn}/*")]),
                        Statement::allow(["s3:GetBucketLocation"], [artifacts.attr_arn()]),
                        Statement::allow(
                            ["kms:GenerateDataKey", "kms:Decrypt"],
                            [props.key_arn.clone()],
                        ),
                        Statement::allow(
                            [
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            [cfn::arn::Arn::new("logs", "log-group:/aws/lambda/cwsyn-*").expr()],
                        ),
                        // Metrics and traces accept no resource-level permissions.
                        Statement::allow(["cloudwatch:PutMetricData"], [Expr::from("*")])
                            .condition(
                                "StringEquals",
                                "cloudwatch:namespace",
                                "CloudWatchSynthetics",
                            ),
                        Statement::allow(["xray:PutTraceSegments"], [Expr::from("*")]),
                    ])),
            ]),
    )?;
    f.output(
        id("AlertTopicArn")?,
        "Where alarms notify",
        topic.reference(),
    )?;
    Ok((
        f,
        Monitoring {
            topic,
            artifacts,
            role,
        },
    ))
}

/// A metric alarm of the template: its name, and its handle, so that what names it (a composite
/// alarm's rule) can refer to it and be made after it.
#[derive(Clone, Debug)]
pub struct NamedAlarm {
    /// The alarm's name.
    pub name: String,
    /// The alarm resource.
    pub handle: Handle<cloudwatch::Alarm>,
}

/// One canary against `url` and its two alarms; returns the success alarm.
pub fn canary(
    f: &mut Fragment,
    props: &MonitoringProps,
    monitoring: &Monitoring,
    logical: &str,
    rule: &NameRule,
    url: Expr,
) -> Result<NamedAlarm, Error> {
    let n = &props.namer;
    let name = n.name(rule, None);
    let canary = f.add(
        id(logical)?,
        synthetics::Canary::new()
            .name(name.as_str())
            .runtime_version(props.runtime.as_str())
            .execution_role_arn(monitoring.role.attr_arn())
            .artifact_s3_location(Expr::sub(format!(
                "s3://${{{}}}/{name}",
                monitoring.artifacts.id()
            )))
            .artifact_config(
                synthetics::canary::ArtifactConfig::new().s3_encryption(
                    synthetics::canary::S3Encryption::new()
                        .encryption_mode("SSE_KMS")
                        .kms_key_arn(props.key_arn.clone()),
                ),
            )
            .code(
                synthetics::canary::Code::new()
                    .handler("index.handler")
                    .script(SCRIPT),
            )
            .schedule(synthetics::canary::Schedule::new().expression(props.schedule.as_str()))
            .run_config(
                synthetics::canary::RunConfig::new()
                    .timeout_in_seconds(30)
                    .active_tracing(true)
                    .environment_variables(Expr::map([
                        ("TARGET_URL", url),
                        ("EXPECTED_BODY", Expr::from(props.expected_body.as_str())),
                    ])),
            )
            .start_canary_after_creation(true)
            .provisioned_resource_cleanup("AUTOMATIC")
            .success_retention_period(7)
            .failure_retention_period(30),
    )?;
    let success_alarm = n.name(
        &naming::CANARY_ALARM,
        Some(&format!("{}-success", rule.stem)),
    );
    let mut success = None;
    for (kind, metric, threshold, operator, missing) in [
        (
            "success",
            "SuccessPercent",
            f64::from(props.success_threshold_percent),
            "LessThanThreshold",
            "breaching",
        ),
        (
            "duration",
            "Duration",
            f64::from(props.duration_threshold_ms),
            "GreaterThanThreshold",
            "notBreaching",
        ),
    ] {
        let alarm_name = n.name(
            &naming::CANARY_ALARM,
            Some(&format!("{}-{kind}", rule.stem)),
        );
        let handle = f.add(
            id(&format!("{logical}{}Alarm", capitalise(kind)))?,
            cloudwatch::Alarm::new()
                .alarm_name(alarm_name.as_str())
                .alarm_description(format!("Canary {name}: {metric} {operator} {threshold}"))
                .namespace("CloudWatchSynthetics")
                .metric_name(metric)
                // The canary by Ref (its name): the alarm is made after the canary, so it does
                // not judge missing data before the canary could run.
                .dimensions(vec![
                    cloudwatch::alarm::Dimension::new()
                        .name("CanaryName")
                        .value(canary.reference()),
                ])
                .statistic("Average")
                .period(60)
                .evaluation_periods(2)
                .datapoints_to_alarm(2)
                .threshold(threshold)
                .comparison_operator(operator)
                .treat_missing_data(missing)
                .alarm_actions(vec![monitoring.topic.reference()])
                .ok_actions(vec![monitoring.topic.reference()]),
        )?;
        if kind == "success" {
            success = Some(handle);
        }
    }
    Ok(NamedAlarm {
        name: success_alarm,
        handle: success.expect("the success alarm is made"),
    })
}

/// `s` with its first letter upper-case (logical ids made from names).
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The recovery region's failure detection: an alarm on the global database's replication lag
/// (or its absence: a primary that is down reports nothing) and the composite alarm that fires
/// only when the outside-in canary and the replication lag agree. Returns its name.
///
/// The rule names its alarms through `Ref` (an alarm's `Ref` is its name), so CloudFormation
/// makes them first and deletes them after: CloudWatch refuses a composite alarm whose alarms
/// do not exist yet ("Could not save the composite alarm as alarms … in the alarm rule do not
/// exist") and a metric alarm that a composite alarm still names
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>).
pub fn primary_failure_alarm(
    f: &mut Fragment,
    props: &MonitoringProps,
    monitoring: &Monitoring,
    outside_in_alarm: &NamedAlarm,
    secondary_cluster: Expr,
    replicating: &[LogicalId],
    lag_threshold_ms: u32,
) -> Result<(String, LogicalId), Error> {
    let n = &props.namer;
    let lag_alarm = n.name(&naming::CANARY_ALARM, Some("replication-lag"));
    let lag = f.add(
        id("ReplicationLagAlarm")?,
        cloudwatch::Alarm::new()
            .alarm_name(lag_alarm.as_str())
            .alarm_description("Aurora global replication into this region lags or has stopped")
            .namespace("AWS/RDS")
            .metric_name("AuroraGlobalDBReplicationLag")
            .dimensions(vec![
                cloudwatch::alarm::Dimension::new()
                    .name("DBClusterIdentifier")
                    .value(secondary_cluster),
            ])
            .statistic("Maximum")
            .period(60)
            .evaluation_periods(2)
            .datapoints_to_alarm(2)
            .threshold(f64::from(lag_threshold_ms))
            .comparison_operator("GreaterThanThreshold")
            .treat_missing_data("breaching")
            .alarm_actions(vec![monitoring.topic.reference()]),
    )?;
    // Missing data is a breach: the alarm waits for the instances that replicate (and publish
    // the lag) to exist, or a fresh deploy would see a failed primary before its first datum.
    for instance in replicating {
        f.depends_on(lag.id(), instance);
    }
    let composite = n.name(&naming::CANARY_ALARM, Some("primary-failure"));
    let composite_alarm = f.add(
        id("PrimaryFailureAlarm")?,
        cloudwatch::CompositeAlarm::new()
            .alarm_name(composite.as_str())
            .alarm_description(
                "The primary region has failed: unreachable from us-east-2 AND replication from it stopped. Starts failover.",
            )
            .alarm_rule(Expr::sub(format!(
                "ALARM(\"${{{}}}\") AND ALARM(\"${{{}}}\")",
                outside_in_alarm.handle.id(),
                lag.id()
            )))
            .actions_enabled(true)
            .alarm_actions(vec![monitoring.topic.reference()])
            .ok_actions(vec![monitoring.topic.reference()]),
    )?;
    f.output(
        id("PrimaryFailureAlarmName")?,
        "Composite alarm that starts failover",
        Expr::from(composite.as_str()),
    )?;
    Ok((composite, composite_alarm.id().clone()))
}

/// A replication path's alarm: its metric over the threshold means data is not reaching the
/// other region (or not soon enough). No data means nothing to replicate, so it is not a breach.
#[derive(Clone, Debug)]
pub struct PathAlarm {
    /// The alarm's logical id.
    pub logical: String,
    /// The alarm name's qualifier (`alarm-<qualifier>-<suffix>`), at most 24 characters.
    pub qualifier: String,
    /// What it watches, for its description.
    pub description: String,
    /// The metric's namespace (`AWS/S3`, …).
    pub namespace: String,
    /// The metric.
    pub metric: String,
    /// The metric's dimensions.
    pub dimensions: Vec<(String, Expr)>,
    /// `Sum` for counts of failures, `Maximum` for latencies.
    pub statistic: String,
    /// Alarm when the statistic is greater than this, in the metric's unit.
    pub threshold: f64,
    /// Periods of 60 s that must breach.
    pub periods: u32,
    /// The condition under which the path exists (a replica made in a later phase).
    pub condition: Option<LogicalId>,
}

/// The alarm of one replication path, notifying the region's topic; returns its name.
pub fn path_alarm(
    f: &mut Fragment,
    props: &MonitoringProps,
    monitoring: &Monitoring,
    path: &PathAlarm,
) -> Result<String, Error> {
    let name = props
        .namer
        .name(&naming::CANARY_ALARM, Some(&path.qualifier));
    let alarm = cloudwatch::Alarm::new()
        .alarm_name(name.as_str())
        .alarm_description(path.description.as_str())
        .namespace(path.namespace.as_str())
        .metric_name(path.metric.as_str())
        .dimensions(
            path.dimensions
                .iter()
                .map(|(n, v)| {
                    cloudwatch::alarm::Dimension::new()
                        .name(n.as_str())
                        .value(v.clone())
                })
                .collect::<Vec<_>>(),
        )
        .statistic(path.statistic.as_str())
        .period(60)
        .evaluation_periods(path.periods)
        .datapoints_to_alarm(path.periods)
        .threshold(path.threshold)
        .comparison_operator("GreaterThanThreshold")
        .treat_missing_data("notBreaching")
        .alarm_actions(vec![monitoring.topic.reference()])
        .ok_actions(vec![monitoring.topic.reference()]);
    let logical = id(&path.logical)?;
    match &path.condition {
        Some(c) => f.add_when(logical, c, alarm)?,
        None => f.add(logical, alarm)?,
    };
    Ok(name)
}

/// Failed AWS Backup copy jobs from the vault `source_vault_arn` (the cross-region copies)
/// notify the region's topic: AWS Backup sends "Copy Job State Change" events to the default
/// bus, and this rule forwards the failed and partial ones.
/// (AWS Backup's CloudWatch metrics count jobs per vault and resource type; the event names the
/// job, the resource and the reason.)
pub fn copy_failure_alerts(
    f: &mut Fragment,
    props: &MonitoringProps,
    monitoring: &Monitoring,
    source_vault_arn: Expr,
) -> Result<(), Error> {
    alert_rule(
        f,
        (props, monitoring),
        ("BackupCopyFailedRule", "backup-copy"),
        "A cross-region backup copy failed: alerts the topic",
        Expr::map([
            ("source", Expr::list(["aws.backup"])),
            ("detail-type", Expr::list(["Copy Job State Change"])),
            (
                "detail",
                Expr::map([
                    ("state", Expr::list(["FAILED", "PARTIAL"])),
                    ("sourceBackupVaultArn", Expr::List(vec![source_vault_arn])),
                ]),
            ),
        ]),
    )
}

/// Alerts the topic when a rotation of the secret named `secret` fails or is abandoned:
/// Secrets Manager reports both through CloudTrail, naming the secret by its ARN (the name, a
/// dash and six random characters) or by its name; the pattern matches either. While the other
/// region writes (failed over), the rotation function cannot change the password, so every
/// scheduled rotation fails here, safely (the current password stays), and says so.
pub fn rotation_failure_alerts(
    f: &mut Fragment,
    props: &MonitoringProps,
    monitoring: &Monitoring,
    secret: &str,
) -> Result<(), Error> {
    let arn_prefix = cfn::arn::Arn::new("secretsmanager", format!("secret:{secret}-")).expr();
    alert_rule(
        f,
        (props, monitoring),
        ("SecretRotationFailedRule", "rotation"),
        "A rotation of the database credentials failed: alerts the topic",
        Expr::map([
            ("source", Expr::list(["aws.secretsmanager"])),
            (
                "detail-type",
                Expr::list(["AWS Service Event via CloudTrail"]),
            ),
            (
                "detail",
                Expr::map([
                    (
                        "eventName",
                        Expr::list(["RotationFailed", "RotationAbandoned"]),
                    ),
                    (
                        "additionalEventData",
                        Expr::map([(
                            "SecretId",
                            Expr::List(vec![
                                Expr::map([("prefix", arn_prefix)]),
                                Expr::from(secret),
                            ]),
                        )]),
                    ),
                ]),
            ),
        ]),
    )
}

/// A rule on the default bus that forwards the events `pattern` matches to the region's topic,
/// named `alert-<qualifier>-<suffix>`.
fn alert_rule(
    f: &mut Fragment,
    (props, monitoring): (&MonitoringProps, &Monitoring),
    (logical, qualifier): (&str, &str),
    description: &str,
    pattern: Expr,
) -> Result<(), Error> {
    f.add(
        id(logical)?,
        events::Rule::new()
            .name(props.namer.name(&naming::ALERT_RULE, Some(qualifier)))
            .description(description)
            .event_bus_name("default")
            .state("ENABLED")
            .event_pattern(pattern)
            .targets(vec![
                events::rule::Target::new()
                    .id("alert")
                    .arn(monitoring.topic.reference()),
            ]),
    )?;
    Ok(())
}

/// The rules of the monitoring props; [`MonitoringProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// A Node.js Synthetics runtime that can still create canaries (9.0 or later).
    pub fn runtime(r: &str) -> Option<String> {
        let major = r
            .strip_prefix("syn-nodejs-puppeteer-")
            .and_then(|v| v.split_once('.'))
            .and_then(|(major, minor)| minor.parse::<u32>().ok().and(major.parse::<u32>().ok()));
        major.is_none_or(|v| v < 9).then(|| {
            format!(
                "{r:?} is not allowed: use a supported Node.js runtime, syn-nodejs-puppeteer-9.0 or later (7.0 and older are deprecated and cannot create canaries)"
            )
        })
    }

    /// `rate(N minute[s])` with N from 1 to 60.
    pub fn schedule(s: &str) -> Option<String> {
        let minutes = s
            .strip_prefix("rate(")
            .and_then(|s| s.strip_suffix(')'))
            .and_then(|s| s.split_once(' '))
            .filter(|(_, unit)| *unit == "minute" || *unit == "minutes")
            .and_then(|(n, _)| n.parse::<u32>().ok());
        minutes.is_none_or(|n| n == 0 || n > 60).then(|| {
            format!(
                "{s:?} is not allowed: use rate(N minute) or rate(N minutes) with N from 1 to 60"
            )
        })
    }

    /// An e-mail address.
    pub fn email(e: &str) -> Option<String> {
        let ok = e
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        (!ok).then(|| format!("{e:?} is not an e-mail address"))
    }

    /// A success threshold from 1 to 100 percent.
    pub fn success_threshold_percent(p: u32) -> Option<String> {
        (!(1..=100).contains(&p)).then(|| format!("{p} is not allowed: use 1 to 100"))
    }

    /// A time threshold above 0 ms.
    pub fn threshold_ms(ms: u32) -> Option<String> {
        (ms == 0).then(|| "0 is not allowed: use 1 ms or more".into())
    }
}

impl MonitoringProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check("runtime", rules::runtime(&self.runtime))
            .check("schedule", rules::schedule(&self.schedule))
            .check(
                "success_threshold_percent",
                rules::success_threshold_percent(self.success_threshold_percent),
            )
            .check(
                "duration_threshold_ms",
                rules::threshold_ms(self.duration_threshold_ms),
            );
        for (i, e) in self.emails.iter().enumerate() {
            p.check(&format!("emails[{i}]"), rules::email(e));
        }
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

    fn props() -> MonitoringProps {
        MonitoringProps {
            emails: vec!["oncall@example.com".into()],
            ..MonitoringProps::new(
                Namer::new(Suffix::parse("qa").unwrap(), "us-east-2"),
                Expr::from("arn:aws:kms:us-east-2:1:key/b"),
            )
        }
    }

    #[test]
    fn canaries_check_the_deep_path_with_alarms_that_notify() {
        let p = props();
        let (mut f, m) = topic_and_bucket(&p).unwrap();
        let alarm = canary(
            &mut f,
            &p,
            &m,
            "OutsideInCanary",
            &naming::CANARY_OUTSIDE_IN,
            Expr::from("https://primary.qa.example.com/health"),
        )
        .unwrap();
        assert_eq!(alarm.name, "alarm-canary-oi-success-qa");
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Synthetics::Canary",
            json!({
                "Name": "canary-oi-qa",
                "RuntimeVersion": "syn-nodejs-puppeteer-13.1",
                "Code": {"Handler": "index.handler"},
                "RunConfig": {"EnvironmentVariables": {"TARGET_URL": "https://primary.qa.example.com/health"}},
                "ArtifactConfig": {"S3Encryption": {"EncryptionMode": "SSE_KMS"}}
            }),
        );
        assert_resource_count(&t, "AWS::CloudWatch::Alarm", 2);
        assert_has_resource_properties(
            &t,
            "AWS::CloudWatch::Alarm",
            json!({"MetricName": "SuccessPercent", "Threshold": 90.0, "AlarmActions": [{"Ref": "AlertTopic"}]}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::SNS::Subscription",
            json!({"Protocol": "email", "Endpoint": "oncall@example.com"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::SNS::Topic",
            json!({"KmsMasterKeyId": "arn:aws:kms:us-east-2:1:key/b"}),
        );
    }

    #[test]
    fn failover_needs_both_signals() {
        let p = props();
        let (mut f, m) = topic_and_bucket(&p).unwrap();
        let outside_in = canary(
            &mut f,
            &p,
            &m,
            "OutsideInCanary",
            &naming::CANARY_OUTSIDE_IN,
            Expr::from("https://primary.qa.example.com/"),
        )
        .unwrap();
        assert_eq!(outside_in.name, "alarm-canary-oi-success-qa");
        let (name, _) = primary_failure_alarm(
            &mut f,
            &p,
            &m,
            &outside_in,
            Expr::from("aurora-qa"),
            &[],
            60_000,
        )
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_eq!(name, "alarm-primary-failure-qa");
        assert_has_resource_properties(
            &t,
            "AWS::CloudWatch::CompositeAlarm",
            // By reference: the alarms are made before the rule that names them.
            json!({"AlarmRule": {"Fn::Sub": "ALARM(\"${OutsideInCanarySuccessAlarm}\") AND ALARM(\"${ReplicationLagAlarm}\")"}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::CloudWatch::Alarm",
            json!({"MetricName": "AuroraGlobalDBReplicationLag", "TreatMissingData": "breaching"}),
        );
    }
}
