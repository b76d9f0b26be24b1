//! `/admin/teams`: teams with their members and mailboxes (a mailbox of a team is seen only by its members and
//! admins); create, change, delete.

use super::render;
use crate::web::api::teams::{resolve, team_name};
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
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/teams", get(show).post(save)).route("/admin/teams/delete", post(delete))
}

async fn show(State(state): State<AppState>, AdminUser(user): AdminUser, session: Session) -> Result<Response, Error> {
    page(&state, &user, &session, "", StatusCode::OK).await
}

async fn page(
    state: &AppState,
    user: &crate::db::UserRow,
    session: &Session,
    error: &str,
    status: StatusCode,
) -> Result<Response, Error> {
    let users: Vec<_> = state
        .db
        .users()
        .await?
        .into_iter()
        .filter(|u| u.active == 1)
        .map(|u| context! { admin => u.is_admin(), email => u.email, name => u.name })
        .collect();
    let mailboxes: Vec<String> = state.db.mailboxes().await?.into_iter().map(|m| m.name).collect();
    let ctx = context! { teams => sv(state.db.teams().await?), users => users, mailboxes => mailboxes, error => error };
    render(state, user, session, "admin_teams.html", "teams", ctx, status).await
}

#[derive(Debug, Deserialize)]
struct TeamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    mailboxes: Vec<String>,
}

async fn save(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Form(f): Form<TeamForm>,
) -> Result<Response, Error> {
    let checked = match team_name(&f.name) {
        Ok(name) => resolve(&state, &f.members, &f.mailboxes).await.map(|r| (name, r)),
        Err(e) => Err(e),
    };
    let (name, (members, mailboxes)) = match checked {
        Ok(v) => v,
        Err(Error::Unprocessable(m)) => {
            return page(&state, &user, &session, &m, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e),
    };
    state.db.put_team(&name, &members, &mailboxes, crate::domain::now()).await?;
    tracing::info!(team = name, by = %user.email, "team saved");
    flash(&session, "ok", format!("Team {name} saved.")).await;
    Ok(Redirect::to("/admin/teams").into_response())
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
    if state.db.delete_team(f.name.trim()).await? {
        tracing::info!(team = f.name, by = %user.email, "team deleted");
        flash(&session, "ok", format!("Team {} deleted.", f.name.trim())).await;
    }
    Ok(Redirect::to("/admin/teams").into_response())
}
