//! `/admin/sla`: SLA policies by position (the first whose conditions hold applies) — the list, the form (name,
//! position, calendar, conditions as JSON, targets in business minutes, warning lead; refusals beside their
//! fields), delete. Every save asks the SLA worker to recompute the clocks.

use super::sla_form::PolicyForm;
use super::{new_setup_name, render};
use crate::automation::sla::check::POLICY_FIELDS;
use crate::db::UserRow;
use crate::db::sla::PolicyRow;
use crate::web::api::sla::policy_json;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sla", get(list).post(create))
        .route("/admin/sla/new", get(new))
        .route("/admin/sla/{name}", get(show).post(update))
        .route("/admin/sla/{name}/delete", post(delete))
}

async fn list(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    let (_, policies) = state.db.sla_setup().await?;
    let rows: Vec<_> = policies.iter().map(|p| sv(policy_json(p))).collect();
    render(&state, &user, &session, "admin_sla.html", "sla", context! { policies => rows }, StatusCode::OK).await
}

async fn new(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    form_page(&state, &user, &session, None, PolicyForm::blank(), StatusCode::OK).await
}

async fn show(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    let row = stored(&state, &name).await?.ok_or(Error::NotFound)?;
    form_page(&state, &user, &session, Some(&row.name), PolicyForm::of(&row), StatusCode::OK).await
}

async fn form_page(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    stored: Option<&str>,
    form: PolicyForm,
    status: StatusCode,
) -> Result<Response, Error> {
    let (calendars, _) = state.db.sla_setup().await?;
    let ctx = context! {
        form => sv(&form), stored => stored, fields => sv(POLICY_FIELDS),
        calendars => calendars.into_iter().map(|c| c.name).collect::<Vec<_>>(),
    };
    render(state, user, session, "admin_sla_policy.html", "sla", ctx, status).await
}

async fn create(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let mut form = PolicyForm::posted(&pairs, None);
    let (_, policies) = state.db.sla_setup().await?;
    match new_setup_name(&form.name, "Policy", policies.iter().map(|p| p.name.as_str())) {
        Ok(name) => form.name = name,
        Err(refusal) => {
            form.errors.insert("name".into(), refusal);
        }
    }
    save(&state, &user, &session, None, form).await
}

async fn update(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let row = stored(&state, &name).await?.ok_or(Error::NotFound)?;
    save(&state, &user, &session, Some(&row.name), PolicyForm::posted(&pairs, Some(&row.name))).await
}

/// Stores the form's policy and asks for the recompute, or shows the form again with its errors.
async fn save(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    stored_name: Option<&str>,
    mut form: PolicyForm,
) -> Result<Response, Error> {
    let (calendars, _) = state.db.sla_setup().await?;
    // The other fields are checked too when the name is refused.
    let name_error = form.errors.remove("name");
    let spec = form.spec();
    if let Some(e) = name_error {
        form.errors.insert("name".into(), e);
    }
    if let Some(c) = spec.as_ref().and_then(|s| s.calendar.as_ref())
        && !calendars.iter().any(|k| &k.name == c)
    {
        form.errors.insert("calendar".into(), format!("There is no calendar {c}."));
    }
    let Some(spec) = spec.filter(|_| form.errors.is_empty()) else {
        return form_page(state, user, session, stored_name, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let now = crate::domain::now();
    let row = state.db.save_policy(&form.name, &spec, now).await?;
    tracing::info!(policy = row.name, by = %user.email, "SLA policy saved");
    flash(session, "ok", format!("Policy {} saved; the SLA clocks are being recomputed.", row.name)).await;
    Ok(Redirect::to("/admin/sla").into_response())
}

async fn delete(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    if state.db.delete_policy(&name).await? {
        tracing::info!(policy = name, by = %user.email, "SLA policy deleted");
        flash(&session, "ok", format!("Policy {name} deleted; the SLA clocks are being recomputed.")).await;
    }
    Ok(Redirect::to("/admin/sla").into_response())
}

async fn stored(state: &AppState, name: &str) -> Result<Option<PolicyRow>, Error> {
    Ok(state.db.sla_setup().await?.1.into_iter().find(|p| p.name == name))
}
