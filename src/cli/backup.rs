//! `deskmail backup DIR`: a consistent database snapshot plus every blob it references and a manifest of sha256
//! sums, taken while `serve` runs; into an existing DIR only new blobs are copied.

use crate::db::{Backend, Db};
use crate::platform::backup::{BlobSum, Copied, FORMAT, FileSum, Manifest, copy_blob, copy_private, file_sum};
use crate::platform::config::Settings;
use crate::platform::storage::BlobStore;
use anyhow::{Context, bail};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The snapshot's file name in a backup of each backend.
pub fn database_file(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "deskmail.sqlite",
        Backend::Postgres => "deskmail.pgdump",
    }
}

/// What a backup did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupReport {
    /// Blobs the snapshot references.
    pub referenced: usize,
    /// Copied in this run (the rest were already in DIR from an earlier backup).
    pub copied: usize,
    pub copied_bytes: u64,
    /// Blobs of an earlier backup in DIR that the snapshot no longer references (erased since), removed.
    pub removed: usize,
    /// Referenced but not in the storage dir (deleted since the snapshot, or lost: `deskmail verify` tells).
    pub missing: Vec<String>,
    /// In the storage dir with bytes that do not match their name: not copied.
    pub corrupt: Vec<String>,
}

/// Takes a backup of the running installation into `dir` (created when missing).
pub async fn backup(settings: &Settings, dir: &Path, progress: bool) -> anyhow::Result<BackupReport> {
    create_private_dir(dir)?;
    let db = Db::connect(&settings.database.url, 2).await.context("cannot open the database")?;
    let file = database_file(db.backend());
    let tmp = dir.join(format!(".{file}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let created_at = crate::domain::now();
    let referenced = match db.backend() {
        Backend::Sqlite => {
            db.vacuum_into(&tmp).await.context("cannot snapshot the SQLite database")?;
            let mut conn = crate::db::backup::open_sqlite_read_only(&tmp).await?;
            let referenced = crate::db::backup::referenced_blobs(&mut conn).await?;
            sqlx::Connection::close(conn).await?;
            referenced
        }
        Backend::Postgres => {
            let mut snapshot = db.pg_snapshot().await.context("cannot open a PostgreSQL snapshot")?;
            let referenced = snapshot.referenced().await?;
            pg_dump(&settings.database.url, &snapshot.id, &tmp).await?;
            drop(snapshot);
            referenced
        }
    };
    let storage = BlobStore::from_settings(&settings.storage).context("cannot open the blob storage")?;
    let target = BlobStore::open(dir)?;
    let (report, blobs) =
        tokio::task::spawn_blocking(move || copy_blobs(&storage, &target, &referenced, progress)).await??;
    std::fs::rename(&tmp, dir.join(file))?;
    let (sha256, size) = file_sum(&dir.join(file))?;
    let manifest = Manifest {
        format: FORMAT,
        created_at,
        deskmail_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: backend_name(db.backend()).to_string(),
        database: FileSum { path: file.to_string(), sha256, size },
        secret: copy_secret(settings, dir)?,
        blobs,
    };
    manifest.write(dir)?;
    db.close().await;
    Ok(report)
}

/// `sqlite` or `postgres`, as the manifest names a backend.
pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Copies every referenced blob not yet in `dir`, then removes the ones of an earlier backup no longer referenced.
fn copy_blobs(
    storage: &BlobStore,
    target: &BlobStore,
    referenced: &BTreeSet<String>,
    progress: bool,
) -> std::io::Result<(BackupReport, Vec<BlobSum>)> {
    let bar = progress_bar(referenced.len() as u64, progress, "blobs");
    let mut report = BackupReport { referenced: referenced.len(), ..Default::default() };
    let mut blobs = Vec::with_capacity(referenced.len());
    for sha in referenced {
        match copy_blob(storage, target, sha)? {
            Copied::New(size) => {
                report.copied += 1;
                report.copied_bytes += size;
                blobs.push(BlobSum { sha256: sha.clone(), size });
            }
            Copied::Present(size) => blobs.push(BlobSum { sha256: sha.clone(), size }),
            Copied::Missing => report.missing.push(sha.clone()),
            Copied::Corrupt => report.corrupt.push(sha.clone()),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for old in target.list()? {
        if !referenced.contains(&old.sha256) {
            target.delete(&old.sha256)?;
            report.removed += 1;
        }
    }
    target.sync()?;
    Ok((report, blobs))
}

/// A progress bar on stderr when asked for and stderr is a terminal, else a hidden one.
pub fn progress_bar(len: u64, show: bool, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)");
    let style =
        indicatif::ProgressStyle::with_template(&template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    indicatif::ProgressBar::new(len).with_style(style)
}

/// Runs `pg_dump` of the exported snapshot into `out` (custom format, restorable with `pg_restore`).
async fn pg_dump(url: &str, snapshot: &str, out: &Path) -> anyhow::Result<()> {
    let (url, password) = crate::db::backup::split_password(url);
    let mut command = tokio::process::Command::new("pg_dump");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let status = command
        .arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", out.display()))
        .arg(format!("--dbname={url}"))
        .status()
        .await
        .context("cannot run pg_dump: on PostgreSQL the backup needs it (Debian: apt install postgresql-client)")?;
    if !status.success() {
        bail!("pg_dump failed ({status})");
    }
    Ok(())
}

/// Where the installation secret lives when it is a file (`None` when it is set in the config).
pub fn secret_file(settings: &Settings) -> Option<PathBuf> {
    if settings.security.secret.as_deref().is_some_and(|s| !s.is_empty()) {
        return None;
    }
    Some(settings.security.secret_file.clone().unwrap_or_else(|| settings.storage.dir.join("secret.key")))
}

/// Copies the secret file into the backup: without it, signed reply addresses and stored mailbox passwords of the
/// restored installation would not verify or decrypt.
fn copy_secret(settings: &Settings, dir: &Path) -> anyhow::Result<Option<FileSum>> {
    let Some(path) = secret_file(settings).filter(|p| p.exists()) else { return Ok(None) };
    copy_private(&path, &dir.join("secret.key")).with_context(|| format!("cannot copy {}", path.display()))?;
    let (sha256, size) = file_sum(&dir.join("secret.key"))?;
    Ok(Some(FileSum { path: "secret.key".into(), sha256, size }))
}

/// Creates `dir` (and its parents) readable by the owner only: a backup holds all mail.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The `backup` command: prints what it did; exit 65 when a referenced blob was missing or damaged.
pub async fn command(settings: &Settings, dir: &Path) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    let report = backup(settings, dir, std::io::stderr().is_terminal()).await?;
    for sha in &report.missing {
        eprintln!("deskmail: blob {sha} is referenced but not in the storage dir");
    }
    for sha in &report.corrupt {
        eprintln!("deskmail: blob {sha} is damaged in the storage dir: not backed up");
    }
    println!(
        "backup in {}: {} blobs referenced, {} copied ({} bytes), {} no longer referenced removed",
        dir.display(),
        report.referenced,
        report.copied,
        report.copied_bytes,
        report.removed
    );
    let whole = report.missing.is_empty() && report.corrupt.is_empty();
    Ok(if whole { super::exit::OK } else { super::exit::DATA_ERR })
}
