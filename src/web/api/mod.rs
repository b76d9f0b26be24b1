//! The JSON API under `/api/v1`, authenticated by bearer tokens.

mod attachments;
mod auth;
mod quarantine;
mod tickets;

pub use auth::ApiUser;

use super::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().merge(tickets::router()).merge(attachments::router()).merge(quarantine::router())
}
