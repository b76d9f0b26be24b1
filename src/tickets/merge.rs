//! Merging a ticket into another: the source's messages (with attachments), participants, links and tags move to
//! the target; the source keeps its number with status `merged` and points at the target, so later mail that
//! threads to it lands on the target. Both histories record it; the customer gets no mail about it.

use super::{TicketError, Tickets, record};
use crate::db::{self, TicketRow, UserRow, ticket_moves};
use crate::domain::{Actor, Status, TicketEvent};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub source: i64,
    pub target: i64,
    /// Messages moved.
    pub messages: i64,
}

/// Why a merge is refused, checked on rows read under the lock.
fn refusal(source: &TicketRow, target: &TicketRow) -> Option<String> {
    if source.id == target.id {
        return Some("into: a ticket cannot be merged into itself".into());
    }
    if let Some(to) = source.merged_into {
        return Some(format!("ticket #{} was already merged into #{to}", source.number));
    }
    if let Some(to) = target.merged_into {
        return Some(format!("into: #{} was merged into #{to}; merge into #{to} instead", target.number));
    }
    None
}

impl Tickets {
    /// Merges ticket `source` into ticket `target` by `actor`. Refused (nothing changed) for a ticket into itself,
    /// an already merged source, or a merged target; a second merge of the same pair, in either direction, at the
    /// same time finds the first one done and is refused, so merges never lose a message or form a loop.
    pub async fn merge(&self, source: i64, target: i64, actor: &UserRow) -> Result<Merged, TicketError> {
        let (s, t) = (self.ticket(source).await?, self.ticket(target).await?);
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        let backend = tx.backend();
        ticket_moves::lock(&mut tx, backend, &[s.id, t.id]).await?;
        // Read again under the lock: a concurrent merge may have changed either.
        let s = db::tickets::by_id(&mut *tx, s.id).await?.ok_or(TicketError::NotFound)?;
        let t = db::tickets::by_id(&mut *tx, t.id).await?.ok_or(TicketError::NotFound)?;
        if let Some(why) = refusal(&s, &t) {
            return Err(TicketError::Invalid(why));
        }
        let messages = ticket_moves::move_all_messages(&mut tx, s.id, t.id).await?;
        ticket_moves::move_participants(&mut tx, s.id, t.id).await?;
        ticket_moves::move_links(&mut tx, s.id, t.id).await?;
        let gained = ticket_moves::move_tags(&mut tx, s.id, t.id).await?;
        ticket_moves::recount(&mut tx, t.id, now).await?;
        ticket_moves::mark_merged(&mut tx, s.id, t.id, now).await?;
        let who = Actor::User(actor.email.clone());
        let event = TicketEvent::Merged { source: s.number, target: t.number, messages };
        record(&mut tx, s.id, &who, &TicketEvent::StatusChanged { from: s.status, to: Status::Merged }, now).await?;
        record(&mut tx, s.id, &who, &event, now).await?;
        record(&mut tx, t.id, &who, &event, now).await?;
        if !gained.is_empty() {
            record(&mut tx, t.id, &who, &TicketEvent::TagsChanged { added: gained, removed: Vec::new() }, now).await?;
        }
        if t.status == Status::New {
            super::update::record_status(&mut tx, &t, Status::Open, &who, now).await?;
        }
        tx.commit().await?;
        tracing::info!(source = s.number, target = t.number, messages, by = %actor.email, "tickets merged");
        Ok(Merged { source: s.number, target: t.number, messages })
    }
}
