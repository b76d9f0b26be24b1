//! `GET /reports/summary?from=&to=&group=`: the report figures per group and the backlog per day (agents over
//! the mailboxes they see, admins over all).

use super::ApiUser;
use crate::automation::reports::{self, Params, Summary};
use crate::web::{AppState, Error, Result};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/reports/summary", get(summary))
}

async fn summary(State(state): State<AppState>, user: ApiUser, Query(params): Query<Params>) -> Result<Json<Summary>> {
    let q = params.parse(reports::today()).map_err(|e| Error::BadRequest(e.to_string()))?;
    let scope = state.db.visible_mailboxes(&user.0).await?;
    Ok(Json(reports::summary(&state.db, &q, scope.as_deref()).await?))
}
