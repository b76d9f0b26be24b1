//! `/rules/new` and `/rules/{id}`: the rule form (create, change), refusals beside their fields; the rule's page
//! also shows its dry run (on request) and its recent runs.

use super::editable;
use super::form::{RuleForm, choices};
use crate::automation::validate::check;
use crate::db::UserRow;
use crate::db::rules::{RuleRow, StoredRule};
use crate::domain::rule::{RuleSpec, Trigger};
use crate::web::api::rules::{engine, schedule_soon};
use crate::web::dashboard::auth::CurrentUser;
use crate::web::dashboard::pages::{flash, layout, sv, take_flashes};
use crate::web::{AppState, Error};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use tower_sessions::Session;

/// `?personal=1` (a new rule owned by its author) and `?dry_run=1` (show the dry run).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    personal: Option<u8>,
    dry_run: Option<u8>,
}

pub(super) async fn new(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(p): Query<Params>,
) -> Result<Response, Error> {
    let owner = if user.is_admin() && p.personal != Some(1) { "" } else { user.email.as_str() };
    page(&state, &user, &session, None, RuleForm::blank(owner), None, StatusCode::OK).await
}

pub(super) async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Query(p): Query<Params>,
) -> Result<Response, Error> {
    let rule = editable(&state, &user, id).await?;
    let preview = match p.dry_run {
        Some(1) => Some(sv(engine(&state).preview(&rule).await?)),
        _ => None,
    };
    page(&state, &user, &session, Some(&rule), RuleForm::of(&rule.spec()), preview, StatusCode::OK).await
}

/// Renders the form page (new when `rule` is `None`).
async fn page(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    rule: Option<&RuleRow>,
    mut form: RuleForm,
    preview: Option<Value>,
    status: StatusCode,
) -> Result<Response, Error> {
    form.pad();
    let owners: Vec<String> = match user.is_admin() {
        true => state.db.users().await?.into_iter().filter(|u| u.active == 1).map(|u| u.email).collect(),
        false => Vec::new(),
    };
    let runs = match rule {
        Some(r) => state.db.rule_runs(r.id, 20).await?,
        None => Vec::new(),
    };
    let runs: Vec<_> = runs
        .iter()
        .map(|r| {
            let actions: Vec<String> = serde_json::from_str(&r.actions).unwrap_or_default();
            context! { at => r.at, ticket => r.ticket_number, actor => r.actor.clone(), actions => actions }
        })
        .collect();
    let rule_ctx = rule.map(|r| {
        context! { id => r.id, enabled => r.enabled != 0, disabled_reason => r.disabled_reason.clone(),
        personal => r.owner_id.is_some(), schedule => r.trigger == Trigger::Schedule.as_str() }
    });
    let back =
        if user.is_admin() && rule.is_none_or(|r| r.owner_id != Some(user.id)) { "/admin/rules" } else { "/rules" };
    let page = context! {
        rule => rule_ctx, form => sv(&form), choices => choices(), owners => owners, preview => preview,
        runs => runs, back => back, is_admin => user.is_admin(),
    };
    let nav = if back == "/admin/rules" { "admin" } else { "rules" };
    let html = state.pages.render("rule_form.html", layout(Some(user), take_flashes(session).await, nav, page))?;
    Ok((status, html).into_response())
}

/// The posted form as a checked rule with its owner's id, or the form with its errors.
async fn read(
    state: &AppState,
    user: &UserRow,
    pairs: &[(String, String)],
) -> Result<Result<(RuleSpec, Option<i64>), RuleForm>, Error> {
    let mut form = RuleForm::posted(pairs);
    if !user.is_admin() {
        form.owner = user.email.clone();
    }
    let owner_id = match form.owner.as_str() {
        "" => None,
        email => match state.db.user_by_email(&email.to_lowercase()).await? {
            Some(u) if u.active == 1 => Some(u.id),
            _ => {
                form.errors.insert("owner".into(), format!("No active user {email}."));
                None
            }
        },
    };
    let Some((spec, rows)) = form.spec() else { return Ok(Err(form)) };
    if !form.errors.is_empty() {
        return Ok(Err(form));
    }
    match check(&spec) {
        Ok(_) => Ok(Ok((spec, owner_id))),
        Err(e) => {
            form.place(&rows, &e);
            Ok(Err(form))
        }
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let (mut spec, owner_id) = match read(&state, &user, &pairs).await? {
        Ok(v) => v,
        Err(form) => return page(&state, &user, &session, None, form, None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    // A new time rule starts switched off, so its dry run is seen before it acts on every ticket.
    let held = spec.trigger == Trigger::Schedule && spec.enabled;
    spec.enabled &= !held;
    let id = state.db.insert_rule(&StoredRule { spec: &spec, owner_id }, None).await?;
    schedule_soon(&state, &spec).await?;
    tracing::info!(rule = id, by = %user.email, "rule created");
    let text = if held {
        format!("Rule “{}” saved, disabled: check its dry run below, then enable it.", spec.name)
    } else {
        format!("Rule “{}” saved.", spec.name)
    };
    flash(&session, "ok", text).await;
    Ok(Redirect::to(&format!("/rules/{id}")).into_response())
}

pub(super) async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let rule = editable(&state, &user, id).await?;
    let (spec, owner_id) = match read(&state, &user, &pairs).await? {
        Ok(v) => v,
        Err(form) => {
            return page(&state, &user, &session, Some(&rule), form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    state.db.update_rule(id, &StoredRule { spec: &spec, owner_id }, rule.position).await?;
    schedule_soon(&state, &spec).await?;
    tracing::info!(rule = id, by = %user.email, "rule changed");
    flash(&session, "ok", format!("Rule “{}” saved.", spec.name)).await;
    Ok(Redirect::to(&format!("/rules/{id}")).into_response())
}
