//! One mailbox's access tokens: cached until shortly before they expire, refreshed one at a time (IMAP poller, SMTP
//! sender and the keeper share the source), rotated refresh tokens sealed into the store, failures into the health.

use super::endpoint::{self, TokenError};
use crate::platform::config::Grant;
use crate::platform::health::Health;
use crate::platform::oauth::{GrantFailure, GrantStore, StoredGrant};
use crate::platform::secretbox::SecretBox;
use std::sync::Arc;

/// Why no access token is at hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// Neither the configuration nor the database holds a refresh token.
    #[error("no refresh token: set refresh_token_env or refresh_token_file, or use Connect in /admin/mailboxes")]
    NoRefreshToken,
    /// The token endpoint refused or failed.
    #[error("token refresh failed: {0}")]
    Refresh(TokenError),
}

impl OAuthError {
    fn permanent(&self) -> bool {
        match self {
            Self::NoRefreshToken => true,
            Self::Refresh(e) => e.is_permanent(),
        }
    }
}

/// What every source of a process shares.
pub(super) struct Shared {
    pub http: reqwest::Client,
    pub store: Arc<dyn GrantStore>,
    pub secrets: SecretBox,
    pub health: Health,
}

/// The tokens of one mailbox.
pub struct TokenSource {
    pub(super) mailbox_id: i64,
    name: String,
    grant: Grant,
    seed_sha256: String,
    /// What the source was built from; a source with other settings replaces it.
    pub(super) key: String,
    shared: Arc<Shared>,
    state: tokio::sync::Mutex<State>,
    /// Woken by [`TokenSource::reset`]: a new refresh token was stored.
    reset: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    access: Option<Access>,
    /// The refresh token last used or received; `None`: read the store (or the configuration) first.
    refresh_token: Option<String>,
    failure: Option<Failure>,
}

struct Access {
    token: String,
    refresh_at: i64,
    expires_at: i64,
}

struct Failure {
    error: OAuthError,
    attempts: u32,
    retry_at: i64,
}

/// When to refresh a token valid for `expires_in` seconds from `now`: a minute before it expires, but never before
/// half its life (short-lived tokens), and at least a second later.
pub fn refresh_at(now: i64, expires_in: i64) -> i64 {
    now + (expires_in - 60).max(expires_in / 2).max(1)
}

/// Seconds before refresh attempt `attempts + 1`: 15 s doubling to 5 min; a refused grant 1 min doubling to 15 min
/// (it needs a person; the Connect flow resets the source at once).
pub fn retry_after(attempts: u32, permanent: bool) -> i64 {
    let (first, cap) = if permanent { (60, 900) } else { (15, 300) };
    (first << attempts.saturating_sub(1).min(10)).min(cap)
}

/// The fingerprint of a configured refresh token, kept next to a stored one (empty string when none is configured).
pub fn seed_fingerprint(grant: &Grant) -> String {
    use sha2::{Digest, Sha256};
    grant.seed_refresh_token.as_deref().map(|s| hex::encode(Sha256::digest(s.as_bytes()))).unwrap_or_default()
}

impl TokenSource {
    pub(super) fn new(mailbox_id: i64, name: &str, grant: Grant, key: String, shared: Arc<Shared>) -> Self {
        let seed_sha256 = seed_fingerprint(&grant);
        let state = tokio::sync::Mutex::new(State::default());
        let reset = tokio::sync::Notify::new();
        Self { mailbox_id, name: name.to_string(), grant, seed_sha256, key, shared, state, reset }
    }

    /// A valid access token: the cached one until its refresh time, else a fresh one. While refreshing fails, an
    /// access token that has not expired yet is still handed out.
    pub async fn access_token(&self) -> Result<String, OAuthError> {
        let mut st = self.state.lock().await;
        let now = crate::domain::now();
        if let Some(a) = st.access.as_ref().filter(|a| now < a.refresh_at) {
            return Ok(a.token.clone());
        }
        let result = match &st.failure {
            Some(f) if now < f.retry_at => Err(f.error.clone()),
            _ => self.refresh(&mut st, now).await,
        };
        result.or_else(|e| st.access.as_ref().filter(|a| now + 5 < a.expires_at).map(|a| a.token.clone()).ok_or(e))
    }

    /// The server refused `token` (revoked, or expired early): it is not handed out again.
    pub async fn refused(&self, token: &str) {
        let mut st = self.state.lock().await;
        if st.access.as_ref().is_some_and(|a| a.token == token) {
            st.access = None;
        }
    }

    /// Forgets everything cached (a new refresh token was stored): the next call refreshes at once.
    pub async fn reset(&self) {
        *self.state.lock().await = State::default();
        self.reset.notify_waiters();
    }

    /// Resolves at the next [`TokenSource::reset`] (a poller backing off then tries at once).
    pub async fn connected(&self) {
        self.reset.notified().await;
    }

    /// Whether the keeper should refresh now (no token yet, its refresh time passed, or a failure's retry is due).
    pub(super) fn due(&self, now: i64) -> bool {
        let Ok(st) = self.state.try_lock() else { return false };
        match (&st.failure, &st.access) {
            (Some(f), _) => now >= f.retry_at,
            (None, Some(a)) => now >= a.refresh_at,
            (None, None) => true,
        }
    }

    async fn refresh(&self, st: &mut State, now: i64) -> Result<String, OAuthError> {
        let result = self.exchange(st).await;
        match result {
            Ok((used, tokens)) => {
                let expires_at = now + tokens.expires_in;
                let rotated = tokens.refresh_token.filter(|r| *r != used);
                let sealed = rotated.as_deref().map(|r| self.shared.secrets.seal(r));
                let stored = sealed.as_deref().map(|s| (s, self.seed_sha256.as_str()));
                if let Err(e) = self.shared.store.refreshed(self.mailbox_id, stored, expires_at, now).await {
                    // The rotated token stays in memory; it is stored with the next refresh.
                    tracing::warn!(mailbox = %self.name, error = %e, "could not store the OAuth2 grant");
                }
                tracing::info!(mailbox = %self.name, expires_in = tokens.expires_in, rotated = rotated.is_some(), "OAuth2 access token refreshed");
                metrics::counter!("deskmail_oauth_refreshes_total", "mailbox" => self.name.clone(), "result" => "ok")
                    .increment(1);
                st.refresh_token = Some(rotated.unwrap_or(used));
                st.access = Some(Access {
                    token: tokens.access_token.clone(),
                    refresh_at: refresh_at(now, tokens.expires_in),
                    expires_at,
                });
                st.failure = None;
                self.shared.health.oauth_refreshed(&self.name, expires_at);
                Ok(tokens.access_token)
            }
            Err(error) => {
                let permanent = error.permanent();
                let attempts = st.failure.as_ref().map_or(0, |f| f.attempts) + 1;
                tracing::warn!(mailbox = %self.name, %error, attempt = attempts, permanent, "OAuth2 token refresh failed");
                metrics::counter!("deskmail_oauth_refreshes_total", "mailbox" => self.name.clone(), "result" => "failed").increment(1);
                if permanent {
                    // The next attempt reads the store again: a person may have connected the mailbox anew.
                    st.refresh_token = None;
                }
                let failure = GrantFailure { error: error.to_string(), permanent };
                if let Err(e) = self.shared.store.failed(self.mailbox_id, &failure, now).await {
                    tracing::warn!(mailbox = %self.name, error = %e, "could not record the OAuth2 failure");
                }
                self.shared.health.oauth_failed(&self.name, failure.error);
                st.failure =
                    Some(Failure { error: error.clone(), attempts, retry_at: now + retry_after(attempts, permanent) });
                Err(error)
            }
        }
    }

    /// One refresh-token grant with the best refresh token at hand; when the provider refuses it and the store
    /// holds another (rotated meanwhile by another instance), that one is tried too. Returns the token used.
    async fn exchange(&self, st: &State) -> Result<(String, endpoint::Tokens), OAuthError> {
        let stored = self.stored_token().await;
        let first =
            st.refresh_token.clone().or_else(|| stored.clone()).or_else(|| self.grant.seed_refresh_token.clone());
        let first = first.ok_or(OAuthError::NoRefreshToken)?;
        match endpoint::refresh(&self.shared.http, &self.grant, &first).await {
            Ok(tokens) => Ok((first, tokens)),
            Err(e) if e.is_permanent() => {
                let Some(other) = stored.filter(|s| *s != first) else { return Err(OAuthError::Refresh(e)) };
                let tokens =
                    endpoint::refresh(&self.shared.http, &self.grant, &other).await.map_err(OAuthError::Refresh)?;
                Ok((other, tokens))
            }
            Err(e) => Err(OAuthError::Refresh(e)),
        }
    }

    /// The stored refresh token, when it descends from the configured one (a changed configuration wins).
    async fn stored_token(&self) -> Option<String> {
        let stored: StoredGrant = match self.shared.store.load(self.mailbox_id).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(mailbox = %self.name, error = %e, "cannot read the stored OAuth2 grant");
                return None;
            }
        };
        let sealed = stored.refresh_token_sealed.filter(|_| stored.seed_sha256 == self.seed_sha256)?;
        match self.shared.secrets.open(&sealed) {
            Ok(token) => Some(token),
            Err(e) => {
                tracing::warn!(mailbox = %self.name, error = %e, "the stored refresh token cannot be opened");
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
