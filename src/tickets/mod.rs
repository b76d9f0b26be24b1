//! The one write layer: every change to a ticket (created from mail or by an agent, customer messages, replies,
//! notes, status/priority/assignee/tags, links, auto-close, agent commands by mail) in one transaction with its
//! event, and the mail it causes queued inside that transaction.

pub mod auto_close;
pub mod catalog;
pub mod commands;
pub mod links;
pub mod open;
pub mod reply;
pub mod update;

pub use reply::{NewFile, ReplyInput};
pub use update::Changes;

use crate::db::{Db, DbError, TicketRow};
use crate::outbound::Composer;
use crate::platform::storage::BlobStore;

/// Why an action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("no such ticket")]
    NotFound,
    /// The request is invalid; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// The idempotency key was used before; carries the message id created then.
    #[error("this request was already processed")]
    Duplicate(i64),
    #[error("cannot store the attachment")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The ticket actions service.
#[derive(Clone)]
pub struct Tickets {
    pub db: Db,
    pub composer: Composer,
    pub blobs: BlobStore,
}

impl Tickets {
    async fn ticket(&self, number: i64) -> Result<TicketRow, TicketError> {
        self.db.ticket(number).await?.ok_or(TicketError::NotFound)
    }
}

/// The signature block appended to an agent's text (`-- ` delimiter, so quote strippers drop it).
pub fn with_signature(body: &str, signature: &str) -> String {
    let body = body.trim_end();
    if signature.trim().is_empty() { body.to_string() } else { format!("{body}\n\n-- \n{}", signature.trim()) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_use_the_standard_delimiter() {
        assert_eq!(super::with_signature("Hi\n", ""), "Hi");
        assert_eq!(super::with_signature("Hi", "Ana\nSupport"), "Hi\n\n-- \nAna\nSupport");
    }
}
