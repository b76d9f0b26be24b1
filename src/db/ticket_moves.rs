//! Moving what belongs to tickets between them: merge (all of one ticket into another) and split (some messages
//! into a new ticket). Each function runs in the caller's transaction.

use super::{Backend, Result};
use sqlx::{AnyConnection, AssertSqlSafe};

/// Locks the tickets' rows until the transaction ends, in id order (PostgreSQL; on SQLite the writer lock taken by
/// `begin immediate` already serialises every writer).
pub async fn lock(conn: &mut AnyConnection, backend: Backend, ids: &[i64]) -> Result<()> {
    if backend == Backend::Sqlite || ids.is_empty() {
        return Ok(());
    }
    let marks = super::marks(1, ids.len());
    let sql = AssertSqlSafe(format!("select id from tickets where id in ({marks}) order by id for update"));
    let mut q = sqlx::query(sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(conn).await?;
    Ok(())
}

/// Moves every message (with its attachments) of ticket `from` to ticket `to`; how many moved.
pub async fn move_all_messages(conn: &mut AnyConnection, from: i64, to: i64) -> Result<i64> {
    let done = sqlx::query("update messages set ticket_id = $2 where ticket_id = $1")
        .bind(from)
        .bind(to)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() as i64)
}

/// Moves the messages `ids` of ticket `from` to ticket `to`; how many moved (ids of other tickets are left).
pub async fn move_messages(conn: &mut AnyConnection, ids: &[i64], from: i64, to: i64) -> Result<i64> {
    let marks = super::marks(3, ids.len());
    let sql = AssertSqlSafe(format!("update messages set ticket_id = $2 where ticket_id = $1 and id in ({marks})"));
    let mut q = sqlx::query(sql).bind(from).bind(to);
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.execute(conn).await?.rows_affected() as i64)
}

/// The ids of a ticket's messages, oldest first.
pub async fn message_ids(conn: &mut AnyConnection, ticket: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("select id from messages where ticket_id = $1 order by id")
        .bind(ticket)
        .fetch_all(conn)
        .await?)
}

/// Sets a ticket's message count from its messages and its last activity to `now`.
pub async fn recount(conn: &mut AnyConnection, ticket: i64, now: i64) -> Result<()> {
    sqlx::query(
        "update tickets set message_count = (select count(*) from messages where ticket_id = $1), updated_at = $2 \
         where id = $1",
    )
    .bind(ticket)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes every participant of `from` a participant of `to` (as `cc` when new there) and removes them from `from`.
pub async fn move_participants(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    copy_participants(conn, from, to).await?;
    sqlx::query("delete from ticket_participants where ticket_id = $1").bind(from).execute(conn).await?;
    Ok(())
}

/// Makes every participant of `from` a participant of `to` too (as `cc` when new there).
pub async fn copy_participants(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query(
        "insert into ticket_participants (ticket_id, customer_id, role) select $2, p.customer_id, 'cc' \
         from ticket_participants p where p.ticket_id = $1 and not exists \
         (select 1 from ticket_participants q where q.ticket_id = $2 and q.customer_id = p.customer_id)",
    )
    .bind(from)
    .bind(to)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds the requester of a ticket as its participant (a new ticket from a split).
pub async fn add_requester(conn: &mut AnyConnection, ticket: i64, customer: i64) -> Result<()> {
    sqlx::query("insert into ticket_participants (ticket_id, customer_id, role) values ($1, $2, 'requester')")
        .bind(ticket)
        .bind(customer)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the links of `from` that `to` does not have yet, and drops the rest.
pub async fn move_links(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    copy_links(conn, from, to).await?;
    sqlx::query("delete from ticket_links where ticket_id = $1").bind(from).execute(conn).await?;
    Ok(())
}

/// Copies the links of `from` that `to` does not have yet.
pub async fn copy_links(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query(
        "insert into ticket_links (ticket_id, kind, target_id, added_by, added_at) \
         select $2, l.kind, l.target_id, l.added_by, l.added_at from ticket_links l where l.ticket_id = $1 \
         and not exists (select 1 from ticket_links k where k.ticket_id = $2 and k.kind = l.kind and k.target_id = l.target_id)",
    )
    .bind(from)
    .bind(to)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the tags of `from` that `to` does not have yet, and drops the rest; the tags `to` gained.
pub async fn move_tags(conn: &mut AnyConnection, from: i64, to: i64) -> Result<Vec<String>> {
    let gained: Vec<String> = sqlx::query_scalar(
        "select t.tag from ticket_tags t where t.ticket_id = $1 and not exists \
         (select 1 from ticket_tags u where u.ticket_id = $2 and u.tag = t.tag) order by t.tag",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "insert into ticket_tags (ticket_id, tag) select $2, t.tag from ticket_tags t where t.ticket_id = $1 \
         and not exists (select 1 from ticket_tags u where u.ticket_id = $2 and u.tag = t.tag)",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from ticket_tags where ticket_id = $1").bind(from).execute(conn).await?;
    Ok(gained)
}

/// Marks `source` merged into `target` (status `merged`, no messages left).
pub async fn mark_merged(conn: &mut AnyConnection, source: i64, target: i64, now: i64) -> Result<()> {
    sqlx::query(
        "update tickets set status = 'merged', merged_into = $2, message_count = 0, updated_at = $3 where id = $1",
    )
    .bind(source)
    .bind(target)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
