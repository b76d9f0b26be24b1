//! Closing resolved tickets after `tickets.auto_close_days` of quiet: a step function and its hourly loop.

use crate::db::{Db, DbError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Closes every ticket resolved and untouched for `days` days; returns how many.
pub async fn try_auto_close(db: &Db, days: u32, now: i64) -> Result<u64, DbError> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now - i64::from(days) * 86_400;
    let mut tx = db.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar("select id from tickets where status = 'resolved' and updated_at < $1")
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
    let mut closed = 0;
    for id in &ids {
        // Re-checked in the update: a customer's reply may have reopened the ticket since the select, or another
        // instance closed it already.
        let done = sqlx::query(
            "update tickets set status = 'closed', updated_at = $2 where id = $1 and status = 'resolved' and updated_at < $3",
        )
        .bind(id)
        .bind(now)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            let detail = format!("resolved → closed after {days} days without activity");
            crate::db::messages::insert_event(&mut *tx, *id, "system", "status", &detail, now).await?;
            closed += 1;
        }
    }
    tx.commit().await?;
    Ok(closed)
}

/// Runs [`try_auto_close`] hourly until `cancel`.
pub async fn run(db: Db, days: u32, cancel: CancellationToken) {
    loop {
        match try_auto_close(&db, days, crate::domain::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(closed = n, "closed resolved tickets"),
            Err(e) => tracing::error!(error = %crate::platform::telemetry::chain(&e), "auto-close failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {},
            _ = cancel.cancelled() => return,
        }
    }
}
