//! Closing resolved tickets after `tickets.auto_close_days` of quiet: a step function and its hourly loop.

use super::{Tickets, record};
use crate::db::{self, DbError};
use crate::domain::{Actor, Status, TicketEvent};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

impl Tickets {
    /// Closes every ticket resolved and untouched for `days` days, each with its event; returns how many.
    pub async fn try_auto_close(&self, days: u32, now: i64) -> Result<u64, DbError> {
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now - i64::from(days) * 86_400;
        let mut tx = self.db.begin().await?;
        let mut closed = 0;
        for id in db::tickets::resolved_before(&mut *tx, cutoff).await? {
            if db::tickets::close_if_quiet(&mut *tx, id, cutoff, now).await? {
                let e = TicketEvent::StatusChanged { from: Status::Resolved, to: Status::Closed };
                record(&mut tx, id, &Actor::System, &e, now).await?;
                closed += 1;
            }
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Runs [`Tickets::try_auto_close`] hourly until `cancel`.
    pub async fn run_auto_close(self, days: u32, cancel: CancellationToken) {
        loop {
            match self.try_auto_close(days, crate::domain::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(closed = n, "closed resolved tickets"),
                Err(e) => tracing::error!(error = %crate::platform::telemetry::chain(&e), "auto-close failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {},
                _ = cancel.cancelled() => return,
            }
        }
    }
}
