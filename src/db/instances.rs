//! Live `serve` instances: one heartbeat row per process, so the mailbox leases can be shared fairly.

use super::{Db, Result};

impl Db {
    /// Records that instance `owner` is alive at `now`, and forgets instances silent since before `forget_before`.
    pub async fn beat(&self, owner: &str, now: i64, forget_before: i64) -> Result<()> {
        let mut writer = self.writer().await?;
        sqlx::query(
            "insert into instances (owner, heartbeat_at) values ($1, $2) \
             on conflict (owner) do update set heartbeat_at = excluded.heartbeat_at",
        )
        .bind(owner)
        .bind(now)
        .execute(&mut *writer)
        .await?;
        sqlx::query("delete from instances where heartbeat_at < $1").bind(forget_before).execute(&mut *writer).await?;
        Ok(())
    }

    /// Removes the heartbeat of instance `owner` (on a clean shutdown).
    pub async fn forget_instance(&self, owner: &str) -> Result<()> {
        sqlx::query("delete from instances where owner = $1").bind(owner).execute(&mut *self.writer().await?).await?;
        Ok(())
    }

    /// The instances heard from at or after `since`.
    pub async fn live_instances(&self, since: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("select owner from instances where heartbeat_at >= $1 order by owner")
            .bind(since)
            .fetch_all(self.pool())
            .await?)
    }
}
