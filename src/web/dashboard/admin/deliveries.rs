//! `/admin/deliveries`: outbound deliveries by status (failed first), with a retry that wakes the sender.

use super::{ListPage, PER_PAGE, render};
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const STATUSES: [&str; 5] = ["failed", "queued", "sending", "sent", "all"];

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/deliveries", get(list)).route("/admin/deliveries/{id}/retry", post(retry))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    status: Option<String>,
    page: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    ticket: Option<i64>,
    kind: String,
    recipient: String,
    status: String,
    attempts: i64,
    error: Option<String>,
    created_at: i64,
    next_attempt_at: i64,
}

/// A known status filter, `failed` by default.
fn status_of(s: Option<&str>) -> &'static str {
    STATUSES.into_iter().find(|k| Some(*k) == s).unwrap_or("failed")
}

async fn list(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Query(p): Query<ListParams>,
) -> Result<Response, Error> {
    let status = status_of(p.status.as_deref());
    let list = ListPage::new(p.page);
    let filter = (status != "all").then_some(status);
    // One more than shown tells whether there is a next page.
    let mut rows = state.db.deliveries(filter, PER_PAGE + 1, list.offset()).await?;
    let more = list.cut(&mut rows);
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|d| Row {
            id: d.id,
            ticket: d.ticket_number,
            kind: d.kind,
            recipient: d.recipient,
            status: d.status,
            attempts: d.attempts,
            error: d.last_error,
            created_at: d.created_at,
            next_attempt_at: d.next_attempt_at,
        })
        .collect();
    let health = state.db.outbox_health(crate::domain::now()).await?;
    let outbox = context! {
        stalled => health.stalled(state.settings.outbound.stalled_after_secs),
        queued => health.queued,
        oldest_minutes => health.oldest_queued_secs.map(|s| s / 60),
        stuck => health.stuck_sends,
    };
    let page = context! {
        deliveries => sv(rows), status => status, statuses => STATUSES, page_no => list.0, more => more, outbox => outbox,
    };
    render(&state, &user, &session, "admin_deliveries.html", "deliveries", page, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct RetryForm {
    /// The list filter to go back to.
    back: Option<String>,
}

async fn retry(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<RetryForm>,
) -> Result<Response, Error> {
    if state.db.retry_delivery(id, crate::domain::now()).await? {
        state.tickets.composer.wake();
        flash(&session, "ok", "Delivery queued again.").await;
    } else {
        flash(&session, "error", "This delivery was already sent or does not exist.").await;
    }
    let back = status_of(f.back.as_deref());
    Ok(Redirect::to(&format!("/admin/deliveries?status={back}")).into_response())
}
