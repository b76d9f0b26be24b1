//! `/settings`: the signed-in user's own password, signature and notification choices.

use super::auth::CurrentUser;
use super::hashing;
use super::limits::SMALL_FORM;
use super::pages::{flash, layout, sv, take_flashes};
use crate::db::UserRow;
use crate::db::user_admin::Preferences;
use crate::web::{AppState, Error};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The shortest password accepted anywhere in the dashboard.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show))
        .route("/settings/password", post(change_password).layer(DefaultBodyLimit::max(SMALL_FORM)))
        .route("/settings/profile", post(save_profile))
}

/// Which form failed, the field and why, and the profile values to show again.
#[derive(Debug, Default, Clone, Serialize)]
struct FormState {
    form: &'static str,
    field: &'static str,
    error: String,
    signature: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Response, Error> {
    render(&state, &user, &session, FormState::default(), StatusCode::OK).await
}

async fn render(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    form: FormState,
    status: StatusCode,
) -> Result<Response, Error> {
    let page = context! {
        signature => form.signature.clone().unwrap_or_else(|| user.signature.clone()),
        notify_new_ticket => user.notify_new_ticket == 1,
        notify_customer_replied => user.notify_customer_replied == 1,
        notify_assigned => user.notify_assigned == 1,
        role => user.role.clone(),
        min_password => MIN_PASSWORD_CHARS,
        form => sv(&form),
    };
    let html =
        state.pages.render("settings.html", layout(Some(user), take_flashes(session).await, "settings", page))?;
    Ok((status, html).into_response())
}

/// Why a new password is refused (the field and the message), if it is.
pub fn password_problem(new: &str, confirm: &str) -> Option<(&'static str, String)> {
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Some(("new", format!("Use at least {MIN_PASSWORD_CHARS} characters.")));
    }
    if new != confirm {
        return Some(("confirm", "The two passwords differ.".into()));
    }
    None
}

/// Why the typed current password is refused (with the status to answer), if it is. Each check counts against
/// the account's sign-in quota, so a stolen session cannot guess the password faster than the login form.
async fn current_password_problem(
    state: &AppState,
    user: &UserRow,
    current: &str,
) -> Result<Option<(StatusCode, String)>, Error> {
    if !state.throttle.account(&user.email) {
        tracing::warn!(user = %user.email, "current password checks throttled");
        return Ok(Some((StatusCode::TOO_MANY_REQUESTS, super::auth::TOO_MANY.into())));
    }
    if hashing::verify(current.to_string(), Some(user.password_hash.clone())).await? {
        return Ok(None);
    }
    Ok(Some((StatusCode::UNPROCESSABLE_ENTITY, "That is not your current password.".into())))
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Error> {
    // The new password first: a form refused anyway costs no argon2 run and no attempt of the account's quota.
    if let Some((field, error)) = password_problem(&f.new, &f.confirm) {
        let form = FormState { form: "password", field, error, signature: None };
        return render(&state, &user, &session, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if let Some((status, error)) = current_password_problem(&state, &user, &f.current).await? {
        let form = FormState { form: "password", field: "current", error, signature: None };
        return render(&state, &user, &session, form, status).await;
    }
    state.db.set_password_hash(user.id, &hashing::hash(f.new).await?).await?;
    // Whoever else is signed in as this user (another browser, a stolen cookie) is signed out.
    let current = session.id().map(|id| id.to_string());
    state.db.end_user_sessions(user.id, current.as_deref()).await?;
    tracing::info!(user = %user.email, "password changed");
    flash(&session, "ok", "Your password was changed; your other sessions are signed out.").await;
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    signature: String,
    notify_new_ticket: Option<String>,
    notify_customer_replied: Option<String>,
    notify_assigned: Option<String>,
}

async fn save_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(f): Form<ProfileForm>,
) -> Result<Response, Error> {
    let signature = f.signature.replace("\r\n", "\n").trim_end().to_string();
    if signature.chars().count() > 2000 || signature.lines().count() > 20 {
        let form = FormState {
            form: "profile",
            field: "signature",
            error: "Keep the signature under 20 lines and 2000 characters.".into(),
            signature: Some(f.signature),
        };
        return render(&state, &user, &session, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let prefs = Preferences {
        signature,
        notify_new_ticket: f.notify_new_ticket.is_some(),
        notify_customer_replied: f.notify_customer_replied.is_some(),
        notify_assigned: f.notify_assigned.is_some(),
    };
    state.db.set_preferences(user.id, &prefs).await?;
    flash(&session, "ok", "Your settings were saved.").await;
    Ok(Redirect::to("/settings").into_response())
}
