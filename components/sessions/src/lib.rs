//! The sessions table: one `AWS::DynamoDB::GlobalTable`, defined in the primary stack only, with
//! a replica in each region. On-demand billing, point-in-time recovery and the region's own
//! customer-managed key on every replica, a TTL attribute, and the NEW_AND_OLD_IMAGES stream that
//! multi-region replication needs. The secondary's replica is added in the primary-link phase,
//! once the secondary's key exists.
//!
//! ```
//! use cfn::{Expr, Tags};
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = sessions::SessionsProps::new(
//!     Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
//!     Expr::from("arn:aws:kms:us-east-1:111122223333:key/1"),
//!     Tags::new().with("app", "trading"),
//! );
//! let (fragment, table) = sessions::build(&props)?;
//! assert_eq!(fragment.resources().len(), 1);
//! assert_eq!(table.grant_read_write().len(), 2);
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::dynamodb;
use cfn::iam::Statement;
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Pseudo, Tags};

/// The second replica, in the other region.
#[derive(Clone, Debug)]
pub struct ReplicaProps {
    /// The condition under which the replica exists: the other region's key is known. Required.
    pub condition: LogicalId,
    /// The other region. Required.
    pub region: String,
    /// ARN of the other region's key. Required.
    pub key_arn: Expr,
    /// Tags of the other replica. Required.
    pub tags: Tags,
}

/// Properties of the sessions table.
#[derive(Clone, Debug)]
pub struct SessionsProps {
    /// Names the table (`sessions-<suffix>`, the same in both regions). Required.
    pub namer: Namer,
    /// ARN of this region's key. Required.
    pub key_arn: Expr,
    /// Tags of this region's replica (a global table carries tags per replica). Required.
    pub tags: Tags,
    /// The partition key, a string. Default: `session_id`.
    pub partition_key: String,
    /// The attribute holding each item's expiry (epoch seconds). Default: `expires_at`.
    pub ttl_attribute: String,
    /// The replica in the other region. Default: none.
    pub replica: Option<ReplicaProps>,
}

impl SessionsProps {
    /// Props with the defaults.
    pub fn new(namer: Namer, key_arn: Expr, tags: Tags) -> Self {
        SessionsProps {
            namer,
            key_arn,
            tags,
            partition_key: "session_id".into(),
            ttl_attribute: "expires_at".into(),
            replica: None,
        }
    }
}

/// The table, for grants.
#[derive(Clone, Debug)]
pub struct SessionsTable {
    table: Handle<dynamodb::GlobalTable>,
    name: String,
    key_arn: Expr,
}

impl SessionsTable {
    /// The table's name, the same in both regions.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table's ARN in this stack's region.
    pub fn arn(&self) -> Expr {
        self.table.attr_arn()
    }

    /// Statements that let a principal read and write sessions, with the key use that needs.
    pub fn grant_read_write(&self) -> Vec<Statement> {
        table_grants(self.arn(), self.key_arn.clone())
    }
}

/// The ARN of the sessions table `namer` names, in the namer's stack's region: in the region
/// that holds a replica made by the other region's global table, this is how it is named.
pub fn replica_arn(namer: &Namer) -> Expr {
    cfn::arn::Arn::new(
        "dynamodb",
        format!("table/{}", namer.name(&naming::SESSIONS_TABLE, None)),
    )
    .expr()
}

/// Statements that let a principal read and write the table `table_arn` encrypted with
/// `key_arn` (also for the replica in a region whose stack does not define the table).
pub fn table_grants(table_arn: Expr, key_arn: Expr) -> Vec<Statement> {
    vec![
        Statement::allow(
            [
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            [table_arn],
        ),
        Statement::allow(
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
            ],
            [key_arn],
        ),
    ]
}

fn replica(
    region: Expr,
    key_arn: Expr,
    tags: &Tags,
) -> dynamodb::global_table::ReplicaSpecification {
    dynamodb::global_table::ReplicaSpecification::new()
        .region(region)
        .point_in_time_recovery_specification(
            dynamodb::global_table::PointInTimeRecoverySpecification::new()
                .point_in_time_recovery_enabled(true),
        )
        .sse_specification(
            dynamodb::global_table::ReplicaSseSpecification::new().kms_master_key_id(key_arn),
        )
        .deletion_protection_enabled(false)
        .tags(
            tags.iter()
                .map(|(k, v)| cfn::tag(k, v.as_str()))
                .collect::<Vec<_>>(),
        )
}

/// Builds the global table.
pub fn build(props: &SessionsProps) -> Result<(Fragment, SessionsTable), Error> {
    cfn::Problems::from(props.problems()).into_result("sessions")?;
    let name = props.namer.name(&naming::SESSIONS_TABLE, None);
    let here = replica(
        Expr::pseudo(Pseudo::Region),
        props.key_arn.clone(),
        &props.tags,
    );
    let replicas = match &props.replica {
        None => Expr::List(vec![here.into()]),
        Some(r) => Expr::if_(
            &r.condition,
            Expr::List(vec![
                here.clone().into(),
                replica(Expr::from(r.region.as_str()), r.key_arn.clone(), &r.tags).into(),
            ]),
            Expr::List(vec![here.into()]),
        ),
    };
    let mut f = Fragment::new();
    let table = f.add(
        LogicalId::new("SessionsTable")?,
        dynamodb::GlobalTable::new()
            .table_name(name.as_str())
            .billing_mode("PAY_PER_REQUEST")
            .attribute_definitions(vec![
                dynamodb::global_table::AttributeDefinition::new()
                    .attribute_name(props.partition_key.as_str())
                    .attribute_type("S"),
            ])
            // The schema's KeySchema is a list whose items the generator cannot see.
            .key_schema(vec![Expr::map([
                ("AttributeName", props.partition_key.as_str()),
                ("KeyType", "HASH"),
            ])])
            .stream_specification(
                dynamodb::global_table::StreamSpecification::new()
                    .stream_view_type("NEW_AND_OLD_IMAGES"),
            )
            .sse_specification(
                dynamodb::global_table::SseSpecification::new()
                    .sse_enabled(true)
                    .sse_type("KMS"),
            )
            .time_to_live_specification(
                dynamodb::global_table::TimeToLiveSpecification::new()
                    .attribute_name(props.ttl_attribute.as_str())
                    .enabled(true),
            )
            .replicas(replicas),
    )?;
    f.output(
        LogicalId::new("SessionsTableName")?,
        "The sessions table, the same name in both regions",
        table.reference(),
    )?;
    f.output(
        LogicalId::new("SessionsTableArn")?,
        "The sessions table in this region",
        table.attr_arn(),
    )?;
    Ok((
        f,
        SessionsTable {
            table,
            name,
            key_arn: props.key_arn.clone(),
        },
    ))
}

/// The rules of the sessions props; [`SessionsProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// A DynamoDB attribute name of 1 to 255 letters, digits, `_`, `-` or `.`.
    pub fn ttl_attribute(a: &str) -> Option<String> {
        let ok = (1..=255).contains(&a.len())
            && a.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch));
        (!ok).then(|| {
            format!("{a:?} is not allowed: an attribute name of 1 to 255 letters, digits, _ - or .")
        })
    }
}

impl SessionsProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check("ttl_attribute", rules::ttl_attribute(&self.ttl_attribute));
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::assert_has_resource_properties;
    use serde_json::json;

    fn props() -> SessionsProps {
        SessionsProps::new(
            Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
            Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            Tags::new().with("region-role", "primary"),
        )
    }

    #[test]
    fn on_demand_encrypted_with_ttl_and_stream() {
        let (f, table) = build(&props()).unwrap();
        assert_eq!(table.name(), "sessions-qa");
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::DynamoDB::GlobalTable",
            json!({
                "TableName": "sessions-qa",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "session_id", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS"},
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": true},
                "Replicas": [{
                    "Region": {"Ref": "AWS::Region"},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
                    "SSESpecification": {"KMSMasterKeyId": "arn:aws:kms:us-east-1:1:key/a"},
                    "Tags": [{"Key": "region-role", "Value": "primary"}]
                }]
            }),
        );
    }

    #[test]
    fn the_second_replica_comes_with_its_own_key_under_the_link_condition() {
        let mut body = Fragment::new();
        let cond = body
            .condition(
                LogicalId::new("SecondaryLinked").unwrap(),
                Expr::equals("a", "a"),
            )
            .unwrap();
        let (f, _) = build(&SessionsProps {
            replica: Some(ReplicaProps {
                condition: cond,
                region: "us-east-2".into(),
                key_arn: Expr::from("arn:aws:kms:us-east-2:1:key/b"),
                tags: Tags::new().with("region-role", "secondary"),
            }),
            ..props()
        })
        .unwrap();
        body.merge(f).unwrap();
        let t = Template::new("t", body).to_json();
        let replicas = &t["Resources"]["SessionsTable"]["Properties"]["Replicas"]["Fn::If"];
        assert_eq!(replicas[0], "SecondaryLinked");
        assert_eq!(replicas[1].as_array().unwrap().len(), 2);
        assert_eq!(replicas[2].as_array().unwrap().len(), 1);
        assert!(cfn::testing::matches_partially(
            &replicas[1][1],
            &json!({
                "Region": "us-east-2",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
                "SSESpecification": {"KMSMasterKeyId": "arn:aws:kms:us-east-2:1:key/b"}
            })
        ));
    }
}
