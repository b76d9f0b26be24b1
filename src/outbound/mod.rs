//! Outbound mail: templates, rendering a mail intent (decided by `tickets`) into the durable outbox, and the
//! SMTP sender; the sender of rule webhooks. Decides nothing about tickets.

pub mod compose;
mod composed;
pub mod context;
pub mod intent;
mod lanes;
pub mod message;
pub mod oauth_alerts;
pub mod plain;
mod recorder;
pub mod sender;
pub mod snippet;
mod subject;
pub mod template_watch;
pub mod templates;
mod webhook_loop;
pub mod webhooks;

pub use compose::Composer;
pub use intent::{
    AutoSubmitted, CommandReport, FromName, MailFile, MailIntent, MessageText, Queued, RuleNote, Threading,
};
pub use sender::Sender;
pub use subject::clean_subject;
