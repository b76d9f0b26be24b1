//! OAuth2 grants of mailboxes (`oauth_tokens`): the sealed refresh token, how the last refresh went, and when admins
//! were told of a failing one. The token provider reaches it through [`GrantStore`].

use super::{Db, Result};
use crate::platform::oauth::{GrantFailure, GrantStore, StoreError, StoredGrant};
use sqlx::AnyConnection;

/// A failing grant admins are to hear of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthAlertRow {
    pub mailbox_id: i64,
    pub name: String,
    pub last_error: String,
    pub failing_since: i64,
}

impl Db {
    /// The stored grant of a mailbox.
    pub async fn oauth_grant(&self, mailbox_id: i64) -> Result<Option<StoredGrant>> {
        Ok(sqlx::query_as(
            "select refresh_token_sealed, seed_sha256, access_expires_at, last_refresh_at, last_error, failing_since \
             from oauth_tokens where mailbox_id = $1",
        )
        .bind(mailbox_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// A refresh succeeded; `rotated` is `(sealed refresh token, seed fingerprint)` when the provider sent a new one.
    pub async fn oauth_refreshed(
        &self,
        id: i64,
        rotated: Option<(&str, &str)>,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        // A new row without a rotated token stores no token (and so no seed either).
        sqlx::query(
            "insert into oauth_tokens (mailbox_id, refresh_token_sealed, seed_sha256, access_expires_at, \
             last_refresh_at, updated_at) values ($1, $2, $3, $4, $5, $5) \
             on conflict (mailbox_id) do update set \
             refresh_token_sealed = coalesce(excluded.refresh_token_sealed, oauth_tokens.refresh_token_sealed), \
             seed_sha256 = case when excluded.refresh_token_sealed is null then oauth_tokens.seed_sha256 \
             else excluded.seed_sha256 end, access_expires_at = excluded.access_expires_at, \
             last_refresh_at = excluded.last_refresh_at, last_error = null, last_error_permanent = 0, \
             failing_since = null, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(rotated.map(|r| r.0))
        .bind(rotated.map_or("", |r| r.1))
        .bind(expires_at)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// A refresh failed; `failing_since` keeps the first failure of a run.
    pub async fn oauth_failed(&self, id: i64, error: &str, permanent: bool, now: i64) -> Result<()> {
        sqlx::query(
            "insert into oauth_tokens (mailbox_id, last_error, last_error_permanent, failing_since, updated_at) \
             values ($1, $2, $3, $4, $4) on conflict (mailbox_id) do update set last_error = excluded.last_error, \
             last_error_permanent = excluded.last_error_permanent, \
             failing_since = coalesce(oauth_tokens.failing_since, excluded.failing_since), updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(error)
        .bind(super::flag(permanent))
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Stores a refresh token received by the Connect flow (sealed) and clears any failure.
    pub async fn oauth_connected(&self, id: i64, sealed: &str, seed_sha256: &str, now: i64) -> Result<()> {
        sqlx::query(
            "insert into oauth_tokens (mailbox_id, refresh_token_sealed, seed_sha256, updated_at) values ($1, $2, $3, $4) \
             on conflict (mailbox_id) do update set refresh_token_sealed = excluded.refresh_token_sealed, \
             seed_sha256 = excluded.seed_sha256, last_error = null, last_error_permanent = 0, failing_since = null, \
             updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(sealed)
        .bind(seed_sha256)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Failing grants of enabled mailboxes not told of since `alerted_before`: refused ones at once, others once they
    /// have failed since `failing_before`.
    pub async fn oauth_alerts_due(&self, alerted_before: i64, failing_before: i64) -> Result<Vec<OAuthAlertRow>> {
        Ok(sqlx::query_as(
            "select t.mailbox_id, m.name, t.last_error, t.failing_since from oauth_tokens t \
             join mailboxes m on m.id = t.mailbox_id \
             where t.failing_since is not null and t.last_error is not null and m.enabled = 1 \
             and (t.last_error_permanent = 1 or t.failing_since <= $2) \
             and (t.alerted_at is null or t.alerted_at <= $1) order by t.mailbox_id",
        )
        .bind(alerted_before)
        .bind(failing_before)
        .fetch_all(self.pool())
        .await?)
    }
}

/// Marks a grant's failure as told (in the transaction that queues the notice); `false` when another instance told
/// of it since `alerted_before`.
pub async fn mark_alerted(conn: &mut AnyConnection, id: i64, alerted_before: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "update oauth_tokens set alerted_at = $3 where mailbox_id = $1 and (alerted_at is null or alerted_at <= $2)",
    )
    .bind(id)
    .bind(alerted_before)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn store_error(e: super::DbError) -> StoreError {
    StoreError(crate::platform::telemetry::chain(&e))
}

#[async_trait::async_trait]
impl GrantStore for Db {
    async fn load(&self, mailbox_id: i64) -> Result<Option<StoredGrant>, StoreError> {
        self.oauth_grant(mailbox_id).await.map_err(store_error)
    }

    async fn refreshed(
        &self,
        mailbox_id: i64,
        rotated: Option<(&str, &str)>,
        access_expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.oauth_refreshed(mailbox_id, rotated, access_expires_at, now).await.map_err(store_error)
    }

    async fn failed(&self, mailbox_id: i64, failure: &GrantFailure, now: i64) -> Result<(), StoreError> {
        self.oauth_failed(mailbox_id, &failure.error, failure.permanent, now).await.map_err(store_error)
    }
}
