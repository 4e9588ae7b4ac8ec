//! The recovery-time budget read from the templates stays within the goal, and follows them.

/// The honest worst case (a promotion as slow as the runbook waits for) stays inside the
/// 15-minute objective with the throttling margin; a typical promotion meets the 5-minute goal.
#[test]
fn default_configuration_restores_service_within_the_objective() {
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        let b =
            deployment::rto::budget(&tests::json(&s.primary), &tests::json(&s.secondary)).unwrap();
        assert!(
            b.restored() + b.retry_seconds <= deployment::rto::RTO_LIMIT_SECONDS,
            "{suffix}: {} s\n{b:#?}",
            b.restored()
        );
        assert!(
            b.restored() >= 8 * 60,
            "{suffix}: the promotion is waited for 8 minutes"
        );
        assert!(
            b.typical() <= deployment::rto::RTO_GOAL_SECONDS,
            "{suffix}: typically {} s",
            b.typical()
        );
        assert!(
            b.rpo.iter().any(|(_, bound)| bound.contains("≤ 20 s")),
            "{b:#?}"
        );
    }
}

#[test]
fn the_budget_is_read_from_the_templates() {
    let s = tests::synth("qa");
    let primary = tests::json(&s.primary);
    let mut secondary = tests::json(&s.secondary);
    let before = deployment::rto::budget(&primary, &secondary)
        .unwrap()
        .restored();
    // Slower alarms in the template mean a slower detection in the budget.
    for (_, alarm) in secondary["Resources"].as_object_mut().unwrap().iter_mut() {
        if alarm["Type"] == "AWS::CloudWatch::Alarm" {
            alarm["Properties"]["EvaluationPeriods"] = serde_json::json!(10);
        }
    }
    let after = deployment::rto::budget(&primary, &secondary)
        .unwrap()
        .restored();
    assert_eq!(
        after,
        before + 8 * 60,
        "detection grows with EvaluationPeriods × Period"
    );
}

#[test]
fn the_runbook_steps_are_walked_in_the_definition() {
    let s = tests::synth("qa");
    let primary = tests::json(&s.primary);
    let mut secondary = tests::json(&s.secondary);
    let before = deployment::rto::budget(&primary, &secondary).unwrap();
    let machine = &mut secondary["Resources"]["FailoverStateMachine"]["Properties"]["DefinitionString"]
        ["Fn::Sub"];
    let mut definition: serde_json::Value =
        serde_json::from_str(machine.as_str().unwrap()).unwrap();
    // Promotion checked every 20 s instead of 10 s: its 24 checks wait 240 s more.
    definition["States"]["PromotionWait"]["Seconds"] = serde_json::json!(20);
    *machine = serde_json::json!(definition.to_string());
    let after = deployment::rto::budget(&primary, &secondary).unwrap();
    assert_eq!(after.restored(), before.restored() + 24 * 10);
    let promotion = |b: &deployment::rto::Budget| {
        b.critical
            .iter()
            .find(|l| l.step.starts_with("promotion"))
            .unwrap()
            .source
            .clone()
    };
    assert_eq!(
        promotion(&after),
        "2 API calls + Promotion 24 × 20 s + PromotionLate 24 × 10 s"
    );
}
