//! OAuth2 for mailboxes: a token source per mailbox signing in with XOAUTH2 or OAUTHBEARER (shared by its IMAP
//! poller and SMTP sender), the keeper that refreshes tokens before they expire (so a revoked grant shows in the
//! health without waiting for the next connection), the token endpoint, the SASL messages and PKCE.

pub mod endpoint;
pub mod pkce;
pub mod sasl;
mod source;

pub use source::{OAuthError, TokenSource, refresh_at, retry_after, seed_fingerprint};

use crate::platform::config::{MailboxSettings, OAuthProviders};
use crate::platform::health::Health;
use crate::platform::oauth::GrantStore;
use crate::platform::secretbox::SecretBox;
use source::Shared;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One token endpoint request may take this long.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the keeper looks for tokens to refresh.
const KEEPER_TICK: Duration = Duration::from_secs(1);

/// The token sources of a process, by mailbox id. Cheap to clone.
#[derive(Clone)]
pub struct OAuthTokens {
    shared: Arc<Shared>,
    providers: Arc<OAuthProviders>,
    sources: Arc<Mutex<HashMap<i64, Arc<TokenSource>>>>,
}

impl OAuthTokens {
    /// A registry keeping grants in `store`, sealing refresh tokens with `secrets`, reporting into `health`.
    pub fn new(
        store: Arc<dyn GrantStore>,
        secrets: SecretBox,
        health: Health,
        providers: OAuthProviders,
    ) -> Result<Self, String> {
        let http = super::http::client(HTTP_TIMEOUT / 2, HTTP_TIMEOUT, "deskmail")?;
        Ok(Self {
            shared: Arc::new(Shared { http, store, secrets, health }),
            providers: Arc::new(providers),
            sources: Arc::default(),
        })
    }

    /// The configured providers (`[oauth]`).
    pub fn providers(&self) -> &OAuthProviders {
        &self.providers
    }

    /// The HTTP client token requests go through.
    pub fn http(&self) -> &reqwest::Client {
        &self.shared.http
    }

    /// The token source of a mailbox that signs in with OAuth2 (`None` when it uses passwords), kept while its
    /// settings stay the same. Errors name settings that cannot work (an unset variable, a missing client id).
    pub fn source(
        &self,
        mailbox_id: i64,
        name: &str,
        settings: &MailboxSettings,
    ) -> Result<Option<Arc<TokenSource>>, String> {
        let Some(oauth) = settings.oauth() else { return Ok(None) };
        let grant = oauth.resolve(&self.providers)?;
        let key = format!("{name}\n{:?}\n{}\n{}", grant, seed_fingerprint(&grant), secret_fingerprint(&grant));
        let mut sources = self.sources.lock().expect("token sources");
        if let Some(existing) = sources.get(&mailbox_id).filter(|s| s.key == key) {
            return Ok(Some(existing.clone()));
        }
        let source = Arc::new(TokenSource::new(mailbox_id, name, grant, key, self.shared.clone()));
        sources.insert(mailbox_id, source.clone());
        Ok(Some(source))
    }

    /// Drops the sources of mailboxes not in `ids` (removed, disabled, or no longer on OAuth2).
    pub fn retain(&self, ids: &HashSet<i64>) {
        self.sources.lock().expect("token sources").retain(|id, _| ids.contains(id));
    }

    /// Forgets what a mailbox's source cached (a new refresh token was stored): it refreshes at once.
    pub async fn reset(&self, mailbox_id: i64) {
        let source = self.sources.lock().expect("token sources").get(&mailbox_id).cloned();
        if let Some(source) = source {
            source.reset().await;
        }
    }

    /// One keeper step: refreshes every source whose token is due (or has none yet), side by side; returns how many.
    pub async fn try_refresh_due(&self) -> usize {
        let now = crate::domain::now();
        let due: Vec<Arc<TokenSource>> =
            self.sources.lock().expect("token sources").values().filter(|s| s.due(now)).cloned().collect();
        // Failures are recorded by the sources (health, store); nothing more to do with them here.
        futures::future::join_all(due.iter().map(|s| s.access_token())).await;
        due.len()
    }

    /// The keeper: refreshes due tokens every second until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            self.try_refresh_due().await;
            tokio::select! {
                _ = tokio::time::sleep(KEEPER_TICK) => {},
                _ = cancel.cancelled() => {},
            }
        }
    }
}

/// A changed client secret makes a new source too (hashed: the key must not hold the secret itself).
fn secret_fingerprint(grant: &crate::platform::config::Grant) -> String {
    use sha2::{Digest, Sha256};
    grant.client_secret.as_deref().map(|s| hex::encode(Sha256::digest(s.as_bytes()))).unwrap_or_default()
}
