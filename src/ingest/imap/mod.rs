//! The IMAP gateway: one poller per enabled mailbox (IDLE or polling), leased, checkpointed by UID.

mod after_import;
mod batch;
mod fetch;
mod poller;
pub mod probe;
mod share;
mod supervisor;
pub mod sync;
pub mod uidset;
mod wait;

pub use after_import::Caps;
pub use poller::Poller;
pub use supervisor::{Supervisor, SupervisorParts};

pub use crate::net::imap::ImapNetError;

/// Why a sync of a mailbox failed. Every kind is retried with backoff by the poller.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error(transparent)]
    Net(#[from] ImapNetError),
    #[error("the server reports no UIDVALIDITY for the folder")]
    NoUidValidity,
    #[error("storing messages failed")]
    Ingest(#[from] crate::ingest::IngestError),
    #[error("database error")]
    Db(#[from] crate::db::DbError),
}
