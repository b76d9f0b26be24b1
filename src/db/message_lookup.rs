//! Which ticket a stored message belongs to, by Message-ID or content digest: the threading and duplicate lookups.

use super::Result;
use sqlx::AnyConnection;

/// The ticket id of a stored message with any of these Message-IDs (at most the first 20); the nearest (first
/// listed) wins, and among messages with one Message-ID the newest. One query.
pub async fn ticket_of_message_id(conn: &mut AnyConnection, ids: &[String]) -> Result<Option<i64>> {
    let ids = &ids[..ids.len().min(20)];
    if ids.is_empty() {
        return Ok(None);
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "select message_id, ticket_id from messages where message_id in ({}) order by id desc",
        super::marks(1, 20)
    ));
    let mut q = sqlx::query_as::<_, (String, i64)>(sql);
    for id in super::lookup_chunks(ids, 20).remove(0) {
        q = q.bind(id);
    }
    let found = q.fetch_all(&mut *conn).await?;
    Ok(ids.iter().find_map(|id| found.iter().find(|(m, _)| m == id).map(|(_, t)| *t)))
}

/// The ticket numbers of stored messages with these content digests (second deliveries of the same mail).
pub async fn tickets_of_digests(
    conn: &mut AnyConnection,
    digests: &[&str],
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::lookup_chunks(digests, 32) {
        let sql = sqlx::AssertSqlSafe(format!(
            // A subquery per match, not a join: nearly every batch matches nothing, and PostgreSQL plans the join
            // of a 32-value list as a hash join over all tickets (~4 ms a batch; now ~0.1 ms).
            "select m.content_digest, (select t.number from tickets t where t.id = m.ticket_id) from messages m \
             where m.content_digest in ({})",
            super::marks(1, chunk.len())
        ));
        let mut q = sqlx::query_as::<_, (String, i64)>(sql);
        for d in chunk {
            q = q.bind(d);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Message-ID → ticket id of the newest stored message with that Message-ID, for every id of `ids` that is stored
/// (a batch's references read in a few statements instead of one join per mail).
pub async fn tickets_of_message_ids(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::lookup_chunks(ids, 64) {
        let sql = sqlx::AssertSqlSafe(format!(
            "select message_id, ticket_id from messages where message_id in ({}) order by id",
            super::marks(1, chunk.len())
        ));
        let mut q = sqlx::query_as::<_, (String, i64)>(sql);
        for id in chunk {
            q = q.bind(id);
        }
        // In id order, so the newest message of a Message-ID is the one kept.
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The ticket of the message with this content digest (a second delivery of the same mail).
pub async fn ticket_of_digest(conn: &mut AnyConnection, digest: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("select ticket_id from messages where content_digest = $1")
        .bind(digest)
        .fetch_optional(&mut *conn)
        .await?)
}
