//! Emptying versioned buckets: CloudFormation cannot delete a bucket that holds objects, and in
//! a versioned bucket that means every version and every delete marker.

use anyhow::Result;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::aws::describe_error;

/// Deletes every object version and delete marker of `bucket`; returns how many were deleted.
/// A bucket that no longer exists counts as empty.
pub async fn empty(client: &Client, bucket: &str) -> Result<usize> {
    let mut deleted = 0;
    loop {
        let page = match client
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let message = describe_error(&e);
                if message.contains("NoSuchBucket") {
                    return Ok(deleted);
                }
                anyhow::bail!("cannot list versions in bucket {bucket}: {message}");
            }
        };
        let mut ids = Vec::new();
        for v in page.versions() {
            ids.push((v.key().unwrap_or_default(), v.version_id()));
        }
        for m in page.delete_markers() {
            ids.push((m.key().unwrap_or_default(), m.version_id()));
        }
        if ids.is_empty() {
            return Ok(deleted);
        }
        let objects = ids
            .iter()
            .map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(*key)
                    .set_version_id(version.map(String::from))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let count = objects.len();
        let result = client
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot delete versions in bucket {bucket}: {}",
                    describe_error(&e)
                )
            })?;
        if let Some(first) = result.errors().first() {
            anyhow::bail!(
                "bucket {bucket}: {} versions could not be deleted, the first {:?}: {}",
                result.errors().len(),
                first.key().unwrap_or_default(),
                first.message().unwrap_or_default()
            );
        }
        deleted += count;
    }
}
