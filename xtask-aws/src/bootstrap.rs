//! `cargo xtask bootstrap`: the account's template staging bucket in each region, which `deploy`
//! and `diff` upload templates to (the primary template is over CloudFormation's 51,200-byte
//! inline limit). One bucket per account and region, shared by every environment, named
//! [`cfn::naming::staging_bucket`]: each region's stacks read their own region's bucket, so
//! deploying one region never depends on the other being up.
//!
//! Each bucket is versioned, encrypted (SSE-S3), private (ACLs off, public access blocked),
//! TLS-only, and its templates expire: CloudFormation keeps the template of every stack it
//! deployed, so an uploaded copy is only read while its change set is made. Running bootstrap
//! again checks every setting and changes only what is missing, so a second run changes nothing.

use std::io::Write;

use anyhow::{Context as _, Result, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectOwnership,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use serde_json::{Value, json};

use crate::aws::{self, describe_error};
pub use xtask::online::BootstrapArgs as Args;

/// Days an uploaded template (and then its old version) is kept.
pub const TEMPLATE_DAYS: i32 = 30;

/// The lifecycle rule that expires templates, then their noncurrent versions.
const EXPIRE_RULE: &str = "trading-dr-expire-templates";
/// The lifecycle rule that removes the delete markers expiry leaves behind.
const MARKER_RULE: &str = "trading-dr-remove-expired-delete-markers";
/// The bucket policy statement that refuses requests without TLS.
const TLS_STATEMENT: &str = "TradingDrDenyInsecureTransport";

/// Whether a bucket name is ours, free, or someone else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The bucket exists in this account.
    Ours,
    /// No bucket has this name.
    Missing,
    /// The name is taken by another account, or these credentials may not see the bucket.
    Forbidden,
}

/// One property bootstrap guarantees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Versioning enabled.
    Versioning,
    /// Default encryption (SSE-S3).
    Encryption,
    /// All four public access blocks on.
    PublicAccessBlock,
    /// A policy statement denying requests without TLS.
    TlsOnly,
    /// Templates and old versions expire after [`TEMPLATE_DAYS`].
    Expiry,
}

impl Setting {
    /// Every setting, in the order they are checked.
    pub const ALL: [Setting; 5] = [
        Setting::Versioning,
        Setting::Encryption,
        Setting::PublicAccessBlock,
        Setting::TlsOnly,
        Setting::Expiry,
    ];

    /// The setting as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Versioning => "versioning",
            Setting::Encryption => "encryption",
            Setting::PublicAccessBlock => "public access block",
            Setting::TlsOnly => "TLS-only policy",
            Setting::Expiry => "template expiry",
        }
    }
}

/// What bootstrap did to one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The bucket was made, with every setting.
    Created,
    /// The bucket existed with every setting: nothing changed.
    Exists,
    /// The bucket existed; these settings were missing and are now in place.
    Repaired(Vec<Setting>),
}

impl Outcome {
    /// The settings put back, as printed (none unless repaired).
    fn repaired(&self) -> Vec<&'static str> {
        match self {
            Outcome::Repaired(settings) => settings.iter().map(|s| s.as_str()).collect(),
            _ => vec![],
        }
    }
}

/// Runs `bootstrap`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let regions = if args.regions.is_empty() {
        xtask::synth::configured_regions(&args.env_dir)?
    } else {
        for region in &args.regions {
            environment::check_region_name(region)
                .map_err(|e| anyhow::anyhow!("--region {region}: {e}"))?;
        }
        args.regions.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bootstrap(args, &regions, out))?;
    Ok(xtask::exit::SUCCESS)
}

async fn bootstrap(args: &Args, regions: &[String], out: &mut dyn Write) -> Result<()> {
    let names: Vec<&str> = regions.iter().map(String::as_str).collect();
    let account = aws::account_id(&names, &args.target).await?;
    if !args.json {
        writeln!(
            out,
            "account {account}: staging buckets in {}",
            names.join(", ")
        )?;
    }
    for region in regions {
        let bucket = cfn::naming::staging_bucket(region, &account);
        let s3 = aws::s3(region, &args.target).await;
        let outcome = ensure(&s3, &bucket, region, &account)
            .await
            .with_context(|| format!("bootstrap of {region} stopped at s3://{bucket}"))?;
        if args.json {
            let repaired = outcome.repaired();
            let word = match outcome {
                Outcome::Created => "created",
                Outcome::Exists => "exists",
                Outcome::Repaired(_) => "repaired",
            };
            let line =
                json!({"region": region, "bucket": bucket, "outcome": word, "repaired": repaired});
            writeln!(out, "{line}")?;
            continue;
        }
        let said = match outcome {
            Outcome::Created => format!(
                "created: versioned, SSE-S3, public access blocked, TLS only, templates expire after {TEMPLATE_DAYS} days"
            ),
            Outcome::Exists => "already exists with every setting: nothing changed".to_string(),
            Outcome::Repaired(_) => format!(
                "already exists; put back what was missing: {}",
                outcome.repaired().join(", ")
            ),
        };
        writeln!(out, "{region:<10} s3://{bucket}  {said}")?;
    }
    Ok(())
}

/// Whether `bucket` exists in `account`, is missing, or is not ours to use.
pub async fn presence(s3: &Client, bucket: &str, region: &str, account: &str) -> Result<Presence> {
    match s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(account)
        .send()
        .await
    {
        Ok(head) => {
            if let Some(actual) = head.bucket_region()
                && actual != region
            {
                bail!("bucket {bucket} exists in {actual}, not in {region}");
            }
            Ok(Presence::Ours)
        }
        Err(e) => {
            if e.as_service_error().is_some_and(|s| s.is_not_found()) {
                return Ok(Presence::Missing);
            }
            if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) {
                return Ok(Presence::Forbidden);
            }
            bail!("cannot check bucket {bucket}: {}", describe_error(&e))
        }
    }
}

/// Makes `bucket` in `region` when missing and puts every [`Setting`] in place that is not.
pub async fn ensure(s3: &Client, bucket: &str, region: &str, account: &str) -> Result<Outcome> {
    let created = match presence(s3, bucket, region, account).await? {
        Presence::Ours => false,
        Presence::Missing => create(s3, bucket, region).await?,
        Presence::Forbidden => bail!(
            "the name is taken by another account, or these credentials may not read it (403). Check the credentials' account, or deploy with --staging-bucket BUCKET naming a bucket of yours"
        ),
    };
    let mut repaired = Vec::new();
    for setting in Setting::ALL {
        if !holds(s3, bucket, setting).await? {
            apply(s3, bucket, setting).await?;
            repaired.push(setting);
        }
    }
    Ok(if created {
        Outcome::Created
    } else if repaired.is_empty() {
        Outcome::Exists
    } else {
        Outcome::Repaired(repaired)
    })
}

/// Creates the bucket with ACLs disabled; false when another run made it first.
async fn create(s3: &Client, bucket: &str, region: &str) -> Result<bool> {
    let mut request = s3
        .create_bucket()
        .bucket(bucket)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is S3's default location and refuses to be named as a constraint.
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(false),
        Err(e) if e.code() == Some("BucketAlreadyExists") => bail!(
            "the name is taken by another account: deploy with --staging-bucket BUCKET naming a bucket of yours"
        ),
        Err(e) => bail!("cannot create the bucket: {}", describe_error(&e)),
    }
}

/// The error codes S3 answers when a configuration was never set.
const NOT_SET: [&str; 4] = [
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
];

/// A read's result, with "never set" as `None`.
fn unset<T, E>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    what: &str,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code().is_some_and(|c| NOT_SET.contains(&c)) => Ok(None),
        Err(e) => bail!("cannot read the {what}: {}", describe_error(&e)),
    }
}

/// Whether `setting` is in place on `bucket`.
async fn holds(s3: &Client, bucket: &str, setting: Setting) -> Result<bool> {
    let what = setting.as_str();
    Ok(match setting {
        Setting::Versioning => {
            let got = unset(s3.get_bucket_versioning().bucket(bucket).send().await, what)?;
            got.and_then(|v| v.status().cloned()) == Some(BucketVersioningStatus::Enabled)
        }
        Setting::Encryption => {
            let got = unset(s3.get_bucket_encryption().bucket(bucket).send().await, what)?;
            got.and_then(|g| g.server_side_encryption_configuration().cloned())
                .is_some_and(|c| {
                    c.rules()
                        .iter()
                        .any(|r| r.apply_server_side_encryption_by_default().is_some())
                })
        }
        Setting::PublicAccessBlock => {
            let got = unset(
                s3.get_public_access_block().bucket(bucket).send().await,
                what,
            )?;
            got.and_then(|g| g.public_access_block_configuration().cloned())
                .is_some_and(|c| {
                    [
                        c.block_public_acls(),
                        c.ignore_public_acls(),
                        c.block_public_policy(),
                        c.restrict_public_buckets(),
                    ]
                    .iter()
                    .all(|b| *b == Some(true))
                })
        }
        Setting::TlsOnly => {
            let policy = policy(s3, bucket).await?;
            statements(&policy)
                .iter()
                .any(|s| s["Sid"] == TLS_STATEMENT)
        }
        Setting::Expiry => {
            let rules = lifecycle(s3, bucket).await?;
            [EXPIRE_RULE, MARKER_RULE].iter().all(|id| {
                rules
                    .iter()
                    .any(|r| r.id() == Some(*id) && r.status() == &ExpirationStatus::Enabled)
            })
        }
    })
}

/// Puts `setting` in place on `bucket`, keeping what else the policy or lifecycle holds.
async fn apply(s3: &Client, bucket: &str, setting: Setting) -> Result<()> {
    let what = setting.as_str();
    let failed = |e: String| anyhow::anyhow!("cannot set the {what}: {e}");
    match setting {
        Setting::Versioning => {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| failed(describe_error(&e)))?;
        }
        Setting::Encryption => {
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?;
            let rule = ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build();
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(rule)
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| failed(describe_error(&e)))?;
        }
        Setting::PublicAccessBlock => {
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| failed(describe_error(&e)))?;
        }
        Setting::TlsOnly => {
            let mut policy = policy(s3, bucket).await?;
            let kept: Vec<Value> = statements(&policy)
                .into_iter()
                .filter(|s| s["Sid"] != TLS_STATEMENT)
                .collect();
            policy["Version"] = json!("2012-10-17");
            policy["Statement"] = Value::Array(
                kept.into_iter()
                    .chain([tls_only_statement(bucket)])
                    .collect(),
            );
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(policy.to_string())
                .send()
                .await
                .map_err(|e| failed(describe_error(&e)))?;
        }
        Setting::Expiry => {
            let mut rules: Vec<LifecycleRule> = lifecycle(s3, bucket)
                .await?
                .into_iter()
                .filter(|r| !matches!(r.id(), Some(EXPIRE_RULE | MARKER_RULE)))
                .collect();
            rules.extend(expiry_rules()?);
            s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .set_rules(Some(rules))
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| failed(describe_error(&e)))?;
        }
    }
    Ok(())
}

/// The bucket policy as JSON (an empty object when there is none).
async fn policy(s3: &Client, bucket: &str) -> Result<Value> {
    let got = unset(
        s3.get_bucket_policy().bucket(bucket).send().await,
        "bucket policy",
    )?;
    match got.and_then(|g| g.policy().map(String::from)) {
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("the policy of bucket {bucket} is not JSON")),
        None => Ok(json!({})),
    }
}

/// A policy's statements (a single statement object counts as one).
fn statements(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    }
}

/// The statement that refuses every request made without TLS.
pub fn tls_only_statement(bucket: &str) -> Value {
    json!({
        "Sid": TLS_STATEMENT,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

/// The bucket's lifecycle rules (none when it has no configuration).
async fn lifecycle(s3: &Client, bucket: &str) -> Result<Vec<LifecycleRule>> {
    let got = unset(
        s3.get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await,
        "lifecycle configuration",
    )?;
    Ok(got.map(|g| g.rules().to_vec()).unwrap_or_default())
}

/// Templates expire [`TEMPLATE_DAYS`] after upload and their noncurrent versions as long after
/// that; unfinished uploads go after a day; the delete markers expiry leaves are removed.
fn expiry_rules() -> Result<[LifecycleRule; 2]> {
    let everything = || LifecycleRuleFilter::builder().prefix("").build();
    Ok([
        LifecycleRule::builder()
            .id(EXPIRE_RULE)
            .status(ExpirationStatus::Enabled)
            .filter(everything())
            .expiration(LifecycleExpiration::builder().days(TEMPLATE_DAYS).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(TEMPLATE_DAYS)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(1)
                    .build(),
            )
            .build()?,
        LifecycleRule::builder()
            .id(MARKER_RULE)
            .status(ExpirationStatus::Enabled)
            .filter(everything())
            .expiration(
                LifecycleExpiration::builder()
                    .expired_object_delete_marker(true)
                    .build(),
            )
            .build()?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_statement_denies_every_request_without_tls_on_bucket_and_objects() {
        let s = tls_only_statement("b");
        assert_eq!(s["Effect"], "Deny");
        assert_eq!(s["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert_eq!(s["Resource"], json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]));
    }

    #[test]
    fn a_single_statement_object_counts_as_one() {
        assert_eq!(statements(&json!({"Statement": {"Sid": "x"}})).len(), 1);
        assert_eq!(statements(&json!({})).len(), 0);
    }

    #[test]
    fn expiry_never_touches_a_template_younger_than_the_retention() {
        let [expire, markers] = expiry_rules().unwrap();
        assert_eq!(expire.expiration().unwrap().days(), Some(TEMPLATE_DAYS));
        assert_eq!(
            expire
                .noncurrent_version_expiration()
                .unwrap()
                .noncurrent_days(),
            Some(TEMPLATE_DAYS)
        );
        assert_eq!(
            markers.expiration().unwrap().expired_object_delete_marker(),
            Some(true)
        );
        assert_eq!(markers.expiration().unwrap().days(), None);
    }
}
