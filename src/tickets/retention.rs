//! Retention (`retention.closed_ticket_days`): the content of tickets closed longer ago is erased, daily, by one
//! instance at a time (a leased job); a customer left with no ticket that is not erased is anonymised too. A dry
//! run lists what would go.

use super::erase::{Erased, Leftovers, customer_in_tx, drop_unused_raws, shell};
use super::{TicketError, Tickets};
use crate::db::erase_customer::{self as people, ClosedTicket};
use crate::domain::{Actor, ErasedBy};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The job name in `scheduled_jobs` (its last run shows in `/healthz`).
pub const JOB: &str = "retention";
/// A run is due this long after the last one.
pub const EVERY_SECS: i64 = 86_400;
/// The most tickets one run erases; a run that reached it is due again at the next hourly tick.
pub const MAX_PER_RUN: usize = 2_000;
/// Tickets per transaction (on SQLite each holds the one write lock: ingest waits at most this long).
const PER_TX: i64 = 50;

/// What a tick of the retention job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionRun {
    /// `retention.closed_ticket_days` is not set.
    Off,
    /// The last run was less than a day ago.
    NotDue,
    /// Another instance holds the job.
    NotLeader,
    Ran(Erased),
}

/// The moment before which a ticket must have been closed to be erased `days` days after.
fn cutoff(days: u32, now: i64) -> i64 {
    now - i64::from(days) * 86_400
}

impl Tickets {
    /// The tickets a run at `now` would erase (closed and untouched for more than `days` days), oldest first, at
    /// most `limit`. Changes nothing.
    pub async fn retention_due(&self, days: u32, now: i64, limit: usize) -> Result<Vec<ClosedTicket>, TicketError> {
        let mut conn = self.db.pool().acquire().await.map_err(crate::db::DbError::from)?;
        Ok(people::closed_before(&mut conn, cutoff(days, now), limit as i64).await?)
    }

    /// Erases the content of up to `limit` tickets closed more than `days` days before `now` (actor `system`),
    /// [`PER_TX`] per transaction, and anonymises the customers left without a ticket that is not erased.
    pub async fn erase_closed(&self, days: u32, now: i64, limit: usize) -> Result<Erased, TicketError> {
        let mut total = Erased::default();
        while total.tickets < limit {
            let batch = (limit - total.tickets).min(PER_TX as usize) as i64;
            let mut out = Erased::default();
            let mut left = Leftovers::default();
            let mut tx = self.db.begin().await?;
            let due = people::closed_before(&mut tx, cutoff(days, now), batch).await?;
            for t in &due {
                shell(&mut tx, t.id, ErasedBy::Retention, &Actor::System, now, &mut out, &mut left).await?;
                for (customer, email) in people::left_without_tickets(&mut tx, t.id).await? {
                    customer_in_tx(&mut tx, customer, &email, &Actor::System, now, &mut out, &mut left).await?;
                }
            }
            drop_unused_raws(&mut tx, &mut left).await?;
            tx.commit().await?;
            out.blobs_deleted = self.delete_unused_blobs(left.take_blobs()).await?;
            // Shells count once, even when a customer's erasure touched them again.
            out.tickets = due.len();
            total.add(&out);
            if (due.len() as i64) < batch {
                break;
            }
        }
        Ok(total)
    }

    /// One tick of the daily job: runs [`Tickets::erase_closed`] when `days` is set, a day has passed since the
    /// last run (or the last run stopped at [`MAX_PER_RUN`]) and this instance holds the lease.
    pub async fn try_retention(&self, days: Option<u32>, owner: &str, now: i64) -> Result<RetentionRun, TicketError> {
        let Some(days) = days else { return Ok(RetentionRun::Off) };
        if !self.db.claim_job(JOB, owner, now, now + 3 * 3600).await? {
            return Ok(RetentionRun::NotLeader);
        }
        let last = self.db.job(JOB).await?;
        let backlog = last.as_ref().and_then(|j| j.last_acted).is_some_and(|n| n >= MAX_PER_RUN as i64);
        if !backlog && last.and_then(|j| j.last_run_at).is_some_and(|at| at > now - EVERY_SECS) {
            return Ok(RetentionRun::NotDue);
        }
        let started = std::time::Instant::now();
        let done = self.erase_closed(days, now, MAX_PER_RUN).await?;
        let ms = started.elapsed().as_millis() as i64;
        self.db.finish_job(JOB, owner, now, ms, done.tickets as i64).await?;
        Ok(RetentionRun::Ran(done))
    }

    /// Ticks hourly until `cancel` (a run happens daily), then gives the lease up.
    pub async fn run_retention(self, days: Option<u32>, owner: String, cancel: CancellationToken) {
        if days.is_none() {
            return;
        }
        loop {
            match self.try_retention(days, &owner, crate::domain::now()).await {
                Ok(RetentionRun::Ran(e)) => tracing::info!(
                    tickets = e.tickets,
                    messages = e.messages,
                    attachments = e.attachments,
                    blobs = e.blobs_deleted,
                    customers = e.customers,
                    "retention: closed tickets erased"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %crate::platform::telemetry::chain(&e), "retention failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {},
                _ = cancel.cancelled() => break,
            }
        }
        if let Err(e) = self.db.release_job(JOB, &owner).await {
            tracing::warn!(error = &e as &dyn std::error::Error, "retention: could not give the lease up");
        }
    }
}
