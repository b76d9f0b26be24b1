//! PostgreSQL's search index in ranges of message ids: one partial GIN index per [`BUCKET`] ids
//! (`messages_search_K` for ids in `(K * BUCKET, (K + 1) * BUCKET]`), built ahead of the newest message by a
//! keeper, so a search reads the newest range first and stops once it has enough (`search_hits`).

use super::{Backend, Db, Result};
use sqlx::AssertSqlSafe;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Message ids per partial index (migration 0025 writes the same number). At 5,000,000 messages that is 20 indexes:
/// few enough for the planner to weigh on every query of `messages`, small enough that a common word's matches in
/// one range are a few thousand.
pub(crate) const BUCKET: i64 = 262_144;

/// Ranges built beyond the one holding the newest message, so ingest never outruns the keeper between its rounds
/// (at 2,000 messages a second two ranges last over four minutes).
const AHEAD: i64 = 2;

/// How often `serve` looks for ranges to build.
const ROUND: Duration = Duration::from_secs(60);

/// The advisory lock one keeper holds while it builds (instances sharing a database take turns).
const LOCK: i64 = 0x6465_736b_7365_6172; // "desksear"

/// The range holding message id `id` (ids start at 1).
pub(crate) fn bucket_of(id: i64) -> i64 {
    (id.max(1) - 1) / BUCKET
}

/// The partial index of range `k`.
fn create_sql(k: i64) -> String {
    format!(
        "create index concurrently if not exists messages_search_{k} on messages using gin (search) \
         where id > {} and id <= {}",
        k * BUCKET,
        (k + 1) * BUCKET
    )
}

/// The ranges to build, newest first: those up to [`AHEAD`] beyond the newest message's without a valid index.
fn missing(newest: i64, built: &[(i64, bool)]) -> Vec<i64> {
    let last = bucket_of(newest) + AHEAD;
    (0..=last).rev().filter(|k| !built.iter().any(|(b, valid)| b == k && *valid)).collect()
}

impl Db {
    /// Builds the search index's missing ranges (PostgreSQL; nothing on SQLite, whose FTS5 reads newest first);
    /// returns those built. Another instance building at the time means nothing to do here.
    pub async fn ensure_search_buckets(&self) -> Result<Vec<i64>> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        // CREATE INDEX CONCURRENTLY runs outside a transaction and the lock belongs to the session: one connection.
        let mut conn = self.pool().acquire().await?;
        let (locked,): (bool,) =
            sqlx::query_as("select pg_try_advisory_lock($1)").bind(LOCK).fetch_one(&mut *conn).await?;
        if !locked {
            return Ok(Vec::new());
        }
        let built = self.build_missing(&mut conn).await;
        let unlocked = sqlx::query("select pg_advisory_unlock($1)").bind(LOCK).execute(&mut *conn).await;
        if unlocked.is_err() {
            // A session still holding the lock must not go back to the pool.
            conn.detach();
        }
        built
    }

    /// Runs [`Db::ensure_search_buckets`] now and every minute until `cancel`.
    pub async fn keep_search_buckets(self, cancel: CancellationToken) {
        loop {
            let round = tokio::select! {
                r = self.ensure_search_buckets() => r,
                _ = cancel.cancelled() => return,
            };
            match round {
                Ok(built) if !built.is_empty() => tracing::info!(?built, "search index ranges built"),
                Ok(_) => {}
                // Searches still find everything; over a range without its index they read by the primary key.
                Err(e) => tracing::error!(
                    error = %crate::platform::telemetry::chain(&e),
                    "building the search index's ranges failed (searches over older mail are slower until built; \
                     the database role must own the messages table); trying again in a minute"
                ),
            }
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {},
                _ = cancel.cancelled() => return,
            }
        }
    }
}

impl Db {
    /// The ranges of the search index whose partial index is built and valid, in order (PostgreSQL).
    pub async fn search_index_ranges(&self) -> Result<Vec<i64>> {
        let built = self.search_index_built().await?;
        Ok(built.into_iter().filter(|(_, valid)| *valid).map(|(k, _)| k).collect())
    }

    /// Every range with an index, valid or left invalid by an interrupted build, in order (none on SQLite).
    async fn search_index_built(&self) -> Result<Vec<(i64, bool)>> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "select c.relname::text, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid \
             where i.indrelid = 'messages'::regclass and c.relname ~ '^messages_search_[0-9]+$'",
        )
        .fetch_all(self.pool())
        .await?;
        let mut built: Vec<(i64, bool)> = rows
            .iter()
            .filter_map(|(name, valid)| Some((name.strip_prefix("messages_search_")?.parse().ok()?, *valid)))
            .collect();
        built.sort_unstable();
        Ok(built)
    }

    /// Builds the missing ranges over `conn`, which holds the keeper's lock.
    async fn build_missing(&self, conn: &mut sqlx::AnyConnection) -> Result<Vec<i64>> {
        let (newest,): (i64,) =
            sqlx::query_as("select coalesce(max(id), 0) from messages").fetch_one(self.pool()).await?;
        let mut done = Vec::new();
        for k in missing(newest, &self.search_index_built().await?) {
            // An interrupted concurrent build leaves an invalid index behind, which `if not exists` would keep.
            let drop = format!("drop index concurrently if exists messages_search_{k}");
            sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut *conn).await?;
            sqlx::raw_sql(AssertSqlSafe(create_sql(k))).execute(&mut *conn).await?;
            done.push(k);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::{BUCKET, bucket_of, missing};

    #[test]
    fn ids_fall_into_ranges_of_a_bucket_each() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(BUCKET), 0);
        assert_eq!(bucket_of(BUCKET + 1), 1);
    }

    #[test]
    fn the_missing_ranges_are_built_newest_first_and_ahead() {
        assert_eq!(missing(0, &[]), [2, 1, 0]);
        assert_eq!(missing(1, &[(0, true), (1, true)]), [2]);
        // An invalid index (an interrupted build) is built again; one far ahead is kept.
        assert_eq!(missing(3 * BUCKET, &[(0, true), (1, false), (2, true), (3, true), (4, true), (9, true)]), [1]);
    }
}
