//! `/healthz`, `/metrics` and the plain front page.

use super::AppState;
use crate::platform::health::MailboxState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// 200 with each mailbox's state and the outbox; `degraded` when a mailbox is failing or the outbox does not
/// move; 503 when the database does not answer.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let mailboxes = state.health.snapshot();
    let outbox = match state.db.outbox_health(crate::domain::now()).await {
        Ok(outbox) => outbox,
        Err(_) => {
            let body = json!({ "status": "degraded", "error": "database unreachable", "mailboxes": mailboxes });
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
        }
    };
    let stalled = outbox.stalled(state.settings.outbound.stalled_after_secs);
    let failing = mailboxes.iter().any(|m| matches!(m.state, MailboxState::Failing | MailboxState::BackingOff));
    let scheduler = state.db.job(crate::automation::schedule::JOB).await.ok().flatten();
    let now = crate::domain::now();
    let (scheduler, late) = scheduler_json(scheduler, now, 5 * crate::automation::schedule::EVERY_SECS);
    let clock = state.db.job(crate::automation::sla::worker::CLOCK_JOB).await.ok().flatten();
    let (clock, clock_late) = scheduler_json(clock, now, 12 * crate::automation::sla::worker::TICK_SECS);
    let (retention, retention_late) = match state.settings.retention.closed_ticket_days {
        Some(_) => {
            let job = state.db.job(crate::tickets::retention::JOB).await.ok().flatten();
            // Daily, checked hourly: late when a run was missed.
            scheduler_json(job, now, crate::tickets::retention::EVERY_SECS + 3 * 3600)
        }
        None => (json!({ "state": "off" }), false),
    };
    let status = if failing || stalled || late || clock_late || retention_late { "degraded" } else { "ok" };
    let mut outbox = serde_json::to_value(&outbox).unwrap_or_default();
    outbox["state"] = json!(if stalled { "stalled" } else { "ok" });
    let body = json!({ "status": status, "mailboxes": mailboxes, "outbox": outbox, "rules_scheduler": scheduler,
        "sla_clock": clock, "retention": retention });
    (StatusCode::OK, Json(body))
}

/// When a periodic job (the rules scheduler, the SLA clock, retention) last ran; `late` (and the service degraded) when that
/// was more than `late_after` seconds ago.
fn scheduler_json(job: Option<crate::db::jobs::JobRow>, now: i64, late_after: i64) -> (serde_json::Value, bool) {
    let Some((j, at)) = job.and_then(|j| j.last_run_at.map(|at| (j, at))) else {
        return (json!({ "state": "not_run_yet" }), false);
    };
    let late = now - at > late_after;
    let body = json!({
        "state": if late { "late" } else { "ok" },
        "last_run_at": crate::domain::rfc3339(at),
        "last_duration_ms": j.last_duration_ms,
        "last_acted": j.last_acted,
    });
    (body, late)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
