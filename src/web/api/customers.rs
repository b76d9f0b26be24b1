//! `GET /customers/{email}` (profile), `DELETE /customers/{email}` (erase), `GET /customers/{email}/export`,
//! `POST` / `DELETE /customers/{email}/block` (block list).

use super::ApiUser;
use crate::web::customers::{self, Scope};
use crate::web::{AppState, Result};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers/{email}", get(show).delete(erase))
        .route("/customers/{email}/export", get(export))
        .route("/customers/{email}/block", post(block).delete(unblock))
}

/// Admins: erases the customer; 200 with what went.
async fn erase(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(email): Path<String>,
) -> Result<Json<Value>> {
    let done = customers::erase(&state, &email, &user).await?;
    Ok(Json(json!({
        "erased": true, "tickets": done.tickets, "messages": done.messages, "attachments": done.attachments,
        "blobs_deleted": done.blobs_deleted,
    })))
}

/// Admins: everything stored about the customer, as a zip (`export.json`, `attachments/`, `raw/`).
async fn export(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(email): Path<String>,
) -> Result<axum::response::Response> {
    customers::export_download(&state, &email, &user).await
}

async fn show(State(state): State<AppState>, ApiUser(user): ApiUser, Path(email): Path<String>) -> Result<Json<Value>> {
    let p = customers::profile(&state, &user, &email).await?;
    let tickets: Vec<Value> = p.tickets.iter().map(|t| super::ticket_json(t, &[])).collect();
    let orders: Vec<Value> = p.orders.iter().map(|o| json!({ "number": o.r#ref, "status": o.status })).collect();
    let ratings: Vec<Value> = p
        .ratings
        .iter()
        .map(|(n, r, c, at)| json!({ "ticket": n, "rating": r, "comment": c, "at": crate::domain::rfc3339(*at) }))
        .collect();
    Ok(Json(json!({
        "email": p.email, "name": p.name, "note": p.note, "first_seen": crate::domain::rfc3339(p.first_seen),
        "tickets": tickets, "orders": orders, "satisfaction": ratings,
        "blocked": !p.blocked_by.is_empty(), "blocked_by": p.blocked_by,
    })))
}

#[derive(Debug, Default, Deserialize)]
struct BlockQuery {
    /// `true`: the whole domain.
    #[serde(default)]
    domain: bool,
}

async fn block(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(email): Path<String>,
    Query(q): Query<BlockQuery>,
) -> Result<Json<Value>> {
    let scope = if q.domain { Scope::Domain } else { Scope::Address };
    let entry = customers::block(&state, &email, scope, &user.email).await?;
    Ok(Json(json!({ "blocked": entry })))
}

async fn unblock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(email): Path<String>,
) -> Result<Json<Value>> {
    let released = customers::unblock(&state, &email, &user.email).await?;
    Ok(Json(json!({ "released": released })))
}
