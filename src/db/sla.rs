//! SLA storage: calendars, policies, and each ticket's clock (`ticket_sla`, with its copy on `tickets` for the
//! list), plus what a clock is computed from: the ticket's replies, customer mail and status changes.

use super::Result;
use sqlx::{Any, AnyConnection, Executor};

/// The job (in `scheduled_jobs`) that recomputes every clock; the setup writes of [`super::Db`] request it.
pub const RECOMPUTE_JOB: &str = "sla_recompute";

/// The sort key of a ticket with no running target (last in `sort=due`).
pub const NO_DUE: i64 = 9_000_000_000_000_000;

/// A stored calendar; `spec` is its JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CalendarRow {
    pub name: String,
    pub spec: String,
    pub updated_at: i64,
}

/// A stored SLA policy; `conditions` is its JSON, minutes are business minutes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub name: String,
    pub position: i64,
    pub calendar: Option<String>,
    pub conditions: String,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    pub warn_before_minutes: i64,
    pub updated_at: i64,
}

/// A ticket's clock as stored.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct ClockRow {
    pub ticket_id: i64,
    pub policy: String,
    pub state: String,
    pub first_response_due: Option<i64>,
    pub first_response_at: Option<i64>,
    pub next_response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    pub resolved_at: Option<i64>,
    pub paused_minutes: i64,
    pub due_at: Option<i64>,
    pub alert_at: Option<i64>,
    /// The alerts raised, comma-separated keys.
    pub raised: String,
    pub updated_at: i64,
}

/// One entry of what a clock is computed from: `(at, actor, kind, data)` of the ticket's creation, customer mail,
/// replies and status changes, in order.
pub type TimelineRow = (i64, String, String, String);

const CLOCK: &str = "select ticket_id, policy, state, first_response_due, first_response_at, next_response_due, \
     resolution_due, resolved_at, paused_minutes, due_at, alert_at, raised, updated_at from ticket_sla";

/// The ticket's clock, if a policy applies.
pub async fn clock<'e>(conn: impl Executor<'e, Database = Any>, ticket_id: i64) -> Result<Option<ClockRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{CLOCK} where ticket_id = $1"));
    Ok(sqlx::query_as(sql).bind(ticket_id).fetch_optional(conn).await?)
}

/// The clocks of tickets `ids` (those that have one).
pub async fn clocks<'e>(conn: impl Executor<'e, Database = Any>, ids: &[i64]) -> Result<Vec<ClockRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sqlx::AssertSqlSafe(format!("{CLOCK} where ticket_id in ({})", super::marks(1, ids.len())));
    let mut q = sqlx::query_as(sql);
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The calendar (its JSON) of the policy that applies to the ticket, if it has a clock and the policy a calendar.
pub async fn calendar_of_ticket(conn: &mut AnyConnection, ticket_id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "select c.spec from ticket_sla s join sla_policies p on p.name = s.policy \
         join calendars c on c.name = p.calendar where s.ticket_id = $1",
    )
    .bind(ticket_id)
    .fetch_optional(conn)
    .await?)
}

/// The events a clock is computed from.
pub async fn timeline(conn: &mut AnyConnection, ticket_id: i64) -> Result<Vec<TimelineRow>> {
    Ok(sqlx::query_as(
        "select at, actor, kind, data from ticket_events where ticket_id = $1 \
         and kind in ('message_received', 'reply_sent', 'status_changed') order by id",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await?)
}

/// Stores the ticket's clock (or removes it: no policy applies), with its copy on the ticket.
pub async fn store_clock(conn: &mut AnyConnection, ticket_id: i64, clock: Option<&ClockRow>) -> Result<()> {
    let Some(c) = clock else {
        sqlx::query("delete from ticket_sla where ticket_id = $1").bind(ticket_id).execute(&mut *conn).await?;
        return set_copy(conn, ticket_id, None, NO_DUE).await;
    };
    sqlx::query(
        "insert into ticket_sla (ticket_id, policy, state, first_response_due, first_response_at, next_response_due, \
         resolution_due, resolved_at, paused_minutes, due_at, alert_at, raised, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) on conflict (ticket_id) do update set \
         policy = excluded.policy, state = excluded.state, first_response_due = excluded.first_response_due, \
         first_response_at = excluded.first_response_at, next_response_due = excluded.next_response_due, \
         resolution_due = excluded.resolution_due, resolved_at = excluded.resolved_at, \
         paused_minutes = excluded.paused_minutes, due_at = excluded.due_at, alert_at = excluded.alert_at, \
         raised = excluded.raised, updated_at = excluded.updated_at",
    )
    .bind(ticket_id)
    .bind(&c.policy)
    .bind(&c.state)
    .bind(c.first_response_due)
    .bind(c.first_response_at)
    .bind(c.next_response_due)
    .bind(c.resolution_due)
    .bind(c.resolved_at)
    .bind(c.paused_minutes)
    .bind(c.due_at)
    .bind(c.alert_at)
    .bind(&c.raised)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await?;
    set_copy(conn, ticket_id, Some(&c.state), c.due_at.unwrap_or(NO_DUE)).await
}

async fn set_copy(conn: &mut AnyConnection, ticket_id: i64, state: Option<&str>, due: i64) -> Result<()> {
    // Only when different: an unchanged clock must not touch the row (nor `updated_at`, which it never sets).
    sqlx::query(
        "update tickets set sla_state = $2, sla_due = $3 where id = $1 \
         and (sla_due <> $3 or coalesce(sla_state, '') <> coalesce($2, ''))",
    )
    .bind(ticket_id)
    .bind(state)
    .bind(due)
    .execute(conn)
    .await?;
    Ok(())
}

/// Tickets whose next alert is due by `now`, the most overdue first.
pub async fn alerts_due(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select ticket_id from ticket_sla where alert_at is not null and alert_at <= $1 order by alert_at limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Every calendar and policy (policies by position).
pub async fn setup(conn: &mut AnyConnection) -> Result<(Vec<CalendarRow>, Vec<PolicyRow>)> {
    let calendars =
        sqlx::query_as("select name, spec, updated_at from calendars order by name").fetch_all(&mut *conn).await?;
    let policies = sqlx::query_as(
        "select name, position, calendar, conditions, first_response_minutes, next_response_minutes, \
         resolution_minutes, warn_before_minutes, updated_at from sla_policies order by position, name",
    )
    .fetch_all(conn)
    .await?;
    Ok((calendars, policies))
}

/// Tickets after `after` (by id) whose clock may need recomputing after a policy or calendar changed: every one
/// not merged that has a clock or is not closed (`only_clocked`: only those with a clock, when no policy is left).
pub async fn recompute_batch(conn: &mut AnyConnection, after: i64, limit: i64, only_clocked: bool) -> Result<Vec<i64>> {
    let sql = if only_clocked {
        "select t.id from tickets t where t.id > $1 and t.sla_state is not null order by t.id limit $2"
    } else {
        "select t.id from tickets t where t.id > $1 and t.status <> 'merged' \
         and (t.status <> 'closed' or t.sla_state is not null) order by t.id limit $2"
    };
    Ok(sqlx::query_scalar(sql).bind(after).bind(limit).fetch_all(conn).await?)
}
