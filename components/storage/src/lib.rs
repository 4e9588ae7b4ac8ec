//! The region's buckets: one for application data, one for configuration and deploy artifacts
//! (templates and task definitions, which is how ECS configuration is backed up). Both are
//! versioned, encrypted with the region's key (bucket keys on), closed to the public, reachable
//! over TLS only, expire noncurrent versions, and log their accesses into a third bucket (S3
//! server access logs, SSE-S3, expiring). The audit bucket, when the environment keeps its own
//! trail, is built the same way. In the primary, they replicate to their twins in the secondary
//! with Replication Time Control, once the secondary exists.
//!
//! ```
//! use cfn::naming::{Namer, Suffix};
//!
//! let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-2");
//! let (_, key) = keys::build(&keys::KeysProps {
//!     namer: namer.clone(), pending_window_days: 7, via_services: vec!["s3".into()], cloudwatch_logs: false,
//!     service_principals: vec![], recovery_account: None,
//! })?;
//! let (fragment, buckets) = storage::build(&storage::StorageProps::new(namer, &key))?;
//! assert_eq!(fragment.resources().len(), 6); // two buckets, the access-log bucket, their policies
//! # let _ = buckets;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::{iam, s3};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, NameRule, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Pseudo};
use keys::RegionKey;

/// Replication from this region's buckets to the other region's.
#[derive(Clone, Debug)]
pub struct ReplicationProps {
    /// The condition under which replication is configured: the destination exists. Required.
    pub condition: LogicalId,
    /// Names the destination buckets (the other region's namer). Required.
    pub destination: Namer,
    /// ARN of the destination region's key, which encrypts the replicas. Required.
    pub replica_key_arn: Expr,
    /// Replication Time Control's threshold in minutes; AWS supports 15 only. Default: 15.
    pub minutes: u32,
}

/// The audit bucket: where the trail's log files go (in the trail's region) or are replicated to.
#[derive(Clone, Debug)]
pub struct AuditBucket {
    /// Days log files are kept. Required.
    pub retention_days: u32,
    /// The trail that writes here (its ARN), in the region that has it. Default: none (a
    /// replica's destination).
    pub trail_arn: Option<Expr>,
}

/// Properties of the region's buckets.
#[derive(Clone, Debug)]
pub struct StorageProps {
    /// Names the buckets (`data-<suffix>-<region>-<account>`, `config-…`). Required.
    pub namer: Namer,
    /// ARN of the region's key. Required.
    pub key_arn: Expr,
    /// Days a replaced or deleted version is kept. Default: 30.
    pub noncurrent_version_days: u32,
    /// Days server access logs are kept. Default: 365.
    pub access_log_retention_days: u32,
    /// The audit bucket, for the trail's log files. Default: none.
    pub audit: Option<AuditBucket>,
    /// Replication to the other region. Default: none (the secondary's buckets).
    pub replication: Option<ReplicationProps>,
}

impl StorageProps {
    /// Props with the defaults.
    pub fn new(namer: Namer, key: &RegionKey) -> Self {
        StorageProps {
            namer,
            key_arn: key.arn(),
            noncurrent_version_days: 30,
            access_log_retention_days: 365,
            audit: None,
            replication: None,
        }
    }
}

/// The region's buckets.
#[derive(Clone, Debug)]
pub struct Buckets {
    /// Application data.
    pub data: Handle<s3::Bucket>,
    /// Configuration and deploy artifacts.
    pub config: Handle<s3::Bucket>,
    /// The trail's log files, when the environment has its own trail.
    pub audit: Option<Handle<s3::Bucket>>,
    /// What replicates to the other region (empty without replication).
    pub replicated: Vec<Replicated>,
    key_arn: Expr,
}

/// One bucket's replication to the other region: what S3's replication metrics are keyed by
/// (`SourceBucket`, `DestinationBucket`, `RuleId`).
#[derive(Clone, Debug)]
pub struct Replicated {
    /// `data` or `config`.
    pub stem: &'static str,
    /// The source bucket's name.
    pub source: Expr,
    /// The destination bucket's name.
    pub destination: Expr,
    /// The destination's region.
    pub to_region: String,
    /// The replication rule's id.
    pub rule_id: &'static str,
    /// Replication Time Control's threshold, in minutes.
    pub minutes: u32,
    /// The condition under which replication is configured.
    pub condition: LogicalId,
}

impl Buckets {
    /// The statements that let a principal read and write objects of the data bucket (with
    /// the key use that needs).
    pub fn grant_data_read_write(&self) -> Vec<Statement> {
        vec![
            Statement::allow(
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [Expr::sub(format!("${{{}.Arn}}/*", self.data.id()))],
            ),
            Statement::allow(["s3:ListBucket"], [self.data.attr_arn()]),
            Statement::allow(
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [self.key_arn.clone()],
            ),
        ]
    }
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// The ARN of a bucket, or of objects in it (`bucket/*`): S3 ARNs have no region or account.
fn s3_arn(resource: String) -> Expr {
    cfn::arn::Arn::new("s3", resource)
        .without_region()
        .without_account()
        .expr()
}

/// The ARN of a bucket named by `rule` in the namer's region.
fn bucket_arn(namer: &Namer, rule: &NameRule) -> Expr {
    s3_arn(namer.name(rule, None))
}

/// A versioned bucket with public access blocked, encrypted with the key `key_arn` (SSE-KMS with
/// a bucket key) or, when `None`, with SSE-S3 (for writers that accept nothing else).
pub fn private_bucket(name: Expr, key_arn: Option<Expr>) -> s3::Bucket {
    let rule = match key_arn {
        Some(key) => s3::bucket::ServerSideEncryptionRule::new()
            .bucket_key_enabled(true)
            .server_side_encryption_by_default(
                s3::bucket::ServerSideEncryptionByDefault::new()
                    .sse_algorithm("aws:kms")
                    .kms_master_key_id(key),
            ),
        None => s3::bucket::ServerSideEncryptionRule::new().server_side_encryption_by_default(
            s3::bucket::ServerSideEncryptionByDefault::new().sse_algorithm("AES256"),
        ),
    };
    s3::Bucket::new()
        .bucket_name(name)
        .versioning_configuration(s3::bucket::VersioningConfiguration::new().status("Enabled"))
        .bucket_encryption(
            s3::bucket::BucketEncryption::new().server_side_encryption_configuration(vec![rule]),
        )
        .public_access_block_configuration(
            s3::bucket::PublicAccessBlockConfiguration::new()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true),
        )
}

/// The statement that refuses every request to `bucket` not made over TLS.
pub fn deny_insecure_transport(bucket: &Handle<s3::Bucket>) -> Statement {
    Statement::deny(
        ["s3:*"],
        [
            bucket.attr_arn(),
            Expr::sub(format!("${{{}.Arn}}/*", bucket.id())),
        ],
    )
    .sid("DenyInsecureTransport")
    .anyone()
    .condition("Bool", "aws:SecureTransport", "false")
}

/// The policy of `bucket`: TLS only, plus `statements`.
pub fn bucket_policy(bucket: &Handle<s3::Bucket>, statements: Vec<Statement>) -> s3::BucketPolicy {
    let mut all = statements;
    all.push(deny_insecure_transport(bucket));
    s3::BucketPolicy::new()
        .bucket(bucket.reference())
        .policy_document(policy(all))
}

/// Builds the buckets, their TLS-only policies and, with replication, the replication role.
pub fn build(props: &StorageProps) -> Result<(Fragment, Buckets), Error> {
    cfn::Problems::from(props.problems()).into_result("storage")?;
    let mut f = Fragment::new();
    let role = match &props.replication {
        Some(r) => Some(replication_role(&mut f, props, r)?),
        None => None,
    };
    let access_logs = access_logs(&mut f, props)?;
    let mut made = Vec::new();
    let mut replicated = Vec::new();
    let mut audit = None;
    for (logical, rule, rule_id) in stores(props) {
        let mut bucket = private_bucket(props.namer.expr(rule, None), Some(props.key_arn.clone()))
            .ownership_controls(s3::bucket::OwnershipControls::new().rules(vec![
                s3::bucket::OwnershipControlsRule::new().object_ownership("BucketOwnerEnforced"),
            ]))
            .lifecycle_configuration(s3::bucket::LifecycleConfiguration::new().rules(vec![
                s3::bucket::Rule::new()
                    .id("expire-noncurrent-versions")
                    .status("Enabled")
                    .noncurrent_version_expiration(
                        s3::bucket::NoncurrentVersionExpiration::new()
                            .noncurrent_days(props.noncurrent_version_days),
                    )
                    .abort_incomplete_multipart_upload(
                        s3::bucket::AbortIncompleteMultipartUpload::new().days_after_initiation(7),
                    ),
            ]))
            .logging_configuration(
                s3::bucket::LoggingConfiguration::new()
                    .destination_bucket_name(access_logs.reference())
                    .log_file_prefix(format!("{}/", rule.stem)),
            );
        if let (Some(r), Some(role)) = (&props.replication, &role) {
            bucket = bucket.replication_configuration(Expr::if_(
                &r.condition,
                s3::bucket::ReplicationConfiguration::new()
                    .role(role.attr_arn())
                    .rules(vec![replication_rule(r, rule, rule_id)]),
                Expr::pseudo(Pseudo::NoValue),
            ));
        }
        let is_audit = rule.stem == naming::AUDIT_BUCKET.stem;
        if let (true, Some(a)) = (is_audit, &props.audit) {
            bucket = bucket.lifecycle_configuration(
                s3::bucket::LifecycleConfiguration::new().rules(vec![
                    s3::bucket::Rule::new()
                        .id("expire-audit-logs")
                        .status("Enabled")
                        .expiration_in_days(a.retention_days)
                        .noncurrent_version_expiration(
                            s3::bucket::NoncurrentVersionExpiration::new()
                                .noncurrent_days(props.noncurrent_version_days),
                        ),
                ]),
            );
        }
        let handle = f.add(id(logical)?, bucket)?;
        if let Some(r) = &props.replication {
            replicated.push(Replicated {
                stem: rule.stem,
                source: handle.reference(),
                destination: r.destination.expr(rule, None),
                to_region: r.destination.region().to_string(),
                rule_id,
                minutes: r.minutes,
                condition: r.condition.clone(),
            });
        }
        let writers = match (
            is_audit,
            props.audit.as_ref().and_then(|a| a.trail_arn.clone()),
        ) {
            (true, Some(trail)) => trail_writes(logical, trail),
            _ => vec![],
        };
        f.add(
            id(&format!("{logical}Policy"))?,
            bucket_policy(&handle, writers),
        )?;
        f.output(
            id(&format!("{logical}Name"))?,
            format!("Name of the {} bucket", rule.stem),
            handle.reference(),
        )?;
        if is_audit {
            audit = Some(handle);
        } else {
            made.push(handle);
        }
    }
    let config = made.pop().expect("two buckets");
    let data = made.pop().expect("two buckets");
    Ok((
        f,
        Buckets {
            data,
            config,
            audit,
            replicated,
            key_arn: props.key_arn.clone(),
        },
    ))
}

/// The buckets this region keeps: data, configuration, and the audit bucket when there is one
/// (logical id, name rule, replication rule id).
fn stores(props: &StorageProps) -> Vec<(&'static str, &'static NameRule, &'static str)> {
    let mut stores = vec![
        ("DataBucket", &naming::DATA_BUCKET, "data-to-secondary"),
        (
            "ConfigBucket",
            &naming::CONFIG_BUCKET,
            "config-to-secondary",
        ),
    ];
    if props.audit.is_some() {
        stores.push(("AuditBucket", &naming::AUDIT_BUCKET, "audit-to-secondary"));
    }
    stores
}

/// CloudTrail may read the audit bucket's ACL and write log files under `AWSLogs/<account>/`,
/// for this environment's trail only.
fn trail_writes(logical: &str, trail: Expr) -> Vec<Statement> {
    vec![
        Statement::allow(
            ["s3:GetBucketAcl"],
            [Expr::get_att(
                &LogicalId::new(logical).expect("a logical id"),
                "Arn",
            )],
        )
        .sid("CloudTrailChecksTheBucket")
        .service("cloudtrail.amazonaws.com")
        .condition("StringEquals", "aws:SourceArn", trail.clone()),
        Statement::allow(
            ["s3:PutObject"],
            [Expr::sub(format!(
                "${{{logical}.Arn}}/AWSLogs/${{AWS::AccountId}}/*"
            ))],
        )
        .sid("CloudTrailWritesLogFiles")
        .service("cloudtrail.amazonaws.com")
        .condition("StringEquals", "aws:SourceArn", trail),
    ]
}

/// The bucket the data and configuration buckets' server access logs go to: S3 delivers them
/// with SSE-S3 only, so it is not encrypted with the region's key; TLS-only, versioned, the logs
/// expiring after the configured days, written only by S3's logging service for this account's
/// two buckets.
fn access_logs(f: &mut Fragment, props: &StorageProps) -> Result<Handle<s3::Bucket>, Error> {
    let logical = id("AccessLogsBucket")?;
    let bucket = f.add(
        logical.clone(),
        private_bucket(props.namer.expr(&naming::ACCESS_LOGS_BUCKET, None), None)
            .ownership_controls(s3::bucket::OwnershipControls::new().rules(vec![
                s3::bucket::OwnershipControlsRule::new().object_ownership("BucketOwnerEnforced"),
            ]))
            .lifecycle_configuration(s3::bucket::LifecycleConfiguration::new().rules(vec![
                s3::bucket::Rule::new()
                    .id("expire-access-logs")
                    .status("Enabled")
                    .expiration_in_days(props.access_log_retention_days)
                    .noncurrent_version_expiration(
                        s3::bucket::NoncurrentVersionExpiration::new().noncurrent_days(1),
                    ),
            ])),
    )?;
    f.suppress(
        &logical,
        "encrypted-with-cmk",
        "S3 server access logging delivers to SSE-S3 buckets only",
    );
    f.suppress(
        &logical,
        "replicated",
        "access logs stay in the region whose buckets they describe",
    );
    let sources: Vec<Expr> = stores(props)
        .into_iter()
        .map(|(_, rule, _)| bucket_arn(&props.namer, rule))
        .collect();
    f.add(
        id("AccessLogsBucketPolicy")?,
        bucket_policy(
            &bucket,
            vec![
                Statement::allow(["s3:PutObject"], [Expr::sub("${AccessLogsBucket.Arn}/*")])
                    .sid("S3WritesServerAccessLogs")
                    .service("logging.s3.amazonaws.com")
                    .condition(
                        "StringEquals",
                        "aws:SourceAccount",
                        Expr::pseudo(Pseudo::AccountId),
                    )
                    .condition("ArnLike", "aws:SourceArn", Expr::List(sources)),
            ],
        ),
    )?;
    Ok(bucket)
}

fn replication_rule(
    r: &ReplicationProps,
    rule: &NameRule,
    rule_id: &str,
) -> s3::bucket::ReplicationRule {
    s3::bucket::ReplicationRule::new()
        .id(rule_id)
        .status("Enabled")
        .priority(1)
        .filter(s3::bucket::ReplicationRuleFilter::new().prefix(""))
        .delete_marker_replication(s3::bucket::DeleteMarkerReplication::new().status("Enabled"))
        .source_selection_criteria(
            s3::bucket::SourceSelectionCriteria::new().sse_kms_encrypted_objects(
                s3::bucket::SseKmsEncryptedObjects::new().status("Enabled"),
            ),
        )
        .destination(
            s3::bucket::ReplicationDestination::new()
                .bucket(bucket_arn(&r.destination, rule))
                .storage_class("STANDARD")
                .encryption_configuration(
                    s3::bucket::EncryptionConfiguration::new()
                        .replica_kms_key_id(r.replica_key_arn.clone()),
                )
                .replication_time(
                    s3::bucket::ReplicationTime::new()
                        .status("Enabled")
                        .time(s3::bucket::ReplicationTimeValue::new().minutes(r.minutes)),
                )
                .metrics(
                    s3::bucket::Metrics::new()
                        .status("Enabled")
                        .event_threshold(
                            s3::bucket::ReplicationTimeValue::new().minutes(r.minutes),
                        ),
                ),
        )
}

/// The role S3 assumes to replicate: read versions of the source buckets, write replicas to
/// the destination buckets, decrypt with the source key and encrypt with the replica key, each
/// only through S3 in its region.
fn replication_role(
    f: &mut Fragment,
    props: &StorageProps,
    r: &ReplicationProps,
) -> Result<Handle<iam::Role>, Error> {
    let sources: Vec<(Expr, Expr)> = stores(props)
        .into_iter()
        .map(|(_, rule, _)| {
            let arn = bucket_arn(&props.namer, rule);
            let objects = s3_arn(format!("{}/*", props.namer.name(rule, None)));
            (arn, objects)
        })
        .collect();
    let destinations: Vec<Expr> = stores(props)
        .into_iter()
        .map(|(_, rule, _)| s3_arn(format!("{}/*", r.destination.name(rule, None))))
        .collect();
    let statements = vec![
        Statement::allow(
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            sources.iter().map(|(b, _)| b.clone()),
        ),
        Statement::allow(
            [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            sources.iter().map(|(_, o)| o.clone()),
        ),
        Statement::allow(
            [
                "s3:ReplicateDelete",
                "s3:ReplicateObject",
                "s3:ReplicateTags",
            ],
            destinations,
        ),
        Statement::allow(["kms:Decrypt"], [props.key_arn.clone()]).condition(
            "StringEquals",
            "kms:ViaService",
            Expr::sub("s3.${AWS::Region}.amazonaws.com"),
        ),
        Statement::allow(["kms:Encrypt"], [r.replica_key_arn.clone()]).condition(
            "StringEquals",
            "kms:ViaService",
            format!("s3.{}.amazonaws.com", r.destination.region()),
        ),
    ];
    f.add_when(
        id("ReplicationRole")?,
        &r.condition,
        iam::Role::new()
            .role_name(props.namer.name(&naming::REPLICATION_ROLE, None))
            .description(
                "Lets S3 replicate the data and configuration buckets to the secondary region",
            )
            .assume_role_policy_document(assume_role_by("s3.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("replicate-to-secondary")
                    .policy_document(policy(statements)),
            ]),
    )
}

/// The rules of the storage props; [`StorageProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// Old object versions are kept 1 to 3650 days.
    pub fn noncurrent_version_days(d: u32) -> Option<String> {
        (!(1..=3650).contains(&d)).then(|| format!("{d} is not allowed: use 1 to 3650 days"))
    }
}

impl StorageProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "noncurrent_version_days",
            rules::noncurrent_version_days(self.noncurrent_version_days),
        );
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count};
    use serde_json::{Value, json};

    fn namer(region: &str) -> Namer {
        Namer::new(Suffix::parse("qa").unwrap(), region)
    }

    fn render(replicate: bool) -> Value {
        let mut props = StorageProps {
            namer: namer("us-east-1"),
            key_arn: Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            noncurrent_version_days: 30,
            access_log_retention_days: 365,
            audit: None,
            replication: None,
        };
        let mut body = Fragment::new();
        if replicate {
            let cond = body
                .condition(id("SecondaryLinked").unwrap(), Expr::equals("a", "a"))
                .unwrap();
            props.replication = Some(ReplicationProps {
                condition: cond,
                destination: namer("us-east-2"),
                replica_key_arn: Expr::from("arn:aws:kms:us-east-2:1:key/b"),
                minutes: 15,
            });
        }
        let (f, _) = build(&props).unwrap();
        body.merge(f).unwrap();
        Template::new("t", body).to_json()
    }

    #[test]
    fn the_audit_bucket_takes_the_trails_log_files_only() {
        let (f, buckets) = build(&StorageProps {
            namer: namer("us-east-1"),
            key_arn: Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            noncurrent_version_days: 30,
            access_log_retention_days: 365,
            audit: Some(AuditBucket {
                retention_days: 2557,
                trail_arn: Some(Expr::from("arn:aws:cloudtrail:us-east-1:1:trail/audit-qa")),
            }),
            replication: None,
        })
        .unwrap();
        assert!(buckets.audit.is_some());
        let t = Template::new("t", f).to_json();
        assert_eq!(
            t["Resources"]["AuditBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"],
            2557
        );
        assert_has_resource_properties(
            &t,
            "AWS::S3::BucketPolicy",
            json!({"Bucket": {"Ref": "AuditBucket"}, "PolicyDocument": {"Statement": [{
                "Sid": "CloudTrailChecksTheBucket", "Action": ["s3:GetBucketAcl"],
                "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:1:trail/audit-qa"}}
            }, {
                "Sid": "CloudTrailWritesLogFiles", "Action": ["s3:PutObject"],
                "Resource": [{"Fn::Sub": "${AuditBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}]
            }, {"Sid": "DenyInsecureTransport"}]}}),
        );
    }

    #[test]
    fn buckets_are_versioned_encrypted_private_and_tls_only() {
        let t = render(false);
        // Data, configuration, and the access logs of both.
        assert_resource_count(&t, "AWS::S3::Bucket", 3);
        assert_eq!(
            t["Resources"]["DataBucket"]["Properties"]["LoggingConfiguration"],
            json!({"DestinationBucketName": {"Ref": "AccessLogsBucket"}, "LogFilePrefix": "data/"})
        );
        assert_has_resource_properties(
            &t,
            "AWS::S3::BucketPolicy",
            json!({"Bucket": {"Ref": "AccessLogsBucket"}, "PolicyDocument": {"Statement": [{
                "Sid": "S3WritesServerAccessLogs", "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": ["s3:PutObject"]
            }, {"Sid": "DenyInsecureTransport"}]}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::S3::Bucket",
            json!({
                "BucketName": {"Fn::Sub": "data-qa-us-east-1-${AWS::AccountId}"},
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                    "BucketKeyEnabled": true,
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:1:key/a"}
                }]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
                "LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}
            }),
        );
        assert_has_resource_properties(
            &t,
            "AWS::S3::BucketPolicy",
            json!({"PolicyDocument": {"Statement": [{
                "Effect": "Deny", "Action": ["s3:*"], "Principal": {"AWS": "*"},
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]}}),
        );
        assert!(
            t["Resources"]["DataBucket"]["Properties"]
                .get("ReplicationConfiguration")
                .is_none()
        );
        assert_resource_count(&t, "AWS::IAM::Role", 0);
    }

    #[test]
    fn the_primary_replicates_with_rtc_delete_markers_and_the_replica_key() {
        let t = render(true);
        let rc = &t["Resources"]["DataBucket"]["Properties"]["ReplicationConfiguration"]["Fn::If"];
        assert_eq!(rc[0], "SecondaryLinked");
        assert_eq!(rc[2], json!({"Ref": "AWS::NoValue"}));
        let rule = &rc[1]["Rules"][0];
        assert!(
            cfn::testing::matches_partially(
                rule,
                &json!({
                    "Status": "Enabled",
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                    "Destination": {
                        "Bucket": {"Fn::Sub": "arn:${AWS::Partition}:s3:::data-qa-us-east-2-${AWS::AccountId}"},
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:us-east-2:1:key/b"},
                        "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                        "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
                    }
                })
            ),
            "{rule}"
        );
        let role = &t["Resources"]["ReplicationRole"];
        assert_eq!(role["Condition"], "SecondaryLinked");
        let actions: Vec<&str> = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap())
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "s3:GetReplicationConfiguration",
                "s3:ListBucket",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
                "s3:ReplicateDelete",
                "s3:ReplicateObject",
                "s3:ReplicateTags",
                "kms:Decrypt",
                "kms:Encrypt"
            ]
        );
    }
}
