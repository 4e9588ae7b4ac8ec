//! What a dry run reads (the `Preflight` path's output: alarms, the global database's writer,
//! the lock, the service) and what the runbook would do with it: the same decisions its Choice
//! states make, in the same order, so `cargo xtask failover --dry-run` can say "would proceed"
//! or why not.

use serde_json::Value;

use crate::contract::Runbook;

/// The preconditions a dry run read in the recovery region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preflight {
    /// Each alarm's name and state, as read.
    pub alarms: Vec<(String, String)>,
    /// The signals the runbook decides on, in its order: the outside-in canary, then (failover)
    /// replication lag.
    pub signals: Vec<String>,
    /// The global database's status (`available`, `failing-over`, …).
    pub status: String,
    /// The writer cluster's ARN, when one writes.
    pub writer: Option<String>,
    /// The members that are not synchronized (an old primary AWS is rebuilding).
    pub unsynchronized: Vec<String>,
    /// Who holds the lock, and for which operation.
    pub lock: Option<(String, String)>,
    /// Tasks running and desired.
    pub service: (Value, Value),
}

impl Preflight {
    /// Reads the dry run's output.
    pub fn from_output(o: &Value) -> Self {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        let alarms = strings(&o["alarms"]["names"])
            .into_iter()
            .zip(strings(&o["alarms"]["states"]))
            .collect();
        let lock = &o["lock"]["Item"];
        Preflight {
            alarms,
            signals: strings(&o["expect"]["signals"]),
            status: o["database"]["status"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            writer: o["database"]["writers"][0]
                .as_str()
                .filter(|w| !w.is_empty())
                .map(String::from),
            unsynchronized: strings(&o["database"]["unsynchronized"]),
            lock: lock["owner"]["S"].as_str().map(|owner| {
                (
                    owner.to_string(),
                    lock["operation"]["S"].as_str().unwrap_or("?").to_string(),
                )
            }),
            service: (
                o["service"]["running"].clone(),
                o["service"]["desired"].clone(),
            ),
        }
    }

    fn state_of(&self, alarm: &str) -> &str {
        self.alarms
            .iter()
            .find(|(name, _)| name == alarm)
            .map_or("missing", |(_, state)| state.as_str())
    }

    /// What `runbook` would do (`force`: failover without the two signals agreeing), for the
    /// regions (primary, recovery).
    pub fn verdict(
        &self,
        runbook: Runbook,
        force: bool,
        (primary, recovery): (&str, &str),
    ) -> String {
        let writer_region = self.writer.as_deref().map_or("", arn_region);
        let all_alarm =
            !self.signals.is_empty() && self.signals.iter().all(|n| self.state_of(n) == "ALARM");
        let primary_ok = self
            .signals
            .first()
            .is_some_and(|n| self.state_of(n) == "OK");
        match runbook {
            _ if self.lock.is_some() => {
                "would stop: another execution holds the lock (unless that execution has ended: then the lock is stale and taken over)".to_string()
            }
            _ if self.writer.is_none() => "would fail: the global database has no writer".to_string(),
            _ if self.status != "available" => {
                format!("would fail: the global database is {}, not available", self.status)
            }
            Runbook::Failover if writer_region == recovery => {
                "would fail: RDS refuses to promote a cluster that already writes".to_string()
            }
            Runbook::Failover if all_alarm => {
                "would proceed: both outage signals say ALARM".to_string()
            }
            Runbook::Failover if force => {
                "would proceed (--force), although the outage signals do not both say ALARM"
                    .to_string()
            }
            Runbook::Failover => {
                "would change nothing: the two outage signals do not both say ALARM (--force fails over anyway)".to_string()
            }
            Runbook::Failback if writer_region == primary => {
                "would stop: the primary region's cluster already writes (RDS refuses the switchover)".to_string()
            }
            Runbook::Failback if primary_ok && !self.unsynchronized.is_empty() => format!(
                "would stop: the primary answers, but {} has not rejoined the global database as a synchronized secondary (AWS rebuilds it after a failover with data loss: minutes to hours)",
                self.unsynchronized.iter().map(|a| arn_region(a)).collect::<Vec<_>>().join(", ")
            ),
            Runbook::Failback if primary_ok => {
                "would proceed: the primary answers (outside-in canary OK) and has rejoined".to_string()
            }
            Runbook::Failback => {
                "would stop: the outside-in canary does not say the primary is healthy (OK)"
                    .to_string()
            }
        }
    }
}

/// The region named in an ARN (`arn:partition:service:region:…`).
pub fn arn_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn preflight(outside_in: &str, lag: &str, writer: &str, lock: Value) -> Preflight {
        Preflight::from_output(&json!({
            "expect": {"signals": ["oi", "lag"], "switch": "switch"},
            "alarms": {"names": ["lag", "oi", "switch"], "states": [lag, outside_in, "OK"]},
            "database": {"status": "available", "writers": [writer]},
            "lock": lock,
            "service": {"running": 1, "desired": 1}
        }))
    }

    const EAST1: &str = "arn:aws:rds:us-east-1:1:cluster:a";
    const EAST2: &str = "arn:aws:rds:us-east-2:1:cluster:a";

    #[test]
    fn the_verdict_follows_the_runbooks_decisions() {
        let free = json!({});
        let held = json!({"Item": {"owner": {"S": "exec"}, "operation": {"S": "failover"}}});
        let v = |rb, oi, lag, w, lock: &Value, force| {
            preflight(oi, lag, w, lock.clone()).verdict(rb, force, ("us-east-1", "us-east-2"))
        };
        assert!(
            v(Runbook::Failover, "ALARM", "ALARM", EAST1, &free, false)
                .contains("would proceed: both")
        );
        assert!(
            v(Runbook::Failover, "ALARM", "OK", EAST1, &free, false)
                .contains("would change nothing")
        );
        assert!(v(Runbook::Failover, "ALARM", "OK", EAST1, &free, true).contains("--force"));
        assert!(
            v(Runbook::Failover, "ALARM", "ALARM", EAST2, &free, false).contains("already writes")
        );
        assert!(v(Runbook::Failover, "ALARM", "ALARM", EAST1, &held, false).contains("lock"));
        assert!(
            v(Runbook::Failback, "OK", "OK", EAST2, &free, false)
                .contains("would proceed: the primary")
        );
        assert!(v(Runbook::Failback, "ALARM", "OK", EAST2, &free, false).contains("does not say"));
        assert!(v(Runbook::Failback, "OK", "OK", EAST1, &free, false).contains("already writes"));
        assert!(v(Runbook::Failover, "ALARM", "ALARM", "", &free, false).contains("has no writer"));
        let mut rebuilding = preflight("OK", "OK", EAST2, free.clone());
        rebuilding.unsynchronized = vec![EAST1.to_string()];
        assert!(
            rebuilding
                .verdict(Runbook::Failback, false, ("us-east-1", "us-east-2"))
                .contains("us-east-1 has not rejoined")
        );
    }
}
