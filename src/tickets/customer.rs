//! What a customer does to a ticket outside mail (the portal): marks it solved, answers "How did we do?".
//! Their messages arrive as mail does (the portal hands a built mail to ingest), so they are not here.

use super::update::record_status;
use super::{TicketError, Tickets, record};
use crate::db::satisfaction::{self, NewSatisfaction};
use crate::domain::{Actor, Status, TicketEvent};

/// A satisfaction answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Good,
    Bad,
}

impl Rating {
    /// Parses `good` / `bad`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "good" => Some(Rating::Good),
            "bad" => Some(Rating::Bad),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Bad => "bad",
        }
    }
}

/// The longest comment kept with a rating, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

impl Tickets {
    /// The customer marks the ticket solved (`resolved`, actor `customer`); nothing when it is resolved or closed.
    /// No mail: the customer is the one who said so.
    pub async fn customer_solved(&self, number: i64) -> Result<(), TicketError> {
        let t = self.writable(number).await?;
        if matches!(t.status, Status::Resolved | Status::Closed) {
            return Ok(());
        }
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        record_status(&mut tx, &t, Status::Resolved, &Actor::Customer, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the customer's answer about the ticket's latest resolution (one per resolution; the first stays);
    /// `Ok(false)` when it was answered already. Counted for the assignee and mailbox of the ticket now.
    pub async fn rate(&self, number: i64, rating: Rating, comment: &str) -> Result<bool, TicketError> {
        let t = self.writable(number).await?;
        if !matches!(t.status, Status::Resolved | Status::Closed) {
            return Err(TicketError::Invalid("rating: the request is not solved yet".into()));
        }
        let Some((resolution, _)) = self.db.ticket_last_resolution(t.id).await? else {
            return Err(TicketError::Invalid("rating: the request is not solved yet".into()));
        };
        let comment: String =
            comment.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_COMMENT_CHARS).collect();
        let now = crate::domain::now();
        let row = NewSatisfaction {
            ticket_id: t.id,
            resolution_id: resolution,
            rating: rating.as_str(),
            comment: &comment,
            agent_id: t.assignee_id,
            mailbox_id: t.mailbox_id,
            now,
        };
        let mut tx = self.db.begin().await?;
        if !satisfaction::insert(&mut tx, &row).await? {
            return Ok(false);
        }
        let event = TicketEvent::SatisfactionRated { rating: rating.as_str().into(), comment, resolution };
        record(&mut tx, t.id, &Actor::Customer, &event, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
