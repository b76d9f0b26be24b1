//! Admins' writes of SLA calendars and policies. Each write that can change a clock asks for the recompute
//! ([`RECOMPUTE_JOB`]), so no caller can forget it.

use super::sla::{CalendarRow, PolicyRow, RECOMPUTE_JOB};
use super::{Db, Result};

/// What deleting a calendar did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarDeleted {
    Deleted,
    /// No such calendar.
    Missing,
    /// Kept: this policy uses it.
    InUseBy(String),
}

impl Db {
    /// Every calendar and every policy (by position).
    pub async fn sla_setup(&self) -> Result<(Vec<CalendarRow>, Vec<PolicyRow>)> {
        super::sla::setup(&mut *self.pool().acquire().await?).await
    }

    /// Adds or replaces calendar `name` (checked by the caller).
    pub async fn put_calendar(&self, name: &str, spec: &str, now: i64) -> Result<()> {
        sqlx::query(
            "insert into calendars (name, spec, updated_at) values ($1, $2, $3) \
             on conflict (name) do update set spec = excluded.spec, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(spec)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        self.request_job(RECOMPUTE_JOB, now).await
    }

    /// Deletes calendar `name` unless a policy uses it (no clock can change: none counts with it).
    pub async fn delete_calendar(&self, name: &str) -> Result<CalendarDeleted> {
        let user: Option<String> = sqlx::query_scalar("select name from sla_policies where calendar = $1 limit 1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        if let Some(policy) = user {
            return Ok(CalendarDeleted::InUseBy(policy));
        }
        let done =
            sqlx::query("delete from calendars where name = $1").bind(name).execute(&mut *self.writer().await?).await?;
        Ok(if done.rows_affected() > 0 { CalendarDeleted::Deleted } else { CalendarDeleted::Missing })
    }

    /// Saves policy `name` as `spec` says (checked by the caller); without a position it keeps its place, a new
    /// one goes last. Returns the stored row.
    pub async fn save_policy(&self, name: &str, spec: &crate::domain::sla::PolicySpec, now: i64) -> Result<PolicyRow> {
        let (_, policies) = self.sla_setup().await?;
        let position = spec.position.unwrap_or_else(|| {
            let existing = policies.iter().find(|p| p.name == name).map(|p| p.position);
            existing.unwrap_or_else(|| policies.iter().map(|p| p.position + 1).max().unwrap_or(0))
        });
        let row = PolicyRow {
            name: name.to_string(),
            position,
            calendar: spec.calendar.clone(),
            // Plain data: serialising it cannot fail.
            conditions: serde_json::to_string(&spec.conditions).unwrap_or_default(),
            first_response_minutes: spec.first_response_minutes,
            next_response_minutes: spec.next_response_minutes,
            resolution_minutes: spec.resolution_minutes,
            warn_before_minutes: spec.warn_before_minutes,
            updated_at: now,
        };
        self.put_policy(&row).await?;
        self.request_job(RECOMPUTE_JOB, now).await?;
        Ok(row)
    }

    /// Adds or replaces policy `p` (by name) as it is; [`Db::save_policy`] is the admins' way, with its place
    /// and the recompute.
    pub async fn put_policy(&self, p: &PolicyRow) -> Result<()> {
        sqlx::query(
            "insert into sla_policies (name, position, calendar, conditions, first_response_minutes, \
             next_response_minutes, resolution_minutes, warn_before_minutes, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (name) do update set \
             position = excluded.position, calendar = excluded.calendar, conditions = excluded.conditions, \
             first_response_minutes = excluded.first_response_minutes, \
             next_response_minutes = excluded.next_response_minutes, \
             resolution_minutes = excluded.resolution_minutes, warn_before_minutes = excluded.warn_before_minutes, \
             updated_at = excluded.updated_at",
        )
        .bind(&p.name)
        .bind(p.position)
        .bind(&p.calendar)
        .bind(&p.conditions)
        .bind(p.first_response_minutes)
        .bind(p.next_response_minutes)
        .bind(p.resolution_minutes)
        .bind(p.warn_before_minutes)
        .bind(p.updated_at)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Deletes policy `name`; whether it existed.
    pub async fn delete_policy(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("delete from sla_policies where name = $1")
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await?;
        if done.rows_affected() > 0 {
            self.request_job(RECOMPUTE_JOB, crate::domain::now()).await?;
        }
        Ok(done.rows_affected() > 0)
    }
}
