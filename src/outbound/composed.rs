//! A mail rendered and built by the [`super::Composer`], before it is in the outbox.

use crate::db::outbox::NewOutbound;
use crate::domain::TemplateKind;

/// What composing an intent made.
#[derive(Debug)]
pub enum Composition {
    /// A mail for the outbox.
    Mail(Composed),
    /// Every recipient was one of our own addresses: nothing to send.
    NoRecipient,
    /// The template or the mail could not be made (the reason).
    NotSent(String),
}

/// A mail rendered and built, not in the outbox yet.
#[derive(Debug)]
pub struct Composed {
    pub(super) ticket_id: i64,
    pub(super) message_id: Option<i64>,
    pub(super) mailbox_id: i64,
    pub(super) kind: TemplateKind,
    pub(super) header_message_id: String,
    pub(super) sender: String,
    pub(super) raw: Vec<u8>,
    pub(super) automatic: bool,
    pub(super) send_after: Option<i64>,
    /// The addresses its deliveries go to, each once.
    pub recipients: Vec<String>,
}

impl Composed {
    /// The outbox row.
    pub fn outbound(&self) -> NewOutbound<'_> {
        NewOutbound {
            ticket_id: Some(self.ticket_id),
            message_id: self.message_id,
            mailbox_id: self.mailbox_id,
            kind: self.kind,
            header_message_id: &self.header_message_id,
            sender: &self.sender,
            raw: &self.raw,
            automatic: self.automatic,
            send_after: self.send_after,
        }
    }
}
