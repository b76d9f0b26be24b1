//! Held mail given another chance by an admin: retried through the pipeline, or turned into a ticket for a
//! named requester. The raw bytes stay as they were; the quarantine entry is released or keeps its place.

use super::prepare::{Content, Prepared, prepare, prepare_as};
use super::store::{BatchState, Outcome, OutcomeKind, store_content};
use super::{IngestError, Pipeline};
use crate::db::{self, MailboxRow};
use crate::domain::NamedAddress;

/// A held quarantine entry whose raw message is kept.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    pub entry_id: i64,
    pub raw_id: i64,
}

impl Pipeline {
    /// Runs a held message through the pipeline again, as if it arrived at `mailbox` now.
    /// Stored: the entry is released and linked to its ticket. Held again: the entry stays, with the new reason.
    pub async fn retry_quarantined(
        &self,
        mailbox: &MailboxRow,
        held: Held,
        raw: Vec<u8>,
    ) -> Result<Outcome, IngestError> {
        let ctx = self.context();
        let prepared =
            tokio::task::spawn_blocking(move || prepare(raw, &ctx)).await.expect("prepare never panics; it catches");
        self.requeue(mailbox, held, prepared).await
    }

    /// Turns a held message into a ticket from `requester`, whatever held it (a loop, no sender, its size);
    /// only bytes that do not parse as mail stay held.
    pub async fn quarantined_to_ticket(
        &self,
        mailbox: &MailboxRow,
        held: Held,
        raw: Vec<u8>,
        requester: NamedAddress,
    ) -> Result<Outcome, IngestError> {
        let ctx = self.context();
        let prepared = tokio::task::spawn_blocking(move || prepare_as(raw, &ctx, requester))
            .await
            .expect("prepare never panics; it catches");
        self.requeue(mailbox, held, prepared).await
    }

    /// After `entry` left the block list: every message held because of it goes through the pipeline again
    /// (a ticket now, unless another rule holds it). Returns the outcomes, oldest first.
    pub async fn release_blocked(&self, entry: &str) -> Result<Vec<Outcome>, IngestError> {
        let mut outcomes = Vec::new();
        for (entry_id, raw_id, sha256, mailbox_id) in self.db.held_for_block(entry).await? {
            let mailbox = db::mailboxes::by_id(self.db.pool(), mailbox_id).await?;
            let blobs = self.blobs.clone();
            let raw = tokio::task::spawn_blocking(move || blobs.get(&sha256)).await.expect("reading does not panic")?;
            outcomes.push(self.retry_quarantined(&mailbox, Held { entry_id, raw_id }, raw).await?);
        }
        Ok(outcomes)
    }

    async fn requeue(&self, mailbox: &MailboxRow, held: Held, prepared: Prepared) -> Result<Outcome, IngestError> {
        let (prepared, _) = self.write_blobs(vec![(prepared, None)]).await?.remove(0);
        let outcome = self.store_requeued(mailbox, held, &prepared).await?;
        self.tickets.composer.wake();
        Ok(outcome)
    }

    async fn store_requeued(
        &self,
        mailbox: &MailboxRow,
        held: Held,
        item: &Prepared,
    ) -> Result<Outcome, crate::tickets::TicketError> {
        let ctx = self.context();
        let mut tx = self.db.begin().await?;
        let cx = self.store_context(&mut tx, mailbox, &ctx).await?;
        let now = crate::domain::now();
        let outcome = match &item.content {
            Content::Quarantine { reason, .. } => {
                db::admin::hold_again(&mut tx, held.entry_id, reason).await?;
                Outcome {
                    kind: OutcomeKind::Quarantined,
                    sha256: item.sha256.clone(),
                    ticket: None,
                    reason: Some(reason.clone()),
                }
            }
            Content::Mail(_) => {
                let mut batch = BatchState::single(now);
                let mut outcome = store_content(&mut tx, &cx, &mut batch, item, held.raw_id, None, now).await?;
                batch.finish(&mut tx, &cx, now, std::slice::from_mut(&mut outcome)).await?;
                let ticket_id = match outcome.ticket {
                    Some(number) => db::tickets::by_number(&mut *tx, number).await?.map(|t| t.id),
                    None => None,
                };
                db::admin::release_quarantined(&mut tx, held.entry_id, ticket_id).await?;
                Outcome { sha256: item.sha256.clone(), ..outcome }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }
}
