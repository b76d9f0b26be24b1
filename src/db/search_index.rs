//! Rebuilding the full-text search index from the messages, e.g. after a bulk load: SQLite's FTS5 table, or
//! PostgreSQL's search documents (computed by `search_text`, page by page).

use super::search_text::{BODY_INDEXED_CHARS, search_document};
use super::{Backend, Db, Result};
use sqlx::AssertSqlSafe;

/// Messages read and written back per page on PostgreSQL.
const PAGE: i64 = 2_000;

/// One page of messages' indexed fields: id, subject, the indexed part of the body, sender address and name.
type IndexedText = (i64, String, String, String, String);

/// The index's triggers as migrations 0005 and 0009 create them (the first 256 KiB of a text are indexed).
const TRIGGERS: &str = "create trigger if not exists messages_fts_insert after insert on messages begin \
     insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id) \
     values (new.id, new.subject, substr(new.body_text, 1, 262144), new.from_addr, new.from_name, new.ticket_id); end; \
     create trigger if not exists messages_fts_delete after delete on messages begin \
     delete from messages_fts where rowid = old.id; end;";

impl Db {
    /// Fills the search index from every message (on SQLite also making sure its triggers exist); returns the
    /// messages indexed.
    pub async fn rebuild_search_index(&self) -> Result<i64> {
        if self.backend() == Backend::Postgres {
            return self.rewrite_search_documents().await;
        }
        let count: i64 = sqlx::query_scalar("select count(*) from messages").fetch_one(self.pool()).await?;
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

impl Db {
    /// Writes every message's search document again, a page per statement pair (each its own transaction, so a
    /// large table is not locked for the whole run and an interrupted run can simply be repeated).
    async fn rewrite_search_documents(&self) -> Result<i64> {
        let (mut after, mut count) = (0_i64, 0_i64);
        loop {
            let page: Vec<IndexedText> = sqlx::query_as(
                "select id, subject, left(body_text, $2::int), from_addr, from_name from messages where id > $1 \
                 order by id limit $3",
            )
            .bind(after)
            .bind(BODY_INDEXED_CHARS as i64)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            let Some(last) = page.last() else { return Ok(count) };
            after = last.0;
            count += page.len() as i64;
            let docs: Vec<(i64, String)> =
                page.iter().map(|(id, s, b, a, n)| (*id, search_document(s, b, a, n))).collect();
            for chunk in super::insert_chunks(&docs, 256) {
                let values: Vec<String> =
                    (0..chunk.len()).map(|i| format!("(${}::bigint, ${}::tsvector)", 2 * i + 1, 2 * i + 2)).collect();
                let sql = format!(
                    "update messages m set search = v.doc from (values {}) as v(id, doc) where m.id = v.id",
                    values.join(", ")
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (id, doc) in chunk {
                    q = q.bind(*id).bind(doc);
                }
                q.execute(self.pool()).await?;
            }
        }
    }
}
