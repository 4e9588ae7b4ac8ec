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
