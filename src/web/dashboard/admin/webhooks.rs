//! `/admin/webhooks`: the latest webhook deliveries of rules, with "retry now" for queued and failed ones.

use super::render;
use crate::web::api::webhooks::LATEST;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Serialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/webhooks", get(list)).route("/admin/webhooks/{id}/retry", post(retry))
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    rule: Option<String>,
    rule_id: Option<i64>,
    ticket: Option<i64>,
    url: String,
    status: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    next_attempt_at: i64,
}

async fn list(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    let rows: Vec<Row> = state
        .db
        .webhook_deliveries(LATEST)
        .await?
        .into_iter()
        .map(|d| Row {
            id: d.id,
            rule: d.rule_name,
            rule_id: d.rule_id,
            ticket: d.ticket_number,
            url: d.url,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            next_attempt_at: d.next_attempt_at,
        })
        .collect();
    let page = context! { deliveries => sv(rows), latest => LATEST };
    render(&state, &user, &session, "admin_webhooks.html", "webhooks", page, StatusCode::OK).await
}

async fn retry(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    if state.db.retry_webhook(id, crate::domain::now()).await? {
        state.webhooks_wake.notify_one();
        flash(&session, "ok", "Webhook queued to be sent now.").await;
    } else {
        flash(&session, "error", "This webhook was already sent, is being sent, or does not exist.").await;
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}
