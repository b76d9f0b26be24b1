//! The rules' log consumer: reads events after commit and runs the event rules on them, in the consumer's
//! transaction, so each event is handled exactly once across crashes and instances (one lease holder at a time).

use super::consumer::Consumer;
use super::engine::Engine;
use crate::db::DbError;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The consumer name of the rules in `event_consumers`.
pub const CONSUMER: &str = "rules";

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Events handled (and how many rules acted on them).
    Handled { events: usize, acted: usize },
    /// Nothing new.
    Idle,
    /// Another instance holds the lease.
    NotLeader,
}

/// The event-rules worker.
#[derive(Debug, Clone)]
pub struct RulesWorker {
    pub engine: Engine,
    pub consumer: Consumer,
    /// Events per transaction.
    pub batch: i64,
    /// The wait while another instance leads: at most the lease, so a crashed leader is replaced in time.
    follower_pause: Duration,
}

impl RulesWorker {
    /// A worker for instance `owner`, holding the consumer's lease for `lease` at a time.
    pub fn new(engine: Engine, owner: &str, lease: Duration) -> Self {
        let consumer = Consumer::new(engine.tickets.db.clone(), CONSUMER, owner, lease);
        let follower_pause = lease.clamp(Duration::from_secs(1), Duration::from_secs(5));
        RulesWorker { engine, consumer, batch: 100, follower_pause }
    }

    /// Reads the next events and runs the rules on them, committing with the cursor.
    pub async fn try_step(&self) -> Result<Step, DbError> {
        let Some(mut batch) = self.consumer.next_batch(self.batch).await? else { return Ok(Step::NotLeader) };
        if batch.events().is_empty() {
            return Ok(Step::Idle);
        }
        let events = batch.events().to_vec();
        let acted = self.engine.on_events(batch.tx(), &events, crate::domain::now()).await?;
        batch.commit().await?;
        if acted > 0 {
            self.engine.tickets.composer.wake();
            self.engine.tickets.wake_webhooks();
        }
        Ok(Step::Handled { events: events.len(), acted })
    }

    /// Steps until cancelled: after a short breath while there is work (on SQLite each batch holds the one write
    /// lock; back-to-back batches kept ingest waiting), every 250 ms when idle, every few seconds (at most the
    /// lease) while another instance leads, every 5 s while the store fails.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let pause = match self.try_step().await {
                Ok(Step::Handled { .. }) => Duration::from_millis(20),
                Ok(Step::Idle) => Duration::from_millis(250),
                Ok(Step::NotLeader) => self.follower_pause,
                Err(e) => {
                    tracing::error!(error = &e as &dyn std::error::Error, "rules: handling events failed");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        if let Err(e) = self.consumer.release().await {
            tracing::warn!(error = &e as &dyn std::error::Error, "rules: could not give the lease up");
        }
    }
}
