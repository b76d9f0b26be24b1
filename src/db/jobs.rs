//! Named periodic jobs (the rules scheduler): one instance runs a job at a time by lease, and the last run is kept
//! for `/healthz` and the admin pages.

use super::{Db, Result};

/// A job's last run.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JobRow {
    pub name: String,
    pub last_run_at: Option<i64>,
    pub last_duration_ms: Option<i64>,
    pub last_acted: Option<i64>,
}

impl Db {
    /// Takes job `name` for `owner` until `until` when nobody else holds it; `false` when another instance does.
    pub async fn claim_job(&self, name: &str, owner: &str, now: i64, until: i64) -> Result<bool> {
        let mut writer = self.writer().await?;
        sqlx::query("insert into scheduled_jobs (name) values ($1) on conflict (name) do nothing")
            .bind(name)
            .execute(&mut *writer)
            .await?;
        let done = sqlx::query(
            "update scheduled_jobs set lease_owner = $2, lease_until = $3 \
             where name = $1 and (lease_owner is null or lease_owner = $2 or lease_until < $4)",
        )
        .bind(name)
        .bind(owner)
        .bind(until)
        .bind(now)
        .execute(&mut *writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a finished run of job `name` (keeping the lease: the holder runs it again next time).
    pub async fn finish_job(&self, name: &str, owner: &str, at: i64, duration_ms: i64, acted: i64) -> Result<()> {
        sqlx::query(
            "update scheduled_jobs set last_run_at = $3, last_duration_ms = $4, last_acted = $5 \
             where name = $1 and lease_owner = $2",
        )
        .bind(name)
        .bind(owner)
        .bind(at)
        .bind(duration_ms)
        .bind(acted)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Gives a job's lease up (on shutdown).
    pub async fn release_job(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "update scheduled_jobs set lease_owner = null, lease_until = null where name = $1 and lease_owner = $2",
        )
        .bind(name)
        .bind(owner)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Makes job `name` due at its next tick (a time rule was saved: it runs within seconds, not a minute).
    pub async fn job_due_now(&self, name: &str) -> Result<()> {
        sqlx::query("update scheduled_jobs set last_run_at = null where name = $1")
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Asks job `name` to run again (on-demand jobs: the SLA recompute after a policy or calendar changed).
    pub async fn request_job(&self, name: &str, now: i64) -> Result<()> {
        sqlx::query(
            "insert into scheduled_jobs (name, requested_at) values ($1, $2) \
             on conflict (name) do update set requested_at = excluded.requested_at",
        )
        .bind(name)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Whether job `name` was requested since the start of its last run.
    pub async fn job_requested(&self, name: &str) -> Result<bool> {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("select requested_at, last_run_at from scheduled_jobs where name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        Ok(matches!(row, Some((Some(asked), last)) if last.is_none_or(|ran| asked >= ran)))
    }

    /// A job's last run, if it ever ran.
    pub async fn job(&self, name: &str) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as("select name, last_run_at, last_duration_ms, last_acted from scheduled_jobs where name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?)
    }
}
