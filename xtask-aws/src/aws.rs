//! AWS clients for one region: the standard credential chain, and an optional endpoint URL for
//! a local emulator. Credentials are never printed.

use aws_config::{BehaviorVersion, Region, SdkConfig};
pub use xtask::online::Target;

/// The SDK configuration for `region`, loaded once per region and endpoint for the process:
/// every client of a region then shares one credential chain and its cache, so credentials are
/// resolved (files read, SSO or STS asked) once, not once per client.
pub async fn sdk_config(region: &str, target: &Target) -> SdkConfig {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Key = (String, Option<String>);
    static LOADED: OnceLock<Mutex<HashMap<Key, SdkConfig>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    let key = (region.to_string(), target.endpoint_url.clone());
    if let Some(config) = loaded.lock().expect("not poisoned").get(&key) {
        return config.clone();
    }
    // Standard retries with more attempts than the SDK's three: CloudFormation, Step Functions
    // and RDS throttle polling callers, and a watch loop must not end on a burst of throttling
    // (back-off is exponential with jitter, capped at 20 s by the SDK).
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(6));
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    loaded
        .lock()
        .expect("not poisoned")
        .entry(key)
        .or_insert(config)
        .clone()
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

/// An SSM client for `region`.
pub async fn ssm(region: &str, target: &Target) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config(region, target).await)
}

/// A CloudWatch client for `region`.
pub async fn cloudwatch(region: &str, target: &Target) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&sdk_config(region, target).await)
}

/// A DynamoDB client for `region`.
pub async fn dynamodb(region: &str, target: &Target) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(region, target).await)
}

/// An ECS client for `region`.
pub async fn ecs(region: &str, target: &Target) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(region, target).await)
}

/// A Step Functions client for `region`.
pub async fn sfn(region: &str, target: &Target) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&sdk_config(region, target).await)
}

/// A Route 53 client (a global service, reached through us-east-1).
pub async fn route53(target: &Target) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&sdk_config("us-east-1", target).await)
}

/// How long a region may take to answer the first call of a command before it counts as
/// unreachable.
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether CloudFormation in `region` answers (any answer, even "no such stack", counts), with
/// one attempt bounded by [`PROBE_TIMEOUT`]; the transport problem when it does not.
pub async fn probe(region: &str, stack: &str, target: &Target) -> Result<(), String> {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    let config = sdk_config(region, target).await;
    let conf = aws_sdk_cloudformation::config::Builder::from(&config)
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(PROBE_TIMEOUT)
                .operation_timeout(PROBE_TIMEOUT)
                .build(),
        )
        .build();
    let client = aws_sdk_cloudformation::Client::from_conf(conf);
    match client.describe_stacks().stack_name(stack).send().await {
        Ok(_) => Ok(()),
        Err(aws_sdk_cloudformation::error::SdkError::ServiceError(_)) => Ok(()),
        Err(e) => Err(describe_error(&e)),
    }
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

/// What to set when no credentials are found.
pub const CREDENTIALS_HINT: &str = "set AWS_PROFILE to a profile in ~/.aws/config (run `aws sso login --profile NAME` first for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials)";

/// What to do when credentials have expired.
pub const EXPIRED_HINT: &str = "run `aws sso login` again for an SSO profile, or get new temporary credentials, then run this again";

/// Checks, before anything else, that the standard chain yields credentials that have not
/// expired; the error is one line saying what to set instead of the SDK's dispatch failure.
pub async fn check_credentials(region: &str, target: &Target) -> anyhow::Result<()> {
    use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
    let config = sdk_config(region, target).await;
    let Some(provider) = config.credentials_provider() else {
        anyhow::bail!("no AWS credentials found: {CREDENTIALS_HINT}");
    };
    match provider.provide_credentials().await {
        Ok(credentials) => {
            if let Some(expiry) = credentials.expiry()
                && expiry <= std::time::SystemTime::now()
            {
                anyhow::bail!("the AWS credentials have expired: {EXPIRED_HINT}");
            }
            Ok(())
        }
        Err(e) => {
            let detail = chain(&e);
            if detail.to_ascii_lowercase().contains("expired") {
                anyhow::bail!("the AWS credentials have expired ({detail}): {EXPIRED_HINT}");
            }
            match e {
                CredentialsError::CredentialsNotLoaded(_) => match std::env::var("AWS_PROFILE") {
                    Ok(profile) => anyhow::bail!(
                        "no AWS credentials found for AWS_PROFILE={profile} (is it in ~/.aws/config?): {CREDENTIALS_HINT}"
                    ),
                    Err(_) => anyhow::bail!("no AWS credentials found: {CREDENTIALS_HINT}"),
                },
                _ => anyhow::bail!("cannot load AWS credentials ({detail}): {CREDENTIALS_HINT}"),
            }
        }
    }
}

/// An error and its sources, `: `-separated.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Error codes AWS services answer for expired credentials.
const EXPIRED_CODES: [&str; 3] = [
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
];

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
                (Some(code), _) if EXPIRED_CODES.contains(&code) => {
                    format!("the AWS credentials have expired ({code}): {EXPIRED_HINT}")
                }
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => format!(
                    "the service answered HTTP {} without an error code",
                    context.raw().status().as_u16()
                ),
            }
        }
        other => {
            let s = chain(other);
            if s.contains("credentials") {
                format!("no usable AWS credentials ({s}): {CREDENTIALS_HINT}")
            } else {
                s
            }
        }
    }
}
