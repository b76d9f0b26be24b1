//! Single-statement writes outside a transaction: on SQLite they take the writer connection under the writer lock,
//! like a transaction does.

use super::{Db, DbError, Result};
use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::time::Duration;

/// How long a single write waits for the SQLite writer before it fails with [`DbError::WriterBusy`] (a transaction
/// still open in the same task would otherwise wait for itself for ever).
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// A connection to write with outside a transaction (each statement commits by itself). On SQLite it is the writer
/// connection, held with the writer lock until dropped: such writes queue in order with the transactions instead
/// of sleeping in SQLite's busy handler (25–100 ms a retry, and an error after `busy_timeout` while the writer is
/// busy), and they keep the writer's page cache warm. On PostgreSQL any pooled connection.
pub struct WriteConn {
    conn: PoolConnection<Any>,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Db {
    /// A connection for single-statement writes (see [`WriteConn`]); drop it as soon as the statement ran.
    pub async fn writer(&self) -> Result<WriteConn> {
        // Only SQLite has a writer pool (PostgreSQL writes on any connection).
        match &self.writer_pool {
            Some(pool) => {
                let lock = tokio::time::timeout(WRITER_WAIT, self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| DbError::WriterBusy(WRITER_WAIT.as_secs()))?;
                Ok(WriteConn { conn: pool.acquire().await?, _writer: Some(lock) })
            }
            None => Ok(WriteConn { conn: self.pool.acquire().await?, _writer: None }),
        }
    }
}

impl std::ops::Deref for WriteConn {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}
