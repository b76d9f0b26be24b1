//! Rules in the dashboard (design §10): `/admin/rules` (every rule, admins) and `/rules` (a user's own personal
//! rules), with enable/disable, up/down, copy and delete; the rule form and its page with the dry run and recent
//! runs; macros on the ticket page and in the list's bulk form. Every form works without JavaScript.

mod edit;
mod form;
#[cfg(test)]
mod form_tests;
pub mod macros;
mod rows;

use super::auth::{AdminUser, CurrentUser, safe_next};
use super::pages::{flash, layout, take_flashes};
use crate::db::UserRow;
use crate::db::rules::{RuleRow, StoredRule};
use crate::web::api::rules::schedule_soon;
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;
use tower_sessions::Session;

/// The rule pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", get(all_rules))
        .route("/rules", get(my_rules).post(edit::create))
        .route("/rules/new", get(edit::new))
        .route("/rules/{id}", get(edit::show).post(edit::update))
        .route("/rules/{id}/toggle", post(toggle))
        .route("/rules/{id}/move", post(move_rule))
        .route("/rules/{id}/copy", post(copy))
        .route("/rules/{id}/delete", post(delete))
        .route("/tickets/{number}/macros/{id}", post(macros::run))
}

async fn all_rules(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
) -> Result<Html<String>, Error> {
    list(&state, &user, &session, None).await
}

async fn my_rules(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, Error> {
    list(&state, &user, &session, Some(user.id)).await
}

/// The list: every rule (`owner: None`) or one user's personal rules, in the order they run.
async fn list(state: &AppState, user: &UserRow, session: &Session, owner: Option<i64>) -> Result<Html<String>, Error> {
    let rules = state.db.rules(owner).await?;
    let rows: Vec<_> = rules
        .iter()
        .map(|r| {
            context! {
                id => r.id, name => r.name.clone(), trigger => r.trigger.clone(), enabled => r.enabled != 0,
                owner => r.owner.clone(), position => r.position, disabled_reason => r.disabled_reason.clone(),
                actions => r.spec().actions.iter().map(|a| a.describe()).collect::<Vec<_>>(),
            }
        })
        .collect();
    let (scope, back, nav) = match owner {
        None => ("all", "/admin/rules", "admin"),
        Some(_) => ("mine", "/rules", "rules"),
    };
    let page = context! { rules => rows, scope => scope, back => back, admin_section => "rules" };
    state.pages.render("rules.html", layout(Some(user), take_flashes(session).await, nav, page))
}

/// A rule `user` may change: admins every rule, anyone else only their own personal rules (else 404).
pub(crate) async fn editable(state: &AppState, user: &UserRow, id: i64) -> Result<RuleRow, Error> {
    let rule = state.db.rule(id).await?.ok_or(Error::NotFound)?;
    if user.is_admin() || rule.owner_id == Some(user.id) { Ok(rule) } else { Err(Error::NotFound) }
}

/// The hidden fields of a list's buttons: where to go back to, and which list (`all` or `mine`) the order is of.
#[derive(Debug, Deserialize)]
struct ListForm {
    #[serde(default)]
    back: Option<String>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    confirm: Option<String>,
}

fn back_to(f: &ListForm) -> Redirect {
    Redirect::to(&safe_next(f.back.as_deref().or(Some("/rules"))))
}

async fn toggle(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ListForm>,
) -> Result<Redirect, Error> {
    let rule = editable(&state, &user, id).await?;
    let mut spec = rule.spec();
    spec.enabled = rule.enabled == 0;
    if spec.enabled
        && let Err(e) = crate::automation::validate::check(&spec)
    {
        flash(&session, "error", format!("“{}” cannot be enabled: {e}", rule.name)).await;
        return Ok(back_to(&f));
    }
    state.db.update_rule(id, &StoredRule { spec: &spec, owner_id: rule.owner_id }, rule.position).await?;
    schedule_soon(&state, &spec).await?;
    tracing::info!(rule = id, enabled = spec.enabled, by = %user.email, "rule switched");
    let what = if spec.enabled { "enabled" } else { "disabled" };
    flash(&session, "ok", format!("Rule “{}” {what}.", rule.name)).await;
    Ok(back_to(&f))
}

async fn move_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ListForm>,
) -> Result<Redirect, Error> {
    let rule = editable(&state, &user, id).await?;
    let owner = if f.scope == "all" && user.is_admin() { None } else { Some(rule.owner_id.unwrap_or(user.id)) };
    let order: Vec<i64> = state.db.rules(owner).await?.iter().map(|r| r.id).collect();
    let at = order.iter().position(|r| *r == id).ok_or(Error::NotFound)?;
    let pair = match f.dir.as_str() {
        "up" if at > 0 => Some((id, order[at - 1])),
        "down" => order.get(at + 1).map(|next| (*next, id)),
        _ => None,
    };
    if let Some((first, second)) = pair {
        state.db.put_rule_before(first, second).await?;
        tracing::info!(rule = id, dir = f.dir, by = %user.email, "rule moved");
        flash(&session, "ok", format!("Rule “{}” moved {}.", rule.name, f.dir)).await;
    }
    Ok(back_to(&f))
}

async fn copy(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ListForm>,
) -> Result<Redirect, Error> {
    let rule = editable(&state, &user, id).await?;
    let mut spec = rule.spec();
    spec.name = format!("Copy of {}", rule.name).chars().take(120).collect();
    spec.enabled = false;
    let new = state.db.insert_rule(&StoredRule { spec: &spec, owner_id: rule.owner_id }, None).await?;
    tracing::info!(rule = new, of = id, by = %user.email, "rule copied");
    flash(&session, "ok", format!("Copied to “{}” (disabled).", spec.name)).await;
    Ok(back_to(&f))
}

async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ListForm>,
) -> Result<Redirect, Error> {
    let rule = editable(&state, &user, id).await?;
    if f.confirm.is_none() {
        flash(&session, "error", format!("Tick “confirm” to delete rule “{}”.", rule.name)).await;
        return Ok(back_to(&f));
    }
    state.db.delete_rule(id).await?;
    tracing::info!(rule = id, by = %user.email, "rule deleted");
    flash(&session, "ok", format!("Rule “{}” deleted.", rule.name)).await;
    Ok(back_to(&f))
}
