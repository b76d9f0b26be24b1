//! Content-addressed storage for raw mail and attachments: files under the storage dir, or objects in an
//! S3-compatible bucket (`storage.url`) that several instances on several machines share.
//!
//! The calls block (file IO, or a request waited for on the runtime): callers run them on blocking threads
//! (`tokio::task::spawn_blocking`), never on the async workers.

mod dir;
mod s3;

use crate::platform::config::StorageSettings;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::SystemTime;

pub use dir::DirBlobs;
pub use s3::{S3Blobs, parse_s3_url};

/// Where blobs live; cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Dir(DirBlobs),
    S3(Arc<S3Blobs>),
}

/// A blob found in the store: its name and when it was written.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub sha256: String,
    pub modified: SystemTime,
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Refuses anything but a hex digest, so a name never leaves the blob folders.
fn check_digest(sha256: &str) -> std::io::Result<()> {
    if sha256.len() < 4 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a sha256"));
    }
    Ok(())
}

impl BlobStore {
    /// Files under `dir/blobs` (created when missing).
    pub fn open(dir: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self { inner: Inner::Dir(DirBlobs::open(dir)?) })
    }

    /// The store the settings name: the bucket of `storage.url` when set, else the storage dir. A bucket needs a
    /// Tokio runtime (its requests run on it).
    pub fn from_settings(settings: &StorageSettings) -> std::io::Result<Self> {
        match settings.url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => Ok(Self { inner: Inner::S3(Arc::new(S3Blobs::open(url, settings)?)) }),
            None => Self::open(&settings.dir),
        }
    }

    /// The path relative to the storage dir (or the bucket prefix), as recorded in the database.
    pub fn relative_path(sha256: &str) -> String {
        format!("blobs/{}/{sha256}", &sha256[..2])
    }

    /// Writes `bytes` under its digest (a file already there whole is kept). Not durable until [`Self::sync`].
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        match &self.inner {
            Inner::Dir(d) => d.put(sha256, bytes),
            Inner::S3(s) => s.put(sha256, bytes),
        }
    }

    /// Makes every blob written so far durable (a bucket's writes already are when they return).
    pub fn sync(&self) -> std::io::Result<()> {
        match &self.inner {
            Inner::Dir(d) => d.sync(),
            Inner::S3(_) => Ok(()),
        }
    }

    /// Reads a blob back (`NotFound` when it is not there).
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        match &self.inner {
            Inner::Dir(d) => d.get(sha256),
            Inner::S3(s) => s.get(sha256),
        }
    }

    /// The size of a stored blob, `None` when it is not there.
    pub fn size(&self, sha256: &str) -> std::io::Result<Option<u64>> {
        match &self.inner {
            Inner::Dir(d) => d.size(sha256),
            Inner::S3(s) => s.size(sha256),
        }
    }

    /// Removes a blob; `Ok(false)` when it was not there. The caller makes sure no row references it any more.
    /// Not durable until [`Self::sync`].
    pub fn delete(&self, sha256: &str) -> std::io::Result<bool> {
        match &self.inner {
            Inner::Dir(d) => d.delete(sha256),
            Inner::S3(s) => s.delete(sha256),
        }
    }

    /// Every stored blob.
    pub fn list(&self) -> std::io::Result<Vec<StoredBlob>> {
        match &self.inner {
            Inner::Dir(d) => d.list(),
            Inner::S3(s) => s.list(),
        }
    }

    /// Where the blobs are, for messages: a folder or `s3://bucket/prefix`.
    pub fn location(&self) -> String {
        match &self.inner {
            Inner::Dir(d) => d.location(),
            Inner::S3(s) => s.location(),
        }
    }
}
