//! A template's resources as CloudFormation orders them: only by declared dependencies (`Ref`,
//! `Fn::GetAtt`, `${…}` in `Fn::Sub`, `DependsOn`). Everything else may be created at the same
//! time ("CloudFormation creates … resources in parallel unless a dependency is declared",
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html>)
//! and is deleted in the reverse order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The dependency graph of one template.
#[derive(Debug, Default)]
pub struct Graph {
    direct: BTreeMap<String, BTreeSet<String>>,
}

/// The logical ids `v` refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub` (pseudo parameters
/// and template parameters included; the caller keeps the ones that are resources).
pub fn references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("Ref") {
                out.insert(r.clone());
            }
            match o.get("Fn::GetAtt") {
                Some(Value::Array(a)) => {
                    if let Some(id) = a.first().and_then(Value::as_str) {
                        out.insert(id.to_string());
                    }
                }
                Some(Value::String(s)) => {
                    out.insert(s.split('.').next().unwrap_or_default().to_string());
                }
                _ => {}
            }
            let sub = match o.get("Fn::Sub") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(text) = sub {
                let locals: BTreeSet<&str> = match o.get("Fn::Sub") {
                    Some(Value::Array(a)) => a
                        .get(1)
                        .and_then(Value::as_object)
                        .map(|m| m.keys().map(String::as_str).collect())
                        .unwrap_or_default(),
                    _ => BTreeSet::new(),
                };
                for name in sub_variables(text) {
                    let id = name.split('.').next().unwrap_or_default();
                    if !locals.contains(id) {
                        out.insert(id.to_string());
                    }
                }
            }
            o.values().for_each(|c| references(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| references(c, out)),
        _ => {}
    }
}

/// The `${Name}` variables of an `Fn::Sub` text (`${!Literal}` is not one).
pub fn sub_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

impl Graph {
    /// The graph of `template`'s resources.
    pub fn of(template: &Value) -> Graph {
        let resources = template["Resources"].as_object();
        let mut direct = BTreeMap::new();
        for (id, body) in resources.into_iter().flatten() {
            let mut refs = BTreeSet::new();
            references(&body["Properties"], &mut refs);
            match &body["DependsOn"] {
                Value::String(s) => {
                    refs.insert(s.clone());
                }
                Value::Array(a) => {
                    refs.extend(a.iter().filter_map(Value::as_str).map(String::from))
                }
                _ => {}
            }
            refs.retain(|r| resources.is_some_and(|m| m.contains_key(r)) && r != id);
            direct.insert(id.clone(), refs);
        }
        Graph { direct }
    }

    /// What `id` declares it depends on, directly.
    pub fn direct(&self, id: &str) -> impl Iterator<Item = &String> {
        self.direct.get(id).into_iter().flatten()
    }

    /// Whether CloudFormation makes `dependency` before `id` (a declared path from one to the
    /// other), and so deletes it after.
    pub fn depends_on(&self, id: &str, dependency: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            for d in self.direct(next) {
                if d == dependency {
                    return true;
                }
                if seen.insert(d.as_str()) {
                    stack.push(d);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_dependencies_are_transitive_and_nothing_else_orders() {
        let t = json!({"Resources": {
            "A": {"Type": "X", "Properties": {"N": "a-name"}},
            "B": {"Type": "X", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}},
            "C": {"Type": "X", "Properties": {"P": {"Fn::Sub": "${B}/${AWS::Region}/${!Literal}"}}},
            "D": {"Type": "X", "DependsOn": "C", "Properties": {"P": "a-name"}},
            "E": {"Type": "X", "Properties": {"P": {"Fn::Sub": ["${Local}", {"Local": "x"}]}}},
        }});
        let g = Graph::of(&t);
        assert!(g.depends_on("D", "A"));
        assert!(g.depends_on("C", "A"));
        assert!(!g.depends_on("A", "D"));
        assert!(!g.depends_on("E", "A"));
        assert_eq!(g.direct("C").collect::<Vec<_>>(), ["B"]);
        assert_eq!(g.direct("E").count(), 0);
    }
}
