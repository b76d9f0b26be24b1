//! The database side of backup, restore and verify: a consistent snapshot, the blobs a database references, and
//! whether a database is empty.

use super::{Backend, Db, Result};
use sqlx::{Any, AnyConnection, Connection, Transaction};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The setting holding the portal logo: `{content type} {sha256}` of a blob.
pub const LOGO_SETTING: &str = "portal.logo";

/// Every blob the database references by sha256: raw mail, attachments and the portal logo.
pub async fn referenced_blobs(conn: &mut AnyConnection) -> Result<BTreeSet<String>> {
    let shas: Vec<String> = sqlx::query_scalar("select sha256 from raw_messages union select sha256 from attachments")
        .fetch_all(&mut *conn)
        .await?;
    let mut set: BTreeSet<String> = shas.into_iter().collect();
    if let Some(logo) = super::portal::setting(conn, LOGO_SETTING).await? {
        set.extend(logo.split_whitespace().last().map(str::to_string));
    }
    Ok(set)
}

/// The file of a `sqlite:` URL (`None` for other URLs and in-memory databases).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Opens a SQLite file read-only, outside any pool (a snapshot, or a restore target to inspect).
pub async fn open_sqlite_read_only(path: &Path) -> Result<AnyConnection> {
    sqlx::any::install_default_drivers();
    Ok(AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?)
}

/// How many tables a connection's database (its current schema on PostgreSQL) holds.
pub async fn table_count(conn: &mut AnyConnection, backend: Backend) -> Result<i64> {
    let sql = match backend {
        Backend::Sqlite => "select count(*) from sqlite_master where type = 'table'",
        Backend::Postgres => "select count(*) from information_schema.tables where table_schema = current_schema()",
    };
    Ok(sqlx::query_scalar(sql).fetch_one(conn).await?)
}

/// A PostgreSQL snapshot held open by a repeatable-read transaction: `pg_dump --snapshot` dumps exactly what
/// [`PgSnapshot::referenced`] lists. Dropping it ends the transaction.
pub struct PgSnapshot {
    tx: Transaction<'static, Any>,
    /// The id to pass to `pg_dump --snapshot`.
    pub id: String,
}

impl PgSnapshot {
    /// The blobs referenced in the snapshot.
    pub async fn referenced(&mut self) -> Result<BTreeSet<String>> {
        referenced_blobs(&mut self.tx).await
    }
}

impl Db {
    /// Writes a consistent copy of the SQLite database to `path` (`VACUUM INTO`: one read transaction, so writers
    /// go on meanwhile; the copy is compact and has no WAL).
    pub async fn vacuum_into(&self, path: &Path) -> Result<()> {
        sqlx::query("vacuum into $1").bind(path.to_string_lossy().into_owned()).execute(self.pool()).await?;
        Ok(())
    }

    /// Opens and exports a PostgreSQL snapshot (see [`PgSnapshot`]).
    pub async fn pg_snapshot(&self) -> Result<PgSnapshot> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
        let id: String = sqlx::query_scalar("select pg_export_snapshot()").fetch_one(&mut *tx).await?;
        Ok(PgSnapshot { tx, id })
    }

    /// Every blob the database references now (see [`referenced_blobs`]).
    pub async fn referenced_blobs(&self) -> Result<BTreeSet<String>> {
        referenced_blobs(&mut *self.pool().acquire().await?).await
    }

    /// Whether the database holds no tables at all (a restore target).
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(table_count(&mut *self.pool().acquire().await?, self.backend()).await? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_file("sqlite://data/deskmail.db"), Some(PathBuf::from("data/deskmail.db")));
        assert_eq!(sqlite_file("sqlite:///var/lib/d.db?mode=rwc"), Some(PathBuf::from("/var/lib/d.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
