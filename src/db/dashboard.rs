//! Dashboard tables: sessions, tags, canned responses, template overrides, single-use user tokens, status counts.

use super::{Db, DbError, Result};

/// A canned response (personal when `owner_id` is set, shared otherwise).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CannedRow {
    pub id: i64,
    pub owner_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub updated_at: i64,
}

impl Db {
    /// A session's data, unless expired.
    pub async fn session_load(&self, id: &str, now: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("select data from sessions where id = $1 and expiry_date > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Stores a session.
    pub async fn session_save(&self, id: &str, data: &str, expiry: i64) -> Result<()> {
        sqlx::query(
            "insert into sessions (id, data, expiry_date) values ($1, $2, $3) \
             on conflict (id) do update set data = excluded.data, expiry_date = excluded.expiry_date",
        )
        .bind(id)
        .bind(data)
        .bind(expiry)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Creates a session; false when the id is taken.
    pub async fn session_create(&self, id: &str, data: &str, expiry: i64) -> Result<bool> {
        let done =
            sqlx::query("insert into sessions (id, data, expiry_date) values ($1, $2, $3) on conflict (id) do nothing")
                .bind(id)
                .bind(data)
                .bind(expiry)
                .execute(&mut *self.writer().await?)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a session, and every expired one.
    pub async fn session_delete(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query("delete from sessions where id = $1 or expiry_date < $2")
            .bind(id)
            .bind(now)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Tickets per status, as maintained by triggers (summed over PostgreSQL's slots, see migration 0029).
    pub async fn status_counts(&self) -> Result<Vec<(String, i64)>> {
        let sql = "select status, cast(sum(count) as bigint) from ticket_counts group by status";
        Ok(sqlx::query_as(sql).fetch_all(self.pool()).await?)
    }

    /// Tickets per status in these mailboxes only (an agent who may not see every mailbox), from the counts the
    /// triggers keep per mailbox.
    pub async fn status_counts_in(&self, mailboxes: &[i64]) -> Result<Vec<(String, i64)>> {
        if mailboxes.is_empty() {
            return Ok(Vec::new());
        }
        let marks = super::marks(1, mailboxes.len());
        let sql = format!(
            "select status, cast(sum(count) as bigint) from ticket_mailbox_counts where mailbox_id in ({marks}) group by status"
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in mailboxes {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// Canned responses a user may use: their own and the shared ones.
    pub async fn canned_for(&self, user_id: i64) -> Result<Vec<CannedRow>> {
        Ok(sqlx::query_as(
            "select id, owner_id, title, body, updated_at from canned_responses where owner_id = $1 or owner_id is null \
             order by owner_id is null, lower(title)",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// One canned response.
    pub async fn canned(&self, id: i64) -> Result<CannedRow> {
        sqlx::query_as("select id, owner_id, title, body, updated_at from canned_responses where id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(DbError::NotFound)
    }

    /// Creates or (with `id`) updates a canned response.
    pub async fn save_canned(&self, id: Option<i64>, owner_id: Option<i64>, title: &str, body: &str) -> Result<i64> {
        let now = crate::domain::now();
        match id {
            Some(id) => {
                sqlx::query("update canned_responses set owner_id = $2, title = $3, body = $4, updated_at = $5 where id = $1")
                    .bind(id)
                    .bind(owner_id)
                    .bind(title)
                    .bind(body)
                    .bind(now)
                    .execute(&mut *self.writer().await?)
                    .await?;
                Ok(id)
            }
            None => Ok(sqlx::query_scalar(
                "insert into canned_responses (owner_id, title, body, created_at, updated_at) values ($1, $2, $3, $4, $4) returning id",
            )
            .bind(owner_id)
            .bind(title)
            .bind(body)
            .bind(now)
            .fetch_one(&mut *self.writer().await?)
            .await?),
        }
    }

    /// Deletes a canned response.
    pub async fn delete_canned(&self, id: i64) -> Result<()> {
        sqlx::query("delete from canned_responses where id = $1").bind(id).execute(&mut *self.writer().await?).await?;
        Ok(())
    }

    /// Template overrides saved in the dashboard, as `(name, source)`.
    pub async fn template_overrides(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("select name, source from template_overrides order by name").fetch_all(self.pool()).await?)
    }

    /// Saves (Some) or removes (None) a template override.
    pub async fn set_template_override(&self, name: &str, source: Option<&str>, by: &str) -> Result<()> {
        match source {
            Some(src) => sqlx::query(
                "insert into template_overrides (name, source, updated_by, updated_at) values ($1, $2, $3, $4) \
                 on conflict (name) do update set source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(src)
            .bind(by)
            .bind(crate::domain::now())
            .execute(&mut *self.writer().await?)
            .await?,
            None => sqlx::query("delete from template_overrides where name = $1").bind(name).execute(&mut *self.writer().await?).await?,
        };
        Ok(())
    }

    /// Stores a single-use token (hash) for a user; earlier unused ones of the same purpose stop working.
    pub async fn create_user_token(
        &self,
        user_id: i64,
        purpose: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        let now = crate::domain::now();
        // One transaction: two tokens made at once must not both stay valid.
        let mut tx = self.begin().await?;
        sqlx::query("update user_tokens set used_at = $3 where user_id = $1 and purpose = $2 and used_at is null")
            .bind(user_id)
            .bind(purpose)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into user_tokens (token_hash, user_id, purpose, expires_at, created_at) values ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(purpose)
            .bind(expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user of a valid (unused, unexpired) token, without using it up.
    pub async fn peek_user_token(&self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("select user_id from user_tokens where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3")
            .bind(token_hash)
            .bind(purpose)
            .bind(now)
            .fetch_optional(self.pool())
            .await?)
    }
}
