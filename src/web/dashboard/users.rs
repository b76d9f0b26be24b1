//! `/admin/users`: staff accounts — invite (a mailed single-use link), change role, deactivate and reactivate, resend invitations.

use super::auth::AdminUser;
use super::invites::{Issued, LinkKind, issue_link};
use super::pages::{flash, layout, sv, take_flashes};
use crate::db::UserRow;
use crate::domain::{EmailAddress, Role};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(invite))
        .route("/admin/users/{id}/role", post(set_role))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/users/{id}/invite", post(resend))
}

/// The invitation form's values and the error beside a field.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(skip_deserializing)]
    field: String,
    #[serde(skip_deserializing)]
    error: String,
}

impl InviteForm {
    fn fail(mut self, field: &str, error: &str) -> Self {
        self.field = field.into();
        self.error = error.into();
        self
    }
}

/// A link that could not be mailed, shown to the admin to pass on.
#[derive(Debug, Clone, Serialize)]
struct Handover {
    email: String,
    link: String,
}

async fn list(State(state): State<AppState>, AdminUser(me): AdminUser, session: Session) -> Result<Response, Error> {
    let form = InviteForm { role: "agent".into(), ..Default::default() };
    render(&state, &me, &session, form, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    me: &UserRow,
    session: &Session,
    form: InviteForm,
    handover: Option<Handover>,
    status: StatusCode,
) -> Result<Response, Error> {
    let pending = state.db.pending_invites().await?;
    let now = crate::domain::now();
    let users: Vec<_> = state
        .db
        .users()
        .await?
        .iter()
        .map(|u| {
            let invite = pending.iter().find(|(id, _)| *id == u.id).map(|(_, exp)| context! { expires_at => exp, expired => *exp <= now });
            context! { id => u.id, name => u.name.clone(), email => u.email.clone(), role => u.role.clone(), active => u.active == 1, invite => invite, is_me => u.id == me.id }
        })
        .collect();
    let can_mail = crate::outbound::plain::first_sending(state.db.mailboxes().await?).is_some();
    let page = context! { admin_section => "users", users => users, form => sv(&form), handover => sv(handover), can_mail => can_mail, roles => ["agent", "admin"] };
    let html = state.pages.render("users.html", layout(Some(me), take_flashes(session).await, "admin", page))?;
    Ok((status, html).into_response())
}

/// Checks the invitation form: a name, a valid new address and a role; `Ok(Err(form))` carries the error back.
async fn validate(
    state: &AppState,
    form: InviteForm,
) -> Result<Result<(InviteForm, EmailAddress, Role), InviteForm>, Error> {
    let Ok(email) = EmailAddress::parse(form.email.trim()) else {
        return Ok(Err(form.fail("email", "Enter a valid e-mail address.")));
    };
    if state.db.user_by_email(email.as_str()).await?.is_some() {
        return Ok(Err(form.fail("email", "A user with this address already exists.")));
    }
    if form.name.trim().is_empty() {
        return Ok(Err(form.fail("name", "Enter the person's name.")));
    }
    match Role::parse(&form.role) {
        Ok(role) => Ok(Ok((form, email, role))),
        Err(_) => Ok(Err(form.fail("role", "Choose agent or admin."))),
    }
}

async fn invite(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    session: Session,
    Form(form): Form<InviteForm>,
) -> Result<Response, Error> {
    let (form, email, role) = match validate(&state, form).await? {
        Ok(v) => v,
        Err(form) => return render(&state, &me, &session, form, None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    // Nobody knows this password: the invitee chooses theirs through the link.
    let unusable = super::hashing::hash(crate::platform::password::random_string(32)).await?;
    let id = match state.db.create_user(email.as_str(), form.name.trim(), role, &unusable).await {
        Ok(id) => id,
        Err(crate::db::DbError::Conflict(_)) => {
            let form = form.fail("email", "A user with this address already exists.");
            return render(&state, &me, &session, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(by = %me.email, user = %email, role = role.as_str(), "user invited");
    let user = state.db.user(id).await?;
    handed_over(&state, &me, &session, &user, "Invited").await
}

/// After issuing an invitation: a flash when it was mailed, else the page with the link to pass on.
async fn handed_over(
    state: &AppState,
    me: &UserRow,
    session: &Session,
    user: &UserRow,
    what: &str,
) -> Result<Response, Error> {
    match issue_link(state, user, LinkKind::Invite).await? {
        Issued::Mailed => {
            flash(session, "ok", format!("{what} {}: the invitation is on its way by mail.", user.email)).await;
            Ok(Redirect::to("/admin/users").into_response())
        }
        Issued::NotMailed(link) => {
            let handover = Handover { email: user.email.clone(), link };
            let form = InviteForm { role: "agent".into(), ..Default::default() };
            render(state, me, session, form, Some(handover), StatusCode::OK).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct ValueForm {
    value: String,
}

async fn set_role(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let user = state.db.user(id).await?;
    let role = Role::parse(&f.value).map_err(Error::BadRequest)?;
    if user.id == me.id {
        flash(&session, "error", "You cannot change your own role (ask another administrator).").await;
    } else if user.role() != role {
        state.db.set_user_role(id, role).await?;
        tracing::info!(by = %me.email, user = %user.email, role = role.as_str(), "role changed");
        flash(
            &session,
            "ok",
            format!("{} is now {}.", user.name, if role == Role::Admin { "an admin" } else { "an agent" }),
        )
        .await;
    }
    Ok(Redirect::to("/admin/users"))
}

async fn set_active(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ValueForm>,
) -> Result<Redirect, Error> {
    let user = state.db.user(id).await?;
    let active = f.value == "1";
    if user.id == me.id {
        flash(&session, "error", "You cannot deactivate yourself.").await;
        return Ok(Redirect::to("/admin/users"));
    }
    state.db.set_user_active(id, active).await?;
    if !active {
        // Their sessions end and API tokens stop at once (both check `active`); pending reset links are voided.
        state.db.revoke_user_tokens(id, LinkKind::Reset.purpose()).await?;
        state.db.end_user_sessions(id, None).await?;
    }
    tracing::info!(by = %me.email, user = %user.email, active, "user (de)activated");
    let text =
        if active { "reactivated" } else { "deactivated: they are signed out and their API tokens stop working" };
    flash(&session, "ok", format!("{} {text}.", user.name)).await;
    Ok(Redirect::to("/admin/users"))
}

async fn resend(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let user = state.db.user(id).await?;
    let pending = state.db.pending_invites().await?.iter().any(|(u, _)| *u == id);
    if user.active != 1 || !pending {
        flash(&session, "error", format!("{} has no open invitation to send again.", user.email)).await;
        return Ok(Redirect::to("/admin/users").into_response());
    }
    handed_over(&state, &me, &session, &user, "Invited again").await
}
