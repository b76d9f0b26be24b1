//! Single-use links for staff accounts: invitations (`/invite/{token}`) and password resets (`/password/…`).
//! Tokens are random, stored as sha256 hashes, and expire; following one sets a password and signs in.

use super::auth::sign_in;
use super::client_ip::ClientIp;
use super::hashing;
use super::limits::{Limiter, SMALL_FORM, per_minute};
use super::pages::{flash, layout, take_flashes};
use super::settings::password_problem;
use crate::db::UserRow;
use crate::outbound::plain::{PlainDraft, first_sending};
use crate::web::{AppState, Error};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::LazyLock;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/invite/{token}", get(invite_form).post(accept_invite))
        .route("/password/forgot", get(forgot_form).post(forgot))
        .route("/password/reset/{token}", get(reset_form).post(reset))
        .layer(DefaultBodyLimit::max(SMALL_FORM))
}

/// The two kinds of link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Invite,
    Reset,
}

impl LinkKind {
    /// The `purpose` of its stored tokens.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "reset",
        }
    }

    fn hours(self) -> i64 {
        match self {
            Self::Invite => 72,
            Self::Reset => 1,
        }
    }

    fn template(self) -> crate::domain::TemplateKind {
        match self {
            Self::Invite => crate::domain::TemplateKind::UserInvite,
            Self::Reset => crate::domain::TemplateKind::PasswordReset,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "password/reset",
        }
    }
}

/// What became of a new link: queued by mail, or (no mailbox can send) the link itself, to hand over another way.
pub enum Issued {
    Mailed,
    NotMailed(String),
}

/// Issues a new link for `user` (older unused ones of the same kind stop working) and mails it from the
/// first mailbox that can send.
pub async fn issue_link(state: &AppState, user: &UserRow, kind: LinkKind) -> Result<Issued, Error> {
    let token = crate::platform::password::random_string(43);
    let now = crate::domain::now();
    state
        .db
        .create_user_token(
            user.id,
            kind.purpose(),
            &crate::platform::password::token_hash(&token),
            now + kind.hours() * 3600,
        )
        .await?;
    let link = format!("{}/{}/{token}", state.settings.server.public_url.trim_end_matches('/'), kind.path());
    let Some(mailbox) = first_sending(state.db.mailboxes().await?) else { return Ok(Issued::NotMailed(link)) };
    let draft = PlainDraft {
        kind: kind.template(),
        mailbox: &mailbox,
        to: (user.name.clone(), user.email.clone()),
        context: json!({ "user": { "name": user.name, "email": user.email }, "link": link, "expires_hours": kind.hours() }),
    };
    let composer = &state.tickets.composer;
    let mut tx = state.db.begin().await?;
    let queued = composer.enqueue_plain(&mut tx, draft, now).await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    composer.wake();
    Ok(if queued.is_some() { Issued::Mailed } else { Issued::NotMailed(link) })
}

/// The user a valid link names, without using it up.
async fn holder(state: &AppState, token: &str, kind: LinkKind) -> Result<Option<UserRow>, Error> {
    let hash = crate::platform::password::token_hash(token);
    let Some(id) = state.db.peek_user_token(&hash, kind.purpose(), crate::domain::now()).await? else {
        return Ok(None);
    };
    Ok(Some(state.db.user(id).await?).filter(|u| u.active == 1))
}

fn page(
    state: &AppState,
    name: &str,
    status: StatusCode,
    flashes: Vec<super::pages::Flash>,
    ctx: Value,
) -> Result<Response, Error> {
    Ok((status, state.pages.render(name, layout(None, flashes, "account", ctx))?).into_response())
}

/// The page for a used, expired or unknown link.
fn invalid(state: &AppState, kind: LinkKind) -> Result<Response, Error> {
    page(state, "password_invalid.html", StatusCode::GONE, Vec::new(), context! { invite => kind == LinkKind::Invite })
}

/// The choose-a-password form of a link.
async fn choose_form(state: &AppState, session: &Session, token: &str, kind: LinkKind) -> Result<Response, Error> {
    let Some(user) = holder(state, token, kind).await? else { return invalid(state, kind) };
    let ctx = choose_ctx(&user, token, kind, "", "");
    page(state, "password_choose.html", StatusCode::OK, take_flashes(session).await, ctx)
}

fn choose_ctx(user: &UserRow, token: &str, kind: LinkKind, field: &str, error: &str) -> Value {
    context! {
        invite => kind == LinkKind::Invite, action => format!("/{}/{token}", kind.path()),
        name => user.name.clone(), email => user.email.clone(), field => field, error => error,
        min_password => super::settings::MIN_PASSWORD_CHARS,
    }
}

#[derive(Debug, Deserialize)]
struct ChooseForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Sets the password through the link, uses it up and signs the user in.
async fn choose(
    state: &AppState,
    session: &Session,
    token: &str,
    kind: LinkKind,
    f: ChooseForm,
) -> Result<Response, Error> {
    let Some(user) = holder(state, token, kind).await? else { return invalid(state, kind) };
    if let Some((field, error)) = password_problem(&f.password, &f.confirm) {
        let field = if field == "new" { "password" } else { field };
        let ctx = choose_ctx(&user, token, kind, field, &error);
        return page(state, "password_choose.html", StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), ctx);
    }
    let hash = hashing::hash(f.password).await?;
    let now = crate::domain::now();
    let redeemed =
        state.db.redeem_user_token(&crate::platform::password::token_hash(token), kind.purpose(), &hash, now).await?;
    let Some(id) = redeemed else { return invalid(state, kind) };
    state.db.end_user_sessions(id, None).await?;
    sign_in(session, id).await?;
    tracing::info!(user = %user.email, purpose = kind.purpose(), "password set through a link");
    let text = match kind {
        LinkKind::Invite => format!("Welcome, {}! Your account is ready.", user.name),
        LinkKind::Reset => "Your password was changed and you are signed in.".to_string(),
    };
    flash(session, "ok", text).await;
    Ok(Redirect::to("/tickets").into_response())
}

async fn invite_form(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    choose_form(&state, &session, &token, LinkKind::Invite).await
}

async fn accept_invite(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
    Form(f): Form<ChooseForm>,
) -> Result<Response, Error> {
    choose(&state, &session, &token, LinkKind::Invite, f).await
}

async fn reset_form(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    choose_form(&state, &session, &token, LinkKind::Reset).await
}

async fn reset(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
    Form(f): Form<ChooseForm>,
) -> Result<Response, Error> {
    choose(&state, &session, &token, LinkKind::Reset, f).await
}

/// Reset links a user may ask for per hour; more requests are answered alike but send nothing.
const RESETS_PER_HOUR: i64 = 3;

/// Requests of the reset form per client address (a burst of 20, then one every 3 seconds).
static FORGOT_PER_IP: LazyLock<Limiter<IpAddr>> = LazyLock::new(|| Limiter::new(per_minute(20)));

async fn forgot_form(State(state): State<AppState>, session: Session) -> Result<Response, Error> {
    let ctx = context! { email => "", error => "" };
    page(&state, "password_forgot.html", StatusCode::OK, take_flashes(&session).await, ctx)
}

#[derive(Debug, Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether or not the address has an account; the mail (if any) is prepared in the background.
async fn forgot(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    Form(f): Form<ForgotForm>,
) -> Result<Response, Error> {
    let email = f.email.trim().to_lowercase();
    let retry = |status: StatusCode, error: &str| {
        page(&state, "password_forgot.html", status, Vec::new(), context! { email => f.email.clone(), error => error })
    };
    if !FORGOT_PER_IP.check(&client) {
        return retry(StatusCode::TOO_MANY_REQUESTS, "Too many requests. Wait a minute and try again.");
    }
    if crate::domain::EmailAddress::parse(&email).is_err() {
        return retry(StatusCode::UNPROCESSABLE_ENTITY, "Enter the e-mail address of your account.");
    }
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset(&background, &email).await {
            tracing::error!(error = %crate::platform::telemetry::chain(&e), "password reset not sent");
        }
    });
    flash(&session, "ok", FORGOT_ANSWER).await;
    Ok(Redirect::to("/login").into_response())
}

/// The one answer to a reset request.
const FORGOT_ANSWER: &str = "If an account exists for that address, we have sent it a link to choose a new password. The link works for one hour.";

async fn send_reset(state: &AppState, email: &str) -> Result<(), Error> {
    let Some(user) = state.db.user_by_email(email).await?.filter(|u| u.active == 1) else { return Ok(()) };
    let since = crate::domain::now() - 3600;
    if state.db.user_tokens_since(user.id, LinkKind::Reset.purpose(), since).await? >= RESETS_PER_HOUR {
        tracing::warn!(user = %user.email, "password reset requested too often; nothing sent");
        return Ok(());
    }
    if let Issued::NotMailed(_) = issue_link(state, &user, LinkKind::Reset).await? {
        tracing::warn!(user = %user.email, "no mailbox can send mail; the password reset link was not mailed");
    }
    Ok(())
}
