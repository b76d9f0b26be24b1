//! The IMAP gateway: one poller per enabled mailbox (IDLE or polling), leased, checkpointed by UID.

mod after_import;
pub mod connect;
mod fetch;
mod poller;
pub mod probe;
mod supervisor;
pub mod sync;
pub mod uidset;

pub use after_import::Caps;
pub use poller::Poller;
pub use supervisor::Supervisor;

/// Why talking to an IMAP server failed. Every kind is retried with backoff by the poller.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// Settings that cannot work as given (missing password variable, unreadable CA file …).
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot connect to {0}")]
    Connect(String, #[source] std::io::Error),
    #[error("TLS handshake failed")]
    Tls(#[source] std::io::Error),
    #[error("login refused: {0}")]
    Login(String),
    #[error("IMAP error")]
    Protocol(#[source] async_imap::error::Error),
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("the server reports no UIDVALIDITY for the folder")]
    NoUidValidity,
    #[error("storing messages failed")]
    Ingest(#[from] crate::ingest::IngestError),
    #[error("database error")]
    Db(#[from] crate::db::DbError),
}
