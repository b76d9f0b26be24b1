//! `deskmail restore DIR`: a backup into an empty database and an empty blob storage (dir or bucket); every file is checked against
//! the manifest's sha256 before anything is written, and a non-empty target is refused.

use super::backup::{backend_name, secret_file};
use crate::db::{Backend, Db, backend_of};
use crate::platform::backup::{Copied, Manifest, copy_blob, copy_private, file_sum};
use crate::platform::config::Settings;
use crate::platform::storage::BlobStore;
use anyhow::{Context, bail};
use std::path::Path;

/// Why a restore did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The target already holds data: nothing was written.
    #[error("refusing to restore into a non-empty target: {0}")]
    NotEmpty(String),
    /// The backup is unreadable, of another backend, or a file does not match its sha256.
    #[error("the backup cannot be restored: {0}")]
    BadBackup(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// What a restore wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreReport {
    pub backend: String,
    pub blobs: usize,
    pub bytes: u64,
    pub secret: bool,
}

/// Restores the backup in `dir` into the database and storage dir of `settings`.
pub async fn restore(settings: &Settings, dir: &Path, progress: bool) -> Result<RestoreReport, RestoreError> {
    let manifest = Manifest::read(dir).map_err(|e| RestoreError::BadBackup(format!("{}: {e}", dir.display())))?;
    let backend = backend_of(&settings.database.url).map_err(anyhow::Error::from)?;
    if manifest.backend != backend_name(backend) {
        let msg = format!("a {} backup, and the configured database is {}", manifest.backend, backend_name(backend));
        return Err(RestoreError::BadBackup(msg));
    }
    check_sum(dir, &manifest.database.path, &manifest.database.sha256)?;
    if let Some(secret) = &manifest.secret {
        check_sum(dir, &secret.path, &secret.sha256)?;
    }
    refuse_non_empty(settings, backend, &manifest, dir).await?;
    let database = dir.join(&manifest.database.path);
    match backend {
        Backend::Sqlite => {
            let target = crate::db::backup::sqlite_file(&settings.database.url).context("no SQLite file in the URL")?;
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).context("cannot create the database's folder")?;
            }
            for leftover in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{leftover}", target.display()));
            }
            copy_private(&database, &target).context("cannot copy the database")?;
        }
        Backend::Postgres => pg_restore(&settings.database.url, &database).await?,
    }
    let (blobs, bytes) = restore_blobs(dir, settings, &manifest, progress).await?;
    let secret = match (&manifest.secret, secret_file(settings)) {
        (Some(s), Some(target)) if !target.exists() => {
            copy_private(&dir.join(&s.path), &target).context("cannot restore the secret file")?;
            true
        }
        _ => false,
    };
    // A backup of an older version is brought up to this one's schema.
    let db = Db::connect(&settings.database.url, 1).await.context("cannot open the restored database")?;
    db.migrate().await.context("cannot migrate the restored database")?;
    db.close().await;
    Ok(RestoreReport { backend: manifest.backend, blobs, bytes, secret })
}

fn check_sum(dir: &Path, file: &str, expected: &str) -> Result<(), RestoreError> {
    match file_sum(&dir.join(file)) {
        Ok((sum, _)) if sum == expected => Ok(()),
        Ok(_) => Err(RestoreError::BadBackup(format!("{file} does not match its sha256 in the manifest"))),
        Err(e) => Err(RestoreError::BadBackup(format!("{file}: {e}"))),
    }
}

/// Refuses a storage dir holding blobs, a database holding tables, or a different secret file.
async fn refuse_non_empty(
    settings: &Settings,
    backend: Backend,
    manifest: &Manifest,
    dir: &Path,
) -> Result<(), RestoreError> {
    let storage = BlobStore::from_settings(&settings.storage).context("cannot open the blob storage")?;
    let listed = tokio::task::spawn_blocking(move || storage.list().map(|l| (l.is_empty(), storage.location())));
    let (empty, location) = listed.await.map_err(anyhow::Error::from)?.context("cannot list the blob storage")?;
    if !empty {
        return Err(RestoreError::NotEmpty(format!("the blob storage {location} holds blobs")));
    }
    let tables = match backend {
        Backend::Sqlite => match crate::db::backup::sqlite_file(&settings.database.url).filter(|p| p.exists()) {
            Some(file) => {
                let mut conn = crate::db::backup::open_sqlite_read_only(&file).await.map_err(anyhow::Error::from)?;
                crate::db::backup::table_count(&mut conn, backend).await.map_err(anyhow::Error::from)?
            }
            None => 0,
        },
        Backend::Postgres => {
            let db = Db::connect(&settings.database.url, 1).await.context("cannot open the database")?;
            let empty = db.is_empty().await.map_err(anyhow::Error::from)?;
            db.close().await;
            i64::from(!empty)
        }
    };
    if tables > 0 {
        return Err(RestoreError::NotEmpty("the database holds tables".into()));
    }
    if let (Some(s), Some(target)) = (&manifest.secret, secret_file(settings)) {
        let differs = target.exists() && std::fs::read(&target).ok() != std::fs::read(dir.join(&s.path)).ok();
        if differs {
            return Err(RestoreError::NotEmpty(format!("{} holds another secret", target.display())));
        }
    }
    Ok(())
}

/// Copies every blob of the manifest into the storage dir, each checked against its sha256, then syncs once.
async fn restore_blobs(
    dir: &Path,
    settings: &Settings,
    manifest: &Manifest,
    progress: bool,
) -> Result<(usize, u64), RestoreError> {
    let source = BlobStore::open(dir).context("cannot open the backup's blobs")?;
    let target = BlobStore::from_settings(&settings.storage).context("cannot open the blob storage")?;
    let shas = manifest.blobs.clone();
    let copied = tokio::task::spawn_blocking(move || -> Result<(usize, u64), RestoreError> {
        let bar = super::backup::progress_bar(shas.len() as u64, progress, "blobs");
        let mut bytes = 0;
        for blob in &shas {
            match copy_blob(&source, &target, &blob.sha256).context("cannot copy a blob")? {
                Copied::New(size) | Copied::Present(size) => bytes += size,
                Copied::Missing => return Err(RestoreError::BadBackup(format!("blob {} is missing", blob.sha256))),
                Copied::Corrupt => return Err(RestoreError::BadBackup(format!("blob {} is damaged", blob.sha256))),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        target.sync().context("cannot sync the blob storage")?;
        Ok((shas.len(), bytes))
    });
    copied.await.map_err(anyhow::Error::from)?
}

/// Runs `pg_restore` of a custom-format dump into the (empty) database at `url`.
async fn pg_restore(url: &str, dump: &Path) -> anyhow::Result<()> {
    let (url, password) = crate::db::backup::split_password(url);
    let mut command = tokio::process::Command::new("pg_restore");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let status = command
        .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
        .arg(format!("--dbname={url}"))
        .arg(dump)
        .status()
        .await
        .context("cannot run pg_restore: on PostgreSQL the restore needs it (Debian: apt install postgresql-client)")?;
    if !status.success() {
        bail!("pg_restore failed ({status})");
    }
    Ok(())
}

/// The `restore` command: exit 64 for a non-empty target, 65 for a damaged or foreign backup.
pub async fn command(settings: &Settings, dir: &Path) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    match restore(settings, dir, std::io::stderr().is_terminal()).await {
        Ok(r) => {
            println!(
                "restored a {} backup: {} blobs ({} bytes), secret file: {}",
                r.backend, r.blobs, r.bytes, r.secret
            );
            Ok(super::exit::OK)
        }
        Err(RestoreError::Other(e)) => Err(e),
        Err(e @ RestoreError::NotEmpty(_)) => {
            eprintln!("deskmail: {e}");
            Ok(super::exit::USAGE)
        }
        Err(e @ RestoreError::BadBackup(_)) => {
            eprintln!("deskmail: {e}");
            Ok(super::exit::DATA_ERR)
        }
    }
}
