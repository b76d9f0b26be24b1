//! HTTP: the shared `AppState`, `router()`, the error type, health and metrics, the staff dashboard (`dashboard/`) and
//! the customer portal (`portal/`), the JSON API (`api/`); every change to a ticket goes through `tickets`.

pub mod api;
pub mod customers;
pub mod dashboard;
mod error;
pub mod portal;
pub mod rights;
mod status;

pub use error::{Error, Result};

use crate::db::Db;
use crate::platform::config::Settings;
use crate::platform::health::Health;
use crate::platform::storage::BlobStore;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub blobs: BlobStore,
    pub health: Health,
    pub metrics: PrometheusHandle,
    pub tickets: crate::tickets::Tickets,
    pub pages: dashboard::Pages,
    pub throttle: dashboard::Throttle,
    /// The ingest pipeline (quarantine retry; our-addresses refresh after mailbox changes).
    pub pipeline: crate::ingest::Pipeline,
    /// Encrypts mailbox passwords entered in the dashboard.
    pub secrets: crate::platform::secretbox::SecretBox,
    /// Notified after mailboxes change in the dashboard, so the pollers are reconciled without a restart.
    pub mailboxes_changed: Arc<tokio::sync::Notify>,
    /// The list page's agents, mailboxes and tags, reused for a few seconds.
    pub list_meta: dashboard::list_meta::MetaCache,
    /// Wakes the webhook sender (after an admin's retry).
    pub webhooks_wake: Arc<tokio::sync::Notify>,
    /// Access tokens of OAuth2 mailboxes (connection tests, the Connect flow).
    pub oauth: crate::net::oauth::OAuthTokens,
}

/// Reads a stored file (raw mail, attachment) off the async threads; a missing one is an internal error naming `what`.
pub async fn read_blob(blobs: &BlobStore, sha256: &str, what: &'static str) -> Result<Vec<u8>> {
    let (blobs, sha) = (blobs.clone(), sha256.to_string());
    tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context(what)))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(status::router())
        .merge(dashboard::router(&state))
        .merge(portal::router(&state))
        .nest("/api/v1", api::router())
        .layer(TraceLayer::new_for_http())
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}
