//! What the reports are computed from, rows only: the tickets a period touches (with their group keys and SLA
//! calendar), their replies and status changes, the satisfaction answers given in the period, and the calendars.

use super::sla::CalendarRow;
use super::{Db, Result};
use sqlx::AnyPool;

/// A ticket a period touches, with what it is grouped by.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReportTicketRow {
    pub id: i64,
    pub created_at: i64,
    /// The current status.
    pub status: String,
    pub mailbox: String,
    /// The assignee's e-mail.
    pub assignee: Option<String>,
    pub type_name: Option<String>,
    /// The SLA clock's state, when a policy applies.
    pub sla_state: Option<String>,
    /// The calendar of the applying policy (none: no policy, or a policy counting 24×7).
    pub calendar: Option<String>,
}

/// A reply or status change of such a ticket; `data` is a status change's JSON (empty for a reply).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReportEventRow {
    pub ticket_id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub data: String,
}

/// A satisfaction answer with the keys of its ticket.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReportRatingRow {
    /// `good` or `bad`.
    pub rating: String,
    pub created_at: i64,
    pub mailbox: String,
    pub assignee: Option<String>,
    pub type_name: Option<String>,
}

/// Everything one report reads: tickets by id, their events by ticket then order, answers, calendars.
#[derive(Debug, Clone, Default)]
pub struct ReportRows {
    pub tickets: Vec<ReportTicketRow>,
    pub events: Vec<ReportEventRow>,
    pub ratings: Vec<ReportRatingRow>,
    pub calendars: Vec<CalendarRow>,
}

// The tickets of period [$1, $2): created before its end and either created in it, not done now, or with a
// status change since its start (resolved in it, or open at some day's end and done later).
const SCOPE: &str = "t.created_at < $2 and (t.created_at >= $1 or t.status not in ('resolved', 'closed', 'merged') \
     or t.id in (select c.ticket_id from ticket_events c where c.kind = 'status_changed' and c.at >= $1))";

/// `and t.mailbox_id in ($3, …)` for a mailbox scope.
fn in_mailboxes(mailboxes: Option<&[i64]>) -> String {
    match mailboxes {
        Some(ids) => format!(" and t.mailbox_id in ({})", super::marks(3, ids.len())),
        None => String::new(),
    }
}

async fn tickets(pool: &AnyPool, from: i64, end: i64, scope: Option<&[i64]>) -> Result<Vec<ReportTicketRow>> {
    let sql = format!(
        "select t.id, t.created_at, t.status, m.name as mailbox, u.email as assignee, t.type_name, \
         s.state as sla_state, p.calendar from tickets t join mailboxes m on m.id = t.mailbox_id \
         left join users u on u.id = t.assignee_id left join ticket_sla s on s.ticket_id = t.id \
         left join sla_policies p on p.name = s.policy where {SCOPE}{} order by t.id",
        in_mailboxes(scope)
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(end);
    for id in scope.unwrap_or_default() {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(pool).await?)
}

async fn events(pool: &AnyPool, from: i64, end: i64, scope: Option<&[i64]>) -> Result<Vec<ReportEventRow>> {
    // A reply's data (its recipients) is not needed: fewer bytes to read.
    let sql = format!(
        "select e.ticket_id, e.at, e.actor, e.kind, case when e.kind = 'status_changed' then e.data else '' end as data \
         from ticket_events e join tickets t on t.id = e.ticket_id \
         where e.kind in ('reply_sent', 'status_changed') and {SCOPE}{} order by e.ticket_id, e.id",
        in_mailboxes(scope)
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(end);
    for id in scope.unwrap_or_default() {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(pool).await?)
}

async fn ratings(pool: &AnyPool, from: i64, end: i64, scope: Option<&[i64]>) -> Result<Vec<ReportRatingRow>> {
    let sql = format!(
        "select s.rating, s.created_at, m.name as mailbox, u.email as assignee, t.type_name from satisfaction s \
         join tickets t on t.id = s.ticket_id join mailboxes m on m.id = t.mailbox_id \
         left join users u on u.id = t.assignee_id where s.created_at >= $1 and s.created_at < $2{} order by s.id",
        in_mailboxes(scope)
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(end);
    for id in scope.unwrap_or_default() {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(pool).await?)
}

impl Db {
    /// The rows of a report over `[from, end)` (unix seconds), limited to the mailboxes `scope` when given.
    #[tracing::instrument(skip_all, fields(from, end))]
    pub async fn report_rows(&self, from: i64, end: i64, scope: Option<&[i64]>) -> Result<ReportRows> {
        if scope.is_some_and(|s| s.is_empty()) {
            return Ok(ReportRows::default());
        }
        // Three connections at once: reading the rows is most of a report's time.
        let pool = self.pool();
        let (tickets, events, ratings) = tokio::try_join!(
            tickets(pool, from, end, scope),
            events(pool, from, end, scope),
            ratings(pool, from, end, scope)
        )?;
        let calendars = super::sla::setup(&mut *pool.acquire().await?).await?.0;
        Ok(ReportRows { tickets, events, ratings, calendars })
    }
}
