//! `cargo xtask synth` end to end on temporary folders: the good path writes three files and
//! prints a line per stack; every bad configuration is rejected with a message naming file, key
//! and allowed values, and leaves the output folder exactly as it was.

use std::path::{Path, PathBuf};

use xtask::synth::{Args, run};

const DEFAULT: &str = include_str!("../../env/default.toml");

struct Fixture {
    _dir: tempfile::TempDir,
    env: PathBuf,
    out: PathBuf,
}

/// An env folder with the shipped default.toml and, when given, `<suffix>.toml`; an out folder
/// holding a previous synth's files.
fn fixture(suffix: &str, overlay: Option<&str>, default: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::write(env.join("default.toml"), default).unwrap();
    if let Some(text) = overlay {
        std::fs::write(env.join(format!("{suffix}.toml")), text).unwrap();
    }
    std::fs::create_dir_all(out.join("old")).unwrap();
    std::fs::write(out.join("old/manifest.json"), "previous").unwrap();
    Fixture {
        _dir: dir,
        env,
        out,
    }
}

fn args(f: &Fixture, suffix: &str) -> Args {
    Args {
        suffix: suffix.to_string(),
        env_dir: f.env.clone(),
        out: f.out.clone(),
    }
}

fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let content = std::fs::read_to_string(&p).unwrap();
                files.push((p.strip_prefix(dir).unwrap().display().to_string(), content));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn synth_writes_both_templates_and_the_manifest() {
    let f = fixture(
        "qa",
        Some("[network]\nnat_gateways = \"single\"\n"),
        DEFAULT,
    );
    let mut printed = Vec::new();
    let summaries = run(&args(&f, "qa"), &mut printed).unwrap();
    let printed = String::from_utf8(printed).unwrap();
    for name in [
        "primary.template.json",
        "secondary.template.json",
        "manifest.json",
    ] {
        assert!(f.out.join("qa").join(name).is_file(), "{name} missing");
    }
    assert_eq!(summaries.len(), 2);
    assert!(printed.contains("trading-dr-primary-qa"), "{printed}");
    assert!(
        printed.contains("primary → secondary → primary-link"),
        "{printed}"
    );
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.out.join("qa/primary.template.json")).unwrap(),
    )
    .unwrap();
    let nats = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::EC2::NatGateway")
        .count();
    assert_eq!(nats, 1, "qa.toml's single NAT gateway is applied");
    assert_eq!(
        summaries[0].resources,
        template["Resources"].as_object().unwrap().len()
    );
    // A second run gives the same bytes.
    let before = listing(&f.out);
    run(&args(&f, "qa"), &mut Vec::new()).unwrap();
    assert_eq!(before, listing(&f.out));
}

#[test]
fn a_suffix_without_its_own_file_runs_on_defaults() {
    let f = fixture("pr42", None, DEFAULT);
    run(&args(&f, "pr42"), &mut Vec::new()).unwrap();
    assert!(f.out.join("pr42/manifest.json").is_file());
}

/// (case, suffix, overlay, default override, expected fragments of the message).
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        "suffix with bad characters",
        "QA_Prod!",
        None,
        None,
        &[
            "--suffix: suffix:",
            "\"QA_Prod!\"",
            "lowercase letters, digits and single inner hyphens",
        ],
    ),
    (
        "suffix too long for the tightest name",
        "abcdefghijkl",
        None,
        None,
        &[
            "is 12 characters, the longest allowed is 11",
            "Synthetics canary names are at most 21 characters",
        ],
    ),
    (
        "overlapping VPC blocks",
        "qa",
        Some("[regions.secondary]\nvpc_cidr = \"10.10.0.0/16\"\n"),
        None,
        &[
            "env/qa.toml: regions.secondary.vpc_cidr:",
            "overlaps the primary VPC 10.10.0.0/16",
        ],
    ),
    (
        "unknown key",
        "qa",
        Some("[network]\nnat_gatways = \"single\"\n"),
        None,
        &[
            "env/qa.toml: network.nat_gatways: unknown field `nat_gatways`",
            "expected `nat_gateways`",
        ],
    ),
    (
        "zone of the wrong region",
        "qa",
        Some(
            "[regions.secondary]\navailability_zones = [\"us-east-2a\", \"us-east-2b\", \"us-east-1c\"]\n",
        ),
        None,
        &[
            "regions.secondary.availability_zones[2]",
            "\"us-east-1c\" is not a zone of us-east-2",
            "allowed are us-east-2a, us-east-2b, us-east-2c",
        ],
    ),
    (
        "two zones only",
        "qa",
        Some("[regions.primary]\navailability_zones = [\"us-east-1a\", \"us-east-1b\"]\n"),
        None,
        &["regions.primary.availability_zones: 2 zones given, exactly 3 are needed"],
    ),
    (
        "same region twice",
        "qa",
        Some(
            "[regions.secondary]\nname = \"us-east-1\"\navailability_zones = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]\n",
        ),
        None,
        &["regions.secondary.name: \"us-east-1\" is not allowed: the secondary region must differ"],
    ),
    (
        "unsupported region",
        "qa",
        Some("[regions.secondary]\nname = \"eu-west-9\"\n"),
        None,
        &[
            "regions.secondary.name: \"eu-west-9\" is not allowed: supported regions are us-east-1, us-east-2, us-west-2",
        ],
    ),
    (
        "region outside the allowed residency",
        "qa",
        Some(
            "[regions.secondary]\nname = \"us-west-2\"\nvpc_cidr = \"10.30.0.0/16\"\navailability_zones = [\"us-west-2a\", \"us-west-2b\", \"us-west-2c\"]\n",
        ),
        None,
        &[
            "env/qa.toml: regions.secondary.name: \"us-west-2\" is outside the regions this environment's data may live in (residency.allowed_regions: us-east-1, us-east-2)",
        ],
    ),
    (
        "unsupported region in the residency list",
        "qa",
        Some("[residency]\nallowed_regions = [\"us-east-1\", \"us-east-2\", \"mars-1\"]\n"),
        None,
        &[
            "env/qa.toml: residency.allowed_regions[2]: \"mars-1\" is not allowed: supported regions are us-east-1, us-east-2, us-west-2",
        ],
    ),
    (
        "host bits set",
        "qa",
        Some("[regions.primary]\nvpc_cidr = \"10.10.0.1/16\"\n"),
        None,
        &[
            "regions.primary.vpc_cidr: \"10.10.0.1/16\" is not allowed: host bits are set; the network address is 10.10.0.0/16",
        ],
    ),
    (
        "VPC block too small",
        "qa",
        Some("[regions.primary]\nvpc_cidr = \"10.10.0.0/24\"\n"),
        None,
        &["the prefix must be /16 to /20"],
    ),
    (
        "public VPC block",
        "qa",
        Some("[regions.primary]\nvpc_cidr = \"11.0.0.0/16\"\n"),
        None,
        &["use a private RFC 1918 range"],
    ),
    (
        "retention CloudWatch does not offer",
        "qa",
        Some("[network]\nflow_log_retention_days = 31\n"),
        None,
        &[
            "network.flow_log_retention_days: 31 is not allowed: CloudWatch Logs accepts 1, 3, 5, 7, 14, 30",
        ],
    ),
    (
        "key pending window out of range",
        "qa",
        Some("[keys]\npending_window_days = 3\n"),
        None,
        &["keys.pending_window_days: 3 is not allowed: KMS accepts 7 to 30 days"],
    ),
    (
        "NAT policy that does not exist",
        "qa",
        Some("[network]\nnat_gateways = \"two\"\n"),
        None,
        &[
            "network.nat_gateways: \"two\" is not allowed: unknown variant `two`, expected `per-az` or `single`",
        ],
    ),
    (
        "wrong type",
        "qa",
        Some("[keys]\npending_window_days = \"seven\"\n"),
        None,
        &[
            "keys.pending_window_days: \"seven\" is not allowed: invalid type: string \"seven\", expected u32",
        ],
    ),
    (
        "Aurora engine older than global databases with Serverless v2 allow",
        "qa",
        Some("[aurora]\nengine_version = \"13.9\"\n"),
        None,
        &[
            "env/qa.toml: aurora.engine_version: \"13.9\" is not allowed: use an Aurora PostgreSQL 14 version from 14.3 on",
        ],
    ),
    (
        "headless secondary cluster",
        "qa",
        Some("[aurora]\nsecondary_instances = 0\n"),
        None,
        &[
            "aurora.secondary_instances: 0 is not allowed: use 1 to 16 (a secondary cluster without an instance cannot take over)",
        ],
    ),
    (
        "capacity range upside down",
        "qa",
        Some("[aurora]\nmin_capacity_acu = 8\nmax_capacity_acu = 2\n"),
        None,
        &[
            "aurora.max_capacity_acu: 2 is not allowed: use 8 (the minimum) to 256 ACUs in steps of 0.5",
        ],
    ),
    (
        "managed RPO below the floor",
        "qa",
        Some("[aurora]\nmanaged_rpo_seconds = 10\n"),
        None,
        &[
            "aurora.managed_rpo_seconds: 10 is not allowed: 0 turns the managed RPO off, else 20 to 604800 seconds",
        ],
    ),
    (
        "reserved master user",
        "qa",
        Some("[aurora]\nmaster_username = \"postgres\"\n"),
        None,
        &["aurora.master_username: \"postgres\" is not allowed"],
    ),
    (
        "Fargate memory that does not fit the CPU",
        "qa",
        Some("[service]\ncpu = 256\nmemory = 4096\n"),
        None,
        &[
            "env/qa.toml: service.memory: 4096 is not allowed with 256 CPU units: Fargate allows 512, 1024, 2048",
        ],
    ),
    (
        "a cold standby",
        "qa",
        Some("[service]\nsecondary_desired_count = 0\n"),
        None,
        &[
            "service.secondary_desired_count: 0 is not allowed: a warm standby keeps at least 1 task",
        ],
    ),
    (
        "TLS policy older than 1.2",
        "qa",
        Some("[service]\ntls_policy = \"ELBSecurityPolicy-2016-08\"\n"),
        None,
        &[
            "service.tls_policy: \"ELBSecurityPolicy-2016-08\" is not allowed: TLS 1.2+ policies are",
        ],
    ),
    (
        "deprecated canary runtime",
        "qa",
        Some("[monitoring]\nruntime = \"syn-nodejs-puppeteer-6.2\"\n"),
        None,
        &[
            "monitoring.runtime: \"syn-nodejs-puppeteer-6.2\" is not allowed: use a supported Node.js runtime",
        ],
    ),
    (
        "health check interval Route 53 does not offer",
        "qa",
        Some("[dns]\nhealth_check_interval_seconds = 15\n"),
        None,
        &[
            "dns.health_check_interval_seconds: 15 is not allowed: Route 53 checks every 10 or 30 seconds",
        ],
    ),
    (
        "TOML syntax error",
        "qa",
        Some("[network\nnat_gateways = \"single\"\n"),
        None,
        &["env/qa.toml: (syntax):", "at line 1"],
    ),
    (
        "bad value in the default file",
        "pr1",
        None,
        Some("app = \"Trading Desk\""),
        &["env/default.toml: app: \"Trading Desk\" is not allowed"],
    ),
    (
        "a flag named like the one the runbooks own",
        "qa",
        Some("[flags]\nfailover-active = \"true\"\n"),
        None,
        &[
            "env/qa.toml: flags.failover-active",
            "is reserved: the failover and failback runbooks set it",
        ],
    ),
    (
        "missing key in the default file",
        "pr1",
        None,
        Some("DROP keys"),
        &["env/default.toml: keys: missing field `keys`"],
    ),
];

#[test]
fn bad_configurations_are_rejected_and_nothing_is_written() {
    assert!(CASES.len() >= 10);
    for (case, suffix, overlay, default_override, expected) in CASES {
        let default = match default_override {
            None => DEFAULT.to_string(),
            Some(o) if o.starts_with("DROP ") => {
                let section = &o[5..];
                let start = DEFAULT.find(&format!("[{section}]")).unwrap();
                DEFAULT[..start].to_string()
            }
            Some(o) => DEFAULT.replace("app = \"trading\"", o),
        };
        let f = fixture(suffix, *overlay, &default);
        let before = listing(&f.out);
        let mut printed = Vec::new();
        let err = run(&args(&f, suffix), &mut printed)
            .expect_err(case)
            .to_string()
            // Paths are shown relative to the current folder when inside it.
            .replace(&format!("{}/", f.env.display()), "env/");
        for e in *expected {
            assert!(err.contains(e), "{case}: expected {e:?} in:\n{err}");
        }
        assert_eq!(listing(&f.out), before, "{case}: the output folder changed");
        assert!(printed.is_empty(), "{case}: printed {printed:?}");
    }
}

#[test]
fn every_problem_of_one_file_is_reported_together() {
    let f = fixture(
        "qa",
        Some(
            "[network]\nflow_log_retention_days = 31\n[keys]\npending_window_days = 99\n[regions.primary]\nvpc_cidr = \"10.20.0.0/16\"\n",
        ),
        DEFAULT,
    );
    let err = run(&args(&f, "qa"), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("3 configuration problems"), "{err}");
}

#[test]
fn bootstrap_regions_are_those_of_every_configured_environment() {
    let f = fixture(
        "dr",
        Some(
            "[residency]\nallowed_regions = [\"us-east-1\", \"us-west-2\"]\n[regions.secondary]\nname = \"us-west-2\"\nvpc_cidr = \"10.30.0.0/16\"\navailability_zones = [\"us-west-2a\", \"us-west-2b\", \"us-west-2c\"]\n",
        ),
        DEFAULT,
    );
    // A file that names no environment is not read.
    std::fs::write(f.env.join("Notes.toml"), "not = [valid").unwrap();
    let regions = xtask::synth::configured_regions(&f.env).unwrap();
    assert_eq!(regions, ["us-east-1", "us-east-2", "us-west-2"]);

    // An environment that does not validate stops bootstrap, naming its file.
    std::fs::write(
        f.env.join("bad.toml"),
        "[regions.primary]\nname = \"mars-1\"\n",
    )
    .unwrap();
    let e = xtask::synth::configured_regions(&f.env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml") && e.contains("supported regions are"),
        "{e}"
    );
}

/// Runs synth for `qa` in `f`: what it printed and the primary template it wrote.
fn synth_qa(f: &Fixture) -> (String, serde_json::Value) {
    let mut out = Vec::new();
    xtask::synth::run(&args(f, "qa"), &mut out).unwrap();
    let primary = serde_json::from_str(
        &std::fs::read_to_string(f.out.join("qa/primary.template.json")).unwrap(),
    )
    .unwrap();
    (String::from_utf8(out).unwrap(), primary)
}

#[test]
fn the_audit_trail_is_never_silently_absent() {
    let (text, primary) = synth_qa(&fixture("qa", None, DEFAULT));
    assert!(
        text.contains("audit     trail audit-qa: every region, validated, encrypted"),
        "{text}"
    );
    assert_eq!(
        primary["Resources"]["AuditTrail"]["Type"],
        "AWS::CloudTrail::Trail"
    );

    let (text, primary) = synth_qa(&fixture(
        "qa",
        Some("[audit]\norganization_trail = true\n"),
        DEFAULT,
    ));
    assert!(
        text.contains("no trail of its own: the organisation's trail records the account (audit.organization_trail = true)"),
        "{text}"
    );
    assert!(primary["Resources"]["AuditTrail"].is_null());
    assert!(primary["Resources"]["AuditBucket"].is_null());
}
