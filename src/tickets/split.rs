//! Splitting messages off a ticket into a new one: same requester, mailbox, participants and links; the chosen
//! messages (with attachments) move, so later replies to them thread to the new ticket. Both histories say so.

use super::{TicketError, Tickets, record};
use crate::db::{self, UserRow, ticket_moves};
use crate::domain::{Actor, Channel, Status, TicketEvent};

impl Tickets {
    /// Moves the messages `ids` of ticket `number` into a new ticket (subject `subject`, or the old one when
    /// empty); returns the new ticket's number. At least one message must stay; every id must be of this ticket.
    pub async fn split(&self, number: i64, ids: &[i64], subject: &str, actor: &UserRow) -> Result<i64, TicketError> {
        let t = self.writable(number).await?;
        let mut ids: Vec<i64> = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(TicketError::Invalid("messages: choose at least one message to split off".into()));
        }
        let subject: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let subject = if subject.trim().is_empty() { t.subject.clone() } else { subject.trim().to_string() };
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        let backend = tx.backend();
        ticket_moves::lock(&mut tx, backend, &[t.id]).await?;
        let fresh = db::tickets::by_id(&mut *tx, t.id).await?.ok_or(TicketError::NotFound)?;
        if let Some(to) = fresh.merged_into {
            return Err(TicketError::Invalid(format!("ticket #{number} was merged into #{to} meanwhile")));
        }
        let all = ticket_moves::message_ids(&mut tx, t.id).await?;
        if let Some(bad) = ids.iter().find(|id| !all.contains(id)) {
            return Err(TicketError::Invalid(format!("messages: message {bad} is not part of ticket #{number}")));
        }
        if ids.len() >= all.len() {
            return Err(TicketError::Invalid("messages: at least one message must stay on the ticket".into()));
        }
        let new = db::tickets::NewTicket {
            mailbox_id: t.mailbox_id,
            subject: &subject,
            requester_id: t.requester_id,
            parent_ticket_id: None,
            now,
        };
        let (new_id, new_number) = db::tickets::insert(&mut tx, &new).await?;
        ticket_moves::add_requester(&mut tx, new_id, t.requester_id).await?;
        ticket_moves::copy_participants(&mut tx, t.id, new_id).await?;
        ticket_moves::copy_links(&mut tx, t.id, new_id).await?;
        ticket_moves::move_messages(&mut tx, &ids, t.id, new_id).await?;
        ticket_moves::recount(&mut tx, new_id, now).await?;
        ticket_moves::recount(&mut tx, t.id, now).await?;
        db::tickets::set_status(&mut *tx, new_id, Status::Open, now).await?;
        let who = Actor::User(actor.email.clone());
        let created = TicketEvent::TicketCreated {
            channel: Channel::Split,
            mailbox: t.mailbox.clone(),
            requester: t.requester_email.clone(),
        };
        record(&mut tx, new_id, &who, &created, now).await?;
        let event = TicketEvent::Split { source: t.number, target: new_number, messages: ids.clone() };
        record(&mut tx, t.id, &who, &event, now).await?;
        record(&mut tx, new_id, &who, &event, now).await?;
        tx.commit().await?;
        tracing::info!(source = t.number, target = new_number, messages = ids.len(), by = %actor.email, "ticket split");
        Ok(new_number)
    }
}
