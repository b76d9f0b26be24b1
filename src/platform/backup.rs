//! The files of a backup: its manifest, and copying, checking and listing content-addressed blobs.
//!
//! A backup directory holds `manifest.json`, the database snapshot (`deskmail.sqlite` or `deskmail.pgdump`), the
//! installation secret (`secret.key`, when it is a file) and `blobs/ab/{sha256}` like a storage dir.

use super::storage::BlobStore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The manifest's file name inside a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this build writes and reads.
pub const FORMAT: u32 = 1;

/// What a backup holds, with the sha256 of every file, so a restore (or `sha256sum`) can check each one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// Unix seconds when the database snapshot was taken.
    pub created_at: i64,
    pub deskmail_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The snapshot file (relative to the backup dir) and its sha256.
    pub database: FileSum,
    /// The installation secret's copy, when the secret is a file (a secret set in the config is not copied).
    pub secret: Option<FileSum>,
    /// Every blob the snapshot references, by sha256 (its file is `blobs/ab/{sha256}`).
    pub blobs: Vec<BlobSum>,
}

/// A file of the backup and the sha256 of its bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileSum {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// A blob and its size (its name is its sha256).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlobSum {
    pub sha256: String,
    pub size: u64,
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(dir.join(MANIFEST))?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
        if m.format != FORMAT {
            return Err(std::io::Error::other(format!("manifest format {} (this build reads {FORMAT})", m.format)));
        }
        Ok(m)
    }

    /// Writes `dir/manifest.json` through a temporary file and a rename, so a reader sees the old or the new one.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let tmp = dir.join(".manifest.json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(MANIFEST))?;
        sync_dir(dir)
    }
}

/// The sha256 (hex) and size of a file, read in chunks.
pub fn file_sum(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let (mut hasher, mut buf, mut size) = (Sha256::new(), vec![0u8; 1 << 16], 0u64);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((hex::encode(hasher.finalize()), size));
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

/// What became of one blob copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// Copied, and its bytes match its name.
    New(u64),
    /// Already in the target with the right size (an earlier backup into the same dir).
    Present(u64),
    /// Not in the source (deleted since the snapshot, e.g. by an erase).
    Missing,
    /// The source's bytes do not match their name: not copied.
    Corrupt,
}

/// Copies blob `sha256` from one store to another, checking its digest on the way; a target of the right size is
/// kept (incremental backups).
pub fn copy_blob(from: &BlobStore, to: &BlobStore, sha256: &str) -> std::io::Result<Copied> {
    let bytes = match from.get(sha256) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Copied::Missing),
        Err(e) => return Err(e),
    };
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Ok(Copied::Corrupt);
    }
    if to.size(sha256)? == Some(bytes.len() as u64) {
        return Ok(Copied::Present(bytes.len() as u64));
    }
    to.put(sha256, &bytes)?;
    Ok(Copied::New(bytes.len() as u64))
}

/// The state of one stored blob against its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Ok(u64),
    Missing,
    Corrupt,
}

/// Checks that blob `sha256` is in `store` and that its bytes hash to its name.
pub fn check_blob(store: &BlobStore, sha256: &str) -> std::io::Result<Check> {
    match store.get(sha256) {
        Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == sha256 => Ok(Check::Ok(bytes.len() as u64)),
        Ok(_) => Ok(Check::Corrupt),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Check::Missing),
        Err(e) => Err(e),
    }
}

/// Copies `from` to `to` through a temporary file, synced, then renamed; mode 0600.
pub fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    let tmp = to.with_extension("tmp-copy");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&tmp)?;
    std::io::copy(&mut std::fs::File::open(from)?, &mut out)?;
    out.sync_all()?;
    std::fs::rename(&tmp, to)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::storage::sha256_hex;

    #[test]
    fn blobs_copy_once_and_damage_is_seen() {
        let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (store, target) = (BlobStore::open(a.path()).unwrap(), BlobStore::open(b.path()).unwrap());
        let sha = sha256_hex(b"mail");
        store.put(&sha, b"mail").unwrap();
        assert_eq!(copy_blob(&store, &target, &sha).unwrap(), Copied::New(4));
        assert_eq!(copy_blob(&store, &target, &sha).unwrap(), Copied::Present(4));
        assert_eq!(check_blob(&target, &sha).unwrap(), Check::Ok(4));
        assert_eq!(copy_blob(&store, &target, &sha256_hex(b"gone")).unwrap(), Copied::Missing);
        std::fs::write(b.path().join(BlobStore::relative_path(&sha)), b"mall").unwrap();
        assert_eq!(check_blob(&target, &sha).unwrap(), Check::Corrupt);
        std::fs::write(a.path().join(BlobStore::relative_path(&sha)), b"mall").unwrap();
        let third = BlobStore::open(c.path()).unwrap();
        assert_eq!(copy_blob(&store, &third, &sha).unwrap(), Copied::Corrupt);
        let listed = target.list().unwrap();
        assert_eq!(listed.iter().map(|s| s.sha256.as_str()).collect::<Vec<_>>(), [sha.as_str()]);
    }

    #[test]
    fn a_manifest_round_trips_and_a_foreign_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            format: FORMAT,
            created_at: 1,
            deskmail_version: "0".into(),
            backend: "sqlite".into(),
            database: FileSum { path: "deskmail.sqlite".into(), sha256: "ab".into(), size: 2 },
            secret: None,
            blobs: vec![BlobSum { sha256: "cd".into(), size: 3 }],
        };
        m.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);
        Manifest { format: 99, ..m }.write(dir.path()).unwrap();
        assert!(Manifest::read(dir.path()).unwrap_err().to_string().contains("format 99"));
    }
}
