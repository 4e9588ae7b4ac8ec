//! Every policy rule holds on every synthesized template of every environment.

use tests::policy::{RULES, evaluate};

#[test]
fn synthesized_templates_break_no_rule() {
    let mut findings = Vec::new();
    let mut checked = 0;
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        for (role, _, text) in s.templates() {
            let template = tests::json(text);
            checked += template["Resources"].as_object().unwrap().len();
            for f in evaluate(&template, suffix, role) {
                findings.push(format!("{suffix}/{role}: {f}"));
            }
        }
    }
    assert!(
        checked > 150,
        "expected the templates to hold resources, saw {checked}"
    );
    assert!(
        findings.is_empty(),
        "{} of {} rules broken:\n{}",
        findings.len(),
        RULES.len(),
        findings.join("\n")
    );
}
