//! SLA writes: a ticket's clock as the SLA worker computed it, and its warnings and breaches as events.

use super::{TicketError, record};
use crate::db::{self, sla::ClockRow};
use crate::domain::calendar::Calendar;
use crate::domain::{Actor, TicketEvent};
use sqlx::AnyConnection;

/// Stores the ticket's clock (`None`: no policy applies any more).
pub async fn store_clock(
    conn: &mut AnyConnection,
    ticket_id: i64,
    clock: Option<&ClockRow>,
) -> Result<(), TicketError> {
    Ok(db::sla::store_clock(conn, ticket_id, clock).await?)
}

/// When the ticket's SLA calendar is closed at `now`: its next working minute (escalation notices wait for it).
/// `None` when it is open, or the ticket has no clock or a calendar that does not parse.
pub async fn closed_until(conn: &mut AnyConnection, ticket_id: i64, now: i64) -> Result<Option<i64>, TicketError> {
    let Some(spec) = db::sla::calendar_of_ticket(conn, ticket_id).await? else { return Ok(None) };
    let Some(cal) = serde_json::from_str(&spec).ok().and_then(|s| Calendar::parse(&s).ok()) else { return Ok(None) };
    Ok(if cal.is_open(now) { None } else { cal.next_open(now) })
}

/// Records a warning (`breach: false`) or breach of `target` under `policy`, due at `due`, by the system.
pub async fn raise(
    conn: &mut AnyConnection,
    ticket_id: i64,
    policy: &str,
    target: &str,
    due: i64,
    breach: bool,
    now: i64,
) -> Result<(), TicketError> {
    let (policy, target) = (policy.to_string(), target.to_string());
    let e = if breach {
        TicketEvent::SlaBreached { policy, target, due }
    } else {
        TicketEvent::SlaWarning { policy, target, due }
    };
    record(conn, ticket_id, &Actor::System, &e, now).await?;
    Ok(())
}
