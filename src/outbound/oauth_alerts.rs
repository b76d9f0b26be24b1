//! Notices to admins of a mailbox whose OAuth2 grant cannot be refreshed (`mailbox_alert`): a refused grant within
//! half a minute, other failures after ten minutes, then at most one notice an hour per mailbox; through the outbox.

use super::compose::Composer;
use super::plain::PlainDraft;
use crate::db::oauth_tokens::{OAuthAlertRow, mark_alerted};
use crate::db::{Db, DbError, MailboxRow, UserRow};
use crate::domain::TemplateKind;
use serde_json::json;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often failing grants are looked for.
pub const EVERY: Duration = Duration::from_secs(20);

/// At most one notice per mailbox within this many seconds.
pub const QUIET_SECS: i64 = 3600;

/// A failure the provider did not call final (an outage) is told of once it lasts this long.
pub const TRANSIENT_GRACE_SECS: i64 = 600;

/// The worker that tells admins.
#[derive(Clone)]
pub struct OAuthAlerts {
    pub db: Db,
    pub composer: Composer,
}

impl OAuthAlerts {
    /// One step at `now`: queues the notices that are due; returns of how many mailboxes admins were told.
    pub async fn try_alert(&self, now: i64) -> Result<usize, DbError> {
        let due = self.db.oauth_alerts_due(now - QUIET_SECS, now - TRANSIENT_GRACE_SECS).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let admins: Vec<UserRow> =
            self.db.users().await?.into_iter().filter(|u| u.active == 1 && u.is_admin()).collect();
        let mailboxes = self.db.mailboxes().await?;
        let mut told = 0;
        for alert in due {
            // Another mailbox than the failing one sends the notice when there is one: its own SMTP may need the grant.
            let from = mailboxes.iter().filter(|m| m.can_send()).min_by_key(|m| (m.id == alert.mailbox_id, m.id));
            let mut tx = self.db.begin().await?;
            if !mark_alerted(&mut tx, alert.mailbox_id, now - QUIET_SECS, now).await? {
                continue;
            }
            match from {
                Some(from) => {
                    for admin in &admins {
                        self.composer.enqueue_plain(&mut tx, draft(&alert, from, admin, &self.composer), now).await?;
                    }
                }
                None => {
                    tracing::error!(mailbox = %alert.name, "no mailbox can send: admins not told of the failing OAuth2 grant")
                }
            }
            tx.commit().await.map_err(DbError::from)?;
            tracing::warn!(mailbox = %alert.name, error = %alert.last_error, admins = admins.len(), "admins told of a failing OAuth2 grant");
            told += 1;
        }
        if told > 0 {
            self.composer.wake();
        }
        Ok(told)
    }

    /// Runs [`OAuthAlerts::try_alert`] every [`EVERY`] until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            if let Err(e) = self.try_alert(crate::domain::now()).await {
                tracing::error!(error = %crate::platform::telemetry::chain(&e), "OAuth2 alerts: step failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {},
                _ = cancel.cancelled() => {},
            }
        }
    }
}

fn draft<'a>(alert: &OAuthAlertRow, from: &'a MailboxRow, admin: &UserRow, composer: &Composer) -> PlainDraft<'a> {
    let link = format!("{}/admin/mailboxes", composer.public_url.trim_end_matches('/'));
    PlainDraft {
        kind: TemplateKind::MailboxAlert,
        mailbox: from,
        to: (admin.name.clone(), admin.email.clone()),
        context: json!({
            "user": { "name": admin.name, "email": admin.email },
            "alert": {
                "mailbox": alert.name,
                "error": alert.last_error,
                "failing_since": crate::domain::rfc3339(alert.failing_since),
                "link": link,
            },
        }),
    }
}
