//! IAM policy documents as typed statements.

use std::collections::BTreeMap;

use crate::{Expr, Pseudo};

/// One policy statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: &'static str,
    principal: Option<Expr>,
    actions: Vec<String>,
    resources: Option<Vec<Expr>>,
    conditions: BTreeMap<String, BTreeMap<String, Expr>>,
}

impl Statement {
    /// Allows `actions` on `resources`. List the exact actions; wildcards are reviewed.
    pub fn allow<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = Expr>,
    ) -> Self {
        Statement {
            sid: None,
            effect: "Allow",
            principal: None,
            actions: actions.into_iter().map(Into::into).collect(),
            resources: Some(resources.into_iter().collect()),
            conditions: BTreeMap::new(),
        }
    }

    /// Denies `actions` on `resources`.
    pub fn deny<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = Expr>,
    ) -> Self {
        Statement {
            effect: "Deny",
            ..Self::allow(actions, resources)
        }
    }

    /// Names the statement.
    pub fn sid(mut self, sid: &str) -> Self {
        self.sid = Some(sid.to_string());
        self
    }

    /// The principal is an AWS service, e.g. `logs.amazonaws.com`.
    pub fn service(mut self, service: impl Into<Expr>) -> Self {
        self.principal = Some(Expr::map([("Service", service.into())]));
        self
    }

    /// The principal is this account (its IAM policies then decide who may act).
    pub fn this_account(mut self) -> Self {
        self.principal = Some(Expr::map([("AWS", account_root())]));
        self
    }

    /// The principal is the AWS account or role `arn`.
    pub fn aws_principal(mut self, arn: impl Into<Expr>) -> Self {
        self.principal = Some(Expr::map([("AWS", arn.into())]));
        self
    }

    /// The principal is any AWS principal (`"*"`); use with conditions only.
    pub fn anyone(mut self) -> Self {
        self.principal = Some(Expr::map([("AWS", "*")]));
        self
    }

    /// Adds a condition: `operator` (e.g. `StringEquals`) on `key`.
    pub fn condition(mut self, operator: &str, key: &str, value: impl Into<Expr>) -> Self {
        self.conditions
            .entry(operator.to_string())
            .or_default()
            .insert(key.to_string(), value.into());
        self
    }

    fn to_expr(&self) -> Expr {
        let mut m: BTreeMap<String, Expr> = BTreeMap::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".into(), sid.as_str().into());
        }
        m.insert("Effect".into(), self.effect.into());
        if let Some(p) = &self.principal {
            m.insert("Principal".into(), p.clone());
        }
        m.insert(
            "Action".into(),
            Expr::list(self.actions.iter().map(String::as_str)),
        );
        if let Some(resources) = &self.resources {
            m.insert("Resource".into(), Expr::List(resources.clone()));
        }
        if !self.conditions.is_empty() {
            m.insert(
                "Condition".into(),
                Expr::Map(
                    self.conditions
                        .iter()
                        .map(|(k, v)| (k.clone(), Expr::Map(v.clone())))
                        .collect(),
                ),
            );
        }
        Expr::Map(m)
    }
}

/// What a Step Functions state machine needs to deliver its execution logs and X-Ray traces.
/// These actions accept no resource-level permissions, hence `Resource: "*"`.
pub fn state_machine_observability() -> Statement {
    Statement::allow(
        [
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:UpdateLogDelivery",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ],
        [Expr::from("*")],
    )
}

/// `arn:<partition>:iam::<account>:root`.
pub fn account_root() -> Expr {
    crate::arn::Arn::new("iam", "root").without_region().expr()
}

/// A policy document of `statements`.
pub fn policy(statements: impl IntoIterator<Item = Statement>) -> Expr {
    Expr::map([
        ("Version", Expr::from("2012-10-17")),
        (
            "Statement",
            Expr::List(statements.into_iter().map(|s| s.to_expr()).collect()),
        ),
    ])
}

/// A trust policy letting `service` assume a role, limited to this account.
pub fn assume_role_by(service: &str) -> Expr {
    let mut trust = Statement::allow(["sts:AssumeRole"], [])
        .service(service)
        .condition(
            "StringEquals",
            "aws:SourceAccount",
            Expr::pseudo(Pseudo::AccountId),
        );
    // Trust policies name no resource.
    trust.resources = None;
    policy([trust])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statements_serialise() {
        let p = policy([
            Statement::allow(["logs:PutLogEvents"], [Expr::from("arn:x")])
                .sid("Write")
                .condition("Bool", "aws:SecureTransport", "true"),
        ]);
        assert_eq!(
            p.to_json(),
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "Write", "Effect": "Allow", "Action": ["logs:PutLogEvents"],
                "Resource": ["arn:x"], "Condition": {"Bool": {"aws:SecureTransport": "true"}}
            }]})
        );
        let t = assume_role_by("vpc-flow-logs.amazonaws.com").to_json();
        assert_eq!(
            t["Statement"][0]["Principal"]["Service"],
            "vpc-flow-logs.amazonaws.com"
        );
        assert!(t["Statement"][0].get("Resource").is_none());
    }
}
