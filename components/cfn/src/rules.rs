//! Rules that hold for every component, as [`crate::Problem`] messages: the values
//! CloudWatch Logs accepts as a retention, which every log group of every component uses.

/// The retentions, in days, CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// One of [`LOG_RETENTION_DAYS`].
pub fn log_retention_days(d: u32) -> Option<String> {
    (!LOG_RETENTION_DAYS.contains(&d)).then(|| {
        format!(
            "{d} is not allowed: CloudWatch Logs accepts {}",
            LOG_RETENTION_DAYS
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_cloudwatch_logs_lacks_is_refused_with_the_allowed_values() {
        assert_eq!(log_retention_days(30), None);
        let said = log_retention_days(31).unwrap();
        assert!(
            said.starts_with("31 is not allowed: CloudWatch Logs accepts 1, 3, 5"),
            "{said}"
        );
    }
}
