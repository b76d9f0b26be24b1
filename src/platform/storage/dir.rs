//! Blobs as files under the storage dir, synced once per batch.

use super::{StoredBlob, check_digest};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files named by the sha256 of their bytes under `{storage.dir}/blobs/ab/…` (256 folders: few directory creations).
/// Mail is private: files are created 0600 and folders 0700.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: PathBuf,
    /// Held open for the store's life: `syncfs` reports the file system's writeback errors that happened since this
    /// handle was opened, so one opened per sync could miss a failure of an earlier asynchronous writeback.
    root_handle: Arc<std::fs::File>,
}

impl DirBlobs {
    /// A store under `dir` (created when missing).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let root = dir.join("blobs");
        create_private_dir(&root)?;
        let root_handle = Arc::new(std::fs::File::open(&root)?);
        Ok(Self { root, root_handle })
    }

    /// The blob folder, for messages.
    pub fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Writes `bytes` under its digest unless it is already there whole. Not durable until [`Self::sync`].
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        check_digest(sha256)?;
        let path = self.path(sha256);
        // A blob of the right size is this content; a shorter one (a write cut off by a crash before any commit
        // referenced it) is replaced.
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(());
        }
        let dir = path.parent().expect("blob paths have a parent");
        create_private_dir(dir)?;
        // A unique temporary name, then rename: readers never see a half-written blob.
        let tmp = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = write_private(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Makes every blob written so far durable: one `syncfs` for the whole batch.
    pub fn sync(&self) -> std::io::Result<()> {
        sync_filesystem(&self.root_handle)
    }

    /// Reads a blob back.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        check_digest(sha256)?;
        std::fs::read(self.path(sha256))
    }

    /// The size of a stored blob, `None` when it is not there.
    pub fn size(&self, sha256: &str) -> std::io::Result<Option<u64>> {
        check_digest(sha256)?;
        match std::fs::metadata(self.path(sha256)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every blob file (temporary files of unfinished writes are skipped).
    pub fn list(&self) -> std::io::Result<Vec<StoredBlob>> {
        let mut out = Vec::new();
        for folder in std::fs::read_dir(&self.root)? {
            let folder = folder?;
            if !folder.file_type()?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(folder.path())? {
                let file = file?;
                let name = file.file_name().to_string_lossy().into_owned();
                if check_digest(&name).is_ok() && name.len() == 64 {
                    out.push(StoredBlob { sha256: name, modified: file.metadata()?.modified()? });
                }
            }
        }
        Ok(out)
    }

    /// Removes a blob; `Ok(false)` when it was not there. The caller makes sure no row references it any more.
    /// Not durable until [`Self::sync`].
    pub fn delete(&self, sha256: &str) -> std::io::Result<bool> {
        check_digest(sha256)?;
        match std::fs::remove_file(self.path(sha256)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` (0600) with `bytes`; a failing `close` (quota or space on network file systems) is an error.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    close(file)
}

#[cfg(unix)]
fn close(file: std::fs::File) -> std::io::Result<()> {
    use std::os::fd::IntoRawFd;
    let fd = file.into_raw_fd();
    // SAFETY: `fd` was just taken out of the `File`, so it is open and closed exactly once, here.
    let rc = unsafe { libc::close(fd) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(unix))]
fn close(file: std::fs::File) -> std::io::Result<()> {
    drop(file);
    Ok(())
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
    use super::super::{BlobStore, sha256_hex};

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

    #[test]
    fn a_deleted_blob_is_gone_and_deleting_twice_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (keep, gone) = (sha256_hex(b"keep"), sha256_hex(b"gone"));
        store.put(&keep, b"keep").unwrap();
        store.put(&gone, b"gone").unwrap();
        assert!(store.delete(&gone).unwrap());
        assert!(!store.delete(&gone).unwrap(), "already gone");
        store.sync().unwrap();
        assert_eq!(store.get(&gone).unwrap_err().kind(), std::io::ErrorKind::NotFound);
        assert_eq!(store.get(&keep).unwrap(), b"keep");
        assert!(store.delete("../../etc/passwd").is_err());
        assert!(store.delete("ab").is_err());
    }

    #[test]
    fn a_cut_off_blob_is_rewritten_and_blobs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let sha = sha256_hex(b"hello world");
        let path = dir.path().join(BlobStore::relative_path(&sha));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"hello").unwrap();
        store.put(&sha, b"hello world").unwrap();
        assert_eq!(store.get(&sha).unwrap(), b"hello world");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let folder = std::fs::metadata(dir.path().join("blobs")).unwrap().permissions().mode() & 0o777;
        assert_eq!(folder, 0o700);
    }
}
