//! Inbound mail: raw bytes through parse, classify, thread and store, in batches (used by IMAP and `deskmail ingest`).

mod auth_results;
mod checkpoint;
pub mod classify;
mod digest;
mod html_limits;
pub mod imap;
mod parallel;
pub mod parse;
mod prepare;
pub mod quote;
mod requeue;
mod sanitize;
mod store;
pub mod threading;

pub use checkpoint::{Checkpoint, Skipped};
pub use prepare::{Content, PrepareContext, Prepared, prepare};
pub use requeue::Held;
pub use sanitize::sanitize_html;
pub use store::{Outcome, OutcomeKind, Source, StoreContext};

use crate::db::{self, Db, DbError, MailboxRow};
use crate::domain::EmailAddress;
use crate::platform::storage::BlobStore;
use checkpoint::save_checkpoint;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

/// Why a batch could not be stored; nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The storage directory refused a write or sync (disk full, permissions): retry later.
    #[error("cannot write to the storage directory")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Even recording a quarantine failed unexpectedly (a bug): nothing stored, retried later.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::tickets::TicketError> for IngestError {
    fn from(e: crate::tickets::TicketError) -> Self {
        match e {
            crate::tickets::TicketError::Db(e) => IngestError::Db(e),
            crate::tickets::TicketError::Storage(e) => IngestError::Storage(e),
            e => IngestError::Internal(e.to_string()),
        }
    }
}

impl IngestError {
    /// Whether retrying later may succeed. Every ingest error is, since no input is ever refused.
    pub fn is_transient(&self) -> bool {
        true
    }
}

/// One raw message and where it came from.
#[derive(Debug)]
pub struct Input {
    pub raw: Vec<u8>,
    pub source: Source,
}

/// The ingest pipeline: prepare (CPU, parallel), write blobs (one sync), store (one transaction).
#[derive(Clone)]
pub struct Pipeline {
    db: Db,
    blobs: BlobStore,
    context: Arc<RwLock<Arc<PrepareContext>>>,
    tickets: crate::tickets::Tickets,
    /// Batches that failed whole and were stored message by message (a data error or a bug; see the logs).
    split: Arc<std::sync::atomic::AtomicU64>,
}

impl Pipeline {
    /// A pipeline over the store; reads the mailbox addresses once (see [`Pipeline::refresh`]).
    pub async fn new(
        db: Db,
        blobs: BlobStore,
        context: PrepareContext,
        tickets: crate::tickets::Tickets,
    ) -> Result<Self, DbError> {
        let p = Self { db, blobs, context: Arc::new(RwLock::new(Arc::new(context))), tickets, split: Arc::default() };
        p.refresh().await?;
        Ok(p)
    }

    /// Re-reads the mailbox addresses (after a mailbox was added or changed).
    pub async fn refresh(&self) -> Result<(), DbError> {
        let addresses: Vec<EmailAddress> = db::mailboxes::addresses(self.db.pool())
            .await?
            .iter()
            .filter_map(|a| EmailAddress::parse(a).ok())
            .collect();
        let mut guard = self.context.write().expect("context lock");
        let mut next = (**guard).clone();
        next.our_addresses = addresses;
        *guard = Arc::new(next);
        Ok(())
    }

    /// How many batches failed whole and were stored message by message since start.
    pub fn batches_split(&self) -> u64 {
        self.split.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn context(&self) -> Arc<PrepareContext> {
        self.context.read().expect("context lock").clone()
    }

    /// What storing a batch reads once, inside its transaction (no second connection taken from the pool).
    async fn store_context<'a>(
        &'a self,
        conn: &mut sqlx::AnyConnection,
        mailbox: &'a MailboxRow,
        ctx: &'a PrepareContext,
    ) -> Result<StoreContext<'a>, DbError> {
        let staff = db::users::active_emails(&mut *conn).await?;
        let orders_in_catalog = db::catalog::any_orders(&mut *conn).await?;
        let blocked = db::blocks::entries(&mut *conn).await?;
        Ok(StoreContext {
            mailbox,
            our_addresses: &ctx.our_addresses,
            tickets: &self.tickets,
            order_pattern: mailbox.order_pattern(),
            staff: staff.into_iter().collect(),
            can_send: mailbox.can_send(),
            orders_in_catalog,
            blocked,
        })
    }

    /// Ingests a batch: blobs written and synced first, then one transaction with the optional checkpoint.
    pub async fn ingest(
        &self,
        mailbox: &MailboxRow,
        inputs: Vec<Input>,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Vec<Outcome>, IngestError> {
        let prepared = self.write_blobs(self.prepare_all(inputs).await).await?;
        self.store_prepared(mailbox, prepared, checkpoint).await
    }

    /// The second half of [`Pipeline::ingest`] (blobs already written and synced by [`Pipeline::write_blobs`]), for
    /// callers that prepare and write the next batch meanwhile.
    pub async fn store_prepared(
        &self,
        mailbox: &MailboxRow,
        prepared: Vec<(Prepared, Source)>,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Vec<Outcome>, IngestError> {
        let items: Vec<(&Prepared, Source)> = prepared.iter().map(|(p, s)| (p, *s)).collect();
        let outcomes = match self.store_batch(mailbox, &items, checkpoint.as_ref()).await {
            Ok(o) => o,
            // A lost lease is not the data's fault: another instance owns the mailbox now, store nothing.
            Err(StoreError::Db(e)) if retry_later(&e) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %crate::platform::telemetry::chain(&e), mailbox = %mailbox.name, "batch failed; storing one by one");
                metrics::counter!("deskmail_ingest_batches_split_total", "mailbox" => mailbox.name.clone())
                    .increment(1);
                self.split.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.store_singly(mailbox, &items, checkpoint.as_ref()).await?
            }
        };
        record_metrics(mailbox, &prepared, &outcomes);
        if let Err(e) = self.db.refresh_stats_if_grown().await {
            tracing::warn!(error = %crate::platform::telemetry::chain(&e), "refreshing planner statistics failed");
        }
        Ok(outcomes)
    }

    /// Stores the items in one transaction. A panic while storing one of them (a bug this input triggers) is
    /// caught and reported like an error, so the caller can store the others and quarantine that one.
    async fn store_batch(
        &self,
        mailbox: &MailboxRow,
        items: &[(&Prepared, Source)],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let ctx = self.context();
        let started = std::time::Instant::now();
        let mut tx = self.db.begin().await?;
        let cx = self.store_context(&mut tx, mailbox, &ctx).await?;
        let now = crate::domain::now();
        let mut batch = store::BatchState::load(&mut tx, &cx, items, now).await?;
        let loaded = started.elapsed();
        let mut outcomes = Vec::with_capacity(items.len());
        for (item, source) in items {
            let stored =
                AssertUnwindSafe(store::store_one(&mut tx, &cx, &mut batch, item, *source, now)).catch_unwind().await;
            outcomes.push(stored.map_err(|panic| StoreError::Panicked(panic_message(&panic)))??);
        }
        let filed = started.elapsed();
        batch.finish(&mut tx, &cx, now, &mut outcomes).await?;
        let finished = started.elapsed();
        if let Some(cp) = checkpoint {
            save_checkpoint(&mut tx, mailbox.id, cp, now).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        tracing::debug!(
            mailbox = %mailbox.name,
            items = items.len(),
            load_ms = ms(loaded),
            file_ms = ms(filed - loaded),
            finish_ms = ms(finished - filed),
            commit_ms = ms(started.elapsed() - finished),
            "batch store steps"
        );
        self.tickets.composer.wake();
        Ok(outcomes)
    }

    /// After a batch failed on a data error: each input alone; one that still fails is quarantined.
    async fn store_singly(
        &self,
        mailbox: &MailboxRow,
        items: &[(&Prepared, Source)],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Vec<Outcome>, IngestError> {
        let mut outcomes = Vec::new();
        for (i, (item, source)) in items.iter().enumerate() {
            // The checkpoint moves with the last input, so it is never ahead of what is stored.
            let cp = checkpoint.filter(|_| i + 1 == items.len());
            match self.store_batch(mailbox, &[(*item, *source)], cp).await {
                Ok(mut o) => outcomes.append(&mut o),
                Err(StoreError::Db(e)) if retry_later(&e) => return Err(e.into()),
                Err(e) => outcomes.push(self.quarantine_failed(mailbox, item, *source, &e, cp).await?),
            }
        }
        Ok(outcomes)
    }

    async fn quarantine_failed(
        &self,
        mailbox: &MailboxRow,
        item: &Prepared,
        source: Source,
        err: &StoreError,
        cp: Option<&Checkpoint>,
    ) -> Result<Outcome, IngestError> {
        tracing::error!(error = %crate::platform::telemetry::chain(err), sha256 = %item.sha256, "message could not be stored; quarantined");
        let reason = format!("store failed: {}", crate::platform::telemetry::chain(err));
        let content = Content::Quarantine { reason, headers: parse::header_block(&item.raw) };
        let failed = Prepared { raw: item.raw.clone(), sha256: item.sha256.clone(), content };
        match self.store_batch(mailbox, &[(&failed, source)], cp).await {
            Ok(mut o) => Ok(o.remove(0)),
            Err(StoreError::Db(e)) => Err(e.into()),
            Err(StoreError::Refused(e)) => Err(IngestError::Internal(format!("quarantining was refused: {e}"))),
            Err(StoreError::Panicked(p)) => Err(IngestError::Internal(format!("quarantining panicked: {p}"))),
        }
    }
}

impl From<crate::tickets::TicketError> for StoreError {
    fn from(e: crate::tickets::TicketError) -> Self {
        match e {
            crate::tickets::TicketError::Db(e) => StoreError::Db(e),
            e => StoreError::Refused(e),
        }
    }
}

/// Why storing a batch stopped; nothing of it was committed.
#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// This input's data was refused (it is quarantined; the others are stored).
    #[error(transparent)]
    Refused(crate::tickets::TicketError),
    /// A bug in storing one input (it panicked); that input is quarantined, the others are stored.
    #[error("internal error (panic): {0}")]
    Panicked(String),
}

/// Errors after which nothing is quarantined: the database is away, or another instance owns the mailbox now.
fn retry_later(e: &DbError) -> bool {
    e.is_transient() || matches!(e, DbError::LeaseLost)
}

/// Whole milliseconds, for timing logs.
fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

/// The text of a caught panic.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "unknown panic".into(),
    }
}

fn record_metrics(mailbox: &MailboxRow, prepared: &[(Prepared, Source)], outcomes: &[Outcome]) {
    let bytes: u64 = prepared.iter().map(|(p, _)| p.raw.len() as u64).sum();
    metrics::counter!("deskmail_ingested_bytes_total", "mailbox" => mailbox.name.clone()).increment(bytes);
    for o in outcomes {
        let outcome =
            serde_json::to_value(o.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        metrics::counter!("deskmail_messages_ingested_total", "mailbox" => mailbox.name.clone(), "outcome" => outcome)
            .increment(1);
    }
}
