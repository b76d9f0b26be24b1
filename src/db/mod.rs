//! The store: one `Db` over SQLite (default) and PostgreSQL, chosen by the URL; queries grouped by table.

pub mod admin;
pub mod backup;
pub mod blocks;
pub mod catalog;
mod customer_mail;
pub mod customers;
mod dashboard;
pub mod erase;
pub mod erase_customer;
pub mod events;
pub mod export;
pub mod idempotency;
pub mod instances;
pub mod jobs;
mod links;
pub mod mailboxes;
mod message_lookup;
pub mod messages;
pub mod oauth_tokens;
pub mod outbox;
pub mod outbox_health;
mod planner_stats;
pub mod portal;
mod presence;
pub mod quarantine;
pub mod raw;
pub mod reports;
pub mod rule_order;
pub mod rules;
pub mod satisfaction;
mod search_buckets;
mod search_hits;
mod search_index;
pub mod search_text;
pub mod sla;
pub mod sla_setup;
pub mod tags;
pub mod teams;
pub mod ticket_filter;
pub mod ticket_list;
pub mod ticket_moves;
pub mod ticket_types;
pub mod tickets;
mod tokens;
pub mod user_admin;
pub mod users;
pub mod webhooks;
mod wide;
mod writer;

pub use customers::CustomerRow;
pub use dashboard::CannedRow;
pub use events::EventRow;
pub use mailboxes::{MailboxRow, SyncState};
pub use messages::{AttachmentRow, MessageRow, NewAttachment, NewMessage};
pub use quarantine::QuarantineRow;
pub use ticket_filter::TicketFilter;
pub use ticket_list::ListTotal;
pub use tickets::{TicketListRow, TicketRow};
pub use users::UserRow;
pub(crate) use wide::{halving_chunks, insert_chunks, lookup_chunks, marks, wide_sql};
pub use writer::WriteConn;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// A write transaction on either backend. On SQLite it also holds this process's writer lock:
/// SQLite has one writer, and queueing writers here avoids its busy-wait sleeps under contention.
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    backend: Backend,
}

impl Tx {
    /// The engine this transaction runs on (for the few queries that differ).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits (and releases the writer lock).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Which database engine the URL chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// Another instance took over this mailbox's poller lease; the batch was not committed.
    #[error("the lease (of a mailbox or an event consumer) was lost to another instance")]
    LeaseLost,
    /// A single write waited too long for SQLite's one writer (a long transaction, or one still open in the same
    /// task); retrying later may succeed.
    #[error("waited {0} s for the database writer; another write is taking that long (or this task still holds one)")]
    WriterBusy(u64),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Sqlx(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict(d.message().to_string()),
            _ => DbError::Sqlx(e),
        }
    }
}

impl DbError {
    /// Whether retrying later may succeed (connection trouble, lock timeouts) rather than a bad request.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::WriterBusy(_) => true,
            DbError::Sqlx(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::Protocol(_)
                ) || e.as_database_error().is_some_and(|d| {
                    let code = d.code().unwrap_or_default();
                    // SQLITE_BUSY/LOCKED, PostgreSQL serialization/deadlock/admin shutdown/connection classes.
                    matches!(code.as_ref(), "5" | "6" | "517" | "40001" | "40P01" | "57P01" | "57P03")
                        || code.starts_with("08")
                })
            }
            _ => false,
        }
    }
}

/// A table whose rows a batch writes behind, with ids drawn by [`draw_ids`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawnIds {
    Messages,
    Tickets,
    Outbound,
}

/// `count` fresh ids of `table` for rows inserted later in this transaction, all above `after` (the last id drawn
/// before, not inserted yet). On SQLite the transaction holds the only write lock, so they are the next ids after
/// the largest stored or drawn; nothing else may insert into the table until they are written (or let go).
pub async fn draw_ids(conn: &mut sqlx::AnyConnection, table: DrawnIds, count: usize, after: i64) -> Result<Vec<i64>> {
    let name = match table {
        DrawnIds::Messages => "messages",
        DrawnIds::Tickets => "tickets",
        DrawnIds::Outbound => "outbound_mails",
    };
    if conn.backend_name() == "PostgreSQL" {
        let sql = format!("select nextval(pg_get_serial_sequence('{name}', 'id')) from generate_series(1, $1)");
        return Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(count as i64).fetch_all(&mut *conn).await?);
    }
    let sql = format!("select coalesce(max(id), 0) from {name}");
    let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await?;
    let start = max.max(after);
    Ok((1..=count as i64).map(|i| start + i).collect())
}

/// Result alias of the store layer.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database handle: a pool plus the backend it talks to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    /// SQLite only: the one connection write transactions run on. In WAL mode a connection drops its whole page
    /// cache when another connection has written since its last transaction, so writes spread over the pool each
    /// began cold (re-reading every page they touched, inside the write lock); on one connection they stay warm,
    /// as do its prepared multi-row statements.
    writer_pool: Option<AnyPool>,
    backend: Backend,
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    /// Connects (creating a SQLite file and its folder when missing).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        if backend == Backend::Sqlite {
            create_sqlite_folder(url);
        }
        let options = AnyConnectOptions::from_str(url)?;
        let pool = pool_options(backend, max_connections.max(1)).connect_with(options.clone()).await?;
        // Opened on the first write, so commands that only read never hold it.
        let writer_pool = (backend == Backend::Sqlite).then(|| pool_options(backend, 1).connect_lazy_with(options));
        Ok(Self { pool, writer_pool, backend, writer: Default::default() })
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue instead of failing).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let writer = self.writer.clone().lock_owned().await;
                Tx {
                    inner: self.writer_pool.as_ref().unwrap_or(&self.pool).begin_with("begin immediate").await?,
                    _writer: Some(writer),
                    backend: self.backend,
                }
            }
            Backend::Postgres => Tx { inner: self.pool.begin().await?, _writer: None, backend: self.backend },
        })
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer_pool {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// The pool settings of either engine; on SQLite every connection gets WAL, full sync, foreign keys and a busy wait.
fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(30)).after_connect(
        move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL for concurrent readers; FULL so a commit is durable before IMAP flags change.
                    conn.execute("pragma journal_mode = wal; pragma synchronous = full; pragma foreign_keys = on; pragma busy_timeout = 10000;")
                        .await?;
                }
                Ok(())
            })
        },
    )
}

/// The backend a database URL names.
pub fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::UnsupportedUrl(crate::platform::config::redact_url(url)))
    }
}

fn create_sqlite_folder(url: &str) {
    let path = backup::sqlite_file(url).unwrap_or_default();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
}

/// `0/1` integers as stored flags.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}
