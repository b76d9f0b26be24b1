//! `/admin/mailboxes`: every mailbox with its live health; add, edit, enable/disable dashboard mailboxes; test a connection.
//! Changes reach the pollers without a restart (the supervisor is notified).

use super::mailbox_form::{FieldErrors, MailboxForm, has_password};
use super::{mailbox_check, render};
use crate::db::{DbError, MailboxRow};
use crate::platform::config::MailboxSettings;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/mailboxes", get(list).post(create))
        .route("/admin/mailboxes/new", get(new_form))
        .route("/admin/mailboxes/{id}", get(edit_form).post(update))
        .route("/admin/mailboxes/{id}/enabled", post(set_enabled))
        .route("/admin/mailboxes/{id}/test", post(mailbox_check::test))
}

/// One row of the list.
#[derive(Debug, Serialize)]
struct MailboxView {
    id: i64,
    name: String,
    address: String,
    display_name: String,
    source: String,
    enabled: bool,
    imap: String,
    smtp: String,
    health: Option<crate::platform::health::MailboxHealth>,
    outbox: Option<crate::db::outbox_health::MailboxOutbox>,
    /// How an OAuth2 mailbox signs in (`auth`, `provider`) and whether a refresh token is stored.
    oauth: Option<serde_json::Value>,
}

/// The settings of a row as stored (passwords still sealed); a mailbox made without settings gets its row's identity.
pub(super) fn stored_settings(row: &MailboxRow) -> MailboxSettings {
    serde_json::from_str(&row.settings_json).unwrap_or_else(|_| MailboxSettings {
        name: row.name.clone(),
        address: row.address.clone(),
        display_name: row.display_name.clone(),
        plus_addressing: row.plus_addressing == 1,
        enabled: row.enabled == 1,
        imap: None,
        smtp: None,
        order_pattern: None,
    })
}

/// The list page, optionally with the result of a connection test.
pub(super) async fn list_page(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    test: Value,
) -> Result<Response, Error> {
    let health = state.health.snapshot();
    let outbox = state.db.outbox_health(crate::domain::now()).await?;
    let mut rows = Vec::new();
    for row in state.db.mailboxes().await? {
        let s = stored_settings(&row);
        let oauth = match s.oauth() {
            Some(o) => {
                let stored = state.db.oauth_grant(row.id).await?.is_some_and(|g| g.refresh_token_sealed.is_some());
                let auth = s.imap.as_ref().map(|i| i.auth).filter(|a| a.is_oauth()).or(s.smtp.as_ref().map(|m| m.auth));
                Some(serde_json::json!({ "auth": auth, "provider": o.provider, "stored": stored }))
            }
            None => None,
        };
        rows.push(MailboxView {
            id: row.id,
            oauth,
            imap: s.imap.map(|i| format!("{}:{}", i.host, i.port)).unwrap_or_default(),
            smtp: s.smtp.map(|m| format!("{}:{}", m.host, m.port)).unwrap_or_default(),
            health: health.iter().find(|h| h.name == row.name).cloned(),
            outbox: outbox.mailboxes.iter().find(|o| o.mailbox == row.name).cloned(),
            enabled: row.enabled == 1,
            name: row.name,
            address: row.address,
            display_name: row.display_name,
            source: row.source,
        });
    }
    let providers: Vec<_> = crate::platform::config::Provider::ALL
        .iter()
        .map(|p| context! { name => p.as_str(), title => p.title() })
        .collect();
    let page = context! { mailboxes => sv(rows), test => test, providers => providers };
    render(state, user, session, "admin_mailboxes.html", "mailboxes", page, StatusCode::OK).await
}

async fn list(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    list_page(&state, &user, &session, Value::UNDEFINED).await
}

/// The add/edit form page.
struct FormPage<'a> {
    id: Option<i64>,
    form: &'a MailboxForm,
    errors: &'a FieldErrors,
    stored: Option<&'a MailboxSettings>,
    read_only: bool,
}

async fn form_page(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    p: FormPage<'_>,
    status: StatusCode,
) -> Result<Response, Error> {
    let imap_password = p.stored.and_then(|s| s.imap.as_ref()).is_some_and(|i| has_password(&i.password));
    let smtp_password = p.stored.and_then(|s| s.smtp.as_ref()).is_some_and(|m| has_password(&m.password));
    let page = context! {
        id => p.id,
        form => sv(p.form),
        errors => sv(p.errors),
        read_only => p.read_only,
        has_imap_password => imap_password,
        has_smtp_password => smtp_password,
    };
    render(state, user, session, "admin_mailbox.html", "mailboxes", page, status).await
}

async fn new_form(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
) -> Result<Response, Error> {
    let form = MailboxForm::new_mailbox();
    let p = FormPage { id: None, form: &form, errors: &FieldErrors::new(), stored: None, read_only: false };
    form_page(&state, &user, &session, p, StatusCode::OK).await
}

async fn edit_form(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let row = state.db.mailbox_by_id(id).await?;
    let stored = stored_settings(&row);
    let form = MailboxForm::from_settings(&stored);
    let read_only = row.source != "dashboard";
    let p = FormPage { id: Some(id), form: &form, errors: &FieldErrors::new(), stored: Some(&stored), read_only };
    form_page(&state, &user, &session, p, StatusCode::OK).await
}

/// The settings as stored: typed passwords sealed with the installation key.
fn sealed_json(state: &AppState, settings: &MailboxSettings) -> String {
    let mut sealed = settings.clone();
    crate::platform::secretbox::seal_passwords(&mut sealed, &state.secrets);
    serde_json::to_string(&sealed).unwrap_or_else(|_| "{}".into())
}

/// Another mailbox already uses this address?
async fn address_taken(state: &AppState, address: &str, except: Option<i64>) -> Result<bool, Error> {
    Ok(state.db.mailboxes().await?.iter().any(|m| m.address == address && Some(m.id) != except))
}

/// Tells the poller supervisor and the pipeline (our addresses) that mailboxes changed.
async fn mailboxes_changed(state: &AppState) {
    state.mailboxes_changed.notify_one();
    if let Err(e) = state.pipeline.refresh().await {
        tracing::warn!(error = %crate::platform::telemetry::chain(&e), "cannot refresh our addresses; the supervisor will retry");
    }
}

/// Checks and stores the form; the field errors when it cannot.
async fn save(state: &AppState, id: Option<i64>, form: &MailboxForm) -> Result<Result<i64, FieldErrors>, Error> {
    let stored = match id {
        Some(id) => Some(stored_settings(&state.db.mailbox_by_id(id).await?)),
        None => None,
    };
    let settings = match form.check(stored.as_ref()) {
        Ok(s) => s,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut errors = FieldErrors::new();
    if address_taken(state, &settings.address, id).await? {
        errors.insert("address", "Another mailbox already has this address.".into());
        return Ok(Err(errors));
    }
    let json = sealed_json(state, &settings);
    let saved = match id {
        Some(id) => state.db.update_dashboard_mailbox(id, &settings, &json).await.map(|_| id),
        None => state.db.create_dashboard_mailbox(&settings, &json).await,
    };
    match saved {
        Ok(id) => Ok(Ok(id)),
        Err(DbError::Conflict(_)) => {
            errors.insert("name", "Another mailbox already has this name.".into());
            Ok(Err(errors))
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(form): Form<MailboxForm>,
) -> Result<Response, Error> {
    match save(&state, None, &form).await? {
        Ok(_) => {
            mailboxes_changed(&state).await;
            flash(&session, "ok", format!("Mailbox {} added.", form.name.trim())).await;
            Ok(Redirect::to("/admin/mailboxes").into_response())
        }
        Err(errors) => {
            let p = FormPage { id: None, form: &form, errors: &errors, stored: None, read_only: false };
            form_page(&state, &user, &session, p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn update(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<MailboxForm>,
) -> Result<Response, Error> {
    let row = state.db.mailbox_by_id(id).await?;
    if row.source != "dashboard" {
        flash(&session, "error", format!("Mailbox {} is managed in the config file.", row.name)).await;
        return Ok(Redirect::to("/admin/mailboxes").into_response());
    }
    match save(&state, Some(id), &form).await? {
        Ok(_) => {
            mailboxes_changed(&state).await;
            flash(&session, "ok", format!("Mailbox {} saved.", form.name.trim())).await;
            Ok(Redirect::to("/admin/mailboxes").into_response())
        }
        Err(errors) => {
            let stored = stored_settings(&row);
            let p = FormPage { id: Some(id), form: &form, errors: &errors, stored: Some(&stored), read_only: false };
            form_page(&state, &user, &session, p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct EnabledForm {
    enabled: String,
}

async fn set_enabled(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<EnabledForm>,
) -> Result<Response, Error> {
    let row = state.db.mailbox_by_id(id).await?;
    if row.source != "dashboard" {
        flash(&session, "error", format!("Mailbox {} is managed in the config file.", row.name)).await;
        return Ok(Redirect::to("/admin/mailboxes").into_response());
    }
    let mut settings = stored_settings(&row);
    settings.enabled = f.enabled == "1";
    let json = serde_json::to_string(&settings).unwrap_or_else(|_| row.settings_json.clone());
    state.db.update_dashboard_mailbox(id, &settings, &json).await?;
    mailboxes_changed(&state).await;
    let done = if settings.enabled { "enabled" } else { "disabled" };
    flash(&session, "ok", format!("Mailbox {} {done}.", row.name)).await;
    Ok(Redirect::to("/admin/mailboxes").into_response())
}
