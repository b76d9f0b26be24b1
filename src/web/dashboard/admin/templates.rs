//! `/admin/templates`: the e-mail templates with their origin; edit one with a preview, save an override, reset to the default.
//! A saved override applies to the next mail (the composer's templates are reloaded) and at every start.
//! `base.html`, the layout of every kind's HTML, is listed and edited like the others; its preview is the first kind's.

use super::render;
use crate::outbound::templates::{BASE, KINDS, Origin, Templates, names, sample_context};
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
        .route("/admin/templates", get(list))
        .route("/admin/templates/{name}", get(edit).post(submit))
        .route("/admin/templates/{name}/reset", post(reset))
}

fn origin_label(origin: Option<&Origin>) -> &'static str {
    match origin {
        Some(Origin::File(_)) => "file",
        Some(Origin::Database) => "database",
        _ => "built-in",
    }
}

fn kind_of(name: &str) -> Option<&'static str> {
    KINDS.iter().copied().find(|k| name.starts_with(&format!("{k}.")))
}

/// The kind shown beside a template: its own, or for `base.html` every kind's HTML.
fn kind_label(name: &str) -> &'static str {
    match kind_of(name) {
        Some(kind) => kind,
        None if name == BASE => "layout of every HTML mail",
        None => "",
    }
}

#[derive(Debug, Serialize)]
struct TemplateView {
    name: String,
    kind: &'static str,
    origin: &'static str,
    file: Option<String>,
}

async fn list(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    let templates = state.tickets.composer.templates.current();
    let rows: Vec<TemplateView> = names()
        .map(|name| {
            let origin = templates.origin(&name);
            let file = match origin {
                Some(Origin::File(p)) => Some(p.display().to_string()),
                _ => None,
            };
            TemplateView { kind: kind_label(&name), origin: origin_label(origin), file, name }
        })
        .collect();
    render(
        &state,
        &user,
        &session,
        "admin_templates.html",
        "templates",
        context! { templates => sv(rows) },
        StatusCode::OK,
    )
    .await
}

/// The editor page: the source in the textarea, an error beside it, or a preview below.
struct Editor {
    source: String,
    error: Option<String>,
    preview: Value,
}

async fn editor(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    name: &str,
    e: Editor,
    status: StatusCode,
) -> Result<Response, Error> {
    let templates = state.tickets.composer.templates.current();
    let page = context! {
        name => name,
        kind => kind_label(name),
        origin => origin_label(templates.origin(name)),
        source => e.source,
        error => e.error,
        preview => e.preview,
    };
    render(state, user, session, "admin_template.html", "templates", page, status).await
}

fn known(name: &str) -> Result<(), Error> {
    if names().any(|n| n == name) { Ok(()) } else { Err(Error::NotFound) }
}

async fn edit(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    known(&name)?;
    let source = state.tickets.composer.templates.current().source(&name).unwrap_or_default();
    editor(&state, &user, &session, &name, Editor { source, error: None, preview: Value::UNDEFINED }, StatusCode::OK)
        .await
}

#[derive(Debug, Deserialize)]
struct SourceForm {
    source: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

/// The three parts of the kind (for `base.html`, of the first kind) rendered with the sample context, `name` replaced
/// by `source`.
async fn preview(state: &AppState, name: &str, source: &str) -> Result<Result<Value, String>, Error> {
    let mut overrides = state.db.template_overrides().await?;
    overrides.retain(|(n, _)| n != name);
    overrides.push((name.to_string(), source.to_string()));
    let kind = kind_of(name).unwrap_or(KINDS[0]);
    let rendered = Templates::load(state.settings.templates.dir.as_deref(), &overrides)
        .and_then(|t| t.render(kind, &sample_context(kind)));
    Ok(match rendered {
        Ok(r) => Ok(context! { subject => r.subject, text => r.text, html => r.html }),
        Err(e) => Err(e.to_string()),
    })
}

async fn submit(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
    Form(form): Form<SourceForm>,
) -> Result<Response, Error> {
    known(&name)?;
    let checked = Templates::check(&name, &form.source).map_err(|e| e.to_string());
    let previewed = match checked {
        Ok(()) => preview(&state, &name, &form.source).await?,
        Err(e) => Err(e),
    };
    let source = form.source.clone();
    match previewed {
        Err(error) => {
            let e = Editor { source, error: Some(error), preview: Value::UNDEFINED };
            editor(&state, &user, &session, &name, e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Ok(preview) if form.action == "preview" => {
            editor(&state, &user, &session, &name, Editor { source, error: None, preview }, StatusCode::OK).await
        }
        Ok(_) => {
            state.db.set_template_override(&name, Some(&form.source), &user.email).await?;
            reload(&state).await?;
            flash(&session, "ok", format!("Template {name} saved; the next mail uses it.")).await;
            Ok(Redirect::to(&format!("/admin/templates/{name}")).into_response())
        }
    }
}

async fn reset(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    known(&name)?;
    state.db.set_template_override(&name, None, &user.email).await?;
    reload(&state).await?;
    flash(&session, "ok", format!("Template {name} reset to its default.")).await;
    Ok(Redirect::to(&format!("/admin/templates/{name}")).into_response())
}

async fn reload(state: &AppState) -> Result<(), Error> {
    state
        .tickets
        .composer
        .reload(&state.db, state.settings.templates.dir.as_deref())
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("reloading the e-mail templates")))
}
