//! Template overrides saved on another instance reach this one: the overrides are re-read every minute
//! and the templates reloaded when they changed.

use super::Composer;
use crate::db::Db;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the overrides are compared.
const EVERY: Duration = Duration::from_secs(60);

/// Reloads the templates when the stored overrides differ from `seen`; returns the overrides now in use.
pub async fn try_reload(
    composer: &Composer,
    db: &Db,
    dir: Option<&std::path::Path>,
    seen: &[(String, String)],
) -> Option<Vec<(String, String)>> {
    let now = db.template_overrides().await.ok()?;
    if now == seen {
        return Some(now);
    }
    match composer.reload(db, dir).await {
        Ok(()) => {
            tracing::info!(overrides = now.len(), "e-mail template overrides changed; templates reloaded");
            Some(now)
        }
        Err(e) => {
            tracing::error!(error = %crate::platform::telemetry::chain(&e), "changed template overrides do not load; keeping the templates in use");
            Some(now)
        }
    }
}

/// Runs [`try_reload`] every minute until `cancel`.
pub async fn run(composer: Composer, db: Db, dir: Option<PathBuf>, cancel: CancellationToken) {
    let mut seen = db.template_overrides().await.unwrap_or_default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {},
            _ = cancel.cancelled() => return,
        }
        if let Some(now) = try_reload(&composer, &db, dir.as_deref(), &seen).await {
            seen = now;
        }
    }
}
