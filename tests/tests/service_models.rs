//! Every Step Functions task of qa's and prod's templates against the services' published API
//! models (botocore's, through the pinned Python tools): the operation exists, its parameters
//! are members of the input shape with the right literal types, required members are given, and
//! every `ErrorEquals` name is one the called service can raise, named as Step Functions names
//! it (tests/tools/sfn_service_models.py says how, with its sources).

use std::path::Path;
use std::process::Command;

fn python() -> std::path::PathBuf {
    let p = tests::venv().join("bin/python");
    assert!(
        p.is_file(),
        "{} not found: run `cargo xtask test`, which installs the pinned tools into .venv",
        p.display()
    );
    p
}

fn tool(name: &str) -> std::path::PathBuf {
    xtask::workspace_root().join("tests/tools").join(name)
}

fn check(paths: &[&Path]) -> std::process::Output {
    Command::new(python())
        .arg(tool("sfn_service_models.py"))
        .arg("--json")
        .args(paths)
        .output()
        .expect("the service-model check runs")
}

#[test]
fn every_task_matches_its_service_model_in_qa_and_prod() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        for (role, _, text) in s.templates() {
            let path = dir.path().join(format!("{suffix}-{role}.json"));
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
    }
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = check(&refs);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success(),
        "defects against the service models:\n{:#}",
        report["defects"]
    );
    let tasks = report["counts"]["tasks"].as_u64().unwrap_or_default();
    let errors = report["counts"]["error_names"].as_u64().unwrap_or_default();
    assert!(
        tasks > 100 && errors > 300,
        "the check saw the runbooks: {}",
        report["counts"]
    );
}

/// The checker's own cases: a misspelt parameter, a missing required member, a wrong literal
/// type, a bad enum, an unknown operation and an error the service never raises each fail; a
/// correct task passes.
#[test]
fn the_service_model_check_catches_what_it_claims() {
    let out = Command::new(python())
        .arg(tool("test_sfn_service_models.py"))
        .output()
        .expect("the self-test runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(" 0 failed"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The defect it found, put back: an SSM error name on an EventBridge task is refused.
#[test]
fn an_error_name_the_service_cannot_raise_is_a_defect() {
    let s = tests::synth("qa");
    let mut t = tests::json(&s.primary);
    let definition =
        &mut t["Resources"]["ConfigReplicationSource"]["Properties"]["DefinitionString"];
    let text = definition
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| definition.to_string());
    let mut machine: serde_json::Value = serde_json::from_str(&text).unwrap();
    machine["States"]["SendPut"]["Retry"]
        .as_array_mut()
        .unwrap()
        .insert(0, serde_json::json!({"ErrorEquals": ["Ssm.ParameterNotFoundException"], "MaxAttempts": 0}));
    *definition = serde_json::Value::String(machine.to_string());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("primary.json");
    std::fs::write(&path, t.to_string()).unwrap();
    let out = check(&[&path]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["defects"]
            .to_string()
            .contains("Ssm.ParameterNotFoundException"),
        "{:#}",
        report["defects"]
    );
}
