//! Application start-up: store, migrations, mailboxes, secret, first admin, HTTP listener and workers; one shutdown path.

use crate::db::Db;
use crate::ingest::{Pipeline, PrepareContext};
use crate::outbound::Composer;
use crate::outbound::compose::LiveTemplates;
use crate::outbound::templates::Templates;
use crate::platform::config::Settings;
use crate::platform::health::Health;
use crate::platform::secretbox::SecretBox;
use crate::platform::storage::BlobStore;
use crate::platform::tokens::Signer;
use crate::tickets::Tickets;
use crate::web::{AppState, router};
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The shared services every part of deskmail uses.
#[derive(Clone)]
pub struct Services {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub blobs: BlobStore,
    pub signer: Signer,
    pub pipeline: Pipeline,
    pub composer: Composer,
    pub tickets: Tickets,
    /// Encrypts mailbox passwords entered in the dashboard.
    pub secrets: SecretBox,
    /// Wakes the webhook sender: notify it after a commit that queued a delivery.
    pub webhooks_wake: Arc<tokio::sync::Notify>,
    /// The mailboxes' live health (pollers, OAuth2 grants).
    pub health: Health,
    /// Access tokens of the mailboxes that sign in with OAuth2.
    pub oauth: crate::net::oauth::OAuthTokens,
}

impl Services {
    /// Connects and migrates the database, provisions config mailboxes, loads the secret.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.storage.dir)
            .with_context(|| format!("cannot create storage dir {}", settings.storage.dir.display()))?;
        let db = Db::connect(&settings.database.url, settings.database.max_connections).await.with_context(|| {
            format!("cannot open database {}", crate::platform::config::redact_url(&settings.database.url))
        })?;
        db.migrate().await.context("cannot migrate the database")?;
        db.provision_mailboxes(&settings.mailboxes).await.context("cannot provision mailboxes")?;
        let blobs = BlobStore::from_settings(&settings.storage).context("cannot open blob storage")?;
        let secret = crate::platform::secret::load_or_create(&settings)?;
        let signer = Signer::new(&secret);
        let secrets = SecretBox::new(&secret);
        let context = PrepareContext {
            max_message_bytes: settings.ingest.max_message_bytes,
            our_addresses: Vec::new(),
            signer: signer.clone(),
            block_list: settings.ingest.block_list.clone(),
            trusted_authserv_ids: settings.security.trusted_authserv_ids.clone(),
            time_budget: std::time::Duration::from_secs(settings.ingest.time_budget_secs),
        };
        let overrides = db.template_overrides().await.context("cannot read the template overrides")?;
        let templates = Templates::load(settings.templates.dir.as_deref(), &overrides)
            .context("cannot load the e-mail templates")?;
        let composer = Composer {
            templates: LiveTemplates::new(templates),
            signer: signer.clone(),
            public_url: settings.server.public_url.clone(),
            wake: Arc::default(),
        };
        let tickets = Tickets {
            db: db.clone(),
            composer: composer.clone(),
            blobs: blobs.clone(),
            ack_limit_per_hour: settings.outbound.ack_limit_per_hour,
            webhooks_wake: Arc::default(),
        };
        let pipeline = Pipeline::new(db.clone(), blobs.clone(), context, tickets.clone())
            .await
            .context("cannot start the ingest pipeline")?;
        let health = Health::default();
        let store: Arc<dyn crate::platform::oauth::GrantStore> = Arc::new(db.clone());
        let oauth = crate::net::oauth::OAuthTokens::new(store, secrets.clone(), health.clone(), settings.oauth.clone())
            .map_err(anyhow::Error::msg)
            .context("cannot start the OAuth2 token provider")?;
        let (settings, webhooks_wake) = (Arc::new(settings), tickets.webhooks_wake.clone());
        Ok(Self { settings, db, blobs, signer, pipeline, composer, tickets, secrets, webhooks_wake, health, oauth })
    }
}

/// The running service: HTTP server plus background workers.
pub struct Application {
    services: Services,
    listener: TcpListener,
    health: Health,
    /// Notified when mailboxes were added or changed in the dashboard: the pollers are reconciled.
    mailboxes_changed: Arc<tokio::sync::Notify>,
}

impl Application {
    /// Starts services and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let services = Services::start(settings).await?;
        let listen = services.settings.server.listen.clone();
        let listener = TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let health = services.health.clone();
        Ok(Self { services, listener, health, mailboxes_changed: Arc::default() })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The mailbox health registry the pollers report to.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Creates the first admin on an empty database; returns `(email, password)` to show once.
    pub async fn ensure_admin(&self) -> anyhow::Result<Option<(String, String)>> {
        if self.services.db.user_count().await? > 0 {
            return Ok(None);
        }
        let email = "admin@localhost".to_string();
        let password = crate::platform::password::random_string(20);
        let hash = {
            let p = password.clone();
            tokio::task::spawn_blocking(move || crate::platform::password::hash(&p)).await?
        };
        match self.services.db.create_user(&email, "Administrator", crate::domain::Role::Admin, &hash).await {
            Ok(_) => Ok(Some((email, password))),
            // Another instance created it first.
            Err(crate::db::DbError::Conflict(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Serves until `shutdown` is cancelled, then stops workers and drains requests.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = AppState {
            db: self.services.db.clone(),
            settings: self.services.settings.clone(),
            blobs: self.services.blobs.clone(),
            health: self.health.clone(),
            metrics: metrics_handle(),
            tickets: self.services.tickets.clone(),
            pages: crate::web::dashboard::Pages::load().context("cannot load the dashboard templates")?,
            throttle: Default::default(),
            pipeline: self.services.pipeline.clone(),
            secrets: self.services.secrets.clone(),
            mailboxes_changed: self.mailboxes_changed.clone(),
            list_meta: Default::default(),
            webhooks_wake: self.services.webhooks_wake.clone(),
            oauth: self.services.oauth.clone(),
        };
        let app = router(state);
        let parts = crate::ingest::imap::SupervisorParts {
            pipeline: self.services.pipeline.clone(),
            db: self.services.db.clone(),
            defaults: self.services.settings.imap.clone(),
            max_message_bytes: self.services.settings.ingest.max_message_bytes,
            secrets: self.services.secrets.clone(),
            oauth: self.services.oauth.clone(),
        };
        let pollers = crate::ingest::imap::Supervisor::new(parts, &self.health, &shutdown);
        let mut workers = vec![tokio::spawn(pollers.run(self.mailboxes_changed.clone()))];
        let sender = crate::outbound::Sender::new(
            self.services.db.clone(),
            self.services.settings.outbound.clone(),
            self.services.composer.wake.clone(),
            self.services.secrets.clone(),
            self.services.oauth.clone(),
        );
        workers.push(tokio::spawn(sender.run(shutdown.clone())));
        workers.push(tokio::spawn(self.services.oauth.clone().run(shutdown.clone())));
        workers.push(tokio::spawn(self.services.db.clone().keep_search_buckets(shutdown.clone())));
        let alerts = crate::outbound::oauth_alerts::OAuthAlerts {
            db: self.services.db.clone(),
            composer: self.services.composer.clone(),
        };
        workers.push(tokio::spawn(alerts.run(shutdown.clone())));
        let webhooks = crate::outbound::webhooks::WebhookSender::new(
            self.services.db.clone(),
            self.services.settings.webhooks,
            self.services.webhooks_wake.clone(),
        )
        .map_err(anyhow::Error::msg)
        .context("cannot start the webhook sender")?;
        workers.push(tokio::spawn(webhooks.run(shutdown.clone())));
        let engine = crate::automation::engine::Engine {
            tickets: self.services.tickets.clone(),
            limits: self.services.settings.rules.into(),
        };
        // Unique per process: two instances on one host must not share a lease.
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        let owner = format!("{host}:{}:{}", std::process::id(), self.port());
        let lease = std::time::Duration::from_secs(self.services.settings.rules.lease_secs.max(1));
        let rules = crate::automation::worker::RulesWorker::new(engine.clone(), &owner, lease);
        workers.push(tokio::spawn(rules.run(shutdown.clone())));
        let sla = crate::automation::sla::worker::SlaWorker::new(self.services.db.clone(), &owner, lease);
        workers.push(tokio::spawn(sla.run(shutdown.clone())));
        let retention = self.services.tickets.clone().run_retention(
            self.services.settings.retention.closed_ticket_days,
            owner.clone(),
            shutdown.clone(),
        );
        workers.push(tokio::spawn(retention));
        let scheduler = crate::automation::schedule::Scheduler { engine, owner };
        workers.push(tokio::spawn(scheduler.run(shutdown.clone())));
        let days = self.services.settings.tickets.auto_close_days;
        workers.push(tokio::spawn(self.services.tickets.clone().run_auto_close(days, shutdown.clone())));
        let (composer, dir) = (self.services.composer.clone(), self.services.settings.templates.dir.clone());
        workers.push(tokio::spawn(crate::outbound::template_watch::run(
            composer,
            self.services.db.clone(),
            dir,
            shutdown.clone(),
        )));
        let stop = shutdown.clone();
        let server = axum::serve(self.listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async move { stop.cancelled().await });
        // Requests still running at shutdown get a few seconds; then the process goes on stopping without them.
        tokio::select! {
            served = server => served.context("HTTP server failed")?,
            _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_REQUESTS_GRACE).await } => {
                tracing::warn!("requests still running at shutdown were cut off");
            }
        }
        shutdown.cancel();
        // Workers stop within their own grace (sends and IMAP sessions: 5 s); one that does not is aborted, so
        // shutdown ends in time whatever a server does.
        let joined = tokio::time::timeout(SHUTDOWN_WORKERS_GRACE, futures::future::join_all(workers.iter_mut())).await;
        if joined.is_err() {
            tracing::warn!("workers still running at shutdown were stopped");
            workers.iter().for_each(|w| w.abort());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.services.db.close()).await;
        Ok(())
    }
}

/// How long HTTP requests may go on after shutdown began.
const SHUTDOWN_REQUESTS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long workers may take to stop after the HTTP server did (they stop in parallel).
const SHUTDOWN_WORKERS_GRACE: std::time::Duration = std::time::Duration::from_secs(7);

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Cancels `token` on SIGINT (Ctrl-C) or SIGTERM: the one shutdown path of web server and workers.
/// The handlers are registered before this returns, so no early signal is missed.
pub fn shutdown_on_signal(token: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::warn!("cannot install signal handlers; stop with SIGKILL");
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
            _ = token.cancelled() => return,
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
