//! API tokens, stored as sha256 hashes of the secret.

use super::{Db, Result, UserRow};

impl Db {
    /// Stores a token hash for a user.
    pub async fn create_token(&self, user_id: i64, name: &str, token_hash: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "insert into api_tokens (user_id, name, token_hash, created_at) values ($1, $2, $3, $4) returning id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(crate::domain::now())
        .fetch_one(&mut *self.writer().await?)
        .await?)
    }

    /// The active user owning the token with this hash.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(
            "select u.id, u.email, u.name, u.role, u.password_hash, u.active, u.signature, u.notify_new_ticket, \
             u.notify_customer_replied, u.notify_assigned from api_tokens t join users u on u.id = t.user_id \
             where t.token_hash = $1 and u.active = 1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?)
    }
}
