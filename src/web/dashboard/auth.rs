//! Dashboard sign-in: login/logout, the signed-in user extractors (agent, admin), login throttling, safe redirects.

use super::client_ip::ClientIp;
use super::limits::Attempt;
use super::pages::{layout, take_flashes};
use crate::db::UserRow;
use crate::web::{AppState, Error};
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use tower_sessions::Session;

pub(super) const USER_KEY: &str = "user_id";

/// The signed-in staff user; pages redirect to `/login` without one.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub UserRow);

/// A signed-in admin; agents get 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub UserRow);

/// Why a page needs a sign-in (a redirect) or is forbidden.
pub enum AuthRejection {
    Login(String),
    Forbidden,
    Error(Error),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Login(next) => Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response(),
            AuthRejection::Forbidden => {
                (axum::http::StatusCode::FORBIDDEN, axum::response::Html(FORBIDDEN)).into_response()
            }
            AuthRejection::Error(e) => e.into_response(),
        }
    }
}

const FORBIDDEN: &str = "<!doctype html><meta charset=utf-8><title>Forbidden</title><link rel=stylesheet href=/static/app.css>\
<main class=narrow><h1>403 — not for your role</h1><p>This page is for administrators. <a href=\"/tickets\">Back to the tickets</a></p></main>";

/// Percent-encodes everything but letters, digits and `/-_.~` (a path or query value).
pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let session =
            Session::from_request_parts(parts, state).await.map_err(|_| AuthRejection::Login(next.clone()))?;
        let Some(id) = session.get::<i64>(USER_KEY).await.ok().flatten() else {
            return Err(AuthRejection::Login(next));
        };
        match state.db.user(id).await {
            Ok(u) if u.active == 1 => {
                crate::web::rights::check_path(state, &u, parts.uri.path()).await.map_err(AuthRejection::Error)?;
                Ok(CurrentUser(u))
            }
            Ok(_) | Err(crate::db::DbError::NotFound) => {
                let _ = session.flush().await;
                Err(AuthRejection::Login(next))
            }
            Err(e) => Err(AuthRejection::Error(e.into())),
        }
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentUser(u) = CurrentUser::from_request_parts(parts, state).await?;
        if u.is_admin() { Ok(AdminUser(u)) } else { Err(AuthRejection::Forbidden) }
    }
}

/// Where to go after login: only a local path, else the ticket list.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n)).unwrap_or("/tickets").to_string()
}

/// Whether `next` is a path on this site that a browser cannot read as another host: printable ASCII only
/// (browsers drop tabs and newlines, so `/\t/evil` becomes `//evil`), no backslash (read as `/`), no `//host`,
/// no scheme, no encoded slashes in the path, and not the login page itself.
fn is_local_path(next: &str) -> bool {
    if !next.starts_with('/') || next.starts_with("//") || !next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        return false;
    }
    let Ok(uri) = next.parse::<axum::http::Uri>() else { return false };
    let path = uri.path().to_ascii_lowercase();
    uri.scheme().is_none()
        && uri.authority().is_none()
        && !path.contains("%2f")
        && !path.contains("%5c")
        && !path.starts_with("/login")
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// A cookie of its own (not the session's, which signing out ends) that lets the sign-in page say "Signed out.".
const SIGNED_OUT: &str = "deskmail_signed_out";

pub async fn login_form(
    State(state): State<AppState>,
    session: Session,
    jar: axum_extra::extract::CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response, Error> {
    if session.get::<i64>(USER_KEY).await.ok().flatten().is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let page = context! { next => safe_next(q.next.as_deref()), email => "", error => () };
    let mut flashes = take_flashes(&session).await;
    let signed_out = jar.get(SIGNED_OUT).is_some();
    if signed_out {
        flashes.push(crate::web::dashboard::pages::Flash { kind: "ok".into(), text: "Signed out.".into() });
    }
    let html = state.pages.render("login.html", layout(None, flashes, "login", page))?;
    let jar = if signed_out { jar.remove(signed_out_cookie("")) } else { jar };
    Ok((jar, html).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, Error> {
    let email = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref());
    let retry = |error: &str| {
        let page = context! { next => next.clone(), email => form.email.clone(), error => error };
        state
            .pages
            .render("login.html", layout(None, Vec::new(), "login", page))
            .map(|h| (axum::http::StatusCode::UNPROCESSABLE_ENTITY, h).into_response())
    };
    match state.throttle.sign_in(&email, client) {
        Attempt::Allowed => {}
        Attempt::Impossible => return retry(WRONG),
        Attempt::Throttled => {
            tracing::warn!(ip = %client, "login throttled");
            let page = context! { next => next.clone(), email => form.email.clone(), error => TOO_MANY };
            let html = state.pages.render("login.html", layout(None, Vec::new(), "login", page))?;
            return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, html).into_response());
        }
    }
    let user = state.db.user_by_email(&email).await?.filter(|u| u.active == 1);
    // Verified even for unknown users, so timing does not tell which addresses exist.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = super::hashing::verify(form.password.clone(), hash).await?;
    match user.filter(|_| ok) {
        Some(u) => {
            session.cycle_id().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
            session.insert(USER_KEY, u.id).await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
            tracing::info!(user = %u.email, "signed in");
            Ok(Redirect::to(&next).into_response())
        }
        None => retry(WRONG),
    }
}

/// The one answer to a failed sign-in, whatever failed.
const WRONG: &str = "Wrong e-mail address or password.";

/// The answer while sign-ins are throttled.
pub const TOO_MANY: &str = "Too many attempts. Wait a minute and try again.";

/// Ends the session (deleted in the store, its cookie expired); the sign-in page says so without a new session.
pub async fn logout(session: Session, jar: axum_extra::extract::CookieJar) -> Result<Response, Error> {
    session.flush().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    Ok((jar.add(signed_out_cookie("1")), Redirect::to("/login")).into_response())
}

fn signed_out_cookie(value: &str) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SIGNED_OUT, value.to_string()))
        .path("/login")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .max_age(time::Duration::minutes(1))
        .build()
}

/// Signs a user in on this session (after accepting an invitation or resetting a password).
pub async fn sign_in(session: &Session, user_id: i64) -> Result<(), Error> {
    session.cycle_id().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    session.insert(USER_KEY, user_id).await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        for good in ["/tickets/1042?x=1", "/tickets?status=all&q=a%20b", "/admin/users", "/settings#signature"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        let bad = [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "/\\\\evil.example",
            "javascript:alert(1)",
            "/login?next=/x",
            "/login?next=//evil.example",
            "",
            "tickets",
            "/\t/evil.example",
            "/\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/ /evil.example",
            "/\r\n/evil.example",
            "/\u{7f}/evil.example",
            "/\u{3000}/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5C%5Cevil.example",
            "/tickets\u{0}",
        ];
        for bad in bad {
            assert_eq!(safe_next(Some(bad)), "/tickets", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/tickets");
    }
}
