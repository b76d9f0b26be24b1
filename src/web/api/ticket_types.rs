//! `GET /ticket_types`, `PUT /ticket_types/{name}` `{"title"}`, `DELETE /ticket_types/{name}` (admins write).

use super::ApiUser;
use super::body::Body;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ticket_types", get(list))
        .route("/ticket_types/{name}", axum::routing::put(put).delete(delete))
}

async fn list(State(state): State<AppState>, _user: ApiUser) -> Result<Json<Value>> {
    Ok(Json(json!({ "ticket_types": state.db.ticket_types().await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeIn {
    title: Option<String>,
}

async fn put(
    State(state): State<AppState>,
    user: ApiUser,
    Path(name): Path<String>,
    Body(body): Body<TypeIn>,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let name = crate::tickets::types::type_name(&name)?;
    let title = type_title(&name, body.title.as_deref())?;
    state.db.put_ticket_type(&name, &title, crate::domain::now()).await?;
    tracing::info!(ticket_type = name, by = %user.0.email, "ticket type saved");
    let saved = state.db.ticket_types().await?.into_iter().find(|t| t.name == name).ok_or(Error::NotFound)?;
    Ok(Json(json!(saved)))
}

async fn delete(State(state): State<AppState>, user: ApiUser, Path(name): Path<String>) -> Result<StatusCode> {
    user.require_admin()?;
    if !state.db.delete_ticket_type(&name.trim().to_lowercase()).await? {
        return Err(Error::NotFound);
    }
    tracing::info!(ticket_type = name, by = %user.0.email, "ticket type deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A type's title as given: trimmed, the name when empty, at most 80 characters and no control characters.
pub fn type_title(name: &str, title: Option<&str>) -> Result<String> {
    let title = title.map(str::trim).filter(|t| !t.is_empty()).unwrap_or(name).to_string();
    if title.chars().count() > 80 || title.chars().any(char::is_control) {
        return Err(Error::Unprocessable("title: at most 80 characters".into()));
    }
    Ok(title)
}
