//! The JSON API under `/api/v1`, authenticated by bearer tokens.

mod attachments;
mod auth;
mod body;
mod catalog;
mod customers;
mod json_errors;
mod outbox;
mod quarantine;
mod reports;
pub mod rules;
pub mod sla;
pub mod teams;
mod ticket_moves;
pub mod ticket_types;
mod tickets;
pub mod webhooks;
mod writes;

pub use attachments::download_headers;
pub use auth::ApiUser;
pub use catalog::link_json;
pub use tickets::{delivery_json, message_json, sla_by_ticket, sla_json, ticket_json, ticket_json_read};

use super::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(tickets::router())
        .merge(writes::router())
        .merge(ticket_moves::router())
        .merge(attachments::router())
        .merge(quarantine::router())
        .merge(outbox::router())
        .merge(catalog::router())
        .merge(customers::router())
        .merge(teams::router())
        .merge(ticket_types::router())
        .merge(sla::router())
        .merge(webhooks::router())
        .merge(rules::router())
        .merge(reports::router())
        .fallback(json_errors::no_such_endpoint)
        .layer(axum::middleware::map_response(json_errors::json_errors))
}
