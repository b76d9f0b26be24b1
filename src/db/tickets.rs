//! Tickets: numbering, lookup, and status/priority/assignee changes (lists: `ticket_list`).

use super::{Db, Result};
use crate::domain::{Priority, Status};
use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor};

/// A ticket row with the names the API shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub mailbox_id: i64,
    pub mailbox: String,
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub requester_id: i64,
    pub requester_email: String,
    pub requester_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_email: Option<String>,
    pub assignee_name: Option<String>,
    pub parent_ticket_id: Option<i64>,
    pub message_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The ticket's type (an admin-defined name), if set.
    pub type_name: Option<String>,
    /// The state of its SLA clock (`ok`, `warning`, …), if a policy applies.
    pub sla_state: Option<String>,
    /// The number of the ticket this one was merged into (status `merged`).
    pub merged_into: Option<i64>,
}

/// The same columns as [`TicketRow`], as listed.
pub type TicketListRow = TicketRow;

/// The columns of [`TicketRow`], over the joins of [`ticket_joins!`].
macro_rules! ticket_columns {
    () => {
        "t.id, t.number, t.mailbox_id, m.name as mailbox, t.subject, t.status, t.priority, \
         t.requester_id, c.email as requester_email, c.name as requester_name, \
         t.assignee_id, u.email as assignee_email, u.name as assignee_name, \
         t.parent_ticket_id, t.message_count, t.created_at, t.updated_at, t.type_name, t.sla_state, \
         (select mt.number from tickets mt where mt.id = t.merged_into) as merged_into"
    };
}

/// What a ticket row's names come from.
macro_rules! ticket_joins {
    () => {
        "join mailboxes m on m.id = t.mailbox_id join customers c on c.id = t.requester_id \
         left join users u on u.id = t.assignee_id"
    };
}

pub(crate) const SELECT: &str = concat!("select ", ticket_columns!(), " from tickets t ", ticket_joins!());

/// Fields of a new ticket.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub mailbox_id: i64,
    pub subject: &'a str,
    pub requester_id: i64,
    pub parent_ticket_id: Option<i64>,
    pub now: i64,
}

/// Creates a ticket (holding its first message) with the next public number; returns `(id, number)`. See
/// [`draw_numbers`] for where the number comes from.
pub async fn insert(conn: &mut AnyConnection, t: &NewTicket<'_>) -> Result<(i64, i64)> {
    if conn.backend_name() == "PostgreSQL" {
        return Ok(sqlx::query_as(
            "insert into tickets (number, mailbox_id, subject, status, priority, requester_id, parent_ticket_id, \
             message_count, created_at, updated_at) \
             values (nextval('ticket_number_seq'), $1, $2, 'new', 'normal', $3, $4, 1, $5, $5) returning id, number",
        )
        .bind(t.mailbox_id)
        .bind(t.subject)
        .bind(t.requester_id)
        .bind(t.parent_ticket_id)
        .bind(t.now)
        .fetch_one(&mut *conn)
        .await?);
    }
    let number = draw_numbers(&mut *conn, 1).await?.remove(0);
    Ok((insert_numbered(conn, t, number).await?, number))
}

/// The next `count` public ticket numbers, ascending, in one statement. SQLite counts them on from the `counters`
/// row inside the transaction (its one writer makes that free, and numbers gap-free). PostgreSQL draws them from
/// `ticket_number_seq`, which never waits: a counter row would stay locked until the drawing transaction ends, so
/// every instance's inbound batches would take turns; a transaction that rolls back leaves its numbers unused.
pub async fn draw_numbers(conn: &mut AnyConnection, count: usize) -> Result<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let n = i64::try_from(count).unwrap_or(i64::MAX);
    if conn.backend_name() == "PostgreSQL" {
        let mut numbers: Vec<i64> =
            sqlx::query_scalar("select nextval('ticket_number_seq') from generate_series(1, $1::bigint)")
                .bind(n)
                .fetch_all(&mut *conn)
                .await?;
        numbers.sort_unstable();
        return Ok(numbers);
    }
    let last: i64 =
        sqlx::query_scalar("update counters set value = value + $1 where name = 'ticket_number' returning value")
            .bind(n)
            .fetch_one(&mut *conn)
            .await?;
    Ok((last - n + 1..=last).collect())
}

/// Creates a ticket with a number drawn before (see [`draw_numbers`]); returns its id.
pub async fn insert_numbered(conn: &mut AnyConnection, t: &NewTicket<'_>, number: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into tickets (number, mailbox_id, subject, status, priority, requester_id, parent_ticket_id, message_count, created_at, updated_at) \
         values ($1, $2, $3, 'new', 'normal', $4, $5, 1, $6, $6) returning id",
    )
    .bind(number)
    .bind(t.mailbox_id)
    .bind(t.subject)
    .bind(t.requester_id)
    .bind(t.parent_ticket_id)
    .bind(t.now)
    .fetch_one(conn)
    .await?)
}

/// Inserts new tickets with ids drawn by [`super::draw_ids`] and numbers drawn by [`draw_numbers`]: `(id,
/// number, ticket)`, one statement per 32.
pub async fn insert_all(conn: &mut AnyConnection, rows: &[(i64, i64, NewTicket<'_>)]) -> Result<()> {
    for chunk in super::insert_chunks(rows, 32) {
        let sql = super::wide_sql(conn, "tickets", chunk.len(), || {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = |k: usize| format!("${}", 8 * i + k);
                    let (id, number, mailbox, subject) = (p(1), p(2), p(3), p(4));
                    let (requester, parent, created, updated) = (p(5), p(6), p(7), p(8));
                    format!(
                        "({id}, {number}, {mailbox}, {subject}, 'new', 'normal', {requester}, {parent}, 1, {created}, \
                         {updated})"
                    )
                })
                .collect();
            format!(
                "insert into tickets (id, number, mailbox_id, subject, status, priority, requester_id, \
                 parent_ticket_id, message_count, created_at, updated_at) values {}",
                values.join(", ")
            )
        });
        let mut q = sqlx::query(sql);
        for (id, number, t) in chunk {
            q = q.bind(*id).bind(*number).bind(t.mailbox_id).bind(t.subject).bind(t.requester_id);
            q = q.bind(t.parent_ticket_id).bind(t.now).bind(t.now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The ticket with this public number.
pub async fn by_number<'e>(conn: impl Executor<'e, Database = Any>, number: i64) -> Result<Option<TicketRow>> {
    let sql = AssertSqlSafe(format!("{SELECT} where t.number = $1"));
    Ok(sqlx::query_as(sql).bind(number).fetch_optional(conn).await?)
}

/// The ticket with this id.
pub async fn by_id<'e>(conn: impl Executor<'e, Database = Any>, id: i64) -> Result<Option<TicketRow>> {
    let sql = AssertSqlSafe(format!("{SELECT} where t.id = $1"));
    Ok(sqlx::query_as(sql).bind(id).fetch_optional(conn).await?)
}

/// The tickets with these ids, by id (the notices of an ingest batch read theirs in one go).
pub async fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<std::collections::HashMap<i64, TicketRow>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::lookup_chunks(ids, 32) {
        let sql = AssertSqlSafe(format!("{SELECT} where t.id in ({})", super::marks(1, chunk.len())));
        let mut q = sqlx::query_as::<_, TicketRow>(sql);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|t| (t.id, t)));
    }
    Ok(out)
}

/// The ticket numbered `number`, or the one it was merged into (followed through later merges).
pub async fn live_by_number(conn: &mut AnyConnection, number: i64) -> Result<Option<TicketRow>> {
    match by_number(&mut *conn, number).await? {
        Some(t) => Ok(Some(live(conn, t).await?)),
        None => Ok(None),
    }
}

/// `t`, or the ticket it was merged into. Merges never form a loop (a merged ticket is never a merge target),
/// and the hops are bounded anyway.
pub async fn live(conn: &mut AnyConnection, mut t: TicketRow) -> Result<TicketRow> {
    for _ in 0..16 {
        let Some(next) = t.merged_into else { break };
        match by_number(&mut *conn, next).await? {
            Some(n) => t = n,
            None => break,
        }
    }
    Ok(t)
}

/// Records a new message on a ticket: count, last activity and (optionally) a new status.
pub async fn touch<'e>(
    conn: impl Executor<'e, Database = Any>,
    id: i64,
    status: Option<Status>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "update tickets set message_count = message_count + 1, updated_at = $2, status = coalesce($3, status) where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(status.map(Status::as_str))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records `count` new messages on each ticket `(id, count)` at `now` (several customer replies of one batch).
pub async fn touch_all(conn: &mut AnyConnection, tickets: &[(i64, i64)], now: i64) -> Result<()> {
    for chunk in super::insert_chunks(tickets, 16) {
        // A union of selects names its columns on both engines (SQLite cannot name a VALUES list's columns).
        let sql = super::wide_sql(conn, "tickets.touch", chunk.len(), || {
            let rows: Vec<String> =
                (0..chunk.len()).map(|i| format!("select ${} as id, ${} as n", 2 * i + 2, 2 * i + 3)).collect();
            format!(
                "update tickets set message_count = tickets.message_count + v.n, updated_at = $1 \
                 from ({}) as v where tickets.id = v.id",
                rows.join(" union all ")
            )
        });
        let mut q = sqlx::query(sql).bind(now);
        for (id, n) in chunk {
            q = q.bind(*id).bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves a ticket to another mailbox.
pub async fn set_mailbox<'e>(conn: impl Executor<'e, Database = Any>, id: i64, mailbox: i64, now: i64) -> Result<()> {
    sqlx::query("update tickets set mailbox_id = $2, updated_at = $3 where id = $1")
        .bind(id)
        .bind(mailbox)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the status.
pub async fn set_status<'e>(conn: impl Executor<'e, Database = Any>, id: i64, status: Status, now: i64) -> Result<()> {
    sqlx::query("update tickets set status = $2, updated_at = $3 where id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the priority.
pub async fn set_priority<'e>(conn: impl Executor<'e, Database = Any>, id: i64, p: Priority, now: i64) -> Result<()> {
    sqlx::query("update tickets set priority = $2, updated_at = $3 where id = $1")
        .bind(id)
        .bind(p.as_str())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets (or clears) the assignee.
pub async fn set_assignee<'e>(
    conn: impl Executor<'e, Database = Any>,
    id: i64,
    assignee: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query("update tickets set assignee_id = $2, updated_at = $3 where id = $1")
        .bind(id)
        .bind(assignee)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ids of tickets resolved and untouched since before `cutoff` (auto-close candidates).
pub async fn resolved_before<'e>(conn: impl Executor<'e, Database = Any>, cutoff: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("select id from tickets where status = 'resolved' and updated_at < $1")
        .bind(cutoff)
        .fetch_all(conn)
        .await?)
}

/// Closes a ticket that is still resolved and untouched since before `cutoff` (a customer's reply may have
/// reopened it, or another instance closed it already); false when it was not.
pub async fn close_if_quiet<'e>(
    conn: impl Executor<'e, Database = Any>,
    id: i64,
    cutoff: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "update tickets set status = 'closed', updated_at = $2 where id = $1 and status = 'resolved' and updated_at < $3",
    )
    .bind(id)
    .bind(now)
    .bind(cutoff)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Db {
    /// The ticket with this public number.
    pub async fn ticket(&self, number: i64) -> Result<Option<TicketRow>> {
        by_number(self.pool(), number).await
    }
}
