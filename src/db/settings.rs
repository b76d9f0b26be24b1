//! Installation-wide key/value settings.

use super::{Db, Result};

impl Db {
    /// A stored setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("select value from settings where key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Stores a setting unless it exists; returns the value now stored (first writer wins).
    pub async fn setting_init(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query("insert into settings (key, value) values ($1, $2) on conflict (key) do nothing")
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(sqlx::query_scalar("select value from settings where key = $1").bind(key).fetch_one(self.pool()).await?)
    }
}
