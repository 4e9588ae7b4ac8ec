//! ARNs as `Fn::Sub` text, the one way this project writes them (like CDK's `formatArn`):
//! `arn:${AWS::Partition}:<service>:<region>:<account>:<resource>`, where region and account are
//! the stack's own unless the builder says otherwise. The resource part may hold `${…}`
//! references that `Fn::Sub` resolves (`${Cluster.DBClusterResourceId}`). A test in the tests
//! crate fails when a component writes `arn:` by hand.
//!
//! ```
//! use cfn::arn::Arn;
//!
//! assert_eq!(
//!     Arn::new("ssm", "parameter/trading/qa/shared/*").to_sub(),
//!     "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/trading/qa/shared/*"
//! );
//! assert_eq!(
//!     Arn::new("s3", "data-qa").without_region().without_account().to_sub(),
//!     "arn:${AWS::Partition}:s3:::data-qa"
//! );
//! assert_eq!(
//!     Arn::new("events", "event-bus/default").in_region("us-east-2").to_sub(),
//!     "arn:${AWS::Partition}:events:us-east-2:${AWS::AccountId}:event-bus/default"
//! );
//! ```

use crate::Expr;

/// One part of an ARN that is the stack's own by default.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// `${AWS::Region}` or `${AWS::AccountId}`.
    Stack,
    /// A fixed value (another region, another account, `aws` for AWS-managed resources).
    Fixed(String),
    /// Empty: the service's ARNs have no region or account (S3 buckets, IAM, Route 53).
    Empty,
}

/// An ARN under construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arn {
    service: String,
    region: Part,
    account: Part,
    resource: String,
}

impl Arn {
    /// The ARN of `resource` (`table/sessions-qa`, `parameter/…`) of `service` in the stack's
    /// region and account.
    pub fn new(service: &str, resource: impl Into<String>) -> Arn {
        Arn {
            service: service.to_string(),
            region: Part::Stack,
            account: Part::Stack,
            resource: resource.into(),
        }
    }

    /// In `region` instead of the stack's region.
    pub fn in_region(mut self, region: &str) -> Arn {
        self.region = Part::Fixed(region.to_string());
        self
    }

    /// With no region (IAM, S3, Route 53, global clusters).
    pub fn without_region(mut self) -> Arn {
        self.region = Part::Empty;
        self
    }

    /// In `account` instead of the stack's account; `aws` names AWS-managed resources.
    pub fn in_account(mut self, account: &str) -> Arn {
        self.account = Part::Fixed(account.to_string());
        self
    }

    /// With no account (S3 buckets, Step Functions integrations).
    pub fn without_account(mut self) -> Arn {
        self.account = Part::Empty;
        self
    }

    /// The ARN as `Fn::Sub` text.
    pub fn to_sub(&self) -> String {
        let part = |p: &Part, stack: &str| match p {
            Part::Stack => stack.to_string(),
            Part::Fixed(v) => v.clone(),
            Part::Empty => String::new(),
        };
        format!(
            "arn:${{AWS::Partition}}:{}:{}:{}:{}",
            self.service,
            part(&self.region, "${AWS::Region}"),
            part(&self.account, "${AWS::AccountId}"),
            self.resource
        )
    }

    /// The ARN as a template value (`Fn::Sub`).
    pub fn expr(&self) -> Expr {
        Expr::sub(self.to_sub())
    }
}

/// The ARN of a Step Functions service integration (`dynamodb:putItem`, `sns:publish`) as a
/// task's `Resource`. Written with the `aws` partition: definitions that are not passed
/// through `Fn::Sub` must name it literally.
pub fn states_integration(api: &str) -> String {
    format!("arn:aws:states:::{api}")
}

/// The ARN of a Step Functions AWS SDK integration (`rds:failoverGlobalCluster`).
pub fn states_sdk(service_action: &str) -> String {
    states_integration(&format!("aws-sdk:{service_action}"))
}

/// The API a Step Functions task `Resource` calls (`dynamodb:putItem`,
/// `rds:failoverGlobalCluster`), or None for a resource that is not an integration.
pub fn states_api(resource: &str) -> Option<&str> {
    let api = resource.strip_prefix("arn:aws:states:::")?;
    Some(api.strip_prefix("aws-sdk:").unwrap_or(api))
}

/// The IAM action an integration's API needs (`rds:failoverGlobalCluster` →
/// `rds:FailoverGlobalCluster`): the operation with its first letter upper-cased, under IAM's
/// prefix where Step Functions names the service otherwise (`applicationautoscaling` →
/// `application-autoscaling`, `sfn` → `states`).
pub fn iam_action(api: &str) -> String {
    let (service, operation) = api.split_once(':').unwrap_or((api, ""));
    let service = match service {
        "applicationautoscaling" => "application-autoscaling",
        "sfn" => "states",
        other => other,
    };
    let mut chars = operation.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default();
    format!("{service}:{first}{}", chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_apis_name_their_iam_actions() {
        assert_eq!(
            iam_action("rds:failoverGlobalCluster"),
            "rds:FailoverGlobalCluster"
        );
        assert_eq!(
            iam_action("applicationautoscaling:registerScalableTarget"),
            "application-autoscaling:RegisterScalableTarget"
        );
        assert_eq!(
            iam_action("sfn:describeExecution"),
            "states:DescribeExecution"
        );
    }

    #[test]
    fn every_part_can_be_the_stacks_fixed_or_empty() {
        assert_eq!(
            Arn::new("iam", "root").without_region().to_sub(),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
        );
        assert_eq!(
            Arn::new("iam", "policy/AWSBackupServiceRolePolicyForBackup")
                .without_region()
                .in_account("aws")
                .to_sub(),
            "arn:${AWS::Partition}:iam::aws:policy/AWSBackupServiceRolePolicyForBackup"
        );
        assert_eq!(
            Arn::new("rds-db", "dbuser:${Cluster.DBClusterResourceId}/app")
                .expr()
                .to_json(),
            serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Cluster.DBClusterResourceId}/app"})
        );
    }

    #[test]
    fn integrations_are_named_and_read_back() {
        assert_eq!(
            states_sdk("rds:failoverGlobalCluster"),
            "arn:aws:states:::aws-sdk:rds:failoverGlobalCluster"
        );
        assert_eq!(
            states_api(&states_integration("sns:publish")),
            Some("sns:publish")
        );
        assert_eq!(
            states_api(&states_sdk("ecs:updateService")),
            Some("ecs:updateService")
        );
        assert_eq!(states_api("arn:aws:lambda:us-east-1:1:function:f"), None);
    }
}
