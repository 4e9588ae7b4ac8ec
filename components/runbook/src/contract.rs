//! The runbooks' contract with the tools that start, stream and budget them: the logical ids
//! and output names of the two state machines, the states the recovery budget measures
//! between, and how a bounded polling loop names its states. The definitions are built from
//! these items and the tools read them back through them, so a rename changes both sides.

/// Which runbook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runbook {
    /// Unplanned: promote us-east-2 (data loss allowed), move traffic there.
    Failover,
    /// Planned: switch back to us-east-1 with no data loss.
    Failback,
}

impl Runbook {
    /// `failover` or `failback`: the command, and the qualifier of its physical names.
    pub const fn name(self) -> &'static str {
        match self {
            Runbook::Failover => "failover",
            Runbook::Failback => "failback",
        }
    }

    /// `Failover` or `Failback`: in subjects, event detail types and logical ids.
    pub const fn title(self) -> &'static str {
        match self {
            Runbook::Failover => "Failover",
            Runbook::Failback => "Failback",
        }
    }

    /// The state machine's logical id in the secondary template.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Runbook::Failover => "FailoverStateMachine",
            Runbook::Failback => "FailbackStateMachine",
        }
    }

    /// The secondary stack's output holding the state machine's ARN.
    pub const fn output(self) -> &'static str {
        match self {
            Runbook::Failover => "FailoverStateMachineArn",
            Runbook::Failback => "FailbackStateMachineArn",
        }
    }
}

/// States that tools name: where the recovery budget starts and ends its segments, and the
/// end that means "nothing changed".
pub mod state {
    /// Takes the single-flight lock (both runbooks).
    pub const ACQUIRE_LOCK: &str = "AcquireLock";
    /// Failover: reads which cluster writes.
    pub const CHECK_WRITER: &str = "CheckWriter";
    /// Failover: fails the global database over.
    pub const PROMOTE: &str = "Promote";
    /// Failover: writes the active-region parameter.
    pub const MARK_ACTIVE: &str = "MarkActive";
    /// Both: the final notification.
    pub const NOTIFY_DONE: &str = "NotifyDone";
    /// Failover: the outage was not confirmed; the run ends having changed nothing.
    pub const NO_OUTAGE: &str = "NoOutage";
}

/// The bounded polling loops, by name.
pub mod poll {
    /// Failover: until the us-east-2 cluster writes (the time AWS says a failover typically
    /// takes: "within a few minutes").
    pub const PROMOTION: &str = "Promotion";
    /// Failover: the promotion is slower than that; alerted, the run keeps waiting.
    pub const PROMOTION_LATE: &str = "PromotionLate";
    /// Failback: until the switch's alarm says traffic may return to us-east-1.
    pub const TRAFFIC_BACK: &str = "TrafficBack";
    /// Failover: until the switch's alarm reflects the flip.
    pub const VERIFY: &str = "Verify";
    /// Both: until the service runs its desired count.
    pub const STEADY: &str = "Steady";
    /// Failback: until the us-east-1 cluster writes.
    pub const SWITCHOVER: &str = "Switchover";
}

/// The states of a bounded polling loop `<name>Start → Wait → Check → Count → Store → Decide`,
/// where Decide goes back to Wait while attempts remain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollState {
    /// Sets the attempt counter to 0 (the loop's entry).
    Start,
    /// Waits between checks (its `Seconds` is the interval).
    Wait,
    /// The check itself: a task.
    Check,
    /// Adds one to the counter.
    Count,
    /// Stores the counter.
    Store,
    /// Done, again, or timed out (its `NumericLessThan` is the attempt limit).
    Decide,
}

impl PollState {
    /// Every state of a loop, in order.
    pub const ALL: [PollState; 6] = [
        PollState::Start,
        PollState::Wait,
        PollState::Check,
        PollState::Count,
        PollState::Store,
        PollState::Decide,
    ];

    const fn ending(self) -> &'static str {
        match self {
            PollState::Start => "Start",
            PollState::Wait => "Wait",
            PollState::Check => "Check",
            PollState::Count => "Count",
            PollState::Store => "Store",
            PollState::Decide => "Decide",
        }
    }

    /// The name of this state in the loop `name`.
    pub fn of(self, name: &str) -> String {
        format!("{name}{}", self.ending())
    }

    /// The loop and the part a state name is, when it is one (`PromotionWait` →
    /// `("Promotion", Wait)`); a bare suffix such as `Wait` is no loop's state.
    pub fn parse(state: &str) -> Option<(&str, PollState)> {
        PollState::ALL.into_iter().find_map(|p| {
            state
                .strip_suffix(p.ending())
                .filter(|name| !name.is_empty())
                .map(|name| (name, p))
        })
    }

    /// Whether a state is a loop's bookkeeping, which a person watching needs not see (all but
    /// the check).
    pub fn is_bookkeeping(state: &str) -> bool {
        PollState::parse(state).is_some_and(|(_, p)| p != PollState::Check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_states_are_named_and_read_back_alike() {
        for p in PollState::ALL {
            assert_eq!(PollState::parse(&p.of("Promotion")), Some(("Promotion", p)));
        }
        assert_eq!(PollState::parse("Wait"), None);
        assert_eq!(PollState::parse("AcquireLock"), None);
    }

    #[test]
    fn poll_bookkeeping_is_hidden_but_checks_are_shown() {
        assert!(PollState::is_bookkeeping("PromotionWait"));
        assert!(PollState::is_bookkeeping("SteadyDecide"));
        assert!(!PollState::is_bookkeeping("PromotionCheck"));
        assert!(!PollState::is_bookkeeping("Wait"));
        assert!(!PollState::is_bookkeeping("AcquireLock"));
    }
}
