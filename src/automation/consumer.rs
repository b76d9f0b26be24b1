//! A named consumer of the ticket event log: it reads events in commit order after its cursor and moves the
//! cursor in the same transaction as whatever it does with them, so each event is handled exactly once per name —
//! across crashes (an uncommitted batch is read again) and instances (one lease holder at a time).

use crate::db::events::{self, Cursor, EventRow};
use crate::db::{Db, DbError, Tx};
use std::time::Duration;

/// One consumer of the log (e.g. the rules, the SLA clocks), by name, on behalf of one instance.
#[derive(Debug, Clone)]
pub struct Consumer {
    db: Db,
    name: String,
    owner: String,
    lease: Duration,
}

/// Events read and the open transaction they must be handled in; [`Batch::commit`] moves the cursor past them.
/// Dropped without commit, nothing of it happened: the events are read again.
pub struct Batch {
    tx: Tx,
    name: String,
    events: Vec<EventRow>,
}

impl Consumer {
    /// Consumer `name` for instance `owner` (unique per process), holding its lease for `lease` at a time.
    pub fn new(db: Db, name: &str, owner: &str, lease: Duration) -> Self {
        Self { db, name: name.to_string(), owner: owner.to_string(), lease }
    }

    /// The next events (at most `limit`) with their transaction, or `None` when another instance holds the lease.
    /// A new consumer starts at the end of the log. The batch may be empty.
    pub async fn next_batch(&self, limit: i64) -> Result<Option<Batch>, DbError> {
        let now = crate::domain::now();
        let until = now + self.lease.as_secs() as i64;
        let mut tx = self.db.begin().await?;
        let cursor = match events::lock_cursor(&mut tx, &self.name, &self.owner, now, until).await? {
            Some(c) => c,
            None => {
                drop(tx);
                if events::claim_consumer(&self.db, &self.name, &self.owner, now, until).await?.is_none() {
                    return Ok(None);
                }
                tx = self.db.begin().await?;
                let Some(c) = events::lock_cursor(&mut tx, &self.name, &self.owner, now, until).await? else {
                    return Ok(None);
                };
                c
            }
        };
        let events = events::read_after(&mut tx, cursor, limit).await?;
        Ok(Some(Batch { tx, name: self.name.clone(), events }))
    }

    /// Gives the lease up (on shutdown), so another instance takes over at once.
    pub async fn release(&self) -> Result<(), DbError> {
        events::release_consumer(&self.db, &self.name, &self.owner).await
    }
}

impl Batch {
    /// The events, in commit order.
    pub fn events(&self) -> &[EventRow] {
        &self.events
    }

    /// The transaction to handle them in.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Moves the cursor past the events and commits everything done in the batch's transaction.
    pub async fn commit(mut self) -> Result<(), DbError> {
        if let Some(last) = self.events.last() {
            events::advance(&mut self.tx, &self.name, Cursor::after(last), crate::domain::now()).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
