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
        .fetch_one(self.pool())
        .await?)
    }

    /// The active user owning the token with this hash.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<UserRow>> {
        let user_id: Option<i64> = sqlx::query_scalar(
            "select t.user_id from api_tokens t join users u on u.id = t.user_id where t.token_hash = $1 and u.active = 1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        match user_id {
            Some(id) => Ok(Some(self.user(id).await?)),
            None => Ok(None),
        }
    }
}
