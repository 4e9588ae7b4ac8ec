//! The audit trail of the account's API activity: one multi-region CloudTrail trail per
//! environment, in the primary region, with log file validation (a signed digest every hour, so
//! a deleted or altered log file is detected), encrypted with the region's key, delivered to the
//! audit bucket that `storage` makes (versioned, access-logged, replicated to the secondary).
//! When the organisation already records every account with its own trail, the environment adds
//! none (`audit.organization_trail`), and says so.
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let fragment = audit::trail(&audit::TrailProps::new(
//!     Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
//!     Expr::from("audit-qa-us-east-1-111122223333"),
//!     Expr::from("arn:aws:kms:us-east-1:111122223333:key/1"),
//! ))?;
//! assert_eq!(fragment.resources().len(), 1);
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::cloudtrail;
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, LogicalId};

/// The trail's logical id.
pub const TRAIL: &str = "AuditTrail";

/// Properties of the trail.
#[derive(Clone, Debug)]
pub struct TrailProps {
    /// Names the trail (`audit-<suffix>`). Required.
    pub namer: Namer,
    /// The bucket the logs go to (its name). Required.
    pub bucket: Expr,
    /// The key that encrypts the log files. Required.
    pub key_arn: Expr,
    /// The logical id of the bucket's policy, which must exist before the trail (CloudTrail
    /// checks it can write). Default: `AuditBucketPolicy`.
    pub bucket_policy: String,
}

impl TrailProps {
    /// Props with the defaults.
    pub fn new(namer: Namer, bucket: Expr, key_arn: Expr) -> Self {
        TrailProps {
            namer,
            bucket,
            key_arn,
            bucket_policy: "AuditBucketPolicy".into(),
        }
    }
}

/// The ARN of the environment's trail in the namer's region, for the bucket policy's
/// `aws:SourceArn` (the trail cannot be referred to before it exists, and must not exist before
/// the policy).
pub fn trail_arn(namer: &Namer) -> Expr {
    cfn::arn::Arn::new(
        "cloudtrail",
        format!("trail/{}", namer.name(&naming::AUDIT_TRAIL, None)),
    )
    .expr()
}

/// The trail: every region, management events, global service events, validated, encrypted.
pub fn trail(props: &TrailProps) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    let id = LogicalId::new(TRAIL)?;
    f.add(
        id.clone(),
        cloudtrail::Trail::new()
            .trail_name(props.namer.name(&naming::AUDIT_TRAIL, None))
            .s3_bucket_name(props.bucket.clone())
            .is_logging(true)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .enable_log_file_validation(true)
            .kms_key_id(props.key_arn.clone()),
    )?;
    if let Ok(policy) = LogicalId::new(&props.bucket_policy) {
        f.depends_on(&id, &policy);
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::assert_has_resource_properties;
    use serde_json::json;

    #[test]
    fn the_trail_records_every_region_validated_and_encrypted() {
        let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-1");
        let f = trail(&TrailProps::new(
            namer.clone(),
            Expr::from("audit-bucket"),
            Expr::from("arn:aws:kms:us-east-1:1:key/a"),
        ))
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::CloudTrail::Trail",
            json!({"TrailName": "audit-qa", "IsMultiRegionTrail": true, "EnableLogFileValidation": true,
                   "IncludeGlobalServiceEvents": true, "IsLogging": true,
                   "KMSKeyId": "arn:aws:kms:us-east-1:1:key/a", "S3BucketName": "audit-bucket"}),
        );
        assert_eq!(
            t["Resources"][TRAIL]["DependsOn"],
            json!(["AuditBucketPolicy"])
        );
        assert_eq!(
            trail_arn(&namer).to_json(),
            json!({"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/audit-qa"})
        );
    }
}
