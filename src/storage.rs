//! Content-addressed file storage for raw mail and attachments, synced once per batch.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files named by the sha256 of their bytes under `{storage.dir}/blobs/ab/…` (256 folders: few directory creations).
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore {
    /// A store under `dir` (created when missing).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let root = dir.join("blobs");
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The path relative to the storage dir, as recorded in the database.
    pub fn relative_path(sha256: &str) -> String {
        format!("blobs/{}/{sha256}", &sha256[..2])
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Writes `bytes` under its digest unless it is already there. Not durable until [`Self::sync`].
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(sha256);
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().expect("blob paths have a parent");
        std::fs::create_dir_all(dir)?;
        // A unique temporary name, then rename: readers never see a half-written blob.
        let tmp = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        drop(file);
        std::fs::rename(&tmp, &path)
    }

    /// Makes every blob written so far durable: one `syncfs` for the whole batch.
    pub fn sync(&self) -> std::io::Result<()> {
        let dir = std::fs::File::open(&self.root)?;
        sync_filesystem(&dir)
    }

    /// Reads a blob back.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if sha256.len() < 4 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a sha256"));
        }
        std::fs::read(self.path(sha256))
    }
}

#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is valid for the lifetime of `dir`.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(dir: &std::fs::File) -> std::io::Result<()> {
    dir.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let sha = sha256_hex(b"hello");
        store.put(&sha, b"hello").unwrap();
        store.put(&sha, b"hello").unwrap();
        store.sync().unwrap();
        assert_eq!(store.get(&sha).unwrap(), b"hello");
        assert!(dir.path().join(BlobStore::relative_path(&sha)).is_file());
        assert!(store.get("../../etc/passwd").is_err());
    }
}
