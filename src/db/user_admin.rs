//! Staff accounts as users and admins change them: role, password, signature, notifications, pending invitations.

use super::{Db, Result, flag};
use crate::domain::Role;

/// A user's own preferences (the settings page).
#[derive(Debug, Clone, Default)]
pub struct Preferences {
    pub signature: String,
    pub notify_new_ticket: bool,
    pub notify_customer_replied: bool,
    pub notify_assigned: bool,
}

impl Db {
    /// Sets a user's role.
    pub async fn set_user_role(&self, id: i64, role: Role) -> Result<()> {
        sqlx::query("update users set role = $2, updated_at = $3 where id = $1")
            .bind(id)
            .bind(role.as_str())
            .bind(crate::domain::now())
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Replaces a user's password hash.
    pub async fn set_password_hash(&self, id: i64, password_hash: &str) -> Result<()> {
        sqlx::query("update users set password_hash = $2, updated_at = $3 where id = $1")
            .bind(id)
            .bind(password_hash)
            .bind(crate::domain::now())
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Saves a user's signature and notification choices.
    pub async fn set_preferences(&self, id: i64, p: &Preferences) -> Result<()> {
        sqlx::query(
            "update users set signature = $2, notify_new_ticket = $3, notify_customer_replied = $4, \
             notify_assigned = $5, updated_at = $6 where id = $1",
        )
        .bind(id)
        .bind(&p.signature)
        .bind(flag(p.notify_new_ticket))
        .bind(flag(p.notify_customer_replied))
        .bind(flag(p.notify_assigned))
        .bind(crate::domain::now())
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Users with an invitation not yet accepted, as `(user id, expires_at)` of the newest one.
    pub async fn pending_invites(&self) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select user_id, max(expires_at) from user_tokens where purpose = 'invite' and used_at is null group by user_id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// How many tokens of `purpose` were issued to a user since `since` (rate limits).
    pub async fn user_tokens_since(&self, user_id: i64, purpose: &str, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "select count(*) from user_tokens where user_id = $1 and purpose = $2 and created_at > $3",
        )
        .bind(user_id)
        .bind(purpose)
        .bind(since)
        .fetch_one(self.pool())
        .await?)
    }

    /// Makes a user's unused tokens of `purpose` unusable (password resets, on deactivation).
    pub async fn revoke_user_tokens(&self, user_id: i64, purpose: &str) -> Result<()> {
        sqlx::query("update user_tokens set used_at = $3 where user_id = $1 and purpose = $2 and used_at is null")
            .bind(user_id)
            .bind(purpose)
            .bind(crate::domain::now())
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Uses a token of an active user up and sets their password, in one transaction (their other open
    /// tokens are void then); `None` when the token is unknown, used, expired, or its user is deactivated
    /// (who stays deactivated).
    pub async fn redeem_user_token(
        &self,
        token_hash: &str,
        purpose: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let user: Option<i64> = sqlx::query_scalar(
            "update user_tokens set used_at = $3 where token_hash = $1 and purpose = $2 and used_at is null \
             and expires_at > $3 and user_id in (select id from users where active = 1) returning user_id",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = user {
            sqlx::query("update users set password_hash = $2, updated_at = $3 where id = $1")
                .bind(id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The password is set: the user's other open links (an invitation, older resets) are void.
            sqlx::query("update user_tokens set used_at = $2 where user_id = $1 and used_at is null")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Ends a user's sessions (all but `keep`, the session id that stays): after a password change, a reset,
    /// or deactivation. Sessions hold JSON records whose data names the user as `"user_id":ID`.
    pub async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query("delete from sessions where (data like $1 or data like $2) and id <> $3")
            .bind(format!("%\"user_id\":{user_id},%"))
            .bind(format!("%\"user_id\":{user_id}}}%"))
            .bind(keep.unwrap_or(""))
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected())
    }
}
