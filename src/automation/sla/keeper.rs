//! Keeping one ticket's clock: choose its policy, compute the clock from its history, raise the warnings and
//! breaches that are due (each once: their keys are stored with the clock, in the same transaction), store it.

use super::clock::{Alert, compute};
use super::policy::{Setup, marks_of};
use crate::automation::facts::{self, Lookup, Needs};
use crate::db::sla::ClockRow;
use crate::db::{self, Backend};
use crate::domain::Status;
use crate::tickets::TicketError;
use sqlx::AnyConnection;
use std::collections::BTreeSet;

/// How alerts that are due are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alerts {
    /// Raised as events (the ticket's own history moved the clock, or its minute came).
    Raise,
    /// Recorded as raised without an event: a policy or calendar was just saved, and a new policy must not
    /// flood rules and mail with breaches of the past (the badges still show them).
    Quiet,
}

/// Recomputes ticket `ticket_id`'s clock at `now` inside the caller's transaction; returns the alerts raised.
/// The ticket's row is locked first (PostgreSQL), so two instances never raise one alert twice.
pub async fn keep(
    conn: &mut AnyConnection,
    backend: Backend,
    setup: &Setup,
    ticket_id: i64,
    now: i64,
    mode: Alerts,
) -> Result<usize, TicketError> {
    db::ticket_moves::lock(conn, backend, &[ticket_id]).await?;
    let Some(t) = db::tickets::by_id(&mut *conn, ticket_id).await? else {
        crate::tickets::sla::store_clock(conn, ticket_id, None).await?;
        return Ok(0);
    };
    let old = db::sla::clock(&mut *conn, ticket_id).await?;
    let needs = setup.needs.unwrap_or(Needs { tags: false, message: false, pending: false });
    let policy = if t.status == Status::Merged || setup.policies.is_empty() {
        None
    } else {
        let lookup = Lookup { blocks: &[], now, needs };
        let f = facts::of_ticket(conn, &t, None, &lookup).await?;
        setup.choose(&f)
    };
    let Some(policy) = policy else {
        if old.is_some() {
            crate::tickets::sla::store_clock(conn, ticket_id, None).await?;
        }
        return Ok(0);
    };
    let marks = marks_of(&db::sla::timeline(conn, ticket_id).await?);
    let clock = compute(&policy.targets, &policy.calendar, t.created_at, &marks, now);
    let mut raised: BTreeSet<String> = old
        .as_ref()
        .map(|o| o.raised.split(',').filter(|k| !k.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let due: Vec<&Alert> = clock.alerts.iter().filter(|a| a.at <= now && !raised.contains(&a.key)).collect();
    let mut count = 0;
    for a in &due {
        // A warning caught up with after its breach is due says nothing the breach does not.
        let superseded = !a.breach && due.iter().any(|b| b.breach && b.target == a.target);
        if !superseded && mode == Alerts::Raise {
            crate::tickets::sla::raise(conn, ticket_id, &policy.name, a.target.as_str(), a.due, a.breach, now).await?;
            count += 1;
        }
        raised.insert(a.key.clone());
    }
    let row = ClockRow {
        ticket_id,
        policy: policy.name.clone(),
        state: clock.state.map(|s| s.as_str()).unwrap_or("ok").to_string(),
        first_response_due: clock.first_response_due,
        first_response_at: clock.first_response_at,
        next_response_due: clock.next_response_due,
        resolution_due: clock.resolution_due,
        resolved_at: clock.resolved_at,
        paused_minutes: clock.paused_minutes,
        due_at: clock.due_at,
        alert_at: clock.alerts.iter().filter(|a| !raised.contains(&a.key)).map(|a| a.at).min(),
        raised: raised.into_iter().collect::<Vec<_>>().join(","),
        updated_at: now,
    };
    let unchanged = old.as_ref().is_some_and(|o| ClockRow { updated_at: now, ..o.clone() } == row);
    if !unchanged {
        crate::tickets::sla::store_clock(conn, ticket_id, Some(&row)).await?;
    }
    Ok(count)
}
