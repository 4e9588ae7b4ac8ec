//! AWS clients for one region: the standard credential chain, and an optional endpoint URL for
//! a local emulator. Credentials are never printed.

use aws_config::{BehaviorVersion, Region, SdkConfig};
pub use xtask::online::Target;

/// The SDK configuration for `region`.
pub async fn sdk_config(region: &str, target: &Target) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// A CloudFormation client for `region`.
pub async fn cloudformation(region: &str, target: &Target) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&sdk_config(region, target).await)
}

/// An S3 client for `region` (path-style addressing against an emulator).
pub async fn s3(region: &str, target: &Target) -> aws_sdk_s3::Client {
    let config = sdk_config(region, target).await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(target.is_emulator())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// An AWS Backup client for `region`.
pub async fn backup(region: &str, target: &Target) -> aws_sdk_backup::Client {
    aws_sdk_backup::Client::new(&sdk_config(region, target).await)
}

/// An RDS client for `region`.
pub async fn rds(region: &str, target: &Target) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::new(&sdk_config(region, target).await)
}

/// A Route 53 client (a global service, reached through us-east-1).
pub async fn route53(target: &Target) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&sdk_config("us-east-1", target).await)
}

/// The account the credentials belong to (STS GetCallerIdentity), asked in the first of
/// `regions` that answers, so that one region being down does not stop the command.
pub async fn account_id(regions: &[&str], target: &Target) -> anyhow::Result<String> {
    let mut failures = Vec::new();
    for region in regions {
        let sts = aws_sdk_sts::Client::new(&sdk_config(region, target).await);
        match sts.get_caller_identity().send().await {
            Ok(identity) => {
                if let Some(account) = identity.account() {
                    return Ok(account.to_string());
                }
                failures.push(format!("{region}: STS named no account"));
            }
            Err(e) => failures.push(format!("{region}: {}", describe_error(&e))),
        }
    }
    anyhow::bail!(
        "cannot tell which AWS account the credentials belong to (STS GetCallerIdentity): {}",
        failures.join("; ")
    )
}

/// The message of an SDK error: the service's code and message when it answered, else the
/// transport problem (no credentials, no connection, …).
pub fn describe_error<E>(
    err: &aws_sdk_cloudformation::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> String
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_cloudformation::error::SdkError;
    match err {
        SdkError::ServiceError(context) => {
            let e = context.err();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => format!(
                    "the service answered HTTP {} without an error code",
                    context.raw().status().as_u16()
                ),
            }
        }
        other => {
            let mut s = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(inner) = source {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                source = inner.source();
            }
            s
        }
    }
}
