//! The ticket event log: typed events appended in the writer's transaction, read per ticket, and read in commit
//! order by named consumers whose cursor is leased (one instance at a time) and advanced in their own transaction.

use super::{Backend, Db, DbError, Result, Tx};
use crate::domain::{Actor, TicketEvent};
use sqlx::{Any, AnyConnection, Executor};

/// One entry of a ticket's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub ticket_id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    /// For people (also the API's `detail`).
    pub detail: String,
    /// The typed fields as JSON (`{}` for rows written before events were typed).
    pub data: String,
    /// The inserting transaction on PostgreSQL (0 on SQLite): the consumers' order is `(txid, id)`.
    pub txid: i64,
}

impl EventRow {
    /// The typed event, when the row has one.
    pub fn event(&self) -> Option<TicketEvent> {
        TicketEvent::from_stored(&self.kind, &self.data)
    }
}

const SELECT: &str = "select id, ticket_id, at, actor, kind, detail, data, txid from ticket_events";

/// Appends an event to a ticket's history (inside the transaction that made the change); returns its id.
pub async fn insert(conn: &mut AnyConnection, ticket_id: i64, actor: &Actor, e: &TicketEvent, at: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into ticket_events (ticket_id, at, actor, kind, detail, data) values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(ticket_id)
    .bind(at)
    .bind(actor.name())
    .bind(e.kind().as_str())
    .bind(e.describe())
    .bind(e.data().to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// Appends several events to one ticket's history in one statement, in the order given.
pub async fn insert_all(
    conn: &mut AnyConnection,
    ticket_id: i64,
    events: &[(&Actor, &TicketEvent)],
    at: i64,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..events.len()).map(|i| format!("({})", super::marks(6 * i + 1, 6))).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "insert into ticket_events (ticket_id, at, actor, kind, detail, data) values {}",
        rows.join(", ")
    ));
    let mut q = sqlx::query(sql);
    for (actor, e) in events {
        q = q
            .bind(ticket_id)
            .bind(at)
            .bind(actor.name())
            .bind(e.kind().as_str())
            .bind(e.describe())
            .bind(e.data().to_string());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Appends events of several tickets `(ticket, actor, event)` in the order given; one statement per 32.
pub async fn insert_many(conn: &mut AnyConnection, events: &[(i64, Actor, TicketEvent)], at: i64) -> Result<()> {
    for chunk in super::insert_chunks(events, 32) {
        let sql = super::wide_sql(conn, "ticket_events", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(6 * i + 1, 6))).collect();
            format!("insert into ticket_events (ticket_id, at, actor, kind, detail, data) values {}", rows.join(", "))
        });
        let mut q = sqlx::query(sql);
        for (ticket, actor, e) in chunk {
            q = q
                .bind(*ticket)
                .bind(at)
                .bind(actor.name())
                .bind(e.kind().as_str())
                .bind(e.describe())
                .bind(e.data().to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The history of a ticket, oldest first.
pub async fn of_ticket<'e>(conn: impl Executor<'e, Database = Any>, ticket_id: i64) -> Result<Vec<EventRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where ticket_id = $1 order by id"));
    Ok(sqlx::query_as(sql).bind(ticket_id).fetch_all(conn).await?)
}

impl Db {
    /// The history of a ticket, oldest first.
    pub async fn events(&self, ticket_id: i64) -> Result<Vec<EventRow>> {
        of_ticket(self.pool(), ticket_id).await
    }
}

/// Where a consumer stands: the last event it consumed, in `(txid, id)` order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Cursor {
    pub last_txid: i64,
    pub last_id: i64,
}

impl Cursor {
    /// The cursor just past `e`.
    pub fn after(e: &EventRow) -> Self {
        Self { last_txid: e.txid, last_id: e.id }
    }
}

/// Takes or renews consumer `name`'s lease for `owner` until `until`; a new consumer starts at the end of the log.
/// `None` when another owner holds an unexpired lease, else the cursor.
pub async fn claim_consumer(db: &Db, name: &str, owner: &str, now: i64, until: i64) -> Result<Option<Cursor>> {
    let mut tx = db.begin().await?;
    let end: Cursor = sqlx::query_as(
        "select coalesce(max(txid), 0) as last_txid, coalesce(max(id), 0) as last_id from ticket_events \
         where txid = (select coalesce(max(txid), 0) from ticket_events)",
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "insert into event_consumers (name, last_txid, last_id, updated_at) values ($1, $2, $3, $4) \
         on conflict (name) do nothing",
    )
    .bind(name)
    .bind(end.last_txid)
    .bind(end.last_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let cursor: Option<Cursor> = sqlx::query_as(
        "update event_consumers set lease_owner = $2, lease_until = $3 \
         where name = $1 and (lease_owner is null or lease_owner = $2 or lease_until < $4) returning last_txid, last_id",
    )
    .bind(name)
    .bind(owner)
    .bind(until)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(cursor)
}

/// The next events after `cursor`, at most `limit`, in `(txid, id)` order. On PostgreSQL only events of
/// transactions older than every running one: no event can later appear before the ones returned.
pub async fn read_after(tx: &mut Tx, cursor: Cursor, limit: i64) -> Result<Vec<EventRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where {} order by txid, id limit $3", after(tx.backend())));
    Ok(sqlx::query_as(sql).bind(cursor.last_txid).bind(cursor.last_id).bind(limit).fetch_all(&mut **tx).await?)
}

/// The condition "after the cursor `($1, $2)`" (and, on PostgreSQL, committed by every transaction that could
/// still be running). On SQLite `txid` is always 0, so it is a range of the primary key: an `or` over both
/// columns made SQLite walk the whole index on every poll (0.19 cores idle at 640,000 events).
fn after(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "txid = $1 and id > $2",
        Backend::Postgres => "(txid, id) > ($1, $2) and txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    }
}

/// Renews consumer `name`'s lease for `owner` until `until` inside the consumer's transaction, which then holds its
/// row until it commits; the cursor, or `None` when `owner` does not hold an unexpired lease.
pub async fn lock_cursor(
    conn: &mut AnyConnection,
    name: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<Option<Cursor>> {
    Ok(sqlx::query_as(
        "update event_consumers set lease_until = $3 where name = $1 and lease_owner = $2 and lease_until >= $4 \
         returning last_txid, last_id",
    )
    .bind(name)
    .bind(owner)
    .bind(until)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Moves consumer `name` to `cursor` inside the transaction that locked it (see [`lock_cursor`]).
pub async fn advance(conn: &mut AnyConnection, name: &str, cursor: Cursor, now: i64) -> Result<()> {
    let moved = sqlx::query("update event_consumers set last_txid = $2, last_id = $3, updated_at = $4 where name = $1")
        .bind(name)
        .bind(cursor.last_txid)
        .bind(cursor.last_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if moved.rows_affected() == 1 { Ok(()) } else { Err(DbError::NotFound) }
}

/// Gives consumer `name`'s lease up, so another instance can take over at once.
pub async fn release_consumer(db: &Db, name: &str, owner: &str) -> Result<()> {
    sqlx::query(
        "update event_consumers set lease_owner = null, lease_until = null where name = $1 and lease_owner = $2",
    )
    .bind(name)
    .bind(owner)
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(())
}

impl Db {
    /// Whether consumer `name` has consumed every event written so far (`false` before it first ran).
    pub async fn consumer_caught_up(&self, name: &str) -> Result<bool> {
        let cursor: Option<Cursor> = sqlx::query_as("select last_txid, last_id from event_consumers where name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        let Some(c) = cursor else { return Ok(false) };
        let sql = match self.backend() {
            Backend::Sqlite => "select id from ticket_events where txid = $1 and id > $2 limit 1",
            Backend::Postgres => "select id from ticket_events where (txid, id) > ($1, $2) limit 1",
        };
        let later: Option<i64> =
            sqlx::query_scalar(sql).bind(c.last_txid).bind(c.last_id).fetch_optional(self.pool()).await?;
        Ok(later.is_none())
    }
}
