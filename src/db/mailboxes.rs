//! Mailboxes (config-provisioned or added in the dashboard) and their IMAP sync state.

use super::{Db, Result, flag};
use crate::platform::config::MailboxSettings;
use sqlx::{Any, AnyConnection, Executor};

/// A mailbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailboxRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub display_name: String,
    pub plus_addressing: i64,
    pub source: String,
    pub enabled: i64,
    pub settings_json: String,
}

impl MailboxRow {
    /// The stored settings (passwords entered in the dashboard still sealed); `None` when unreadable.
    pub fn settings(&self) -> Option<MailboxSettings> {
        serde_json::from_str(&self.settings_json).ok()
    }

    /// The settings with sealed passwords opened (in memory only), for connecting.
    pub fn unsealed_settings(
        &self,
        secrets: &crate::platform::secretbox::SecretBox,
    ) -> Result<MailboxSettings, crate::platform::secretbox::SettingsError> {
        crate::platform::secretbox::load_mailbox_settings(&self.settings_json, secrets)
    }

    /// Whether mail can leave through this mailbox (enabled, with SMTP settings).
    pub fn can_send(&self) -> bool {
        self.enabled == 1 && self.settings().is_some_and(|s| s.smtp.is_some())
    }

    /// The team's name mail is signed with: the display name, or the address.
    pub fn team_name(&self) -> String {
        if self.display_name.trim().is_empty() { self.address.clone() } else { self.display_name.clone() }
    }

    /// The mailbox's `order_pattern` (automatic order links); `None` uses the default.
    pub fn order_pattern(&self) -> Option<String> {
        self.settings().and_then(|s| s.order_pattern)
    }
}

/// The IMAP checkpoint of one mailbox folder.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct SyncState {
    pub uid_validity: Option<i64>,
    pub last_uid: i64,
    pub last_sync_at: Option<i64>,
    /// UID set whose `after_import` action is still owed to the server.
    pub pending: String,
    /// 1 while a first sync or a re-scan is under way (candidates chosen by `import_existing`), else 0.
    pub scanning: i64,
}

const SELECT: &str =
    "select id, name, address, display_name, plus_addressing, source, enabled, settings_json from mailboxes";

impl Db {
    /// Creates or updates the mailboxes of the config file (matched by name).
    pub async fn provision_mailboxes(&self, mailboxes: &[MailboxSettings]) -> Result<()> {
        let now = crate::domain::now();
        for mb in mailboxes {
            let json = serde_json::to_string(mb).unwrap_or_else(|_| "{}".into());
            sqlx::query(
                "insert into mailboxes (name, address, display_name, plus_addressing, source, enabled, settings_json, created_at, updated_at) \
                 values ($1, $2, $3, $4, 'config', $5, $6, $7, $7) \
                 on conflict (name) do update set address = excluded.address, display_name = excluded.display_name, \
                 plus_addressing = excluded.plus_addressing, source = 'config', enabled = excluded.enabled, \
                 settings_json = excluded.settings_json, updated_at = excluded.updated_at",
            )
            .bind(&mb.name)
            .bind(mb.address.trim().to_lowercase())
            .bind(crate::domain::DisplayName::new(&mb.display_name).as_str())
            .bind(flag(mb.plus_addressing))
            .bind(flag(mb.enabled))
            .bind(json)
            .bind(now)
            .execute(&mut *self.writer().await?)
            .await?;
        }
        let names: Vec<String> = mailboxes.iter().map(|m| m.name.clone()).collect();
        // Config mailboxes removed from the file are disabled, never deleted: their tickets stay.
        for (id, name) in
            sqlx::query_as::<_, (i64, String)>("select id, name from mailboxes where source = 'config' and enabled = 1")
                .fetch_all(self.pool())
                .await?
        {
            if !names.contains(&name) {
                tracing::info!(mailbox = %name, "mailbox no longer in the config file; disabled");
                sqlx::query("update mailboxes set enabled = 0, updated_at = $2 where id = $1")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *self.writer().await?)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every mailbox, by name.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} order by name"));
        Ok(sqlx::query_as(sql).fetch_all(self.pool()).await?)
    }

    /// The mailbox with this name.
    pub async fn mailbox_by_name(&self, name: &str) -> Result<Option<MailboxRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} where name = $1"));
        Ok(sqlx::query_as(sql).bind(name).fetch_optional(self.pool()).await?)
    }

    /// Creates a mailbox that only `deskmail ingest` feeds (no IMAP, no SMTP); used by tests and MTA pipes.
    pub async fn create_mailbox(
        &self,
        name: &str,
        address: &str,
        display_name: &str,
        plus_addressing: bool,
    ) -> Result<i64> {
        let now = crate::domain::now();
        Ok(sqlx::query_scalar(
            "insert into mailboxes (name, address, display_name, plus_addressing, source, enabled, settings_json, created_at, updated_at) \
             values ($1, $2, $3, $4, 'dashboard', 1, '{}', $5, $5) returning id",
        )
        .bind(name)
        .bind(address.trim().to_lowercase())
        .bind(crate::domain::DisplayName::new(display_name).as_str())
        .bind(flag(plus_addressing))
        .bind(now)
        .fetch_one(&mut *self.writer().await?)
        .await?)
    }

    /// The checkpoint of a mailbox folder (default when never synced).
    pub async fn sync_state(&self, mailbox_id: i64, folder: &str) -> Result<SyncState> {
        Ok(sqlx::query_as("select uid_validity, last_uid, last_sync_at, pending, scanning from mailbox_sync where mailbox_id = $1 and folder = $2")
            .bind(mailbox_id)
            .bind(folder)
            .fetch_optional(self.pool())
            .await?
            .unwrap_or_default())
    }
}

/// Stores a checkpoint inside the transaction that stores the messages up to it.
pub async fn save_checkpoint(conn: &mut AnyConnection, mailbox_id: i64, folder: &str, state: &SyncState) -> Result<()> {
    sqlx::query(
        "insert into mailbox_sync (mailbox_id, folder, uid_validity, last_uid, last_sync_at, pending, scanning) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (mailbox_id, folder) do update set uid_validity = excluded.uid_validity, \
         last_uid = excluded.last_uid, last_sync_at = excluded.last_sync_at, pending = excluded.pending, scanning = excluded.scanning",
    )
    .bind(mailbox_id)
    .bind(folder)
    .bind(state.uid_validity)
    .bind(state.last_uid)
    .bind(state.last_sync_at)
    .bind(&state.pending)
    .bind(state.scanning)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every mailbox address (lower-cased), to recognise our own mail.
pub async fn addresses<'e>(conn: impl Executor<'e, Database = Any>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select address from mailboxes").fetch_all(conn).await?)
}

/// One mailbox (e.g. a ticket's).
pub async fn by_id<'e>(conn: impl Executor<'e, Database = Any>, mailbox_id: i64) -> Result<MailboxRow> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where id = $1"));
    sqlx::query_as(sql).bind(mailbox_id).fetch_optional(conn).await?.ok_or(super::DbError::NotFound)
}

/// Takes or renews the poller lease of a mailbox for `owner` until `expires_at`; false when another
/// owner holds an unexpired lease.
pub async fn acquire_lease<'e>(
    conn: impl Executor<'e, Database = Any>,
    mailbox_id: i64,
    owner: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool> {
    let held: Option<String> = sqlx::query_scalar(
        "insert into mailbox_leases (mailbox_id, owner, expires_at) values ($1, $2, $3) \
         on conflict (mailbox_id) do update set owner = excluded.owner, expires_at = excluded.expires_at \
         where mailbox_leases.owner = excluded.owner or mailbox_leases.expires_at < $4 returning owner",
    )
    .bind(mailbox_id)
    .bind(owner)
    .bind(expires_at)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(held.is_some())
}

/// Renews the lease `owner` holds (expired or not) until `expires_at`; false when the row is not its own.
pub async fn renew_lease<'e>(
    conn: impl Executor<'e, Database = Any>,
    mailbox_id: i64,
    owner: &str,
    expires_at: i64,
) -> Result<bool> {
    let held: Option<String> = sqlx::query_scalar(
        "update mailbox_leases set expires_at = $3 where mailbox_id = $1 and owner = $2 returning owner",
    )
    .bind(mailbox_id)
    .bind(owner)
    .bind(expires_at)
    .fetch_optional(conn)
    .await?;
    Ok(held.is_some())
}

/// The lease row of a mailbox: `(owner, expires_at)`; `None` when never taken or released on shutdown.
pub async fn lease_of<'e>(conn: impl Executor<'e, Database = Any>, mailbox_id: i64) -> Result<Option<(String, i64)>> {
    Ok(sqlx::query_as("select owner, expires_at from mailbox_leases where mailbox_id = $1")
        .bind(mailbox_id)
        .fetch_optional(conn)
        .await?)
}

/// How many unexpired leases each owner holds at `now`.
pub async fn lease_holders<'e>(conn: impl Executor<'e, Database = Any>, now: i64) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as("select owner, count(*) from mailbox_leases where expires_at >= $1 group by owner")
        .bind(now)
        .fetch_all(conn)
        .await?)
}

/// Hands a lease back to the other instances (a fair share): the row stays, owned by no one, expired since `now`.
pub async fn hand_back_lease<'e>(
    conn: impl Executor<'e, Database = Any>,
    mailbox_id: i64,
    owner: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("update mailbox_leases set owner = '', expires_at = $3 where mailbox_id = $1 and owner = $2")
        .bind(mailbox_id)
        .bind(owner)
        .bind(now - 1)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a lease up (on shutdown), so another instance can take over at once.
pub async fn release_lease<'e>(conn: impl Executor<'e, Database = Any>, mailbox_id: i64, owner: &str) -> Result<()> {
    sqlx::query("delete from mailbox_leases where mailbox_id = $1 and owner = $2")
        .bind(mailbox_id)
        .bind(owner)
        .execute(conn)
        .await?;
    Ok(())
}

/// Clears the owed `after_import` set once the server has applied it.
pub async fn clear_pending<'e>(conn: impl Executor<'e, Database = Any>, mailbox_id: i64, folder: &str) -> Result<()> {
    sqlx::query("update mailbox_sync set pending = '' where mailbox_id = $1 and folder = $2")
        .bind(mailbox_id)
        .bind(folder)
        .execute(conn)
        .await?;
    Ok(())
}
