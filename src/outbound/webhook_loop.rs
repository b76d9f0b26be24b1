//! The webhook sender's loop: up to `concurrency` requests in flight, more claimed as each ends, so a slow endpoint
//! holds one slot for at most the timeout, never the queue; on shutdown, requests still running after a short grace
//! are given back to the queue.

use super::webhooks::WebhookSender;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long requests may go on after shutdown began before they are given back unattempted.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How often due retries are looked for without a wake-up.
const POLL: Duration = Duration::from_secs(2);

impl WebhookSender {
    /// Runs until `cancel`: claims due deliveries into free slots on a wake-up, when a request ends, or every two
    /// seconds.
    pub async fn run(self, cancel: CancellationToken) {
        let abort = self.abort.clone();
        tokio::spawn({
            let cancel = cancel.clone();
            async move {
                cancel.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
                abort.cancel();
            }
        });
        let slots = self.settings.concurrency.max(1);
        let mut inflight: JoinSet<()> = JoinSet::new();
        let mut failures = 0u32;
        while !cancel.is_cancelled() {
            while inflight.try_join_next().is_some() {}
            let mut wait = POLL;
            let free = slots.saturating_sub(inflight.len());
            if free > 0 {
                match self.fill(&mut inflight, free).await {
                    Ok(()) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        tracing::error!(error = %crate::platform::telemetry::chain(&e), "webhooks: cannot read the queue");
                        wait = Duration::from_secs(u64::from(failures.min(30)));
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(wait) => {},
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {},
                _ = cancel.cancelled() => {},
            }
        }
        // Requests see the abort after the grace and give their deliveries back; one stuck elsewhere is stopped.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(2), async {
            while inflight.join_next().await.is_some() {}
        })
        .await;
        inflight.abort_all();
    }

    /// Claims up to `free` due deliveries (after a cheap look whether any is due) and starts each in its own task.
    async fn fill(&self, inflight: &mut JoinSet<()>, free: usize) -> Result<(), crate::db::DbError> {
        if !self.db.webhooks_due(crate::domain::now()).await? {
            return Ok(());
        }
        for c in self.claim(free).await? {
            let sender = self.clone();
            inflight.spawn(async move {
                let id = c.id;
                if let Err(e) = sender.deliver(c).await {
                    tracing::error!(delivery = id, error = %crate::platform::telemetry::chain(&e), "webhook step failed");
                }
            });
        }
        Ok(())
    }
}
