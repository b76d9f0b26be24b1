//! What is kept of a mailbox's OAuth2 grant between refreshes, and the store that keeps it (the database
//! implements [`GrantStore`]; the token provider in `net::oauth` uses it without knowing the database).

/// The stored state of one mailbox's grant (a row of `oauth_tokens`).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredGrant {
    /// The newest refresh token (rotated by the provider, or from the Connect flow), sealed with the installation key.
    pub refresh_token_sealed: Option<String>,
    /// sha256 (hex) of the configured refresh token when the stored one was written: a changed configuration wins
    /// over a stored token that descends from the old one.
    pub seed_sha256: String,
    /// When the last access token expires (unix seconds).
    pub access_expires_at: Option<i64>,
    pub last_refresh_at: Option<i64>,
    /// Why the last refresh failed; `None` after a success.
    pub last_error: Option<String>,
    /// Since when refreshes fail.
    pub failing_since: Option<i64>,
}

/// A refresh that failed, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFailure {
    pub error: String,
    /// The provider refused the grant (`invalid_grant`, `invalid_client`, …): only a person can fix it.
    pub permanent: bool,
}

/// The store could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token store: {0}")]
pub struct StoreError(pub String);

/// Where grants are kept: the database in the service, memory in unit tests.
#[async_trait::async_trait]
pub trait GrantStore: Send + Sync {
    /// The stored state of a mailbox's grant, if any.
    async fn load(&self, mailbox_id: i64) -> Result<Option<StoredGrant>, StoreError>;

    /// A refresh succeeded: the access token's expiry, and the rotated refresh token (sealed) with the seed it
    /// descends from when the provider sent a new one. Clears the failure.
    async fn refreshed(
        &self,
        mailbox_id: i64,
        rotated: Option<(&str, &str)>,
        access_expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError>;

    /// A refresh failed.
    async fn failed(&self, mailbox_id: i64, failure: &GrantFailure, now: i64) -> Result<(), StoreError>;
}
