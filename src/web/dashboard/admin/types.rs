//! `/admin/types`: ticket types (name and title, with their open tickets): add, retitle, delete. Deleting one
//! leaves its tickets without a type and asks the SLA worker to recompute (their policy may change).

use super::{capitalise, render};
use crate::db::UserRow;
use crate::web::api::ticket_types::type_title;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::{flash, sv};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/types", get(show).post(save)).route("/admin/types/delete", post(delete))
}

/// A refused form: which one (`""` the add form, else the retitled type's name), the field, the message and the
/// values posted.
#[derive(Debug, Default, Clone, Serialize)]
struct Refusal {
    row: String,
    field: String,
    error: String,
    name: String,
    title: String,
}

async fn show(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    page(&state, &user, &session, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Result<Response, Error> {
    let ctx = context! { types => sv(state.db.ticket_types().await?), refusal => sv(refusal.unwrap_or_default()) };
    render(state, user, session, "admin_types.html", "types", ctx, status).await
}

#[derive(Debug, Deserialize)]
struct TypeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    /// Present on a row's retitle form: the type must exist (the add form refuses an existing name).
    #[serde(default)]
    existing: Option<String>,
}

async fn save(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(f): Form<TypeForm>,
) -> Result<Response, Error> {
    let row = if f.existing.is_some() { f.name.trim().to_string() } else { String::new() };
    let refuse = |field: &str, error: String| Refusal {
        row: row.clone(),
        field: field.into(),
        error,
        name: f.name.clone(),
        title: f.title.clone(),
    };
    let types = state.db.ticket_types().await?;
    let checked = match crate::tickets::types::type_name(&f.name) {
        Err(_) => Err(refuse("name", super::NAME_RULE.into())),
        Ok(name) if f.existing.is_none() && types.iter().any(|t| t.name == name) => {
            Err(refuse("name", format!("Type {name} exists already: change its title in its row.")))
        }
        Ok(name) if f.existing.is_some() && !types.iter().any(|t| t.name == name) => return Err(Error::NotFound),
        Ok(name) => match type_title(&name, Some(&f.title)) {
            Ok(title) => Ok((name, title)),
            Err(Error::Unprocessable(m)) => Err(refuse("title", capitalise(m.trim_start_matches("title: ")) + ".")),
            Err(e) => return Err(e),
        },
    };
    let (name, title) = match checked {
        Ok(v) => v,
        Err(r) => return page(&state, &user, &session, Some(r), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    state.db.put_ticket_type(&name, &title, crate::domain::now()).await?;
    state.list_meta.forget();
    tracing::info!(ticket_type = name, by = %user.email, "ticket type saved");
    flash(&session, "ok", format!("Type {name} saved.")).await;
    Ok(Redirect::to("/admin/types").into_response())
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    name: String,
}

async fn delete(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(f): Form<DeleteForm>,
) -> Result<Response, Error> {
    let name = f.name.trim().to_lowercase();
    if state.db.delete_ticket_type(&name).await? {
        state.list_meta.forget();
        tracing::info!(ticket_type = name, by = %user.email, "ticket type deleted");
        flash(&session, "ok", format!("Type {name} deleted; its tickets have no type now.")).await;
    }
    Ok(Redirect::to("/admin/types").into_response())
}
