//! The poller supervisor: one poller per enabled IMAP mailbox, reconciled with the database on demand.

use super::poller::{Poller, hostname};
use super::share::{Heartbeat, LeaseShare};
use crate::db::{Db, DbError, MailboxRow};
use crate::ingest::Pipeline;
use crate::net::oauth::OAuthTokens;
use crate::platform::config::ImapDefaults;
use crate::platform::health::{Health, MailboxState};
use crate::platform::secretbox::{SecretBox, load_mailbox_settings};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Mailboxes are re-read this often even without a notification (changes made on another instance).
const RESCAN: Duration = Duration::from_secs(60);

/// A mailbox as last seen, and its poller when one runs.
struct Entry {
    key: String,
    name: String,
    poller: Option<(CancellationToken, JoinHandle<()>)>,
}

/// What the supervisor is built from.
pub struct SupervisorParts {
    pub pipeline: Pipeline,
    pub db: Db,
    pub defaults: ImapDefaults,
    pub max_message_bytes: u64,
    /// Opens the mailbox passwords entered in the dashboard.
    pub secrets: SecretBox,
    /// Access tokens of the mailboxes that sign in with OAuth2.
    pub oauth: OAuthTokens,
}

/// Starts, stops and restarts mailbox pollers; every poller runs under a child of the shutdown token.
pub struct Supervisor {
    pipeline: Pipeline,
    db: Db,
    defaults: ImapDefaults,
    max_message_bytes: u64,
    health: Health,
    secrets: SecretBox,
    oauth: OAuthTokens,
    share: LeaseShare,
    shutdown: CancellationToken,
    known: HashMap<i64, Entry>,
    /// Our-addresses list still to refresh (a refresh failed after a change).
    refresh_pending: bool,
}

/// What decides whether a running poller is still right: everything the poller was built from.
fn key_of(row: &MailboxRow) -> String {
    format!("{}\n{}\n{}\n{}\n{}", row.name, row.address, row.plus_addressing, row.enabled, row.settings_json)
}

impl Supervisor {
    /// A supervisor with no poller running yet; [`Supervisor::reload`] or [`Supervisor::run`] starts them.
    pub fn new(parts: SupervisorParts, health: &Health, shutdown: &CancellationToken) -> Self {
        let owner = format!("{}:{}:{}", hostname(), std::process::id(), uuid::Uuid::new_v4().simple());
        let share = LeaseShare::new(owner, Duration::from_secs(parts.defaults.lease_secs.max(3)));
        Self {
            pipeline: parts.pipeline,
            db: parts.db,
            defaults: parts.defaults,
            max_message_bytes: parts.max_message_bytes,
            health: health.clone(),
            secrets: parts.secrets,
            oauth: parts.oauth,
            share,
            shutdown: shutdown.clone(),
            known: HashMap::new(),
            refresh_pending: false,
        }
    }

    /// Reconciles with the database until shutdown: at once, on each `changed` notification and every minute.
    /// Keeps this instance's heartbeat meanwhile. On shutdown it waits for every poller to stop (they release their
    /// leases) and removes the heartbeat.
    pub async fn run(mut self, changed: Arc<tokio::sync::Notify>) {
        let heartbeat = Heartbeat { db: self.db.clone(), share: self.share.clone() };
        let heartbeat = tokio::spawn(heartbeat.run(self.shutdown.clone()));
        loop {
            if let Err(e) = self.reload().await {
                tracing::error!(error = %crate::platform::telemetry::chain(&e), "cannot read the mailboxes; pollers unchanged");
            }
            tokio::select! {
                _ = changed.notified() => {},
                _ = tokio::time::sleep(RESCAN) => {},
                _ = self.shutdown.cancelled() => break,
            }
        }
        for (_, entry) in self.known.drain() {
            if let Some((_, handle)) = entry.poller {
                let _ = handle.await;
            }
        }
        let _ = heartbeat.await;
    }

    /// Stops the pollers of removed, disabled or changed mailboxes and starts the missing ones;
    /// refreshes the pipeline's list of our addresses when anything changed.
    pub async fn reload(&mut self) -> Result<(), DbError> {
        let rows = self.db.mailboxes().await?;
        // The keeper refreshes the tokens of every enabled OAuth2 mailbox, also of those that only send.
        let oauth: std::collections::HashSet<i64> = rows
            .iter()
            .filter(|r| r.enabled == 1 && r.settings().is_some_and(|s| s.oauth().is_some()))
            .map(|r| r.id)
            .collect();
        self.oauth.retain(&oauth);
        let polled = rows.iter().filter(|r| r.enabled == 1 && r.settings().is_some_and(|s| s.imap.is_some())).count();
        self.share.set_mailboxes(polled);
        let current: HashMap<i64, String> = rows.iter().map(|r| (r.id, key_of(r))).collect();
        let stale: Vec<i64> =
            self.known.iter().filter(|(id, e)| current.get(id) != Some(&e.key)).map(|(id, _)| *id).collect();
        let mut changed = self.refresh_pending || !stale.is_empty();
        for id in stale {
            if let Some(entry) = self.known.remove(&id) {
                self.stop(entry).await;
            }
        }
        for row in rows {
            if !self.known.contains_key(&row.id) && !self.shutdown.is_cancelled() {
                changed = true;
                let entry = self.start(row);
                self.known.insert(entry.0, entry.1);
            }
        }
        if changed {
            self.refresh_pending = true;
            self.pipeline.refresh().await?;
            self.refresh_pending = false;
        }
        Ok(())
    }

    async fn stop(&self, entry: Entry) {
        if let Some((token, handle)) = entry.poller {
            tracing::info!(mailbox = %entry.name, "stopping the poller (mailbox changed)");
            token.cancel();
            let _ = handle.await;
        }
        self.health.remove(&entry.name);
    }

    fn start(&self, row: MailboxRow) -> (i64, Entry) {
        let (id, key, name) = (row.id, key_of(&row), row.name.clone());
        let settings = match load_mailbox_settings(&row.settings_json, &self.secrets) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(mailbox = %name, error = %e, "mailbox settings unusable; not polling it");
                self.health.failed(&name, e.to_string());
                return (id, Entry { key, name, poller: None });
            }
        };
        if row.enabled != 1 {
            if settings.imap.is_some() {
                self.health.set_state(&name, MailboxState::Disabled);
            }
            return (id, Entry { key, name, poller: None });
        }
        let tokens = match self.oauth.source(row.id, &name, &settings) {
            Ok(tokens) => tokens,
            Err(e) => {
                tracing::error!(mailbox = %name, error = %e, "OAuth2 settings unusable; not polling it");
                self.health.failed(&name, e);
                return (id, Entry { key, name, poller: None });
            }
        };
        let Some(imap) = settings.imap else { return (id, Entry { key, name, poller: None }) };
        let poller = Poller {
            pipeline: self.pipeline.clone(),
            db: self.db.clone(),
            mailbox: row,
            imap,
            defaults: self.defaults.clone(),
            max_message_bytes: self.max_message_bytes,
            health: self.health.clone(),
            share: self.share.clone(),
            tokens,
        };
        let token = self.shutdown.child_token();
        let handle = tokio::spawn(poller.run(token.clone()));
        tracing::info!(mailbox = %name, "poller started");
        (id, Entry { key, name, poller: Some((token, handle)) })
    }

    /// How many pollers run now.
    pub fn running(&self) -> usize {
        self.known.values().filter(|e| e.poller.is_some()).count()
    }
}
