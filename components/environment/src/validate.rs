//! Parsing, overlay and validation; every problem is collected before failing.

use std::collections::BTreeSet;

use cfn::naming::{MAX_REGION_LEN, Suffix};
use serde_path_to_error::Segment;
use toml::{Table, Value};

use crate::{Config, ConfigError, ConfigErrors, Environment, Source};

/// Regions we deploy to, with the availability-zone letters each offers.
const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "abcdef"),
    ("us-east-2", "abc"),
    ("us-west-2", "abcd"),
];

/// Whether the project deploys to `name`; the error lists the regions it does deploy to.
pub fn check_region_name(name: &str) -> Result<(), String> {
    if REGIONS.iter().any(|(r, _)| *r == name) {
        return Ok(());
    }
    let supported: Vec<&str> = REGIONS.iter().map(|(r, _)| *r).collect();
    Err(format!(
        "{name:?} is not allowed: supported regions are {}",
        supported.join(", ")
    ))
}

/// A key path inside a TOML document.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn display(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        "(top level)".into()
    } else {
        s
    }
}

fn get<'a>(table: &'a Table, path: &[Step]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let Step::Key(k) = first else { return None };
    let mut v = table.get(k)?;
    for step in rest {
        v = match (step, v) {
            (Step::Key(k), Value::Table(t)) => t.get(k)?,
            (Step::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Replaces the value at `path` (or removes it when `value` is `None`).
fn set(table: &mut Table, path: &[Step], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current: &mut Table = table;
    for step in parents {
        let Step::Key(k) = step else { return };
        match current.get_mut(k) {
            Some(Value::Table(t)) => current = t,
            _ => return,
        }
    }
    if let Step::Key(k) = last {
        match value {
            Some(v) => {
                current.insert(k.clone(), v);
            }
            None => {
                current.remove(k);
            }
        }
    }
}

/// Overlays `top` on `base`: tables merge key by key, everything else is replaced.
fn overlay(base: &mut Table, top: &Table) {
    for (k, v) in top {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(t)) => overlay(b, t),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

struct Files {
    default: (String, Table),
    overlay: Option<(String, Table)>,
}

impl Files {
    /// The file a key's value comes from: the overlay when it sets the key, else the default.
    fn origin(&self, path: &[Step]) -> &str {
        match &self.overlay {
            Some((name, t)) if prefix_in(t, path) => name,
            _ => &self.default.0,
        }
    }
}

/// Whether the overlay sets `path` or a table on the way to it that replaces it wholesale.
fn prefix_in(table: &Table, path: &[Step]) -> bool {
    (1..=path.len())
        .rev()
        .any(|n| match get(table, &path[..n]) {
            Some(Value::Table(_)) => n == path.len(),
            Some(_) => true,
            None => false,
        })
}

pub(crate) fn load(
    suffix: &str,
    default: Source,
    overlay_src: Option<Source>,
) -> Result<Environment, ConfigErrors> {
    let mut errors = Vec::new();
    let parse = |src: &Source, errors: &mut Vec<ConfigError>| match src.text.parse::<Table>() {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(ConfigError {
                file: src.path.clone(),
                key: "(syntax)".into(),
                message: e.message().to_string()
                    + &e.span()
                        .map(|s| format!(" (at line {})", line_of(&src.text, s.start)))
                        .unwrap_or_default(),
            });
            None
        }
    };
    let default_table = parse(&default, &mut errors);
    let overlay_table = overlay_src
        .as_ref()
        .and_then(|src| parse(src, &mut errors).map(|t| (src.path.clone(), t)));
    let suffix = match Suffix::parse(suffix) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(ConfigError {
                file: "--suffix".into(),
                key: "suffix".into(),
                message: e.to_string(),
            });
            None
        }
    };
    let Some(default_table) = default_table else {
        return Err(ConfigErrors(errors));
    };
    let files = Files {
        default: (default.path.clone(), default_table),
        overlay: overlay_table,
    };
    let config = structural(&files, &mut errors);
    if let Some(config) = &config {
        semantic(config, &files, &mut errors);
    }
    match (config, suffix) {
        (Some(config), Some(suffix)) if errors.is_empty() => Ok(Environment { suffix, config }),
        _ => Err(ConfigErrors(errors)),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Deserialises the overlaid document into [`Config`]. Each unknown key or wrong type is
/// recorded, repaired (removed, or replaced by the default file's value) and the document
/// tried again, so that one run reports every such problem.
fn structural(files: &Files, errors: &mut Vec<ConfigError>) -> Option<Config> {
    let mut merged = files.default.1.clone();
    let mut overlay_table = files.overlay.as_ref().map(|(_, t)| t.clone());
    if let Some(t) = &overlay_table {
        overlay(&mut merged, t);
    }
    let mut default_table = files.default.1.clone();
    for _ in 0..64 {
        let result: Result<Config, _> =
            serde_path_to_error::deserialize(Value::Table(merged.clone()));
        let err = match result {
            Ok(config) => return Some(config),
            Err(err) => err,
        };
        let path: Vec<Step> = err
            .path()
            .iter()
            .filter_map(|s| match s {
                Segment::Map { key } => Some(Step::Key(key.clone())),
                Segment::Seq { index } => Some(Step::Index(*index)),
                _ => None,
            })
            .collect();
        let message = err.inner().to_string();
        let message = message.lines().next().unwrap_or_default().to_string();
        let missing = message.starts_with("missing field");
        let mut key_path = path.clone();
        if missing && let Some(field) = message.split('`').nth(1) {
            key_path.push(Step::Key(field.to_string()));
        }
        let file = files.origin(&key_path).to_string();
        errors.push(ConfigError {
            file,
            key: display(&key_path),
            message: describe(&message, get(&merged, &path)),
        });
        if missing || path.is_empty() {
            return None;
        }
        // Repair: drop the overlay's bad value in favour of the default's, else drop the key.
        let from_overlay = overlay_table
            .as_ref()
            .is_some_and(|t| get(t, &path).is_some());
        let array_element = matches!(path.last(), Some(Step::Index(_)));
        let key = if array_element {
            &path[..path
                .iter()
                .rposition(|s| matches!(s, Step::Key(_)))
                .unwrap_or(0)
                + 1]
        } else {
            &path[..]
        };
        if from_overlay {
            if let Some(t) = overlay_table.as_mut() {
                set(t, key, None);
            }
            set(&mut merged, key, get(&default_table, key).cloned());
        } else {
            set(&mut default_table, key, None);
            set(&mut merged, key, None);
        }
    }
    None
}

/// Turns serde's message into ours, showing the bad value.
fn describe(message: &str, value: Option<&Value>) -> String {
    match value {
        Some(v) if !matches!(v, Value::Table(_)) && !message.starts_with("unknown field") => {
            format!("{} is not allowed: {message}", short(v))
        }
        _ => message.to_string(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!("{}…", &s[..60])
    } else {
        s
    }
}

/// Checks the values of a structurally sound configuration.
fn semantic(c: &Config, files: &Files, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, message: String| {
        let path: Vec<Step> = key
            .split('.')
            .map(|k| match k.split_once('[') {
                Some((k, _)) => Step::Key(k.to_string()),
                None => Step::Key(k.to_string()),
            })
            .collect();
        errors.push(ConfigError {
            file: files.origin(&path).to_string(),
            key: key.to_string(),
            message,
        });
    };

    let app_ok = (1..=20).contains(&c.app.len())
        && c.app.starts_with(|ch: char| ch.is_ascii_lowercase())
        && c.app
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if !app_ok {
        err(
            "app",
            format!(
                "{:?} is not allowed: use 1 to 20 lowercase letters, digits and hyphens, starting with a letter (it is part of parameter paths)",
                c.app
            ),
        );
    }
    let tag_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 256
            && s.chars()
                .all(|ch| ch.is_alphanumeric() || " _.:/=+-@".contains(ch))
    };
    if !tag_ok(&c.cost_centre) {
        err(
            "cost_centre",
            format!(
                "{:?} is not allowed: a tag value of 1 to 256 letters, digits, spaces and _.:/=+-@",
                c.cost_centre
            ),
        );
    }

    let regions = [
        ("regions.primary", &c.regions.primary),
        ("regions.secondary", &c.regions.secondary),
    ];
    let supported: Vec<&str> = REGIONS.iter().map(|(r, _)| *r).collect();
    for (i, allowed) in c.residency.allowed_regions.iter().enumerate() {
        if !supported.contains(&allowed.as_str()) {
            err(
                &format!("residency.allowed_regions[{i}]"),
                format!(
                    "{allowed:?} is not allowed: supported regions are {}",
                    supported.join(", ")
                ),
            );
        }
    }
    for (key, region) in regions {
        if !c.residency.allowed_regions.contains(&region.name) {
            err(
                &format!("{key}.name"),
                format!(
                    "{:?} is outside the regions this environment's data may live in (residency.allowed_regions: {}): choose one of them, or change the list where the firm's residency rules allow it",
                    region.name,
                    c.residency.allowed_regions.join(", ")
                ),
            );
        }
    }
    let mut cidrs = Vec::new();
    for (key, region) in regions {
        let letters = REGIONS
            .iter()
            .find(|(r, _)| *r == region.name)
            .map(|(_, l)| *l);
        match letters {
            None => err(
                &format!("{key}.name"),
                format!(
                    "{:?} is not allowed: supported regions are {}",
                    region.name,
                    supported.join(", ")
                ),
            ),
            Some(letters) => {
                debug_assert!(region.name.len() <= MAX_REGION_LEN);
                let allowed: Vec<String> = letters
                    .chars()
                    .map(|l| format!("{}{l}", region.name))
                    .collect();
                if region.availability_zones.len() != 3 {
                    err(
                        &format!("{key}.availability_zones"),
                        format!(
                            "{} zones given, exactly 3 are needed (one subnet of each tier per zone)",
                            region.availability_zones.len()
                        ),
                    );
                }
                let mut seen = BTreeSet::new();
                for (i, az) in region.availability_zones.iter().enumerate() {
                    if !allowed.contains(az) {
                        err(
                            &format!("{key}.availability_zones[{i}]"),
                            format!(
                                "{az:?} is not a zone of {}: allowed are {}",
                                region.name,
                                allowed.join(", ")
                            ),
                        );
                    } else if !seen.insert(az) {
                        err(
                            &format!("{key}.availability_zones[{i}]"),
                            format!("{az:?} is listed twice: the three zones must differ"),
                        );
                    }
                }
            }
        }
        match network::rules::vpc_cidr(&region.vpc_cidr) {
            Err(message) => err(&format!("{key}.vpc_cidr"), message),
            Ok(cidr) => cidrs.push((key, cidr)),
        }
    }
    if c.regions.primary.name == c.regions.secondary.name {
        err(
            "regions.secondary.name",
            format!(
                "{:?} is not allowed: the secondary region must differ from the primary",
                c.regions.secondary.name
            ),
        );
    }
    if let [(_, a), (key, b)] = cidrs.as_slice()
        && a.overlaps(b)
    {
        err(
            &format!("{key}.vpc_cidr"),
            format!("{b} overlaps the primary VPC {a}: peered VPCs need non-overlapping blocks"),
        );
    }

    // Each component's own rules (see `<component>::rules`), named by file and key here.
    let mut check = |key: &str, found: Option<String>| {
        if let Some(message) = found {
            err(key, message);
        }
    };
    check(
        "network.flow_log_retention_days",
        cfn::rules::log_retention_days(c.network.flow_log_retention_days),
    );
    check(
        "storage.noncurrent_version_days",
        storage::rules::noncurrent_version_days(c.storage.noncurrent_version_days),
    );
    check(
        "audit.retention_days",
        storage::rules::noncurrent_version_days(c.audit.retention_days),
    );
    check(
        "storage.access_log_retention_days",
        storage::rules::noncurrent_version_days(c.storage.access_log_retention_days),
    );
    for (key, value) in c.cost.figures() {
        check(
            &format!("cost.{key}"),
            (!(value.is_finite() && value >= 0.0))
                .then(|| format!("{value} is not allowed: a monthly usage, 0 or more")),
        );
    }
    check(
        "firewall.rate_limit",
        firewall::rules::rate_limit(c.firewall.rate_limit),
    );
    check(
        "firewall.log_retention_days",
        cfn::rules::log_retention_days(c.firewall.log_retention_days),
    );
    check(
        "sessions.ttl_attribute",
        sessions::rules::ttl_attribute(&c.sessions.ttl_attribute),
    );
    for (flag, value) in &c.flags {
        let key = format!("flags.{flag}");
        check(&key, configuration::rules::flag_name(flag));
        check(&key, configuration::rules::flag_value(value));
    }
    let a = &c.aurora;
    {
        use aurora::rules as r;
        check(
            "aurora.engine_version",
            r::engine_version(&a.engine_version),
        );
        check(
            "aurora.min_capacity_acu",
            r::min_capacity(a.min_capacity_acu),
        );
        check(
            "aurora.max_capacity_acu",
            r::max_capacity(a.min_capacity_acu, a.max_capacity_acu),
        );
        check(
            "aurora.primary_readers",
            r::primary_readers(a.primary_readers),
        );
        check(
            "aurora.secondary_instances",
            r::secondary_instances(a.secondary_instances),
        );
        check(
            "aurora.managed_rpo_seconds",
            r::managed_rpo_seconds(a.managed_rpo_seconds),
        );
        check(
            "aurora.backup_retention_days",
            r::backup_retention_days(a.backup_retention_days),
        );
        check(
            "aurora.performance_insights_retention_days",
            r::performance_insights_retention_days(a.performance_insights_retention_days),
        );
        check(
            "aurora.monitoring_interval_seconds",
            r::monitoring_interval_seconds(a.monitoring_interval_seconds),
        );
        check("aurora.database_name", r::database_name(&a.database_name));
        check(
            "aurora.master_username",
            r::master_username(&a.master_username),
        );
        check("aurora.rotation_days", r::rotation_days(a.rotation_days));
    }
    let d = &c.dns;
    check(
        "dns.parent_domain",
        dns::rules::parent_domain(&d.parent_domain),
    );
    if let Some(zone) = &d.parent_zone_id {
        check("dns.parent_zone_id", dns::rules::zone_id(zone));
    }
    check(
        "dns.health_check_interval_seconds",
        dns::rules::health_check_interval_seconds(d.health_check_interval_seconds),
    );
    check(
        "dns.health_check_failure_threshold",
        dns::rules::health_check_failure_threshold(d.health_check_failure_threshold),
    );
    let m = &c.monitoring;
    {
        use canaries::rules as r;
        check("monitoring.runtime", r::runtime(&m.runtime));
        check("monitoring.schedule", r::schedule(&m.schedule));
        for (i, email) in m.emails.iter().enumerate() {
            check(&format!("monitoring.emails[{i}]"), r::email(email));
        }
        check(
            "monitoring.success_threshold_percent",
            r::success_threshold_percent(m.success_threshold_percent),
        );
        check(
            "monitoring.duration_threshold_ms",
            r::threshold_ms(m.duration_threshold_ms),
        );
        check(
            "monitoring.replication_lag_threshold_ms",
            r::threshold_ms(m.replication_lag_threshold_ms),
        );
    }
    check(
        "events.archive_retention_days",
        events::rules::archive_retention_days(c.events.archive_retention_days),
    );
    let sv = &c.service;
    {
        use service::rules as r;
        check("service.cpu", r::cpu(sv.cpu));
        check("service.memory", r::memory(sv.cpu, sv.memory));
        check("service.image", r::image(&sv.image));
        check("service.port", r::port(sv.port));
        check("service.health_path", r::health_path(&sv.health_path));
        check(
            "service.primary_desired_count",
            r::desired_count(sv.primary_desired_count, "the primary serves traffic"),
        );
        check(
            "service.secondary_desired_count",
            r::desired_count(
                sv.secondary_desired_count,
                "a warm standby keeps at least 1 task",
            ),
        );
        check(
            "service.max_count",
            r::max_count(
                sv.max_count,
                sv.primary_desired_count.max(sv.secondary_desired_count),
            ),
        );
        check(
            "service.cpu_target_percent",
            r::cpu_target_percent(sv.cpu_target_percent),
        );
        check(
            "service.requests_per_target",
            r::requests_per_target(sv.requests_per_target),
        );
        check("service.tls_policy", r::tls_policy(&sv.tls_policy));
    }
    let b = &c.backup;
    {
        use backup::rules as r;
        check("backup.schedule", r::schedule(&b.schedule));
        if !b.copy_account_id.is_empty() {
            check("backup.copy_account_id", r::account_id(&b.copy_account_id));
            check("backup.copy_vault_name", r::vault_name(&b.copy_vault_name));
        }
        if b.air_gapped_vault {
            check(
                "backup.air_gapped_vault",
                r::air_gapped_retention(7, b.daily_retention_days),
            );
        }
        check(
            "backup.restore_test_schedule",
            r::schedule(&b.restore_test_schedule),
        );
        check(
            "backup.lock_grace_days",
            (b.lock_grace_days < 3).then(|| {
                format!(
                    "{} is not allowed: AWS Backup's compliance lock needs a grace period of at least 3 days",
                    b.lock_grace_days
                )
            }),
        );
        check(
            "backup.daily_retention_days",
            r::daily_retention_days(b.daily_retention_days),
        );
        check(
            "backup.continuous_retention_days",
            r::continuous_retention_days(b.continuous_retention_days),
        );
        check(
            "backup.lock_min_retention_days",
            r::lock_min_retention_days(b.lock_min_retention_days, b.lock_max_retention_days),
        );
        if b.vault_lock {
            check(
                "backup.daily_retention_days",
                r::daily_retention_under_lock(b.daily_retention_days, b.lock_min_retention_days),
            );
        }
    }
    check(
        "keys.pending_window_days",
        keys::rules::pending_window_days(c.keys.pending_window_days),
    );
}
