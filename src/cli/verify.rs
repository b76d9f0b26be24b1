//! `deskmail verify`: every blob the database references is in the blob storage with its sha256; blobs nothing
//! references (orphans) are listed, and with `--prune` those older than a day removed. `--backup DIR` checks a
//! backup against its manifest instead.

use crate::db::Db;
use crate::platform::backup::{Check, Manifest, check_blob, file_sum};
use crate::platform::config::Settings;
use crate::platform::storage::BlobStore;
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Orphans younger than this are left alone: a blob is written before the transaction that references it commits.
pub const PRUNE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What `verify` found.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Referenced blobs checked.
    pub checked: usize,
    pub bytes: u64,
    /// Referenced (or listed in the manifest) but not there.
    pub missing: Vec<String>,
    /// There, but their bytes do not hash to their name (or a backup file does not match the manifest).
    pub corrupt: Vec<String>,
    /// In the storage dir, referenced by nothing.
    pub orphans: Vec<String>,
    /// Orphans removed by `--prune`.
    pub pruned: usize,
}

impl VerifyReport {
    /// Whether every referenced blob is there, whole.
    pub fn clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

/// Checks the storage dir against the database (see the module doc).
pub async fn verify(settings: &Settings, prune: bool, progress: bool) -> anyhow::Result<VerifyReport> {
    let db = Db::connect(&settings.database.url, 2).await.context("cannot open the database")?;
    // Referenced first, stored second: a blob committed in between shows as a young orphan, never as missing.
    let referenced = db.referenced_blobs().await?;
    db.close().await;
    let storage = BlobStore::from_settings(&settings.storage).context("cannot open the blob storage")?;
    tokio::task::spawn_blocking(move || {
        let mut report = check_all(&storage, referenced.iter().map(String::as_str), progress)?;
        let now = SystemTime::now();
        for blob in storage.list()? {
            if referenced.contains(&blob.sha256) {
                continue;
            }
            let old = now.duration_since(blob.modified).is_ok_and(|age| age > PRUNE_AFTER);
            if prune && old {
                storage.delete(&blob.sha256)?;
                report.pruned += 1;
            }
            report.orphans.push(blob.sha256);
        }
        Ok(report)
    })
    .await?
}

/// Checks a backup directory: the snapshot and secret against the manifest, every listed blob against its name.
pub async fn verify_backup(dir: &Path, progress: bool) -> anyhow::Result<VerifyReport> {
    let manifest = Manifest::read(dir).with_context(|| format!("cannot read the manifest in {}", dir.display()))?;
    let (dir, store) = (dir.to_path_buf(), BlobStore::open(dir)?);
    tokio::task::spawn_blocking(move || {
        let mut report = check_all(&store, manifest.blobs.iter().map(|b| b.sha256.as_str()), progress)?;
        for file in std::iter::once(&manifest.database).chain(manifest.secret.as_ref()) {
            match file_sum(&dir.join(&file.path)) {
                Ok((sum, _)) if sum == file.sha256 => {}
                Ok(_) => report.corrupt.push(file.path.clone()),
                Err(_) => report.missing.push(file.path.clone()),
            }
        }
        let listed: std::collections::BTreeSet<&str> = manifest.blobs.iter().map(|b| b.sha256.as_str()).collect();
        let stored = store.list()?;
        report.orphans = stored.into_iter().filter(|b| !listed.contains(b.sha256.as_str())).map(|b| b.sha256).collect();
        Ok(report)
    })
    .await?
}

fn check_all<'a>(
    store: &BlobStore,
    shas: impl ExactSizeIterator<Item = &'a str>,
    progress: bool,
) -> anyhow::Result<VerifyReport> {
    let bar = super::backup::progress_bar(shas.len() as u64, progress, "blobs");
    let mut report = VerifyReport::default();
    for sha in shas {
        match check_blob(store, sha)? {
            Check::Ok(size) => report.bytes += size,
            Check::Missing => report.missing.push(sha.to_string()),
            Check::Corrupt => report.corrupt.push(sha.to_string()),
        }
        report.checked += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(report)
}

/// Prints a report for people (or as JSON), one line per problem.
pub fn print(report: &VerifyReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
        return;
    }
    for sha in &report.missing {
        println!("missing  {sha}");
    }
    for sha in &report.corrupt {
        println!("damaged  {sha}");
    }
    for sha in &report.orphans {
        println!("orphan   {sha}");
    }
    println!(
        "checked {} blobs ({} bytes): {} missing, {} damaged, {} orphans ({} pruned)",
        report.checked,
        report.bytes,
        report.missing.len(),
        report.corrupt.len(),
        report.orphans.len(),
        report.pruned
    );
}

/// The `verify` command: exit 65 when a blob (or backup file) is missing or damaged.
pub async fn command(settings: &Settings, prune: bool, backup: Option<&Path>, json: bool) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    let progress = !json && std::io::stderr().is_terminal();
    let report = match backup {
        Some(dir) => verify_backup(dir, progress).await?,
        None => verify(settings, prune, progress).await?,
    };
    print(&report, json);
    Ok(if report.clean() { super::exit::OK } else { super::exit::DATA_ERR })
}
