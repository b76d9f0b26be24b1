//! `/admin/bounces`: the bounce log — every delivery report received, the ticket it concerned, and the raw report.

use super::{ListPage, PER_PAGE, render};
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::sv;
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/bounces", get(list)).route("/admin/bounces/{id}/raw", get(raw))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Query(p): Query<ListParams>,
) -> Result<Response, Error> {
    let list = ListPage::new(p.page);
    let mut rows = state.db.bounces(PER_PAGE + 1, list.offset()).await?;
    let more = list.cut(&mut rows);
    let page = context! { bounces => sv(rows), page_no => list.0, more => more };
    render(&state, &user, &session, "admin_bounces.html", "bounces", page, StatusCode::OK).await
}

/// The raw report as an `.eml` download.
async fn raw(State(state): State<AppState>, AdminUser(_u): AdminUser, Path(id): Path<i64>) -> Result<Response, Error> {
    let sha = state.db.bounce_sha256(id).await?.ok_or(Error::NotFound)?;
    let bytes = crate::web::read_blob(&state.blobs, &sha, "bounce raw message missing").await?;
    Ok((crate::web::api::download_headers(&format!("bounce-{id}.eml"), "message/rfc822"), bytes).into_response())
}
