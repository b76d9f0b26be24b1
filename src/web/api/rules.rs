//! `GET/POST /rules`, `GET/PATCH/DELETE /rules/{id}`, `POST /rules/{id}/preview`, `GET /rules/{id}/runs`, and
//! `POST /tickets/{n}/macros/{id}`. Admins manage every rule; agents their own personal rules, and they see and
//! run the global macros too. Another agent's personal rule is 404.

use super::ApiUser;
use super::body::Body;
use crate::automation::engine::{Engine, Limits};
use crate::automation::macros::{MacroError, usable_by};
use crate::db::UserRow;
use crate::db::rules::{RuleRow, StoredRule};
use crate::domain::rule::RuleSpec;
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/{id}", get(show).patch(update).delete(delete))
        .route("/rules/{id}/preview", post(preview))
        .route("/rules/{id}/runs", get(runs))
        .route("/tickets/{n}/macros/{id}", post(run_macro))
}

/// The rule engine of a request.
pub fn engine(state: &AppState) -> Engine {
    Engine { tickets: state.tickets.clone(), limits: Limits::from(state.settings.rules) }
}

async fn list(State(state): State<AppState>, user: ApiUser) -> Result<Json<Value>> {
    let rules = state.db.rules(None).await?;
    let shown: Vec<Value> =
        rules.iter().filter(|r| user.0.is_admin() || usable_by(r, &user.0)).map(|r| r.to_json()).collect();
    Ok(Json(json!({ "rules": shown })))
}

/// A rule `user` may see, else 404.
pub async fn visible_rule(state: &AppState, user: &UserRow, id: i64) -> Result<RuleRow> {
    let rule = state.db.rule(id).await?.ok_or(Error::NotFound)?;
    if user.is_admin() || usable_by(&rule, user) { Ok(rule) } else { Err(Error::NotFound) }
}

/// A rule `user` may change: admins every one, agents their personal ones (a global one is 403, another's 404).
async fn own_rule(state: &AppState, user: &UserRow, id: i64) -> Result<RuleRow> {
    let rule = visible_rule(state, user, id).await?;
    if user.is_admin() || rule.owner_id == Some(user.id) { Ok(rule) } else { Err(Error::Forbidden) }
}

async fn show(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    Ok(Json(visible_rule(&state, &user.0, id).await?.to_json()))
}

/// Checks a rule as written and resolves its owner for `user`; returns the spec, owner id and position.
pub async fn checked(state: &AppState, user: &UserRow, body: Value) -> Result<(RuleSpec, Option<i64>, Option<i64>)> {
    let position = body.get("position").and_then(Value::as_i64);
    let mut spec: RuleSpec =
        serde_json::from_value(strip_read_only(body)).map_err(|e| Error::Unprocessable(e.to_string()))?;
    crate::automation::validate::check(&spec).map_err(|e| Error::Unprocessable(e.to_string()))?;
    spec.name = spec.name.trim().to_string();
    let owner_id = match spec.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None if !user.is_admin() => Some(user.id),
        None => None,
        Some(email) => {
            let owner = state.db.user_by_email(&email.to_lowercase()).await?;
            let owner = owner.ok_or_else(|| Error::Unprocessable(format!("owner: no user {email}")))?;
            if !user.is_admin() && owner.id != user.id {
                return Err(Error::Forbidden);
            }
            Some(owner.id)
        }
    };
    Ok((spec, owner_id, position))
}

fn strip_read_only(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        for k in ["id", "position", "disabled_reason"] {
            o.remove(k);
        }
    }
    body
}

async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    let (spec, owner_id, position) = checked(&state, &user.0, body).await?;
    let id = state.db.insert_rule(&StoredRule { spec: &spec, owner_id }, position).await?;
    schedule_soon(&state, &spec).await?;
    tracing::info!(rule = id, by = %user.0.email, "rule created");
    let rule = state.db.rule(id).await?.ok_or(Error::NotFound)?;
    Ok((StatusCode::CREATED, Json(rule.to_json())))
}

async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Body(patch): Body<Value>,
) -> Result<Json<Value>> {
    let old = own_rule(&state, &user.0, id).await?;
    let Value::Object(patch) = patch else { return Err(Error::Unprocessable("a JSON object is needed".into())) };
    let mut merged = old.to_json();
    for (k, v) in patch {
        merged[k] = v;
    }
    let (spec, owner_id, position) = checked(&state, &user.0, merged).await?;
    state.db.update_rule(id, &StoredRule { spec: &spec, owner_id }, position.unwrap_or(old.position)).await?;
    schedule_soon(&state, &spec).await?;
    tracing::info!(rule = id, by = %user.0.email, "rule changed");
    Ok(Json(state.db.rule(id).await?.ok_or(Error::NotFound)?.to_json()))
}

/// A saved time rule runs at the scheduler's next tick (within seconds), not a minute later.
pub async fn schedule_soon(state: &AppState, spec: &RuleSpec) -> Result<()> {
    if spec.trigger == crate::domain::rule::Trigger::Schedule && spec.enabled {
        state.db.job_due_now(crate::automation::schedule::JOB).await?;
    }
    Ok(())
}

async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    own_rule(&state, &user.0, id).await?;
    state.db.delete_rule(id).await?;
    tracing::info!(rule = id, by = %user.0.email, "rule deleted");
    Ok(Json(json!({ "deleted": id })))
}

async fn preview(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    let rule = visible_rule(&state, &user.0, id).await?;
    Ok(Json(json!(engine(&state).preview(&rule).await?)))
}

async fn runs(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Json<Value>> {
    visible_rule(&state, &user.0, id).await?;
    Ok(Json(json!({ "runs": state.db.rule_runs(id, 100).await? })))
}

async fn run_macro(
    State(state): State<AppState>,
    user: ApiUser,
    Path((n, id)): Path<(i64, i64)>,
) -> Result<Json<Value>> {
    let ticket = state.db.ticket(n).await?.ok_or(Error::NotFound)?;
    let rule = visible_rule(&state, &user.0, id).await?;
    match engine(&state).run_macro(&rule, ticket.id, &user.0).await {
        Ok(acted) => Ok(Json(json!({ "ticket": n, "rule": id, "acted": acted }))),
        Err(MacroError::NotFound) => Err(Error::NotFound),
        Err(MacroError::NotApplicable) => Err(Error::Conflict(MacroError::NotApplicable.to_string())),
        Err(MacroError::Db(e)) => Err(e.into()),
    }
}
