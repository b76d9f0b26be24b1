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

/// A PostgreSQL URL without its password, and the password (percent-decoded), for `pg_dump` and `pg_restore`: in
/// `PGPASSWORD` it is not visible in the process list as an argument would be.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let (authority_end, _) = rest.char_indices().find(|&(_, c)| c == '/' || c == '?').unwrap_or((rest.len(), ' '));
    let Some((userinfo, host)) = rest[..authority_end].rsplit_once('@') else { return (url.to_string(), None) };
    let Some((user, password)) = userinfo.split_once(':') else { return (url.to_string(), None) };
    let stripped = format!("{scheme}://{user}@{host}{}", &rest[authority_end..]);
    (stripped, Some(percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let (bytes, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| s.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    use super::{split_password, sqlite_file};
    use std::path::PathBuf;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, pw) = split_password("postgres://desk:p%40ss%3Aw@db.example:5432/deskmail?sslmode=require");
        assert_eq!(url, "postgres://desk@db.example:5432/deskmail?sslmode=require");
        assert_eq!(pw.as_deref(), Some("p@ss:w"));
        assert_eq!(split_password("postgres://desk@db/x"), ("postgres://desk@db/x".into(), None));
        assert_eq!(split_password("postgres:///x"), ("postgres:///x".into(), None));
    }

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_file("sqlite://data/deskmail.db"), Some(PathBuf::from("data/deskmail.db")));
        assert_eq!(sqlite_file("sqlite:///var/lib/d.db?mode=rwc"), Some(PathBuf::from("/var/lib/d.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
