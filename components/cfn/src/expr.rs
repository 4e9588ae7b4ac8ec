//! Template values: literals and CloudFormation intrinsic functions as one Rust type.

use std::collections::BTreeMap;

use serde::ser::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::LogicalId;

/// A value anywhere in a template: a literal, a list, a map or an intrinsic function.
///
/// Components never write `{"Ref": …}` JSON by hand; they build an `Expr` and the core
/// serialises it. `Fn::ImportValue` is deliberately absent: cross-stack values travel as
/// parameters wired by the deploy manifest, because exports cannot cross regions.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A boolean literal.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A floating-point literal (Aurora capacity units, for instance).
    Num(f64),
    /// A string literal.
    Str(String),
    /// A list of values.
    List(Vec<Expr>),
    /// A map of values with sorted keys.
    Map(BTreeMap<String, Expr>),
    /// `Ref` to a logical id or a pseudo parameter.
    Ref(String),
    /// `Fn::GetAtt` of a resource attribute.
    GetAtt(String, String),
    /// `Fn::Sub` with an optional variable map.
    Sub(String, BTreeMap<String, Expr>),
    /// `Fn::Join` with a delimiter.
    Join(String, Vec<Expr>),
    /// `Fn::Join` of a list-valued expression (a `GetAtt` that returns a list).
    JoinList(String, Box<Expr>),
    /// `Fn::Select` of an index from a list.
    Select(u32, Box<Expr>),
    /// `Fn::Split` of a string by a delimiter.
    Split(String, Box<Expr>),
    /// `Fn::GetAZs` of a region (`""` for the stack's own region).
    GetAzs(Box<Expr>),
    /// `Fn::FindInMap`.
    FindInMap(String, Box<Expr>, Box<Expr>),
    /// `Fn::If` on a named condition.
    If(String, Box<Expr>, Box<Expr>),
    /// `Fn::Equals`, used inside conditions.
    Equals(Box<Expr>, Box<Expr>),
    /// `Fn::Not`, used inside conditions.
    Not(Box<Expr>),
    /// `Fn::And`, used inside conditions.
    And(Vec<Expr>),
    /// `Fn::Or`, used inside conditions.
    Or(Vec<Expr>),
    /// `{"Condition": name}`, a reference to another condition inside a condition.
    Condition(String),
}

/// The pseudo parameters CloudFormation defines in every stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::AccountId`.
    AccountId,
    /// `AWS::Region`.
    Region,
    /// `AWS::Partition`.
    Partition,
    /// `AWS::StackName`.
    StackName,
    /// `AWS::StackId`.
    StackId,
    /// `AWS::URLSuffix`.
    UrlSuffix,
    /// `AWS::NoValue`: removes the property it is assigned to.
    NoValue,
}

impl Pseudo {
    fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

impl Expr {
    /// `Ref` to a parameter or resource.
    pub fn reference(id: &LogicalId) -> Expr {
        Expr::Ref(id.as_str().to_string())
    }

    /// `Ref` to a pseudo parameter.
    pub fn pseudo(p: Pseudo) -> Expr {
        Expr::Ref(p.name().to_string())
    }

    /// `Fn::GetAtt` of `attribute` on the resource `id`.
    pub fn get_att(id: &LogicalId, attribute: &str) -> Expr {
        Expr::GetAtt(id.as_str().to_string(), attribute.to_string())
    }

    /// `Fn::Sub` without a variable map: `${AWS::Region}` and `${LogicalId}` are resolved.
    pub fn sub(text: impl Into<String>) -> Expr {
        Expr::Sub(text.into(), BTreeMap::new())
    }

    /// `Fn::Sub` with a variable map.
    pub fn sub_with<K: Into<String>>(
        text: impl Into<String>,
        vars: impl IntoIterator<Item = (K, Expr)>,
    ) -> Expr {
        Expr::Sub(
            text.into(),
            vars.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        )
    }

    /// `Fn::Join` of `parts` with `delimiter`.
    pub fn join(delimiter: &str, parts: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Join(delimiter.to_string(), parts.into_iter().collect())
    }

    /// `Fn::Join` of a list-valued expression with `delimiter`.
    pub fn join_list(delimiter: &str, list: Expr) -> Expr {
        Expr::JoinList(delimiter.to_string(), Box::new(list))
    }

    /// `Fn::Select` of element `index` of `list`.
    pub fn select(index: u32, list: Expr) -> Expr {
        Expr::Select(index, Box::new(list))
    }

    /// `Fn::If`: `then` when the condition `name` holds, otherwise `otherwise`.
    pub fn if_(name: &LogicalId, then: impl Into<Expr>, otherwise: impl Into<Expr>) -> Expr {
        Expr::If(
            name.as_str().to_string(),
            Box::new(then.into()),
            Box::new(otherwise.into()),
        )
    }

    /// `Fn::Equals` of two values (for conditions).
    pub fn equals(a: impl Into<Expr>, b: impl Into<Expr>) -> Expr {
        Expr::Equals(Box::new(a.into()), Box::new(b.into()))
    }

    /// A map literal from key/value pairs.
    pub fn map<K: Into<String>, V: Into<Expr>>(pairs: impl IntoIterator<Item = (K, V)>) -> Expr {
        Expr::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A list literal.
    pub fn list<V: Into<Expr>>(items: impl IntoIterator<Item = V>) -> Expr {
        Expr::List(items.into_iter().map(Into::into).collect())
    }

    /// The string literal this value holds, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// `!condition` is `Fn::Not`.
impl std::ops::Not for Expr {
    type Output = Expr;

    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl From<&str> for Expr {
    fn from(v: &str) -> Self {
        Expr::Str(v.to_string())
    }
}
impl From<String> for Expr {
    fn from(v: String) -> Self {
        Expr::Str(v)
    }
}
impl From<&String> for Expr {
    fn from(v: &String) -> Self {
        Expr::Str(v.clone())
    }
}
impl From<bool> for Expr {
    fn from(v: bool) -> Self {
        Expr::Bool(v)
    }
}
impl From<i64> for Expr {
    fn from(v: i64) -> Self {
        Expr::Int(v)
    }
}
impl From<i32> for Expr {
    fn from(v: i32) -> Self {
        Expr::Int(v.into())
    }
}
impl From<u32> for Expr {
    fn from(v: u32) -> Self {
        Expr::Int(v.into())
    }
}
impl From<u16> for Expr {
    fn from(v: u16) -> Self {
        Expr::Int(v.into())
    }
}
impl From<usize> for Expr {
    fn from(v: usize) -> Self {
        Expr::Int(i64::try_from(v).expect("template integers fit in i64"))
    }
}
impl From<f64> for Expr {
    fn from(v: f64) -> Self {
        Expr::Num(v)
    }
}
impl From<&Expr> for Expr {
    fn from(v: &Expr) -> Self {
        v.clone()
    }
}
impl<T: Into<Expr>> From<Vec<T>> for Expr {
    fn from(v: Vec<T>) -> Self {
        Expr::List(v.into_iter().map(Into::into).collect())
    }
}
impl<V: Into<Expr>> From<BTreeMap<String, V>> for Expr {
    fn from(v: BTreeMap<String, V>) -> Self {
        Expr::Map(v.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// `{"name": value}`, the shape of every intrinsic function.
fn one(name: &str, value: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(name.to_string(), value);
    Value::Object(m)
}

fn all(items: &[Expr]) -> Value {
    Value::Array(items.iter().map(Expr::to_json).collect())
}

impl Expr {
    /// Serialises the value to JSON, with sorted map keys.
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::from(*i),
            Expr::Num(n) => Value::from(*n),
            Expr::Str(v) => Value::from(v.as_str()),
            Expr::List(items) => all(items),
            Expr::Map(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Expr::Ref(target) => one("Ref", target.as_str().into()),
            Expr::GetAtt(id, attr) => one("Fn::GetAtt", json!([id, attr])),
            Expr::Sub(text, vars) if vars.is_empty() => one("Fn::Sub", text.as_str().into()),
            Expr::Sub(text, vars) => {
                one("Fn::Sub", json!([text, Expr::Map(vars.clone()).to_json()]))
            }
            Expr::Join(d, parts) => one("Fn::Join", json!([d, all(parts)])),
            Expr::JoinList(d, list) => one("Fn::Join", json!([d, list.to_json()])),
            Expr::Select(i, list) => one("Fn::Select", json!([i.to_string(), list.to_json()])),
            Expr::Split(d, v) => one("Fn::Split", json!([d, v.to_json()])),
            Expr::GetAzs(region) => one("Fn::GetAZs", region.to_json()),
            Expr::FindInMap(m, a, b) => one("Fn::FindInMap", json!([m, a.to_json(), b.to_json()])),
            Expr::If(c, a, b) => one("Fn::If", json!([c, a.to_json(), b.to_json()])),
            Expr::Equals(a, b) => one("Fn::Equals", json!([a.to_json(), b.to_json()])),
            Expr::Not(e) => one("Fn::Not", json!([e.to_json()])),
            Expr::And(items) => one("Fn::And", all(items)),
            Expr::Or(items) => one("Fn::Or", all(items)),
            Expr::Condition(name) => one("Condition", name.as_str().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(s: &str) -> LogicalId {
        LogicalId::new(s).unwrap()
    }

    #[test]
    fn intrinsics_serialise_to_their_cloudformation_form() {
        assert_eq!(Expr::reference(&id("Vpc")).to_json(), json!({"Ref": "Vpc"}));
        assert_eq!(
            Expr::pseudo(Pseudo::AccountId).to_json(),
            json!({"Ref": "AWS::AccountId"})
        );
        assert_eq!(
            Expr::get_att(&id("Db"), "Endpoint.Address").to_json(),
            json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        );
        assert_eq!(
            Expr::sub("a-${AWS::Region}").to_json(),
            json!({"Fn::Sub": "a-${AWS::Region}"})
        );
        assert_eq!(
            Expr::sub_with("${X}", [("X", Expr::from(1))]).to_json(),
            json!({"Fn::Sub": ["${X}", {"X": 1}]})
        );
        assert_eq!(
            Expr::join(",", [Expr::from("a"), Expr::reference(&id("B"))]).to_json(),
            json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]})
        );
        assert_eq!(
            Expr::select(1, Expr::GetAzs(Box::new("".into()))).to_json(),
            json!({"Fn::Select": ["1", {"Fn::GetAZs": ""}]})
        );
        assert_eq!(
            Expr::if_(&id("IsLinked"), "a", Expr::pseudo(Pseudo::NoValue)).to_json(),
            json!({"Fn::If": ["IsLinked", "a", {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            (!Expr::equals(Expr::reference(&id("P")), "")).to_json(),
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]})
        );
        assert_eq!(
            Expr::And(vec![
                Expr::Condition("A".into()),
                Expr::Condition("B".into())
            ])
            .to_json(),
            json!({"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]})
        );
        assert_eq!(
            Expr::FindInMap("M".into(), Box::new("k".into()), Box::new("v".into())).to_json(),
            json!({"Fn::FindInMap": ["M", "k", "v"]})
        );
        assert_eq!(
            Expr::Split(",".into(), Box::new("a,b".into())).to_json(),
            json!({"Fn::Split": [",", "a,b"]})
        );
    }

    #[test]
    fn literals_convert_from_rust_values() {
        let v: Expr = vec!["a", "b"].into();
        assert_eq!(v.to_json(), json!(["a", "b"]));
        assert_eq!(Expr::map([("k", 1)]).to_json(), json!({"k": 1}));
        assert_eq!(Expr::from(0.5).to_json(), json!(0.5));
        assert_eq!(Expr::from(true).to_json(), json!(true));
    }
}
