//! The edge: a regional AWS WAF web ACL in front of the region's load balancer.
//!
//! Both regions build it from the same props through the same function, so a failover never
//! changes what protects the application. Four rules, cheapest first:
//!
//! 1. `ip-reputation` — AWS's Amazon IP reputation list (addresses seen in attacks, bots,
//!    reconnaissance);
//! 2. `rate-limit` — at most `rate_limit` requests per client address in any five minutes;
//! 3. `known-bad-inputs` — requests carrying known exploit patterns (Log4j, Java
//!    deserialisation, …);
//! 4. `common` — AWS's core rule set (the OWASP top-ten kinds: cross-site scripting, local file
//!    inclusion, oversized bodies, metadata-service SSRF, …).
//!
//! Everything else is allowed. Route 53 health checks and the canaries pass *by construction*,
//! not by an exemption: they send a GET of the health path with a user agent, no query and no
//! body, which none of the managed rules match; their addresses are AWS's own, not on the
//! reputation list; and one checker address sends at most 30 requests in five minutes (a
//! request every 10 s), which the rate rule's floor (`rules::rate_limit`, 100) stays far above.
//! An allow rule for them would be an exemption anyone could forge (a user agent, a path), so
//! there is none (docs/decisions.md). The ACL's metrics and logs feed no alarm: nothing the
//! firewall counts can start a failover.
//!
//! Every request is logged (the `authorization` and `cookie` headers redacted) to a log group
//! named `aws-waf-logs-…` (WAF's required prefix), encrypted with the region's key.
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let (fragment, acl) = firewall::build(&firewall::FirewallProps::new(
//!     Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
//!     Expr::from("arn:aws:kms:us-east-1:111122223333:key/1"),
//!     Expr::from("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/a/1"),
//! ))?;
//! assert_eq!(fragment.resources().len(), 4);
//! # let _ = acl;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::{logs, wafv2};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};

/// The web ACL's logical id.
pub const WEB_ACL: &str = "WebAcl";

/// The managed rule groups, in evaluation order after the reputation list and the rate rule:
/// (rule name, AWS's group name).
pub const MANAGED_GROUPS: &[(&str, &str)] = &[
    ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("common", "AWSManagedRulesCommonRuleSet"),
];

/// The reputation list, evaluated first.
pub const REPUTATION_GROUP: (&str, &str) =
    ("ip-reputation", "AWSManagedRulesAmazonIpReputationList");

/// Properties of the firewall.
#[derive(Clone, Debug)]
pub struct FirewallProps {
    /// Names the ACL, its metrics and its log group. Required.
    pub namer: Namer,
    /// Requests one client address may make in any five minutes before it is blocked.
    /// Default: 2000.
    pub rate_limit: u32,
    /// Days the request log is kept. Default: 90.
    pub log_retention_days: u32,
    /// The region's key, which encrypts the request log. Required.
    pub key_arn: Expr,
    /// The load balancer the ACL protects. Required.
    pub load_balancer_arn: Expr,
}

impl FirewallProps {
    /// Props with the defaults.
    pub fn new(namer: Namer, key_arn: Expr, load_balancer_arn: Expr) -> Self {
        FirewallProps {
            namer,
            rate_limit: 2000,
            log_retention_days: 90,
            key_arn,
            load_balancer_arn,
        }
    }

    /// Every problem of the props.
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check("rate_limit", rules::rate_limit(self.rate_limit));
        p.check(
            "log_retention_days",
            cfn::rules::log_retention_days(self.log_retention_days),
        );
        p.into_vec()
    }
}

/// What the firewall made.
pub struct Firewall {
    /// The web ACL.
    pub acl: Handle<wafv2::WebAcl>,
}

/// The rules of the firewall's props; [`FirewallProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// The floor of the rate limit: well above what one health checker or canary address sends
    /// (at most 30 requests in five minutes), so the limit can never block the probes.
    pub const MIN_RATE_LIMIT: u32 = 100;
    /// WAF's ceiling for a rate-based rule.
    pub const MAX_RATE_LIMIT: u32 = 2_000_000_000;

    /// A rate limit from [`MIN_RATE_LIMIT`] to [`MAX_RATE_LIMIT`] requests per five minutes.
    pub fn rate_limit(n: u32) -> Option<String> {
        (!(MIN_RATE_LIMIT..=MAX_RATE_LIMIT).contains(&n)).then(|| {
            format!(
                "{n} is not allowed: requests per client address in five minutes, from {MIN_RATE_LIMIT} (a Route 53 checker or canary sends at most 30) to {MAX_RATE_LIMIT} (WAF's ceiling)"
            )
        })
    }
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

fn empty() -> Expr {
    Expr::map(Vec::<(String, Expr)>::new())
}

fn visibility(metric: String) -> wafv2::web_acl::VisibilityConfig {
    wafv2::web_acl::VisibilityConfig::new()
        .cloud_watch_metrics_enabled(true)
        .sampled_requests_enabled(true)
        .metric_name(metric)
}

fn managed(acl_name: &str, priority: u32, (rule, group): (&str, &str)) -> wafv2::web_acl::Rule {
    wafv2::web_acl::Rule::new()
        .name(rule)
        .priority(priority)
        .override_action(wafv2::web_acl::OverrideAction::new().none(empty()))
        .statement(
            wafv2::web_acl::Statement::new().managed_rule_group_statement(
                wafv2::web_acl::ManagedRuleGroupStatement::new()
                    .vendor_name("AWS")
                    .name(group),
            ),
        )
        .visibility_config(visibility(format!("{acl_name}-{rule}")))
}

/// The web ACL, its association with the load balancer, and its request log.
pub fn build(props: &FirewallProps) -> Result<(Fragment, Firewall), Error> {
    cfn::Problems::from(props.problems()).into_result("firewall")?;
    let n = &props.namer;
    let mut f = Fragment::new();
    let name = n.name(&naming::WEB_ACL, None);

    let mut rules: Vec<Expr> = vec![managed(&name, 0, REPUTATION_GROUP).into()];
    rules.push(
        wafv2::web_acl::Rule::new()
            .name("rate-limit")
            .priority(1)
            .action(wafv2::web_acl::RuleAction::new().block(empty()))
            .statement(
                wafv2::web_acl::Statement::new().rate_based_statement(
                    wafv2::web_acl::RateBasedStatement::new()
                        .limit(props.rate_limit)
                        .evaluation_window_sec(300u32)
                        .aggregate_key_type("IP"),
                ),
            )
            .visibility_config(visibility(format!("{name}-rate-limit")))
            .into(),
    );
    for (i, group) in MANAGED_GROUPS.iter().enumerate() {
        rules.push(managed(&name, 2 + i as u32, *group).into());
    }

    let acl = f.add(
        id(WEB_ACL)?,
        wafv2::WebAcl::new()
            .name(name.as_str())
            .description(
                "Application edge: IP reputation, per-address rate limit, known bad inputs, core rule set",
            )
            .scope("REGIONAL")
            .default_action(wafv2::web_acl::DefaultAction::new().allow(empty()))
            .rules(Expr::List(rules))
            .visibility_config(visibility(name.clone())),
    )?;
    f.add(
        id("WebAclAssociation")?,
        wafv2::WebAclAssociation::new()
            .resource_arn(props.load_balancer_arn.clone())
            .web_acl_arn(acl.attr_arn()),
    )?;
    let log_group_name = n.name(&naming::WAF_LOG_GROUP, None);
    let log_group = f.add(
        id("WebAclLogGroup")?,
        logs::LogGroup::new()
            .log_group_name(log_group_name.as_str())
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(props.log_retention_days),
    )?;
    // WAF takes the log group's ARN without the `:*` that its GetAtt Arn ends with.
    let logging = id("WebAclLogging")?;
    f.add(
        logging.clone(),
        wafv2::LoggingConfiguration::new()
            .resource_arn(acl.attr_arn())
            .log_destination_configs(vec![
                cfn::arn::Arn::new("logs", format!("log-group:{log_group_name}")).expr(),
            ])
            .redacted_fields(vec![
                Expr::map([(
                    "SingleHeader",
                    Expr::map([("Name", Expr::from("authorization"))]),
                )]),
                Expr::map([("SingleHeader", Expr::map([("Name", Expr::from("cookie"))]))]),
            ]),
    )?;
    f.depends_on(&logging, log_group.id());
    Ok((f, Firewall { acl }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::assert_has_resource_properties;
    use serde_json::{Value, json};

    fn render(region: &str, rate: u32) -> Value {
        let props = FirewallProps {
            rate_limit: rate,
            ..FirewallProps::new(
                Namer::new(Suffix::parse("qa").unwrap(), region),
                Expr::from("arn:key"),
                Expr::from("arn:lb"),
            )
        };
        let (f, _) = build(&props).unwrap();
        Template::new("t", f).to_json()
    }

    #[test]
    fn the_acl_blocks_by_reputation_rate_bad_inputs_and_the_core_rules_in_that_order() {
        let t = render("us-east-1", 2000);
        let acl = &t["Resources"][WEB_ACL]["Properties"];
        assert_eq!(acl["Scope"], "REGIONAL");
        assert_eq!(acl["DefaultAction"], json!({"Allow": {}}));
        let rules = acl["Rules"].as_array().unwrap();
        let names: Vec<_> = rules.iter().map(|r| r["Name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["ip-reputation", "rate-limit", "known-bad-inputs", "common"]
        );
        let priorities: Vec<_> = rules
            .iter()
            .map(|r| r["Priority"].as_u64().unwrap())
            .collect();
        assert_eq!(priorities, [0, 1, 2, 3]);
        assert_eq!(
            rules[1]["Statement"]["RateBasedStatement"],
            json!({"Limit": 2000, "EvaluationWindowSec": 300, "AggregateKeyType": "IP"})
        );
        assert_eq!(rules[1]["Action"], json!({"Block": {}}));
        assert_eq!(
            rules[3]["Statement"]["ManagedRuleGroupStatement"],
            json!({"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"})
        );
        // A managed group's own actions apply (none are counted only).
        assert_eq!(rules[3]["OverrideAction"], json!({"None": {}}));
        // No rule allows: nothing is exempt from the managed rules.
        assert!(rules.iter().all(|r| r["Action"].get("Allow").is_none()));
        assert_has_resource_properties(
            &t,
            "AWS::WAFv2::WebACLAssociation",
            json!({"ResourceArn": "arn:lb", "WebACLArn": {"Fn::GetAtt": [WEB_ACL, "Arn"]}}),
        );
    }

    #[test]
    fn every_request_is_logged_encrypted_with_secrets_redacted() {
        let t = render("us-east-2", 500);
        assert_has_resource_properties(
            &t,
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": "aws-waf-logs-trading-qa", "KmsKeyId": "arn:key", "RetentionInDays": 90}),
        );
        let logging = &t["Resources"]["WebAclLogging"];
        assert_eq!(logging["DependsOn"], json!(["WebAclLogGroup"]));
        assert_eq!(
            logging["Properties"]["LogDestinationConfigs"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:aws-waf-logs-trading-qa"}])
        );
        assert_eq!(
            logging["Properties"]["RedactedFields"],
            json!([{"SingleHeader": {"Name": "authorization"}}, {"SingleHeader": {"Name": "cookie"}}])
        );
    }

    #[test]
    fn both_regions_get_the_same_rules() {
        let a = render("us-east-1", 2000);
        let b = render("us-east-2", 2000);
        assert_eq!(
            a["Resources"][WEB_ACL]["Properties"],
            b["Resources"][WEB_ACL]["Properties"]
        );
    }

    #[test]
    fn a_rate_limit_below_the_probes_floor_is_refused() {
        assert_eq!(rules::rate_limit(2000), None);
        let said = rules::rate_limit(50).unwrap();
        assert!(said.starts_with("50 is not allowed"), "{said}");
        let props = FirewallProps {
            rate_limit: 10,
            ..FirewallProps::new(
                Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
                Expr::from("k"),
                Expr::from("lb"),
            )
        };
        let err = build(&props).err().unwrap().to_string();
        assert!(err.contains("rate_limit"), "{err}");
    }
}
