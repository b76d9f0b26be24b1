//! Tickets: numbering, lookup, listing with filters, and status/priority/assignee changes.

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
    pub status: String,
    pub priority: String,
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
}

/// The same columns as [`TicketRow`], as listed.
pub type TicketListRow = TicketRow;

const SELECT: &str = "select t.id, t.number, t.mailbox_id, m.name as mailbox, t.subject, t.status, t.priority, \
     t.requester_id, c.email as requester_email, c.name as requester_name, \
     t.assignee_id, u.email as assignee_email, u.name as assignee_name, \
     t.parent_ticket_id, t.message_count, t.created_at, t.updated_at \
     from tickets t join mailboxes m on m.id = t.mailbox_id join customers c on c.id = t.requester_id \
     left join users u on u.id = t.assignee_id";

/// Filters of the ticket list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    /// `Some(None)` = unassigned, `Some(Some(id))` = assigned to that user.
    pub assignee: Option<Option<i64>>,
    pub mailbox: Option<String>,
    pub priority: Option<Priority>,
    pub query: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// Fields of a new ticket.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub mailbox_id: i64,
    pub subject: &'a str,
    pub requester_id: i64,
    pub parent_ticket_id: Option<i64>,
    pub now: i64,
}

/// Creates a ticket (holding its first message) with the next public number; returns `(id, number)`.
pub async fn insert(conn: &mut AnyConnection, t: &NewTicket<'_>) -> Result<(i64, i64)> {
    let number: i64 =
        sqlx::query_scalar("update counters set value = value + 1 where name = 'ticket_number' returning value")
            .fetch_one(&mut *conn)
            .await?;
    let id: i64 = sqlx::query_scalar(
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
    .await?;
    Ok((id, number))
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

/// Builds the `where` clause and its text binds for a filter.
fn where_clause(f: &TicketFilter) -> (String, Vec<String>, Vec<i64>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut texts = Vec::new();
    let mut ints = Vec::new();
    let mut arg = 0;
    let mut next = || {
        arg += 1;
        format!("${arg}")
    };
    if !f.statuses.is_empty() {
        let marks: Vec<String> = f
            .statuses
            .iter()
            .map(|s| {
                texts.push(s.as_str().to_string());
                next()
            })
            .collect();
        clauses.push(format!("t.status in ({})", marks.join(", ")));
    }
    if let Some(mailbox) = &f.mailbox {
        texts.push(mailbox.clone());
        clauses.push(format!("m.name = {}", next()));
    }
    if let Some(p) = f.priority {
        texts.push(p.as_str().to_string());
        clauses.push(format!("t.priority = {}", next()));
    }
    if let Some(q) = f.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        texts.push(format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
        let p = next();
        clauses.push(format!("(lower(t.subject) like {p} or c.email like {p} or lower(c.name) like {p})"));
    }
    match f.assignee {
        Some(None) => clauses.push("t.assignee_id is null".into()),
        Some(Some(id)) => {
            ints.push(id);
            clauses.push(format!("t.assignee_id = {}", next()));
        }
        None => {}
    }
    (clauses.join(" and "), texts, ints)
}

impl Db {
    /// The ticket with this public number.
    pub async fn ticket(&self, number: i64) -> Result<Option<TicketRow>> {
        by_number(self.pool(), number).await
    }

    /// One page of tickets matching `f`, newest activity first, with the total count.
    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<(Vec<TicketListRow>, i64)> {
        let (clause, texts, ints) = where_clause(f);
        let per_page = f.per_page.clamp(1, 200) as i64;
        let offset = (f.page.max(1) as i64 - 1) * per_page;
        let from = "from tickets t join mailboxes m on m.id = t.mailbox_id join customers c on c.id = t.requester_id";
        let count_sql = AssertSqlSafe(format!("select count(*) {from} where {clause}"));
        let mut count = sqlx::query_scalar::<_, i64>(count_sql);
        for t in &texts {
            count = count.bind(t.clone());
        }
        for i in &ints {
            count = count.bind(*i);
        }
        let total = count.fetch_one(self.pool()).await?;
        let list_sql = AssertSqlSafe(format!(
            "{SELECT} where {clause} order by t.updated_at desc, t.id desc limit {per_page} offset {offset}"
        ));
        let mut list = sqlx::query_as::<_, TicketListRow>(list_sql);
        for t in texts {
            list = list.bind(t);
        }
        for i in ints {
            list = list.bind(i);
        }
        Ok((list.fetch_all(self.pool()).await?, total))
    }
}
