//! The customer portal (`/portal`): customers sign in with a single-use link by mail, list, read and answer their
//! tickets, open new ones and rate a resolution; a signed link in their mail opens one ticket without signing in.
//! Server-rendered without JavaScript, its own session cookie (never a staff session), and the dashboard's CSP and
//! same-origin checks. Answers and new tickets are built as the customer's mail and ingested like any other mail.

mod access;
mod errors;
pub mod look;
mod pages;
mod session;
mod signin;
mod submit;
mod upload;
mod view;
mod write;

pub use look::{COLOR_KEY, LOGO_KEY, TITLE_KEY};
pub use session::COOKIE;

use crate::web::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// Every portal route, behind the portal switch, the same-origin check and the security headers.
pub fn router(state: &AppState) -> Router<AppState> {
    let signin = Router::new()
        .route("/portal", get(signin::form))
        .route("/portal/login", post(signin::request))
        .route("/portal/login/{token}", get(signin::follow))
        .route("/portal/logout", post(signin::logout))
        .layer(DefaultBodyLimit::max(crate::web::dashboard::limits::SMALL_FORM));
    let tickets = Router::new()
        .route("/portal/tickets", get(view::list).post(write::open))
        .route("/portal/tickets/new", get(view::new_form))
        .route("/portal/tickets/{n}", get(view::ticket))
        .route("/portal/tickets/{n}/replies", post(write::reply))
        .route("/portal/tickets/{n}/solved", post(write::solved))
        .route("/portal/tickets/{n}/rating", post(write::rate))
        .route("/portal/tickets/{n}/attachments/{id}", get(view::attachment))
        .route("/portal/t/{n}/{token}", get(view::ticket))
        .route("/portal/t/{n}/{token}/replies", post(write::reply))
        .route("/portal/t/{n}/{token}/solved", post(write::solved))
        .route("/portal/t/{n}/{token}/rating", post(write::rate))
        .route("/portal/t/{n}/{token}/attachments/{id}", get(view::attachment))
        // Above the file limits, so that files over them are answered beside the field with the text kept.
        .layer(DefaultBodyLimit::max(upload::MAX_REQUEST_BYTES));
    let pages = signin
        .merge(tickets)
        .layer(from_fn(errors::portal_errors))
        .layer(from_fn_with_state(state.clone(), portal_switch));
    crate::web::dashboard::page_protection(pages, &state.settings.server.public_url)
        .merge(Router::new().route("/portal/theme.css", get(look::theme)).route("/portal/logo", get(look::logo)))
}

/// Answers every portal page with "the portal is off" while an admin has turned it off.
async fn portal_switch(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match look::portal_on(&state).await {
        Ok(true) => next.run(req).await,
        Ok(false) => errors::page(
            axum::http::StatusCode::NOT_FOUND,
            "The support portal is not available. Write to us by e-mail instead.",
        ),
        Err(e) => e.into_response(),
    }
}
