//! SLA writes: a ticket's clock as the SLA worker computed it, and its warnings and breaches as events.

use super::{TicketError, record};
use crate::db::{self, sla::ClockRow};
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
