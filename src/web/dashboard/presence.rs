//! `/tickets/{number}/presence`: "someone else is replying" — the page's script reports typing and asks who else is.

use super::auth::CurrentUser;
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// A mark lasts this long; the script renews it every 10 s while the agent types.
const MARK_SECS: i64 = 30;

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/{number}/presence", get(who).post(typing))
}

/// The other agents replying to this ticket now.
async fn who(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(number): Path<i64>,
) -> Result<Json<Value>, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    Ok(Json(json!({ "replying": state.db.others_replying(t.id, user.id, crate::domain::now()).await? })))
}

/// The current user is writing a reply.
async fn typing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(number): Path<i64>,
) -> Result<StatusCode, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    state.db.mark_replying(t.id, user.id, crate::domain::now() + MARK_SECS).await?;
    Ok(StatusCode::NO_CONTENT)
}
