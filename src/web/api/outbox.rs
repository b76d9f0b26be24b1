//! `GET /api/v1/outbox?status=` and `POST /api/v1/outbox/{id}/retry` (admins).

use super::ApiUser;
use crate::domain::rfc3339;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/outbox", get(list)).route("/outbox/{id}/retry", post(retry))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(State(state): State<AppState>, user: ApiUser, Query(q): Query<ListQuery>) -> Result<Json<Value>> {
    user.require_admin()?;
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = status
        && !matches!(s, "queued" | "sending" | "sent" | "failed")
    {
        return Err(Error::BadRequest(format!("status: {s:?} is not one of queued, sending, sent, failed")));
    }
    let per_page = q.per_page.unwrap_or(50).clamp(1, 200) as i64;
    let offset = (q.page.unwrap_or(1).max(1) as i64 - 1) * per_page;
    let rows = state.db.deliveries(status, per_page, offset).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "ticket": d.ticket_number, "kind": d.kind, "message_id": d.header_message_id, "recipient": d.recipient,
                "status": d.status, "attempts": d.attempts, "error": d.last_error, "next_attempt_at": rfc3339(d.next_attempt_at),
                "created_at": rfc3339(d.created_at), "sent_at": d.sent_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "outbox": items })))
}

async fn retry(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    user.require_admin()?;
    if !state.db.retry_delivery(id, crate::domain::now()).await? {
        return Err(Error::NotFound);
    }
    state.tickets.composer.wake();
    Ok(Json(json!({ "id": id, "status": "queued" })))
}
