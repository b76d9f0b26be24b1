//! Signing in without a password: the address form, the mailed single-use link (30 minutes, stored as its
//! sha256, throttled per address and per client), following it, and signing out.

use super::pages;
use super::session;
use crate::outbound::plain::{PlainDraft, first_sending};
use crate::web::dashboard::client_ip::ClientIp;
use crate::web::{AppState, Error};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

/// How long a sign-in link works.
pub const LINK_MINUTES: i64 = 30;

/// Links mailed to one address per hour; more requests are answered alike but send nothing.
pub const LINKS_PER_HOUR: i64 = 3;

/// Held while a link is counted against the hourly limit and issued.
static ISSUING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The one answer to a sign-in request, whatever became of it.
const SENT: &str = "If we know this address, we have sent it a link to sign in. The link works once, for 30 minutes.";

/// `GET /portal`: the sign-in form, or the ticket list for a signed-in customer.
pub async fn form(State(state): State<AppState>, jar: CookieJar) -> Result<Response, Error> {
    if session::current(&jar, &state).await?.is_some() {
        return Ok(Redirect::to("/portal/tickets").into_response());
    }
    pages::ok(&state, "portal_signin.html", None, context! { email => "", error => "", sent => "" }).await
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
}

/// `POST /portal/login`: the same answer for every well-formed address; the mail (if any) is queued in the
/// background so the answer's timing says nothing either.
pub async fn request(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Form(f): Form<SignInForm>,
) -> Result<Response, Error> {
    let email = f.email.trim().to_lowercase();
    let retry = |status: StatusCode, error: &'static str| {
        let state = state.clone();
        let typed = f.email.clone();
        async move {
            pages::render(
                &state,
                status,
                "portal_signin.html",
                None,
                context! { email => typed, error => error, sent => "" },
            )
            .await
        }
    };
    if !state.throttle.portal_request(client) {
        return retry(StatusCode::TOO_MANY_REQUESTS, "Too many requests. Wait a minute and try again.").await;
    }
    let Ok(address) = crate::domain::EmailAddress::parse(&email) else {
        return retry(StatusCode::UNPROCESSABLE_ENTITY, "Enter your e-mail address, like name@example.com.").await;
    };
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_link(&background, address.as_str()).await {
            tracing::error!(error = %crate::platform::telemetry::chain(&e), "portal sign-in link not sent");
        }
    });
    pages::ok(&state, "portal_signin.html", None, context! { email => "", error => "", sent => SENT }).await
}

/// Mails a new link unless the address is staff or one of ours, or got enough links this hour.
async fn send_link(state: &AppState, email: &str) -> Result<(), Error> {
    if state.db.user_by_email(email).await?.is_some() || is_our_address(state, email).await? {
        tracing::warn!(email, "portal sign-in asked for a staff or mailbox address; nothing sent");
        return Ok(());
    }
    // Counting and issuing one at a time, so a burst of requests cannot slip past the hourly limit together.
    let _turn = ISSUING.lock().await;
    let now = crate::domain::now();
    if state.db.portal_tokens_since(email, now - 3600).await? >= LINKS_PER_HOUR {
        tracing::warn!(email, "portal sign-in asked too often; nothing sent");
        return Ok(());
    }
    let Some(mailbox) = first_sending(state.db.mailboxes().await?) else {
        tracing::warn!(email, "no mailbox can send mail; the portal sign-in link was not sent");
        return Ok(());
    };
    let token = crate::platform::password::random_string(43);
    let hash = crate::platform::password::token_hash(&token);
    state.db.portal_token_create(email, &hash, now, now + LINK_MINUTES * 60).await?;
    let link = format!("{}/portal/login/{token}", state.settings.server.public_url.trim_end_matches('/'));
    let name = state.db.customer_name(email).await?.unwrap_or_default();
    let draft = PlainDraft {
        kind: crate::domain::TemplateKind::PortalLogin,
        mailbox: &mailbox,
        to: (name.clone(), email.to_string()),
        context: json!({ "user": { "name": name, "email": email }, "link": link, "expires_minutes": LINK_MINUTES }),
    };
    let composer = &state.tickets.composer;
    let mut tx = state.db.begin().await?;
    composer.enqueue_plain(&mut tx, draft, now).await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    composer.wake();
    Ok(())
}

async fn is_our_address(state: &AppState, email: &str) -> Result<bool, Error> {
    let ours: Vec<crate::domain::EmailAddress> = crate::db::mailboxes::addresses(state.db.pool())
        .await?
        .iter()
        .filter_map(|a| crate::domain::EmailAddress::parse(a).ok())
        .collect();
    let Ok(address) = crate::domain::EmailAddress::parse(email) else { return Ok(true) };
    Ok(crate::domain::is_ours(&address, &ours))
}

/// `GET /portal/login/{token}`: a valid, unused link signs its address in (once) and opens the ticket list.
pub async fn follow(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let hash = crate::platform::password::token_hash(&token);
    let Some(email) = state.db.portal_token_redeem(&hash, crate::domain::now()).await? else {
        let page = context! { email => "", error => "This sign-in link was used already or has expired. Ask for a new one below.", sent => "" };
        return pages::render(&state, StatusCode::GONE, "portal_signin.html", None, page).await;
    };
    let cookie = session::start(&state, &email).await?;
    tracing::info!(email, "customer signed in to the portal");
    Ok((jar.add(cookie), Redirect::to("/portal/tickets")).into_response())
}

/// `POST /portal/logout`: ends the session and expires its cookie.
pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<Response, Error> {
    let jar = match session::current(&jar, &state).await? {
        Some(c) => jar.add(session::end(&state, &c).await?),
        None => jar,
    };
    let page = context! { email => "", error => "", sent => "", signed_out => true };
    let html = pages::ok(&state, "portal_signin.html", None, page).await?;
    Ok((jar, html).into_response())
}
