//! `/canned`: canned responses — personal ones for every agent, shared ones managed by admins — with a preview on a sample ticket.

use super::auth::CurrentUser;
use super::pages::{flash, layout, sv, take_flashes};
use super::ticket_page::render_canned;
use crate::db::{CannedRow, UserRow};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/canned", get(list).post(create))
        .route("/canned/{id}", get(show).post(update))
        .route("/canned/{id}/delete", post(delete))
}

/// The form's values, and the error beside a field (`title` or `body`) or a preview.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
struct CannedForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// `on` when the checkbox is ticked (admins only).
    #[serde(default)]
    shared: Option<String>,
    /// `preview` shows the rendered text without saving.
    #[serde(default)]
    action: Option<String>,
    #[serde(skip_deserializing)]
    field: String,
    #[serde(skip_deserializing)]
    error: String,
    #[serde(skip_deserializing)]
    preview: Option<String>,
}

impl CannedForm {
    fn of(row: &CannedRow) -> Self {
        Self {
            title: row.title.clone(),
            body: row.body.clone(),
            shared: row.owner_id.is_none().then(|| "on".into()),
            ..Default::default()
        }
    }

    fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    fn fail(mut self, field: &str, error: impl Into<String>) -> Self {
        self.field = field.into();
        self.error = error.into();
        self
    }
}

fn forbidden() -> Response {
    super::auth::AuthRejection::Forbidden.into_response()
}

/// Agents edit their own; shared ones only admins.
fn may_edit(user: &UserRow, row: &CannedRow) -> bool {
    match row.owner_id {
        None => user.is_admin(),
        Some(owner) => owner == user.id,
    }
}

/// The context a preview renders with: the sample ticket, customer and links, and the user as the agent.
fn preview_context(user: &UserRow) -> serde_json::Value {
    let sample = crate::outbound::templates::sample_context("agent_reply");
    json!({
        "ticket": sample["ticket"], "customer": sample["customer"], "links": sample["links"],
        "agent": { "name": user.name, "email": user.email, "signature": user.signature },
    })
}

/// Renders the body on the sample ticket: the text, or the error to show beside the field.
fn preview(user: &UserRow, body: &str) -> Result<String, String> {
    render_canned(body, &preview_context(user)).map_err(|e| {
        if e.kind() == minijinja::ErrorKind::OutOfFuel {
            return "This text takes too long to render: shorten its loops.".to_string();
        }
        let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
        let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
        format!("This text does not render: {}{detail}{line}.", e.kind())
    })
}

/// Checks a submitted form: the trimmed title and body, or the field and the error to show beside it.
fn validate(user: &UserRow, form: &CannedForm) -> Result<(String, String), (&'static str, String)> {
    let (title, body) = (form.title.trim().to_string(), form.body.trim_end().to_string());
    if title.is_empty() {
        return Err(("title", "Give the response a title.".into()));
    }
    if title.chars().count() > 200 {
        return Err(("title", "Keep the title under 200 characters.".into()));
    }
    if body.trim().is_empty() {
        return Err(("body", "Write the text of the response.".into()));
    }
    preview(user, &body).map_err(|e| ("body", e))?;
    Ok((title, body))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Response, Error> {
    render_list(&state, &user, &session, CannedForm::default(), StatusCode::OK).await
}

async fn render_list(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    form: CannedForm,
    status: StatusCode,
) -> Result<Response, Error> {
    let rows = state.db.canned_for(user.id).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|c| {
            let excerpt: String = c.body.chars().take(140).collect();
            context! { id => c.id, title => c.title.clone(), excerpt => excerpt, shared => c.owner_id.is_none(), editable => may_edit(user, c), updated_at => c.updated_at }
        })
        .collect();
    let page = context! { items => items, form => sv(&form), is_admin => user.is_admin() };
    let html = state.pages.render("canned.html", layout(Some(user), take_flashes(session).await, "canned", page))?;
    Ok((status, html).into_response())
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<CannedForm>,
) -> Result<Response, Error> {
    if form.is_shared() && !user.is_admin() {
        return Ok(forbidden());
    }
    let form = match validate(&user, &form) {
        Ok((title, body)) => CannedForm { title, body, ..form },
        Err((field, e)) => {
            return render_list(&state, &user, &session, form.fail(field, e), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if form.action.as_deref() == Some("preview") {
        let form = CannedForm { preview: preview(&user, &form.body).ok(), ..form };
        return render_list(&state, &user, &session, form, StatusCode::OK).await;
    }
    let owner = (!form.is_shared()).then_some(user.id);
    state.db.save_canned(None, owner, &form.title, &form.body).await?;
    flash(&session, "ok", format!("Saved \u{201c}{}\u{201d}.", form.title)).await;
    Ok(Redirect::to("/canned").into_response())
}

/// The response with this id if the user may see it (their own or a shared one); others' are 404.
async fn visible(state: &AppState, user: &UserRow, id: i64) -> Result<CannedRow, Error> {
    let row = state.db.canned(id).await?;
    if row.owner_id.is_some_and(|o| o != user.id) {
        return Err(Error::NotFound);
    }
    Ok(row)
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let row = visible(&state, &user, id).await?;
    let form = CannedForm { preview: preview(&user, &row.body).ok(), ..CannedForm::of(&row) };
    render_edit(&state, &user, &session, &row, form, StatusCode::OK).await
}

async fn render_edit(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    row: &CannedRow,
    form: CannedForm,
    status: StatusCode,
) -> Result<Response, Error> {
    let page =
        context! { id => row.id, editable => may_edit(user, row), form => sv(&form), is_admin => user.is_admin() };
    let html =
        state.pages.render("canned_edit.html", layout(Some(user), take_flashes(session).await, "canned", page))?;
    Ok((status, html).into_response())
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<CannedForm>,
) -> Result<Response, Error> {
    let row = visible(&state, &user, id).await?;
    if !may_edit(&user, &row) || (form.is_shared() && !user.is_admin()) {
        return Ok(forbidden());
    }
    let form = match validate(&user, &form) {
        Ok((title, body)) => CannedForm { title, body, ..form },
        Err((field, e)) => {
            let form = form.fail(field, e);
            return render_edit(&state, &user, &session, &row, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if form.action.as_deref() == Some("preview") {
        let form = CannedForm { preview: preview(&user, &form.body).ok(), ..form };
        return render_edit(&state, &user, &session, &row, form, StatusCode::OK).await;
    }
    // An admin who unshares a response makes it their own.
    let owner = if form.is_shared() { None } else { row.owner_id.or(Some(user.id)) };
    state.db.save_canned(Some(id), owner, &form.title, &form.body).await?;
    flash(&session, "ok", format!("Saved \u{201c}{}\u{201d}.", form.title)).await;
    Ok(Redirect::to("/canned").into_response())
}

async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let row = visible(&state, &user, id).await?;
    if !may_edit(&user, &row) {
        return Ok(forbidden());
    }
    state.db.delete_canned(id).await?;
    flash(&session, "ok", format!("Deleted \u{201c}{}\u{201d}.", row.title)).await;
    Ok(Redirect::to("/canned").into_response())
}
