//! Blobs as objects in an S3-compatible bucket (AWS, MinIO, Ceph, R2) through the `object_store` crate; each call
//! waits for its request on the runtime, with a timeout.

use super::{BlobStore, StoredBlob, check_digest};
use crate::platform::config::StorageSettings;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::io::{Error, ErrorKind};
use std::time::Duration;

/// A bucket and key prefix, with the runtime its requests run on.
#[derive(Debug)]
pub struct S3Blobs {
    store: Box<dyn ObjectStore>,
    bucket: String,
    /// Empty, or ending in `/`.
    prefix: String,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
}

/// Splits `s3://bucket/prefix` into the bucket and the key prefix (empty, or ending in `/`).
pub fn parse_s3_url(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| format!("{url:?} is not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("{url:?} names no bucket"));
    }
    let prefix = prefix.trim_matches('/');
    Ok((bucket.to_string(), if prefix.is_empty() { String::new() } else { format!("{prefix}/") }))
}

impl S3Blobs {
    /// Connects to the bucket of `url` with the credentials of the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, …) and the endpoint, region and `allow_http` of `settings`.
    pub fn open(url: &str, settings: &StorageSettings) -> std::io::Result<Self> {
        let (bucket, prefix) = parse_s3_url(url).map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        if let Some(endpoint) = settings.endpoint.as_deref().filter(|e| !e.is_empty()) {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = settings.region.as_deref().filter(|r| !r.is_empty()) {
            builder = builder.with_region(region);
        }
        if settings.allow_http {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(Error::other)?;
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        Ok(Self { store: Box::new(store), bucket, prefix, runtime, timeout })
    }

    fn key(&self, sha256: &str) -> std::io::Result<ObjectPath> {
        check_digest(sha256)?;
        Ok(ObjectPath::from(format!("{}{}", self.prefix, BlobStore::relative_path(sha256))))
    }

    /// Runs one request on the runtime from this blocking thread, within the timeout.
    fn wait<T>(&self, what: &str, request: impl Future<Output = object_store::Result<T>>) -> std::io::Result<T> {
        match self.runtime.block_on(tokio::time::timeout(self.timeout, request)) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(object_store::Error::NotFound { path, .. })) => {
                Err(Error::new(ErrorKind::NotFound, format!("{path} is not in the bucket")))
            }
            Ok(Err(e)) => Err(Error::other(format!("{what} in s3://{}: {e}", self.bucket))),
            Err(_) => Err(Error::new(ErrorKind::TimedOut, format!("{what} in s3://{}: no answer", self.bucket))),
        }
    }

    /// Uploads `bytes`. No lookup first: the name is the content's digest, so writing an object again writes the
    /// same bytes, and a lookup would double the requests of every ingest batch.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let key = self.key(sha256)?;
        let payload = PutPayload::from(bytes.to_vec());
        self.wait("writing a blob", self.store.put(&key, payload)).map(|_| ())
    }

    /// Downloads a blob.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let key = self.key(sha256)?;
        let bytes = self.wait("reading a blob", async { self.store.get(&key).await?.bytes().await })?;
        Ok(bytes.to_vec())
    }

    /// The size of a stored object, `None` when there is none.
    pub fn size(&self, sha256: &str) -> std::io::Result<Option<u64>> {
        let key = self.key(sha256)?;
        match self.wait("looking up a blob", self.store.head(&key)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a blob; `false` when there was none.
    pub fn delete(&self, sha256: &str) -> std::io::Result<bool> {
        if self.size(sha256)?.is_none() {
            return Ok(false);
        }
        let key = self.key(sha256)?;
        self.wait("deleting a blob", self.store.delete(&key))?;
        Ok(true)
    }

    /// Every blob object under the prefix (other objects are ignored).
    pub fn list(&self) -> std::io::Result<Vec<StoredBlob>> {
        let prefix = ObjectPath::from(format!("{}blobs", self.prefix));
        let metas = self.wait("listing the blobs", self.store.list(Some(&prefix)).try_collect::<Vec<_>>())?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.to_string();
                let is_digest = name.len() == 64 && check_digest(&name).is_ok();
                is_digest.then(|| StoredBlob { sha256: name, modified: m.last_modified.into() })
            })
            .collect())
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_s3_url;

    #[test]
    fn an_s3_url_names_a_bucket_and_a_prefix() {
        assert_eq!(parse_s3_url("s3://mail"), Ok(("mail".into(), String::new())));
        assert_eq!(parse_s3_url("s3://mail/"), Ok(("mail".into(), String::new())));
        assert_eq!(parse_s3_url("s3://mail/desk/prod/"), Ok(("mail".into(), "desk/prod/".into())));
        assert!(parse_s3_url("s3:///x").is_err());
        assert!(parse_s3_url("https://mail").is_err());
    }
}
