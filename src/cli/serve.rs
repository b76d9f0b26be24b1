//! `deskmail serve` and `deskmail migrate`.

use super::exit;
use crate::platform::config::Settings;
use crate::platform::memory;
use crate::startup::{Application, Services, shutdown_on_signal};
use anyhow::Context;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn serve(settings: Settings) -> anyhow::Result<i32> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), commit = env!("DESKMAIL_COMMIT"), config = ?settings, "starting");
    if settings.security.trusted_authserv_ids.is_empty() {
        // Agent mail then rests on the signed reply address and a From header alone: worth a warning once mail
        // flows (mailboxes in the config), a hint on a fresh start.
        let hint = "security.trusted_authserv_ids is empty: DKIM/DMARC results of agent mail are not checked; \
                    set it to the authserv-id your mail server writes into Authentication-Results";
        if settings.mailboxes.is_empty() {
            tracing::info!("{hint}");
        } else {
            tracing::warn!("{hint}");
        }
    }
    let public_url = settings.server.public_url.clone();
    let polled = settings.mailboxes.iter().filter(|m| m.enabled && m.imap.is_some()).count();
    let shutdown = CancellationToken::new();
    shutdown_on_signal(shutdown.clone());
    let app = Application::build(settings).await?;
    if let Some((email, password)) = app.ensure_admin().await? {
        println!(
            "\n  First start: created the admin account\n    login:    {email}\n    password: {password}\n  (shown once; change it under /settings)\n"
        );
    }
    println!("deskmail is running: {public_url}  (listening on port {})", app.port());
    // Most of an idle serve's RSS was start-up code's pages; unmap them once the pollers have synced.
    tokio::spawn(memory::release_after_first_sync(app.health().clone(), polled, Duration::from_secs(60)));
    app.run_until_stopped(shutdown).await?;
    tracing::info!("stopped");
    Ok(exit::OK)
}

pub async fn migrate(settings: Settings) -> anyhow::Result<i32> {
    let services = Services::start(settings).await?;
    // After an upgrade or a bulk load, PostgreSQL's search index has ranges of older mail to build: here rather
    // than in the background of `serve`, where searches over them read by the primary key meanwhile.
    let built = services.db.ensure_search_buckets().await.context(
        "migrated, but building the search index's ranges failed (run `deskmail migrate` again; `serve` also retries)",
    )?;
    if !built.is_empty() {
        println!("search index: {} ranges of message ids built", built.len());
    }
    println!("database is up to date");
    Ok(exit::OK)
}

pub async fn reindex(settings: Settings) -> anyhow::Result<i32> {
    let services = Services::start(settings).await?;
    let n = services.db.rebuild_search_index().await?;
    println!("search index rebuilt: {n} messages");
    Ok(exit::OK)
}
