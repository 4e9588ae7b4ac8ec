//! Parsing, overlay and validation; every problem is collected before failing.

use std::collections::BTreeSet;

use cfn::naming::{MAX_REGION_LEN, Suffix};
use cfn::net::Cidr;
use serde_path_to_error::Segment;
use toml::{Table, Value};

use crate::{Config, ConfigError, ConfigErrors, Environment, Source};

/// Regions we deploy to, with the availability-zone letters each offers.
const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "abcdef"),
    ("us-east-2", "abc"),
    ("us-west-2", "abcd"),
];

/// The retention values CloudWatch Logs accepts, in days.
const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

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
        match region.vpc_cidr.parse::<Cidr>() {
            Err(e) => err(
                &format!("{key}.vpc_cidr"),
                format!("{:?} is not allowed: {e}", region.vpc_cidr),
            ),
            Ok(cidr) if !(16..=20).contains(&cidr.prefix()) => err(
                &format!("{key}.vpc_cidr"),
                format!(
                    "{:?} is not allowed: the prefix must be /16 to /20 (AWS allows /16 at most; nine subnets of prefix + 4 must fit)",
                    region.vpc_cidr
                ),
            ),
            Ok(cidr) if !cidr.is_private() => err(
                &format!("{key}.vpc_cidr"),
                format!(
                    "{:?} is not allowed: use a private RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
                    region.vpc_cidr
                ),
            ),
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

    if !RETENTION_DAYS.contains(&c.network.flow_log_retention_days) {
        err(
            "network.flow_log_retention_days",
            format!(
                "{} is not allowed: CloudWatch Logs accepts {}",
                c.network.flow_log_retention_days,
                RETENTION_DAYS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !(1..=3650).contains(&c.storage.noncurrent_version_days) {
        err(
            "storage.noncurrent_version_days",
            format!(
                "{} is not allowed: use 1 to 3650 days",
                c.storage.noncurrent_version_days
            ),
        );
    }
    let attribute_ok = (1..=255).contains(&c.sessions.ttl_attribute.len())
        && c.sessions
            .ttl_attribute
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch));
    if !attribute_ok {
        err(
            "sessions.ttl_attribute",
            format!(
                "{:?} is not allowed: an attribute name of 1 to 255 letters, digits, _ - or .",
                c.sessions.ttl_attribute
            ),
        );
    }
    for (flag, value) in &c.flags {
        let name_ok = (1..=63).contains(&flag.len())
            && flag
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !name_ok {
            err(
                &format!("flags.{flag}"),
                format!(
                    "{flag:?} is not allowed as a flag name: 1 to 63 lowercase letters, digits and hyphens"
                ),
            );
        }
        if flag == cfn::naming::FAILOVER_FLAG {
            err(
                &format!("flags.{flag}"),
                format!("{flag:?} is reserved: the failover and failback runbooks set it"),
            );
        }
        if value.is_empty() || value.len() > 4096 {
            err(
                &format!("flags.{flag}"),
                "is not allowed: a flag value has 1 to 4096 characters (a Standard parameter)"
                    .into(),
            );
        }
    }
    aurora(&c.aurora, &mut err);
    dns(&c.dns, &mut err);
    monitoring(&c.monitoring, &mut err);
    if c.events.archive_retention_days == 0 {
        err(
            "events.archive_retention_days",
            "0 is not allowed: 0 would keep events forever; use 1 or more days".into(),
        );
    }
    service(&c.service, &mut err);
    backup(&c.backup, &mut err);
    if !(7..=30).contains(&c.keys.pending_window_days) {
        err(
            "keys.pending_window_days",
            format!(
                "{} is not allowed: KMS accepts 7 to 30 days",
                c.keys.pending_window_days
            ),
        );
    }
}

fn aurora(a: &crate::Aurora, err: &mut dyn FnMut(&str, String)) {
    let minor = a
        .engine_version
        .strip_prefix("14.")
        .and_then(|m| m.parse::<u32>().ok());
    if minor.is_none_or(|m| m < 3) {
        err(
            "aurora.engine_version",
            format!(
                "{:?} is not allowed: use an Aurora PostgreSQL 14 version from 14.3 on (Serverless v2 and global databases need it), e.g. \"14.18\"",
                a.engine_version
            ),
        );
    }
    let half_steps = |v: f64| (v * 2.0).fract() == 0.0;
    if !(0.5..=256.0).contains(&a.min_capacity_acu) || !half_steps(a.min_capacity_acu) {
        err(
            "aurora.min_capacity_acu",
            format!(
                "{} is not allowed: Serverless v2 capacity is 0.5 to 256 ACUs in steps of 0.5",
                a.min_capacity_acu
            ),
        );
    }
    if !(a.min_capacity_acu..=256.0).contains(&a.max_capacity_acu)
        || !half_steps(a.max_capacity_acu)
    {
        err(
            "aurora.max_capacity_acu",
            format!(
                "{} is not allowed: use {} (the minimum) to 256 ACUs in steps of 0.5",
                a.max_capacity_acu, a.min_capacity_acu
            ),
        );
    }
    if !(1..=15).contains(&a.primary_readers) {
        err(
            "aurora.primary_readers",
            format!("{} is not allowed: use 1 to 15 readers", a.primary_readers),
        );
    }
    if !(1..=16).contains(&a.secondary_instances) {
        err(
            "aurora.secondary_instances",
            format!(
                "{} is not allowed: use 1 to 16 (a secondary cluster without an instance cannot take over)",
                a.secondary_instances
            ),
        );
    }
    if a.managed_rpo_seconds != 0 && !(20..=604_800).contains(&a.managed_rpo_seconds) {
        err(
            "aurora.managed_rpo_seconds",
            format!(
                "{} is not allowed: 0 turns the managed RPO off, else 20 to 604800 seconds",
                a.managed_rpo_seconds
            ),
        );
    }
    if !(1..=35).contains(&a.backup_retention_days) {
        err(
            "aurora.backup_retention_days",
            format!(
                "{} is not allowed: Aurora keeps 1 to 35 days",
                a.backup_retention_days
            ),
        );
    }
    let pi = a.performance_insights_retention_days;
    if !(pi == 7 || pi == 731 || (pi.is_multiple_of(31) && (31..=713).contains(&pi))) {
        err(
            "aurora.performance_insights_retention_days",
            format!("{pi} is not allowed: use 7, a multiple of 31 up to 713, or 731"),
        );
    }
    let ident = |s: &str, max: usize| {
        (1..=max).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ident(&a.database_name, 63) {
        err(
            "aurora.database_name",
            format!(
                "{:?} is not allowed: 1 to 63 letters, digits and underscores, starting with a letter",
                a.database_name
            ),
        );
    }
    let reserved = ["admin", "postgres", "rdsadmin", "root", "master"];
    if !ident(&a.master_username, 63) || reserved.contains(&a.master_username.as_str()) {
        err(
            "aurora.master_username",
            format!(
                "{:?} is not allowed: 1 to 63 letters, digits and underscores, starting with a letter, and not one of {}",
                a.master_username,
                reserved.join(", ")
            ),
        );
    }
}

fn backup(b: &crate::Backup, err: &mut dyn FnMut(&str, String)) {
    let inner = b
        .schedule
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'));
    if inner.is_none_or(|fields| fields.split_whitespace().count() != 6) {
        err(
            "backup.schedule",
            format!(
                "{:?} is not allowed: use an AWS cron expression with six fields, e.g. \"cron(0 5 ? * * *)\"",
                b.schedule
            ),
        );
    }
    if !(1..=36_500).contains(&b.daily_retention_days) {
        err(
            "backup.daily_retention_days",
            format!(
                "{} is not allowed: use 1 to 36500 days",
                b.daily_retention_days
            ),
        );
    }
    if !(1..=35).contains(&b.continuous_retention_days) {
        err(
            "backup.continuous_retention_days",
            format!(
                "{} is not allowed: continuous backups keep 1 to 35 days",
                b.continuous_retention_days
            ),
        );
    }
    if b.lock_min_retention_days == 0 || b.lock_min_retention_days > b.lock_max_retention_days {
        err(
            "backup.lock_min_retention_days",
            format!(
                "{} is not allowed: use 1 to lock_max_retention_days ({})",
                b.lock_min_retention_days, b.lock_max_retention_days
            ),
        );
    }
    if b.vault_lock && b.daily_retention_days < b.lock_min_retention_days {
        err(
            "backup.daily_retention_days",
            format!(
                "{} is not allowed with vault lock: recovery points must be kept at least lock_min_retention_days ({})",
                b.daily_retention_days, b.lock_min_retention_days
            ),
        );
    }
}

fn dns(d: &crate::Dns, err: &mut dyn FnMut(&str, String)) {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let labels: Vec<&str> = d.parent_domain.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || d.parent_domain.len() > 200 {
        err(
            "dns.parent_domain",
            format!(
                "{:?} is not allowed: a lowercase domain of at least two labels, e.g. \"trading-dr.example.com\"",
                d.parent_domain
            ),
        );
    }
    if let Some(zone) = &d.parent_zone_id {
        let ok = zone.starts_with('Z')
            && (2..=32).contains(&zone.len())
            && zone
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ok {
            err(
                "dns.parent_zone_id",
                format!(
                    "{zone:?} is not allowed: a Route 53 hosted zone id such as \"Z0123456789ABCDEFGHIJ\""
                ),
            );
        }
    }
    if ![10, 30].contains(&d.health_check_interval_seconds) {
        err(
            "dns.health_check_interval_seconds",
            format!(
                "{} is not allowed: Route 53 checks every 10 or 30 seconds",
                d.health_check_interval_seconds
            ),
        );
    }
    if !(1..=10).contains(&d.health_check_failure_threshold) {
        err(
            "dns.health_check_failure_threshold",
            format!(
                "{} is not allowed: use 1 to 10",
                d.health_check_failure_threshold
            ),
        );
    }
}

/// Memory sizes (MiB) Fargate allows for each CPU size.
fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let range = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).collect();
    match cpu {
        256 => Some(vec![512, 1024, 2048]),
        512 => Some(range(1024, 4096, 1024)),
        1024 => Some(range(2048, 8192, 1024)),
        2048 => Some(range(4096, 16384, 1024)),
        4096 => Some(range(8192, 30720, 1024)),
        8192 => Some(range(16384, 61440, 4096)),
        16384 => Some(range(32768, 122880, 8192)),
        _ => None,
    }
}

/// TLS policies of Application Load Balancers that allow TLS 1.2 and newer only.
const TLS_POLICIES: &[&str] = &[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
];

fn service(s: &crate::Service, err: &mut dyn FnMut(&str, String)) {
    match fargate_memory(s.cpu) {
        None => err(
            "service.cpu",
            format!(
                "{} is not allowed: Fargate tasks have 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units",
                s.cpu
            ),
        ),
        Some(sizes) if !sizes.contains(&s.memory) => err(
            "service.memory",
            format!(
                "{} is not allowed with {} CPU units: Fargate allows {}",
                s.memory,
                s.cpu,
                sizes
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(_) => {}
    }
    if s.image.trim().is_empty() {
        err(
            "service.image",
            "an image is needed, e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/trading:1.0\""
                .into(),
        );
    }
    if s.port == 0 {
        err("service.port", "0 is not allowed: use 1 to 65535".into());
    }
    if !s.health_path.starts_with('/') {
        err(
            "service.health_path",
            format!("{:?} is not allowed: a path starting with /", s.health_path),
        );
    }
    if s.primary_desired_count == 0 {
        err(
            "service.primary_desired_count",
            "0 is not allowed: the primary serves traffic".into(),
        );
    }
    if s.secondary_desired_count == 0 {
        err(
            "service.secondary_desired_count",
            "0 is not allowed: a warm standby keeps at least 1 task".into(),
        );
    }
    if s.max_count < s.primary_desired_count.max(s.secondary_desired_count) {
        err(
            "service.max_count",
            format!(
                "{} is not allowed: at least the larger desired count ({})",
                s.max_count,
                s.primary_desired_count.max(s.secondary_desired_count)
            ),
        );
    }
    if !(10..=90).contains(&s.cpu_target_percent) {
        err(
            "service.cpu_target_percent",
            format!("{} is not allowed: use 10 to 90", s.cpu_target_percent),
        );
    }
    if s.requests_per_target == 0 {
        err("service.requests_per_target", "0 is not allowed".into());
    }
    if !TLS_POLICIES.contains(&s.tls_policy.as_str()) {
        err(
            "service.tls_policy",
            format!(
                "{:?} is not allowed: TLS 1.2+ policies are {}",
                s.tls_policy,
                TLS_POLICIES.join(", ")
            ),
        );
    }
}

fn monitoring(m: &crate::Monitoring, err: &mut dyn FnMut(&str, String)) {
    let major = m
        .runtime
        .strip_prefix("syn-nodejs-puppeteer-")
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| minor.parse::<u32>().ok().and(major.parse::<u32>().ok()));
    if major.is_none_or(|v| v < 9) {
        err(
            "monitoring.runtime",
            format!(
                "{:?} is not allowed: use a supported Node.js runtime, syn-nodejs-puppeteer-9.0 or later (7.0 and older are deprecated and cannot create canaries)",
                m.runtime
            ),
        );
    }
    let minutes = m
        .schedule
        .strip_prefix("rate(")
        .and_then(|s| s.strip_suffix(')'))
        .and_then(|s| s.split_once(' '))
        .filter(|(_, unit)| *unit == "minute" || *unit == "minutes")
        .and_then(|(n, _)| n.parse::<u32>().ok());
    if minutes.is_none_or(|n| n == 0 || n > 60) {
        err(
            "monitoring.schedule",
            format!(
                "{:?} is not allowed: use rate(N minute) or rate(N minutes) with N from 1 to 60",
                m.schedule
            ),
        );
    }
    for (i, email) in m.emails.iter().enumerate() {
        let ok = email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        if !ok {
            err(
                &format!("monitoring.emails[{i}]"),
                format!("{email:?} is not an e-mail address"),
            );
        }
    }
    if !(1..=100).contains(&m.success_threshold_percent) {
        err(
            "monitoring.success_threshold_percent",
            format!(
                "{} is not allowed: use 1 to 100",
                m.success_threshold_percent
            ),
        );
    }
    if m.duration_threshold_ms == 0 || m.replication_lag_threshold_ms == 0 {
        err(
            "monitoring",
            "duration_threshold_ms and replication_lag_threshold_ms must be above 0".into(),
        );
    }
}
