//! `GET /api/v1/quarantine` (held messages) and `GET /api/v1/bounces` (the bounce log), admins only.

use super::ApiUser;
use crate::domain::rfc3339;
use crate::web::{AppState, Result};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/quarantine", get(list)).route("/bounces", get(bounces))
}

#[derive(Debug, Deserialize)]
struct Paging {
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(State(state): State<AppState>, user: ApiUser, Query(p): Query<Paging>) -> Result<Json<Value>> {
    user.require_admin()?;
    let per_page = p.per_page.unwrap_or(50).clamp(1, 200) as i64;
    let offset = (p.page.unwrap_or(1).max(1) as i64 - 1) * per_page;
    let (rows, total) = state.db.quarantine(per_page, offset).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|q| {
            json!({
                "id": q.id, "mailbox": q.mailbox, "reason": q.reason, "size": q.size, "sha256": q.sha256,
                "raw_kept": q.raw_id.is_some(), "headers": q.headers, "uid": q.uid, "status": q.status,
                "created_at": rfc3339(q.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "quarantine": items, "total": total })))
}

/// `GET /api/v1/bounces`: every delivery report received, with the ticket when it named our mail.
async fn bounces(State(state): State<AppState>, user: ApiUser, Query(p): Query<Paging>) -> Result<Json<Value>> {
    user.require_admin()?;
    let per_page = p.per_page.unwrap_or(50).clamp(1, 200) as i64;
    let offset = (p.page.unwrap_or(1).max(1) as i64 - 1) * per_page;
    let rows = state.db.bounces(per_page, offset).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|b| {
            json!({
                "id": b.id, "mailbox": b.mailbox, "ticket": b.ticket, "original_message_id": b.original_message_id,
                "status": b.status, "diagnostic": b.diagnostic, "recipients": b.recipients, "sha256": b.sha256,
                "created_at": rfc3339(b.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "bounces": items })))
}
