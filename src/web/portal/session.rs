//! Portal sessions: a random cookie value (`deskmail_portal`), stored as its sha256, ending on sign-out and after
//! 30 days without a visit. Separate from staff sessions in name, store and rights.

use crate::web::{AppState, Error};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

/// The portal session cookie.
pub const COOKIE: &str = "deskmail_portal";

/// A session ends after this long without a visit.
pub const IDLE_SECS: i64 = 30 * 86_400;

/// Activity is written at most this often (a visit does not write every time).
const TOUCH_EVERY_SECS: i64 = 3600;

/// The signed-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Lower-cased address.
    pub email: String,
    /// The sha256 of the cookie value (the session's key).
    pub id_hash: String,
}

/// Not signed in: pages redirect to the sign-in form.
pub enum NoSession {
    SignIn,
    Error(Error),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::SignIn => Redirect::to("/portal").into_response(),
            NoSession::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Customer {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        current(&CookieJar::from_headers(&parts.headers), state)
            .await
            .map_err(NoSession::Error)?
            .ok_or(NoSession::SignIn)
    }
}

/// The customer of the session cookie in `jar`, if it names a live session (whose activity it records).
pub async fn current(jar: &CookieJar, state: &AppState) -> Result<Option<Customer>, Error> {
    let Some(value) = jar.get(COOKIE).map(|c| c.value().to_string()) else { return Ok(None) };
    if value.len() != 43 {
        return Ok(None);
    }
    let id_hash = crate::platform::password::token_hash(&value);
    let now = crate::domain::now();
    let Some((email, seen_at)) = state.db.portal_session(&id_hash, now - IDLE_SECS).await? else { return Ok(None) };
    if now - seen_at > TOUCH_EVERY_SECS {
        state.db.portal_session_touch(&id_hash, now).await?;
    }
    Ok(Some(Customer { email, id_hash }))
}

/// Starts a session for `email`; the cookie to set.
pub async fn start(state: &AppState, email: &str) -> Result<Cookie<'static>, Error> {
    let value = crate::platform::password::random_string(43);
    state.db.portal_session_create(&crate::platform::password::token_hash(&value), email, crate::domain::now()).await?;
    Ok(cookie(state, value, time::Duration::seconds(IDLE_SECS)))
}

/// Ends the session of `customer`; the cookie that expires it in the browser.
pub async fn end(state: &AppState, customer: &Customer) -> Result<Cookie<'static>, Error> {
    state.db.portal_session_delete(&customer.id_hash, crate::domain::now() - IDLE_SECS).await?;
    Ok(cookie(state, String::new(), time::Duration::ZERO))
}

fn cookie(state: &AppState, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path("/portal")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.server.public_url.starts_with("https://"))
        .max_age(max_age)
        .build()
}
