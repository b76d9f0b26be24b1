//! Outbound mail: templates, composing (who gets what), the durable outbox and the SMTP sender.

mod agent_notice;
pub mod compose;
pub mod context;
mod lanes;
pub mod message;
mod notify;
pub mod plain;
pub mod sender;
mod subject;
pub mod template_watch;
pub mod templates;

pub use compose::Composer;
pub use sender::Sender;
pub use subject::clean_subject;
