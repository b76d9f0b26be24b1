//! Reports over the event log: tickets created and resolved, first-response and resolution times in business
//! minutes of the applying SLA calendar, SLA met %, reopen rate and satisfaction per mailbox, agent, type or ISO
//! week, and the backlog per day. The store reads rows (`db::reports`); everything else here is pure.

mod backlog;
mod compute;
pub mod period;
pub mod stats;
mod ticket;

pub use backlog::BacklogDay;
pub use compute::{GroupFigures, NO_TYPE, Satisfaction, Summary, UNASSIGNED, business_minutes, summarize};
pub use period::{GroupBy, Params, Query, ReportError};
pub use stats::Spread;

use crate::db::{Db, DbError};

/// The summary of `q`, over the mailboxes `scope` when given (an agent's visible ones), read in four queries.
#[tracing::instrument(skip_all, fields(from = %q.from, to = %q.to, group = q.group.as_str()))]
pub async fn summary(db: &Db, q: &Query, scope: Option<&[i64]>) -> Result<Summary, DbError> {
    let rows = db.report_rows(q.start(), q.end(), scope).await?;
    // ~50 ms of CPU at 100,000 tickets: off the async workers, so other requests are not held up meanwhile.
    let q = *q;
    match tokio::task::spawn_blocking(move || summarize(&q, &rows)).await {
        Ok(summary) => Ok(summary),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Today's date (UTC), which ends the default period.
pub fn today() -> jiff::civil::Date {
    period::date_of(crate::domain::now())
}
