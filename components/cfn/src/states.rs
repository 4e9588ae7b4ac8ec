//! Step Functions state machines as this project makes them: standard type, X-Ray tracing on,
//! execution logs to a log group (whose key and retention the caller sets). The role needs
//! [`crate::iam::state_machine_observability`] besides what the definition calls.

use crate::Expr;
use crate::aws::stepfunctions::{StateMachine, state_machine as sm};

/// How much of each execution the logs keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logging {
    /// Every event, with inputs and outputs: for runbooks people read after an incident.
    Everything,
    /// Errors only, without execution data: for plumbing that carries configuration values.
    ErrorsOnly,
}

/// A standard, traced state machine named `name`, run by `role_arn`, defined by `definition`
/// (a JSON string, usually `Fn::Sub`), logging to the group `log_group_arn`.
///
/// ```
/// use cfn::Expr;
/// use cfn::states::{Logging, machine};
///
/// let m = machine(
///     "runbook-failover-qa",
///     Expr::from("arn:aws:iam::111122223333:role/runbook-qa"),
///     Expr::from(r#"{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}"#),
///     Expr::from("arn:aws:logs:us-east-2:111122223333:log-group:runbook-qa"),
///     Logging::Everything,
/// );
/// # let _ = m;
/// ```
pub fn machine(
    name: impl Into<Expr>,
    role_arn: Expr,
    definition: Expr,
    log_group_arn: Expr,
    logging: Logging,
) -> StateMachine {
    let (level, data) = match logging {
        Logging::Everything => ("ALL", true),
        Logging::ErrorsOnly => ("ERROR", false),
    };
    StateMachine::new()
        .state_machine_name(name)
        .state_machine_type("STANDARD")
        .role_arn(role_arn)
        .definition_string(definition)
        .tracing_configuration(sm::TracingConfiguration::new().enabled(true))
        .logging_configuration(
            sm::LoggingConfiguration::new()
                .level(level)
                .include_execution_data(data)
                .destinations(vec![sm::LogDestination::new().cloud_watch_logs_log_group(
                    sm::CloudWatchLogsLogGroup::new().log_group_arn(log_group_arn),
                )]),
        )
}

/// A retrier of a task state: which errors, how often, how far apart.
///
/// ```
/// use cfn::states::Retry;
///
/// let r = Retry::on(["States.TaskFailed"]).every(2).attempts(5).backoff(2.0).full_jitter();
/// assert_eq!(
///     r.to_json(),
///     serde_json::json!({"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2,
///         "MaxAttempts": 5, "BackoffRate": 2.0, "JitterStrategy": "FULL"})
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    errors: Vec<String>,
    interval_seconds: Option<u32>,
    max_attempts: Option<u32>,
    backoff_rate: Option<f64>,
    full_jitter: bool,
}

impl Retry {
    /// Retries the errors named (Step Functions' defaults until set: 1 s, 3 attempts, × 2).
    pub fn on<S: Into<String>>(errors: impl IntoIterator<Item = S>) -> Self {
        Retry {
            errors: errors.into_iter().map(Into::into).collect(),
            interval_seconds: None,
            max_attempts: None,
            backoff_rate: None,
            full_jitter: false,
        }
    }

    /// Never retries these errors (`MaxAttempts` 0), so a later retrier does not either.
    pub fn never<S: Into<String>>(errors: impl IntoIterator<Item = S>) -> Self {
        Retry::on(errors).attempts(0)
    }

    /// Seconds before the first retry.
    pub fn every(mut self, seconds: u32) -> Self {
        self.interval_seconds = Some(seconds);
        self
    }

    /// Retries at most this many times.
    pub fn attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    /// Multiplies the interval by this after each retry.
    pub fn backoff(mut self, rate: f64) -> Self {
        self.backoff_rate = Some(rate);
        self
    }

    /// Spreads retries randomly over each interval (`JitterStrategy` FULL).
    pub fn full_jitter(mut self) -> Self {
        self.full_jitter = true;
        self
    }

    /// The retrier as Amazon States Language.
    pub fn to_json(&self) -> serde_json::Value {
        let mut r = serde_json::json!({"ErrorEquals": self.errors});
        if let Some(s) = self.interval_seconds {
            r["IntervalSeconds"] = s.into();
        }
        if let Some(n) = self.max_attempts {
            r["MaxAttempts"] = n.into();
        }
        if let Some(b) = self.backoff_rate {
            r["BackoffRate"] = b.into();
        }
        if self.full_jitter {
            r["JitterStrategy"] = "FULL".into();
        }
        r
    }
}

/// A catcher of a task state: which errors go to which state, and where the error is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catch {
    errors: Vec<String>,
    result_path: Option<String>,
    next: String,
}

impl Catch {
    /// Sends the errors named to `next` (the error replaces the state's input unless
    /// [`Catch::keep_error_at`] says where to put it).
    pub fn on<S: Into<String>>(errors: impl IntoIterator<Item = S>, next: &str) -> Self {
        Catch {
            errors: errors.into_iter().map(Into::into).collect(),
            result_path: None,
            next: next.to_string(),
        }
    }

    /// Keeps the input and puts the error at `path`.
    pub fn keep_error_at(mut self, path: &str) -> Self {
        self.result_path = Some(path.to_string());
        self
    }

    /// The catcher as Amazon States Language.
    pub fn to_json(&self) -> serde_json::Value {
        let mut c = serde_json::json!({"ErrorEquals": self.errors, "Next": self.next});
        if let Some(p) = &self.result_path {
            c["ResultPath"] = p.as_str().into();
        }
        c
    }
}

/// Where a state goes when it succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then<'a> {
    /// To this state.
    Next(&'a str),
    /// The execution ends.
    End,
}

/// `state` with its retriers, catchers and what follows: the one way this project guards a
/// task, so that no task lacks either.
pub fn guarded(
    mut state: serde_json::Value,
    retry: &[Retry],
    catch: &[Catch],
    then: Then,
) -> serde_json::Value {
    state["Retry"] = retry.iter().map(Retry::to_json).collect();
    if !catch.is_empty() {
        state["Catch"] = catch.iter().map(Catch::to_json).collect();
    }
    match then {
        Then::Next(next) => state["Next"] = next.into(),
        Then::End => state["End"] = true.into(),
    }
    state
}
