//! Planner statistics of the tables ingest grows (PostgreSQL). A young database filling up is analysed when a table
//! has more than doubled since its last analysis: otherwise plans cached while it was nearly empty (a sequential
//! scan is cheapest on a few pages) stay in use until autovacuum comes round, a minute or more later, and every
//! look-up of a batch scans the whole table. ANALYZE also drops those cached plans in every session.

use super::{Backend, Db, Result};
use sqlx::AssertSqlSafe;

/// The tables every stored mail adds rows to.
const GROWING: [&str; 8] = [
    "messages",
    "tickets",
    "raw_messages",
    "receipts",
    "customers",
    "ticket_events",
    "ticket_participants",
    "attachments",
];

/// Changes since the last analysis below which a table is left to autovacuum.
const MIN_CHANGES: i64 = 500;

impl Db {
    /// Analyses each growing table that has more than doubled (and by at least 500 rows) since its last analysis;
    /// returns the tables analysed. Nothing on SQLite, whose planner does not need row counts to prefer an index.
    pub async fn refresh_stats_if_grown(&self) -> Result<Vec<&'static str>> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let list = GROWING.map(|t| format!("'{t}'")).join(", ");
        let sql = format!(
            "select s.relname::text from pg_stat_user_tables s join pg_class c on c.oid = s.relid \
             where s.relname in ({list}) and s.n_mod_since_analyze >= {MIN_CHANGES} \
             and s.n_mod_since_analyze > greatest(c.reltuples, 0)"
        );
        let stale: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        let tables: Vec<&'static str> = GROWING.into_iter().filter(|t| stale.iter().any(|s| s == t)).collect();
        if !tables.is_empty() {
            sqlx::raw_sql(AssertSqlSafe(format!("analyze {}", tables.join(", ")))).execute(self.pool()).await?;
            tracing::debug!(?tables, "planner statistics refreshed");
        }
        Ok(tables)
    }
}
