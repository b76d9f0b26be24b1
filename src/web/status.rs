//! `/healthz`, `/metrics` and the plain front page.

use super::AppState;
use crate::health::MailboxState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// 200 with each mailbox's state; `degraded` when one is failing; 503 when the database does not answer.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let mailboxes = state.health.snapshot();
    if state.db.ping().await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "error": "database unreachable", "mailboxes": mailboxes })),
        );
    }
    let degraded = mailboxes.iter().any(|m| matches!(m.state, MailboxState::Failing | MailboxState::BackingOff));
    let status = if degraded { "degraded" } else { "ok" };
    (StatusCode::OK, Json(json!({ "status": status, "mailboxes": mailboxes })))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
