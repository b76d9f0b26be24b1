//! `GET /teams`, `PUT /teams/{name}` `{"members": [emails], "mailboxes": [names]}`, `DELETE /teams/{name}` (admins).

use super::ApiUser;
use super::body::Body;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/teams", get(list)).route("/teams/{name}", axum::routing::put(put).delete(delete))
}

async fn list(State(state): State<AppState>, _user: ApiUser) -> Result<Json<Value>> {
    Ok(Json(json!({ "teams": state.db.teams().await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamIn {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    mailboxes: Vec<String>,
}

async fn put(
    State(state): State<AppState>,
    user: ApiUser,
    Path(name): Path<String>,
    Body(body): Body<TeamIn>,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let (members, mailboxes) = resolve(&state, &body.members, &body.mailboxes).await?;
    let name = team_name(&name)?;
    state.db.put_team(&name, &members, &mailboxes, crate::domain::now()).await?;
    tracing::info!(team = name, by = %user.0.email, "team saved");
    let team = state.db.teams().await?.into_iter().find(|t| t.name == name).ok_or(Error::NotFound)?;
    Ok(Json(json!(team)))
}

/// A team name: trimmed, 1–60 characters, no control characters.
pub fn team_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(Error::Unprocessable("name: 1 to 60 characters".into()));
    }
    Ok(name.to_string())
}

/// User ids by e-mail and mailbox ids by name; an unknown one is refused with its name.
pub async fn resolve(state: &AppState, members: &[String], mailboxes: &[String]) -> Result<(Vec<i64>, Vec<i64>)> {
    let mut users = Vec::new();
    for email in members {
        let u = state.db.user_by_email(&email.trim().to_lowercase()).await?;
        users.push(u.ok_or_else(|| Error::Unprocessable(format!("members: no user {email}")))?.id);
    }
    let mut boxes = Vec::new();
    for name in mailboxes {
        let m = state.db.mailbox_by_name(name.trim()).await?;
        boxes.push(m.ok_or_else(|| Error::Unprocessable(format!("mailboxes: no mailbox {name}")))?.id);
    }
    users.sort_unstable();
    users.dedup();
    boxes.sort_unstable();
    boxes.dedup();
    Ok((users, boxes))
}

async fn delete(State(state): State<AppState>, user: ApiUser, Path(name): Path<String>) -> Result<Json<Value>> {
    user.require_admin()?;
    if !state.db.delete_team(name.trim()).await? {
        return Err(Error::NotFound);
    }
    Ok(Json(json!({ "deleted": name.trim() })))
}
