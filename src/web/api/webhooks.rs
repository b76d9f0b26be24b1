//! `GET /api/v1/webhooks/deliveries` (the latest 100) and `POST /api/v1/webhooks/deliveries/{id}/retry` (admins).

use super::ApiUser;
use crate::db::webhooks::WebhookRow;
use crate::domain::rfc3339;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// How many deliveries the list shows.
pub const LATEST: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/deliveries", get(list)).route("/webhooks/deliveries/{id}/retry", post(retry))
}

async fn list(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>> {
    user.require_admin()?;
    let rows = state.db.webhook_deliveries(LATEST).await?;
    Ok(Json(json!({ "deliveries": rows.iter().map(delivery_json).collect::<Vec<_>>() })))
}

/// A delivery as the API shows it (the body and signature stay in the database).
fn delivery_json(d: &WebhookRow) -> Value {
    let rule = d.rule_id.map(|id| json!({ "id": id, "name": d.rule_name }));
    json!({
        "id": d.id, "rule": rule, "ticket": d.ticket_number, "event": d.event_id, "url": d.url, "status": d.status,
        "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
        "next_attempt_at": (d.status == "queued").then(|| rfc3339(d.next_attempt_at)),
        "created_at": rfc3339(d.created_at), "sent_at": d.sent_at.map(rfc3339),
    })
}

async fn retry(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    user.require_admin()?;
    if !state.db.retry_webhook(id, crate::domain::now()).await? {
        return Err(Error::NotFound);
    }
    state.webhooks_wake.notify_one();
    Ok(Json(json!({ "id": id, "status": "queued" })))
}
