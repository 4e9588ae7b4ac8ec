//! Template assertions for tests: deep-partial matches, counts and lookups.

use serde_json::Value;

/// Whether `actual` contains everything in `expected`: objects match key by key (extra keys
/// allowed), arrays element by element with equal length, everything else by equality.
pub fn matches_partially(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches_partially(av, ev))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| matches_partially(av, ev))
        }
        _ => actual == expected,
    }
}

/// The logical ids and bodies of the resources of type `type_name`.
pub fn resources_of<'a>(template: &'a Value, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .map(|r| r.iter().filter(|(_, v)| v["Type"] == type_name).collect())
        .unwrap_or_default()
}

/// Panics unless some resource of `type_name` has properties matching `expected` partially.
#[track_caller]
pub fn assert_has_resource_properties(template: &Value, type_name: &str, expected: Value) {
    let found = resources_of(template, type_name);
    assert!(
        found
            .iter()
            .any(|(_, r)| matches_partially(&r["Properties"], &expected)),
        "no {type_name} has properties matching\n{}\nfound:\n{}",
        serde_json::to_string_pretty(&expected).unwrap(),
        serde_json::to_string_pretty(&found).unwrap()
    );
}

/// Panics unless the template has exactly `count` resources of `type_name`.
#[track_caller]
pub fn assert_resource_count(template: &Value, type_name: &str, count: usize) {
    let n = resources_of(template, type_name).len();
    assert_eq!(n, count, "expected {count} {type_name}, found {n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_matching() {
        let a = json!({"A": 1, "B": {"C": [1, 2], "D": "x"}});
        assert!(matches_partially(&a, &json!({"B": {"D": "x"}})));
        assert!(!matches_partially(&a, &json!({"B": {"C": [1]}})));
        assert!(!matches_partially(&a, &json!({"E": 1})));
    }
}
