//! `POST /tickets/{n}/merge` and `POST /tickets/{n}/split`: moving messages between tickets.

use super::ApiUser;
use super::body::Body;
use crate::web::{AppState, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/{number}/merge", post(merge)).route("/tickets/{number}/split", post(split))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeIn {
    into: i64,
}

/// Merges ticket `number` into `into`: 200 `{"ticket": into, "merged": number, "messages": moved}`.
async fn merge(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(number): Path<i64>,
    Body(body): Body<MergeIn>,
) -> Result<Json<Value>> {
    let done = state.tickets.merge(number, body.into, &user).await?;
    Ok(Json(json!({ "ticket": done.target, "merged": done.source, "messages": done.messages })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitIn {
    messages: Vec<i64>,
    #[serde(default)]
    subject: String,
}

/// Splits the messages off ticket `number` into a new ticket: 201 `{"ticket": new_number}`.
async fn split(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(number): Path<i64>,
    Body(body): Body<SplitIn>,
) -> Result<(StatusCode, Json<Value>)> {
    let new = state.tickets.split(number, &body.messages, &body.subject, &user).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ticket": new }))))
}
