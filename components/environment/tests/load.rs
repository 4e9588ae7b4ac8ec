//! Loading the shipped env files and rejecting bad ones, message by message.

use environment::{ConfigError, NatGateways, Source, load};

const DEFAULT: &str = include_str!("../../../env/default.toml");

fn default() -> Source {
    Source::new("env/default.toml", DEFAULT)
}

fn errors(suffix: &str, overlay: &str) -> Vec<ConfigError> {
    load(suffix, default(), Some(Source::new("env/x.toml", overlay)))
        .expect_err("the configuration must be rejected")
        .0
}

#[test]
fn shipped_environments_load_and_overlay() {
    for (suffix, text) in [
        ("qa", include_str!("../../../env/qa.toml")),
        ("prod", include_str!("../../../env/prod.toml")),
    ] {
        let env = load(
            suffix,
            default(),
            Some(Source::new(format!("env/{suffix}.toml"), text)),
        )
        .unwrap_or_else(|e| panic!("{suffix}: {e}"));
        let expected = if suffix == "qa" {
            NatGateways::Single
        } else {
            NatGateways::PerAz
        };
        assert_eq!(env.config.network.nat_gateways, expected);
        assert_eq!(
            env.config.regions.secondary.name, "us-east-2",
            "default kept"
        );
    }
    let env = load("pr42", default(), None).unwrap();
    assert_eq!(env.config.network.flow_log_retention_days, 365);
}

#[test]
fn every_problem_is_reported_at_once_with_file_and_key() {
    let errs = errors(
        "QA_Prod!",
        r#"
app = "Trading"
[network]
nat_gatways = "single"
flow_log_retention_days = 31
[regions.secondary]
vpc_cidr = "10.10.128.0/20"
availability_zones = ["us-east-1a", "us-east-2b", "us-east-2b"]
"#,
    );
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let expect = [
        "--suffix: suffix: suffix \"QA_Prod!\" is invalid",
        "env/x.toml: network.nat_gatways: unknown field `nat_gatways`, expected `nat_gateways`",
        "env/x.toml: app: \"Trading\" is not allowed",
        "env/x.toml: regions.secondary.availability_zones[0]: \"us-east-1a\" is not a zone of us-east-2: allowed are us-east-2a, us-east-2b, us-east-2c",
        "env/x.toml: regions.secondary.availability_zones[2]: \"us-east-2b\" is listed twice",
        "env/x.toml: regions.secondary.vpc_cidr: 10.10.128.0/20 overlaps the primary VPC 10.10.0.0/16",
        "env/x.toml: network.flow_log_retention_days: 31 is not allowed: CloudWatch Logs accepts 1, 3,",
    ];
    for e in expect {
        assert!(
            text.iter().any(|t| t.starts_with(e)),
            "missing {e:?} in:\n{}",
            text.join("\n")
        );
    }
    assert_eq!(text.len(), expect.len(), "{}", text.join("\n"));
}

#[test]
fn edge_credentials_and_cost_settings_are_checked_with_file_and_key() {
    let found = errors(
        "qa",
        "[firewall]\nrate_limit = 10\nlog_retention_days = 31\n[aurora]\nrotation_days = 0\n[cost]\nnat_gb = -1\n[backup]\ncopy_account_id = \"12\"\ndaily_retention_days = 5\nair_gapped_vault = true\n",
    );
    let said: Vec<(String, String, String)> = found
        .into_iter()
        .map(|e| (e.file, e.key, e.message))
        .collect();
    for (key, start) in [
        ("firewall.rate_limit", "10 is not allowed"),
        ("firewall.log_retention_days", "31 is not allowed"),
        (
            "aurora.rotation_days",
            "0 is not allowed: days between rotations, 1 to 365",
        ),
        (
            "cost.nat_gb",
            "-1 is not allowed: a monthly usage, 0 or more",
        ),
    ] {
        assert!(
            said.iter()
                .any(|(file, k, m)| file == "env/x.toml" && k == key && m.starts_with(start)),
            "{key}: {said:?}"
        );
    }
}
