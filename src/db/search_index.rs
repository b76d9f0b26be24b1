//! Rebuilding the full-text search index (SQLite FTS5) from the messages, e.g. after a bulk load.

use super::{Backend, Db, Result};

/// The index's triggers as migrations 0005 and 0009 create them (the first 256 KiB of a text are indexed).
const TRIGGERS: &str = "create trigger if not exists messages_fts_insert after insert on messages begin \
     insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id) \
     values (new.id, new.subject, substr(new.body_text, 1, 262144), new.from_addr, new.from_name, new.ticket_id); end; \
     create trigger if not exists messages_fts_delete after delete on messages begin \
     delete from messages_fts where rowid = old.id; end;";

impl Db {
    /// Fills the search index from every message and makes sure its triggers exist; returns the messages indexed.
    /// PostgreSQL's index is a generated column and always current.
    pub async fn rebuild_search_index(&self) -> Result<i64> {
        let count: i64 = sqlx::query_scalar("select count(*) from messages").fetch_one(self.pool()).await?;
        if self.backend() == Backend::Postgres {
            return Ok(count);
        }
        let mut tx = self.begin().await?;
        sqlx::raw_sql("drop trigger if exists messages_fts_insert; drop trigger if exists messages_fts_delete; delete from messages_fts;")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id) \
             select id, subject, substr(body_text, 1, 262144), from_addr, from_name, ticket_id from messages",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::raw_sql(TRIGGERS).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(count)
    }
}
