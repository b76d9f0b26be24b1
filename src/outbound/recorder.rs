//! Group commit of send results: one writer at a time waits for the database's write lock, and takes every result
//! that arrived meanwhile once it has it, so a burst of sends costs one transaction (one fsync) rather than one
//! each, and a result waits for at most the write under way and its own. Every sender still waits until its own
//! result is durable before it sends again, so a crash re-sends at most one mail per session.

use crate::db::outbox::{Attempt, record_attempts_in};
use crate::db::{Db, DbError};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Writes the results of one sending step, together where they coincide.
pub(super) struct Recorder<'a> {
    db: &'a Db,
    owner: &'a str,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pending: Vec<Pending>,
    /// A writer is waiting for the write lock and will take `pending` when it has it.
    writer_waiting: bool,
}

struct Pending {
    id: i64,
    attempt: Attempt,
    /// Whether the result was recorded; `None` when the write that carried it failed.
    done: oneshot::Sender<Option<bool>>,
}

impl<'a> Recorder<'a> {
    pub fn new(db: &'a Db, owner: &'a str) -> Self {
        Self { db, owner, state: Mutex::default() }
    }

    /// Records an attempt's result (see [`Db::record_attempt`]) and returns once it is committed: `Some(recorded)`,
    /// or `None` when another caller's write carried it and failed (that caller reports the error).
    pub async fn record(&self, id: i64, attempt: Attempt) -> Result<Option<bool>, DbError> {
        let (done, result) = oneshot::channel();
        let write = {
            let mut state = self.state.lock().expect("recorder state");
            state.pending.push(Pending { id, attempt, done });
            !std::mem::replace(&mut state.writer_waiting, true)
        };
        if write {
            self.write().await?;
        }
        Ok(result.await.unwrap_or(None))
    }

    /// Waits for the write lock, then writes everything pending in one transaction.
    async fn write(&self) -> Result<(), DbError> {
        let tx = self.db.begin().await;
        let batch = {
            let mut state = self.state.lock().expect("recorder state");
            state.writer_waiting = false;
            std::mem::take(&mut state.pending)
        };
        let results: Vec<(i64, Attempt)> = batch.iter().map(|p| (p.id, p.attempt.clone())).collect();
        let written = async {
            let mut tx = tx?;
            let recorded = record_attempts_in(&mut tx, self.owner, &results, crate::domain::now()).await?;
            tx.commit().await?;
            Ok::<_, DbError>(recorded)
        };
        match written.await {
            Ok(recorded) => {
                for (p, r) in batch.into_iter().zip(recorded) {
                    let _ = p.done.send(Some(r));
                }
                Ok(())
            }
            Err(e) => {
                for p in batch {
                    let _ = p.done.send(None);
                }
                Err(e)
            }
        }
    }
}
