//! The order of rules: swapping two rules' places (the dashboard's up and down buttons).

use super::{Db, DbError, Result};

impl Db {
    /// Puts rule `first` before rule `second`, which is directly before it in the order (position, id): their
    /// positions are swapped; when they share a position, the rules after it move one place down to make room.
    pub async fn put_rule_before(&self, first: i64, second: i64) -> Result<()> {
        let now = crate::domain::now();
        let mut tx = self.begin().await?;
        let pos = |id: i64| sqlx::query_scalar::<_, i64>("select position from rules where id = $1").bind(id);
        let a = pos(first).fetch_optional(&mut *tx).await?.ok_or(DbError::NotFound)?;
        let b = pos(second).fetch_optional(&mut *tx).await?.ok_or(DbError::NotFound)?;
        let set = "update rules set position = $2, updated_at = $3 where id = $1";
        if a == b {
            sqlx::query("update rules set position = position + 1 where position > $1")
                .bind(a)
                .execute(&mut *tx)
                .await?;
            sqlx::query(set).bind(second).bind(a + 1).bind(now).execute(&mut *tx).await?;
        } else {
            sqlx::query(set).bind(first).bind(b).bind(now).execute(&mut *tx).await?;
            sqlx::query(set).bind(second).bind(a).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
