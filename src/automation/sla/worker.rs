//! The SLA worker: keeps each ticket's clock as its events come in (a log consumer, like the rules), raises
//! warnings and breaches at their minute (a leased tick every few seconds), and recomputes every clock after a
//! policy or calendar was saved. Each runs on one instance at a time; every clock is kept under its ticket's lock.

use super::keeper::{Alerts, keep};
use super::policy::Setup;
use crate::automation::consumer::Consumer;
use crate::db::{self, Db};
use crate::tickets::TicketError;
use sqlx::AnyConnection;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The consumer name of the SLA clocks in `event_consumers`.
pub const CONSUMER: &str = "sla";
/// The job (lease and last run, for `/healthz`) of the minute tick.
pub const CLOCK_JOB: &str = "sla_clock";
/// The on-demand job that recomputes every clock; requested by the setup writes when policies, calendars or types
/// change.
pub use crate::db::sla::RECOMPUTE_JOB;
/// How often due alerts are looked for.
pub const TICK_SECS: i64 = 5;
/// Tickets kept per transaction.
const PER_TX: i64 = 200;
/// At most this many due tickets per tick (the rest follow at the next).
const MAX_PER_TICK: usize = 20_000;
/// How long one tick may spend recomputing clocks after a setup change before it yields to the next tick.
pub const RECOMPUTE_BUDGET: Duration = Duration::from_secs(2);

/// What a consumer step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Handled { events: usize, tickets: usize, alerts: usize },
    Idle,
    NotLeader,
}

/// What a tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    Ran { due: usize, alerts: usize, recomputed: usize },
    NotLeader,
}

/// The SLA worker of one instance.
#[derive(Debug, Clone)]
pub struct SlaWorker {
    pub db: Db,
    pub consumer: Consumer,
    owner: String,
    lease: Duration,
    /// Events per transaction.
    pub batch: i64,
    /// A recompute under way: the last ticket id done and when the pass started.
    recompute_pass: Arc<Mutex<Option<(i64, i64)>>>,
}

impl SlaWorker {
    /// The worker of instance `owner`, holding its leases for `lease` at a time.
    pub fn new(db: Db, owner: &str, lease: Duration) -> Self {
        let consumer = Consumer::new(db.clone(), CONSUMER, owner, lease);
        let recompute_pass = Arc::new(Mutex::new(None));
        SlaWorker { db, consumer, owner: owner.to_string(), lease, batch: 100, recompute_pass }
    }

    /// Reads the next events and recomputes their tickets' clocks, committing with the cursor.
    pub async fn try_step(&self, now: i64) -> Result<Step, TicketError> {
        let Some(mut batch) = self.consumer.next_batch(self.batch).await? else { return Ok(Step::NotLeader) };
        if batch.events().is_empty() {
            return Ok(Step::Idle);
        }
        // Its own alerts change no clock.
        let tickets: BTreeSet<i64> =
            batch.events().iter().filter(|e| !e.kind.starts_with("sla_")).map(|e| e.ticket_id).collect();
        let setup = load_setup(batch.tx()).await?;
        let mut alerts = 0;
        // Without policies nothing has a clock to keep (the recompute after the last one was deleted cleared them).
        if !setup.policies.is_empty() {
            for id in &tickets {
                alerts += keep(batch.tx(), self.db.backend(), &setup, *id, now, Alerts::Raise).await?;
            }
        }
        let events = batch.events().len();
        batch.commit().await?;
        Ok(Step::Handled { events, tickets: tickets.len(), alerts })
    }

    /// Raises the alerts due by `now`, then recomputes every clock if that was requested; one instance at a time.
    pub async fn tick(&self, now: i64) -> Result<Tick, TicketError> {
        let until = now + self.lease.as_secs().max(2 * TICK_SECS as u64) as i64;
        if !self.db.claim_job(CLOCK_JOB, &self.owner, now, until).await? {
            return Ok(Tick::NotLeader);
        }
        let started = Instant::now();
        let (mut due, mut alerts) = (0, 0);
        let setup = load_setup(&mut *self.db.pool().acquire().await?).await?;
        while due < MAX_PER_TICK {
            let mut tx = self.db.begin().await?;
            let ids = db::sla::alerts_due(&mut tx, now, PER_TX).await?;
            for id in &ids {
                alerts += keep(&mut tx, self.db.backend(), &setup, *id, now, Alerts::Raise).await?;
            }
            tx.commit().await?;
            due += ids.len();
            if (ids.len() as i64) < PER_TX {
                break;
            }
        }
        let recomputed = self.recompute(now).await?;
        self.db.finish_job(CLOCK_JOB, &self.owner, now, started.elapsed().as_millis() as i64, alerts as i64).await?;
        Ok(Tick::Ran { due, alerts, recomputed })
    }

    /// Goes on recomputing every clock that may have changed with the setup (quietly: see [`Alerts::Quiet`]),
    /// for at most [`RECOMPUTE_BUDGET`] per call, so due alerts never wait long behind a big recompute; the
    /// next call continues where this one stopped. Returns the tickets kept in this call.
    pub async fn recompute(&self, now: i64) -> Result<usize, TicketError> {
        let pass = self.recompute_pass.lock().await.take();
        let (mut after, started) = match pass {
            Some(p) => p,
            None if self.db.job_requested(RECOMPUTE_JOB).await? => (0, now),
            None => return Ok(0),
        };
        // Renewed at every call; another instance takes an abandoned pass over (from the start) after a minute.
        if !self.db.claim_job(RECOMPUTE_JOB, &self.owner, now, now + (self.lease.as_secs() as i64).max(60)).await? {
            return Ok(0);
        }
        let budget = Instant::now();
        let setup = load_setup(&mut *self.db.pool().acquire().await?).await?;
        let only_clocked = setup.policies.is_empty();
        let mut done = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let ids = db::sla::recompute_batch(&mut tx, after, PER_TX, only_clocked).await?;
            for id in &ids {
                keep(&mut tx, self.db.backend(), &setup, *id, now, Alerts::Quiet).await?;
            }
            tx.commit().await?;
            let Some(last) = ids.last() else { break };
            (after, done) = (*last, done + ids.len());
            if budget.elapsed() >= RECOMPUTE_BUDGET {
                *self.recompute_pass.lock().await = Some((after, started));
                return Ok(done);
            }
            // On SQLite each batch holds the one write lock: let ingest in between.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Marked run as of its start: a change saved while it ran asks for another pass.
        self.db.finish_job(RECOMPUTE_JOB, &self.owner, started, (now - started) * 1000, done as i64).await?;
        tracing::info!(last_ticket = after, seconds = now - started, "sla: every clock recomputed for the new setup");
        Ok(done)
    }

    /// Steps and ticks until cancelled; gives the leases up at the end.
    pub async fn run(self, cancel: CancellationToken) {
        let mut next_tick = Instant::now();
        loop {
            let pause = match self.try_step(crate::domain::now()).await {
                Ok(Step::Handled { .. }) => Duration::from_millis(20),
                Ok(Step::Idle) => Duration::from_millis(250),
                Ok(Step::NotLeader) => self.lease.clamp(Duration::from_secs(1), Duration::from_secs(5)),
                Err(e) => {
                    tracing::error!(error = &e as &dyn std::error::Error, "sla: keeping clocks failed");
                    Duration::from_secs(5)
                }
            };
            if Instant::now() >= next_tick {
                if let Err(e) = self.tick(crate::domain::now()).await {
                    tracing::error!(error = &e as &dyn std::error::Error, "sla: raising due alerts failed");
                }
                next_tick = Instant::now() + Duration::from_secs(TICK_SECS as u64);
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        let released = async {
            self.consumer.release().await?;
            self.db.release_job(CLOCK_JOB, &self.owner).await?;
            self.db.release_job(RECOMPUTE_JOB, &self.owner).await
        };
        if let Err(e) = released.await {
            tracing::warn!(error = &e as &dyn std::error::Error, "sla: could not give the leases up");
        }
    }
}

async fn load_setup(conn: &mut AnyConnection) -> Result<Setup, TicketError> {
    let (calendars, policies) = db::sla::setup(conn).await?;
    Ok(Setup::build(&calendars, &policies))
}
