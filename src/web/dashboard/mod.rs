//! The dashboard: server-rendered pages for agents and admins (sessions, same-origin checks, strict CSP).

mod admin;
mod attachments;
pub mod auth;
mod canned;
pub mod client_ip;
mod customer_page;
mod due_badge;
mod error_pages;
mod hashing;
mod invites;
pub mod limits;
pub mod list_meta;
mod new_ticket;
pub mod pages;
mod presence;
mod reports;
mod rules;
pub mod session;
mod settings;
mod sidebar_forms;
mod static_files;
mod ticket_forms;
mod ticket_moves;
mod ticket_page;
mod tickets_bulk;
mod tickets_list;
mod users;

pub use auth::{AdminUser, CurrentUser};
pub use limits::Throttle;
pub use pages::{Pages, flash, layout, take_flashes};

use super::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The default Content-Security-Policy of pages: nothing inline, nothing remote.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Every dashboard route, behind sessions and the same-origin check for state-changing requests.
pub fn router(state: &AppState) -> Router<AppState> {
    let secure = state.settings.server.public_url.starts_with("https://");
    let sessions = SessionManagerLayer::new(session::DbSessionStore { db: state.db.clone() })
        .with_name("deskmail_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let pages = Router::new()
        .route("/", get(home))
        .route("/login", get(auth::login_form).post(auth::login).layer(DefaultBodyLimit::max(limits::SMALL_FORM)))
        .route("/logout", post(auth::logout))
        .merge(tickets_list::router())
        .merge(ticket_page::router())
        .merge(ticket_forms::router())
        .merge(ticket_moves::router())
        .merge(attachments::router())
        .merge(sidebar_forms::router())
        .merge(presence::router())
        .merge(admin::router())
        .merge(canned::router())
        .merge(rules::router())
        .merge(reports::router())
        .merge(customer_page::router())
        .merge(settings::router())
        .merge(new_ticket::router())
        .merge(users::router())
        .merge(invites::router())
        .layer(axum::middleware::from_fn(error_pages::html_errors))
        .layer(sessions);
    page_protection(pages, &state.settings.server.public_url).merge(static_files::router())
}

/// The same-origin check of state-changing requests (host, port and scheme) and the security headers of every
/// page: the dashboard's and the customer portal's.
pub fn page_protection(pages: Router<AppState>, public_url: &str) -> Router<AppState> {
    let mut csrf = tower_http::csrf::CsrfLayer::new();
    if let Some(origin) = origin_of(public_url) {
        csrf = csrf.add_trusted_origin(origin).unwrap_or_else(|_| tower_http::csrf::CsrfLayer::new());
    }
    pages
        .layer(csrf)
        .layer(axum::middleware::from_fn_with_state(PublicOrigin::of(public_url), origin_scheme))
        .layer(axum::middleware::from_fn_with_state(Https(public_url.starts_with("https://")), security_headers))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

async fn home(session: tower_sessions::Session) -> Redirect {
    match session.get::<i64>("user_id").await.ok().flatten() {
        Some(_) => Redirect::to("/tickets"),
        None => Redirect::to("/login"),
    }
}

/// Whether the dashboard is served over HTTPS (its public URL says so).
#[derive(Debug, Clone, Copy)]
struct Https(bool);

/// Scheme and authority of the public URL.
#[derive(Debug, Clone)]
struct PublicOrigin {
    scheme: String,
    authority: String,
}

impl PublicOrigin {
    fn of(url: &str) -> Self {
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
        let authority = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
        Self { scheme: scheme.to_ascii_lowercase(), authority }
    }

    /// The scheme a browser's page must have used for a request to this host: the public URL's when the request
    /// names the public host, else plain http (deskmail's own listener, reached directly).
    fn scheme_for(&self, host: &str) -> &str {
        if host.eq_ignore_ascii_case(&self.authority) { &self.scheme } else { "http" }
    }
}

/// Refuses a state-changing request whose `Origin` has another scheme than the page it must come from: the
/// same-origin layer compares only host and port, so an `http://` page of the same host could post to an
/// `https://` dashboard.
async fn origin_scheme(State(public): State<PublicOrigin>, req: Request, next: Next) -> Response {
    let refused = {
        let safe =
            matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
        let header = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        let origin = header(header::ORIGIN).filter(|o| *o != "null");
        let expected = public.scheme_for(header(header::HOST).unwrap_or_default());
        let scheme = origin.and_then(|o| o.split_once("://")).map(|(s, _)| s.to_ascii_lowercase());
        !safe && scheme.is_some_and(|s| s != expected)
    };
    if refused {
        return (axum::http::StatusCode::FORBIDDEN, "Cross-Origin request detected").into_response();
    }
    next.run(req).await
}

/// CSP (unless a page set its own), no framing, no sniffing, no referrer to other sites, nothing kept in caches
/// (pages and downloads hold customer data), and HSTS when the public URL is HTTPS. Static assets are outside.
async fn security_headers(State(Https(https)): State<Https>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await.into_response();
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    resp
}
