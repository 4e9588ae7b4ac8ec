//! A whole template: merged fragments, standard tags, reference checks, deterministic JSON.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::{Error, Expr, Fragment, LogicalId, TagStyle};

/// The tags every taggable resource carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags(BTreeMap<String, String>);

impl Tags {
    /// An empty tag set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a tag.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// The tags, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

/// A `{"Key": key, "Value": value}` tag for list-style `Tags` properties.
pub fn tag(key: &str, value: impl Into<Expr>) -> Expr {
    Expr::map([("Key", Expr::from(key)), ("Value", value.into())])
}

/// A CloudFormation template assembled from fragments.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    description: String,
    body: Fragment,
}

impl Template {
    /// A template with `description` holding everything in `body`.
    pub fn new(description: impl Into<String>, body: Fragment) -> Self {
        Template {
            description: description.into(),
            body,
        }
    }

    /// The merged fragment.
    pub fn body(&self) -> &Fragment {
        &self.body
    }

    /// Gives every taggable resource the tags it does not set itself, in the shape its schema
    /// wants (a list of Key/Value objects or a map). Tags a component set (such as `Name`) win.
    pub fn apply_tags(&mut self, tags: &Tags) {
        for resource in self.body.resources.values_mut() {
            let Some((property, style)) =
                crate::type_info(resource.type_name).and_then(|i| i.tag_property)
            else {
                continue;
            };
            match style {
                TagStyle::List => {
                    let mut by_key: BTreeMap<String, Expr> = BTreeMap::new();
                    if let Some(Expr::List(existing)) = resource.properties.get(property) {
                        for t in existing {
                            if let Expr::Map(m) = t
                                && let Some(Expr::Str(k)) = m.get("Key")
                            {
                                by_key.insert(k.clone(), t.clone());
                            }
                        }
                    }
                    for (k, v) in tags.iter() {
                        by_key
                            .entry(k.clone())
                            .or_insert_with(|| tag(k, v.as_str()));
                    }
                    resource.properties.insert(
                        property.to_string(),
                        Expr::List(by_key.into_values().collect()),
                    );
                }
                TagStyle::Map => {
                    let mut map = match resource.properties.remove(property) {
                        Some(Expr::Map(m)) => m,
                        _ => BTreeMap::new(),
                    };
                    for (k, v) in tags.iter() {
                        map.entry(k.clone()).or_insert_with(|| v.as_str().into());
                    }
                    resource
                        .properties
                        .insert(property.to_string(), Expr::Map(map));
                }
            }
        }
    }

    /// Checks that every `Ref`, `GetAtt`, `Fn::Sub` variable, `Fn::If`, condition and
    /// `DependsOn` names something the template defines.
    pub fn validate(&self) -> Result<(), Error> {
        let b = &self.body;
        let check = |from: &str, target: &str, ok: bool| -> Result<(), Error> {
            if ok {
                Ok(())
            } else {
                Err(Error::DanglingReference {
                    from: from.to_string(),
                    target: target.to_string(),
                })
            }
        };
        let mut problems = Vec::new();
        let mut walk = |from: String, e: &Expr| {
            visit(e, &mut |kind, target| {
                let known = match kind {
                    RefKind::Value => {
                        target.starts_with("AWS::")
                            || id_in(target, &b.parameters)
                            || id_in(target, &b.resources)
                    }
                    RefKind::Resource => id_in(target, &b.resources),
                    RefKind::Condition => id_in(target, &b.conditions),
                };
                if let Err(e) = check(&from, target, known) {
                    problems.push(e);
                }
            })
        };
        for (id, c) in &b.conditions {
            walk(format!("condition {id}"), c);
        }
        for (id, r) in &b.resources {
            for (p, v) in &r.properties {
                walk(format!("resource {id} property {p}"), v);
            }
            for d in &r.depends_on {
                walk(
                    format!("resource {id} DependsOn"),
                    &Expr::GetAtt(d.to_string(), String::new()),
                );
            }
            if let Some(c) = &r.condition {
                walk(
                    format!("resource {id} Condition"),
                    &Expr::Condition(c.to_string()),
                );
            }
        }
        for (id, o) in &b.outputs {
            walk(format!("output {id}"), &o.value);
            if let Some(c) = &o.condition {
                walk(
                    format!("output {id} Condition"),
                    &Expr::Condition(c.to_string()),
                );
            }
        }
        match problems.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The template as JSON. Keys are sorted, so the same input gives the same bytes.
    pub fn to_json(&self) -> Value {
        let b = &self.body;
        let mut root = Map::new();
        root.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        root.insert("Description".into(), json!(self.description));
        if !b.transforms.is_empty() {
            root.insert("Transform".into(), json!(b.transforms));
        }
        if !b.parameters.is_empty() {
            let params = b
                .parameters
                .iter()
                .map(|(id, p)| {
                    let mut m = Map::new();
                    m.insert("Type".into(), json!(p.kind));
                    m.insert("Description".into(), json!(p.description));
                    if let Some(d) = &p.default {
                        m.insert("Default".into(), json!(d));
                    }
                    if let Some(pat) = &p.allowed_pattern {
                        m.insert("AllowedPattern".into(), json!(pat));
                    }
                    (id.to_string(), Value::Object(m))
                })
                .collect();
            root.insert("Parameters".into(), Value::Object(params));
        }
        if !b.conditions.is_empty() {
            let conds = b
                .conditions
                .iter()
                .map(|(id, c)| (id.to_string(), c.to_json()))
                .collect();
            root.insert("Conditions".into(), Value::Object(conds));
        }
        let resources = b
            .resources
            .iter()
            .map(|(id, r)| {
                let mut m = Map::new();
                m.insert("Type".into(), json!(r.type_name));
                if !r.properties.is_empty() {
                    m.insert(
                        "Properties".into(),
                        Expr::Map(r.properties.clone()).to_json(),
                    );
                }
                if !r.depends_on.is_empty() {
                    let deps: Vec<&str> = r.depends_on.iter().map(LogicalId::as_str).collect();
                    m.insert("DependsOn".into(), json!(deps));
                }
                if let Some(c) = &r.condition {
                    m.insert("Condition".into(), json!(c.as_str()));
                }
                if !r.suppressions.is_empty() {
                    let list: Vec<Value> = r
                        .suppressions
                        .iter()
                        .map(|(rule, reason)| json!({"Rule": rule, "Reason": reason}))
                        .collect();
                    m.insert("Metadata".into(), json!({"Policy": {"Suppressions": list}}));
                }
                // Architecture invariant: everything is destroyable.
                m.insert("DeletionPolicy".into(), json!("Delete"));
                m.insert("UpdateReplacePolicy".into(), json!("Delete"));
                (id.to_string(), Value::Object(m))
            })
            .collect();
        root.insert("Resources".into(), Value::Object(resources));
        if !b.outputs.is_empty() {
            let outputs = b
                .outputs
                .iter()
                .map(|(id, o)| {
                    let mut m = Map::new();
                    m.insert("Description".into(), json!(o.description));
                    m.insert("Value".into(), o.value.to_json());
                    if let Some(c) = &o.condition {
                        m.insert("Condition".into(), json!(c.as_str()));
                    }
                    (id.to_string(), Value::Object(m))
                })
                .collect();
            root.insert("Outputs".into(), Value::Object(outputs));
        }
        Value::Object(root)
    }

    /// The template as pretty-printed JSON with a trailing newline.
    pub fn to_json_string(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialise");
        s.push('\n');
        s
    }
}

fn id_in<V>(name: &str, map: &BTreeMap<LogicalId, V>) -> bool {
    LogicalId::new(name).is_ok_and(|id| map.contains_key(&id))
}

#[derive(Clone, Copy)]
enum RefKind {
    Value,
    Resource,
    Condition,
}

/// Calls `f` for every name an expression refers to.
fn visit(e: &Expr, f: &mut dyn FnMut(RefKind, &str)) {
    match e {
        Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Str(_) => {}
        Expr::List(items) | Expr::Join(_, items) | Expr::And(items) | Expr::Or(items) => {
            items.iter().for_each(|i| visit(i, f))
        }
        Expr::Map(m) => m.values().for_each(|v| visit(v, f)),
        Expr::Ref(t) => f(RefKind::Value, t),
        Expr::GetAtt(t, _) => f(RefKind::Resource, t),
        Expr::Sub(text, vars) => {
            vars.values().for_each(|v| visit(v, f));
            for name in sub_variables(text) {
                let base = name.split('.').next().unwrap_or(&name);
                if !vars.contains_key(base) {
                    if name.contains('.') {
                        f(RefKind::Resource, base)
                    } else {
                        f(RefKind::Value, base)
                    }
                }
            }
        }
        Expr::Select(_, v)
        | Expr::Split(_, v)
        | Expr::GetAzs(v)
        | Expr::Not(v)
        | Expr::JoinList(_, v) => visit(v, f),
        Expr::FindInMap(_, a, b) | Expr::Equals(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::If(c, a, b) => {
            f(RefKind::Condition, c);
            visit(a, f);
            visit(b, f);
        }
        Expr::Condition(c) => f(RefKind::Condition, c),
    }
}

/// The `${Name}` variables of an `Fn::Sub` string (`${!Literal}` excluded).
fn sub_variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if !name.starts_with('!') {
            out.push(name.to_string());
        }
        rest = &rest[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{ec2, logs, ssm};
    use crate::{Expr, Parameter};

    fn id(s: &str) -> LogicalId {
        LogicalId::new(s).unwrap()
    }

    fn sample() -> Template {
        let mut f = Fragment::new();
        let vpc = f
            .add(
                id("Vpc"),
                ec2::Vpc::new()
                    .cidr_block("10.0.0.0/16")
                    .tags(vec![tag("Name", "vpc-qa"), tag("app", "mine")]),
            )
            .unwrap();
        f.add(
            id("Param"),
            ssm::Parameter::new().type_("String").value("v"),
        )
        .unwrap();
        f.add(
            id("Attachment"),
            ec2::VpcGatewayAttachment::new().vpc_id(vpc.reference()),
        )
        .unwrap();
        f.output(id("VpcId"), "the vpc", vpc.reference()).unwrap();
        Template::new("sample", f)
    }

    #[test]
    fn tags_go_where_the_schema_wants_them_and_component_tags_win() {
        let mut t = sample();
        t.apply_tags(&Tags::new().with("app", "trading").with("env", "qa"));
        let j = t.to_json();
        assert_eq!(
            j["Resources"]["Vpc"]["Properties"]["Tags"],
            json!([
                {"Key": "Name", "Value": "vpc-qa"},
                {"Key": "app", "Value": "mine"},
                {"Key": "env", "Value": "qa"}
            ])
        );
        assert_eq!(
            j["Resources"]["Param"]["Properties"]["Tags"],
            json!({"app": "trading", "env": "qa"})
        );
        assert!(
            j["Resources"]["Attachment"]["Properties"]
                .get("Tags")
                .is_none()
        );
    }

    #[test]
    fn every_resource_is_destroyable_and_json_is_byte_stable() {
        let t = sample();
        let j = t.to_json();
        for r in j["Resources"].as_object().unwrap().values() {
            assert_eq!(r["DeletionPolicy"], "Delete");
            assert_eq!(r["UpdateReplacePolicy"], "Delete");
        }
        assert_eq!(t.to_json_string(), sample().to_json_string());
        assert!(t.to_json_string().ends_with("}\n"));
    }

    #[test]
    fn dangling_references_are_reported() {
        assert_eq!(sample().validate(), Ok(()));
        let mut f = Fragment::new();
        f.add(
            id("Group"),
            logs::LogGroup::new().kms_key_id(Expr::get_att(&id("Key"), "Arn")),
        )
        .unwrap();
        assert_eq!(
            Template::new("x", f.clone()).validate(),
            Err(Error::DanglingReference {
                from: "resource Group property KmsKeyId".into(),
                target: "Key".into()
            })
        );
        let mut g = Fragment::new();
        g.parameter(id("Known"), Parameter::string("p")).unwrap();
        g.output(
            id("O"),
            "o",
            Expr::sub("${Known}-${AWS::Region}-${!Literal}"),
        )
        .unwrap();
        assert_eq!(Template::new("x", g.clone()).validate(), Ok(()));
        g.output(id("P"), "p", Expr::sub("${Unknown}")).unwrap();
        assert!(Template::new("x", g).validate().is_err());
        let mut h = Fragment::new();
        h.output(id("Q"), "q", Expr::if_(&id("Nope"), "a", "b"))
            .unwrap();
        assert!(Template::new("x", h).validate().is_err());
    }
}
