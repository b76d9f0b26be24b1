//! Typed settings: defaults, then the TOML file, then `DESKMAIL_SECTION__KEY` environment overrides.

mod load;
mod mailbox;
mod oauth;

pub use load::{ConfigError, load};
pub use mailbox::{
    AfterImport, CHECK_INTERVAL_MS, ImapSettings, ImportExisting, MailboxSettings, PasswordSource, SmtpSettings,
    TlsMode,
};
pub use oauth::{
    Grant, MailboxAuth, OAuthClient, OAuthProviders, OAuthSettings, Provider, ProviderEndpoints, ProviderSettings,
};

use serde::Deserialize;
use std::path::PathBuf;

/// Everything deskmail reads from its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub ingest: IngestSettings,
    pub templates: TemplateSettings,
    pub tickets: TicketSettings,
    pub retention: RetentionSettings,
    pub rules: RuleSettings,
    pub security: SecuritySettings,
    pub outbound: OutboundSettings,
    pub webhooks: WebhookSettings,
    pub imap: ImapDefaults,
    /// `[oauth]`: Google's and Microsoft's endpoints and apps (OAuth2 mailboxes, the Connect buttons).
    pub oauth: OAuthProviders,
    #[serde(rename = "mailbox")]
    pub mailboxes: Vec<MailboxSettings>,
    /// Folder the config file lives in; relative paths were resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            storage: StorageSettings::default(),
            ingest: IngestSettings::default(),
            templates: TemplateSettings::default(),
            tickets: TicketSettings::default(),
            retention: RetentionSettings::default(),
            rules: RuleSettings::default(),
            security: SecuritySettings::default(),
            outbound: OutboundSettings::default(),
            webhooks: WebhookSettings::default(),
            imap: ImapDefaults::default(),
            oauth: OAuthProviders::default(),
            mailboxes: Vec::new(),
            base_dir: PathBuf::from("."),
        }
    }
}

/// `[server]`: where the web server listens and how it is reached from outside.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` names the real client (sign-in throttling is per client address).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[database]`: `sqlite://…` (default) or `postgres://…`.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: "sqlite://data/deskmail.db".into(), max_connections: 8 }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[storage]`: where raw mail and attachments live: the folder `dir`, or the bucket of `url`
/// (`s3://bucket/prefix`, credentials from the `AWS_*` environment); `dir` still holds the generated secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    pub dir: PathBuf,
    /// `s3://bucket/prefix` of an S3-compatible object store; blobs go there instead of `dir`.
    pub url: Option<String>,
    /// The S3 endpoint for non-AWS stores (MinIO, Ceph, R2), e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Allow a plain-HTTP endpoint (a local MinIO).
    pub allow_http: bool,
    /// Each request to the object store.
    pub timeout_secs: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data"),
            url: None,
            endpoint: None,
            region: None,
            allow_http: false,
            timeout_secs: 30,
        }
    }
}

/// `[ingest]`: limits of the inbound pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    pub max_message_bytes: u64,
    /// Messages per database transaction.
    pub batch_size: usize,
    /// Sender addresses (or `@domain`) whose mail is treated as spam.
    pub block_list: Vec<String>,
    /// Seconds one message may take to parse, strip and sanitise; past it, it is quarantined as too complex.
    pub time_budget_secs: u64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self { max_message_bytes: 52_428_800, batch_size: 200, block_list: Vec::new(), time_budget_secs: 10 }
    }
}

/// `[templates]`: an optional folder overriding the built-in templates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateSettings {
    pub dir: Option<PathBuf>,
}

/// `[tickets]`: ticket life-cycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketSettings {
    pub auto_close_days: u32,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self { auto_close_days: 7 }
    }
}

/// `[retention]`: how long ticket content is kept.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// The content of tickets closed longer ago than this is erased (daily); none: kept for ever.
    pub closed_ticket_days: Option<u32>,
}

/// `[rules]`: the bounds on what rules may do.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// Rule-made changes trigger other rules this many links deep, then stop with a warning event.
    pub max_depth: u32,
    /// A rule acting more often than this on one ticket within an hour is switched off.
    pub runs_per_hour: i64,
    /// A time rule acts on at most this many tickets per scheduler run.
    pub schedule_cap: usize,
    /// How long the rules consumer's lease lasts: after a crash, another instance (or the restarted one) takes
    /// the event rules over within this time.
    pub lease_secs: u64,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self { max_depth: 3, runs_per_hour: 20, schedule_cap: 500, lease_secs: 30 }
    }
}

/// `[security]`: the signing secret and trusted authentication results.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub trusted_authserv_ids: Vec<String>,
}

impl std::fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuritySettings")
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("secret_file", &self.secret_file)
            .field("trusted_authserv_ids", &self.trusted_authserv_ids)
            .finish()
    }
}

/// `[outbound]`: retry and rate limits for outgoing mail.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    pub retry_max_hours: u64,
    pub retry_initial_secs: u64,
    pub retry_cap_secs: u64,
    pub ack_limit_per_hour: u32,
    /// How long a claimed delivery stays with one sender: longer than a send may take (90 s, or half the lease).
    pub lease_secs: u64,
    /// A delivery waiting longer than this marks the outbox as stalled in `/healthz` (status `degraded`).
    pub stalled_after_secs: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            retry_max_hours: 72,
            retry_initial_secs: 60,
            retry_cap_secs: 6 * 3600,
            ack_limit_per_hour: 3,
            lease_secs: 180,
            stalled_after_secs: 900,
        }
    }
}

/// `[webhooks]`: how rule webhooks are posted and retried.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// One request, from connecting to the end of the response (the connection alone gets at most half).
    pub timeout_secs: u64,
    /// Attempts before a delivery fails for good (30 s, 2 min, 10 min, 1 h, then every 6 h between them).
    pub max_attempts: u32,
    /// Deliveries in flight at once: a slow endpoint holds only one of them.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { timeout_secs: 10, max_attempts: 10, concurrency: 4 }
    }
}

/// `[imap]`: defaults shared by every mailbox poller.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapDefaults {
    /// Upper bound of the exponential backoff after failures.
    pub backoff_cap_secs: u64,
    /// Messages fetched and committed per batch, at most (a sync starts at 50 and doubles up to it).
    pub fetch_batch: u32,
    /// Timeout of one IMAP command.
    pub command_timeout_secs: u64,
    /// How long a mailbox lease lasts without renewal.
    pub lease_secs: u64,
}

impl Default for ImapDefaults {
    fn default() -> Self {
        Self { backoff_cap_secs: 300, fetch_batch: 500, command_timeout_secs: 45, lease_secs: 60 }
    }
}

/// A URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split(':').next().unwrap_or("");
    format!("{scheme}://{user}:[redacted]@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/deskmail.example.toml");
        let s = super::load::load_with_env(Some(&path), &Default::default()).unwrap();
        assert_eq!(s.ingest.max_message_bytes, 52_428_800);
        // The commented example mailbox is valid too, once uncommented.
        let text = std::fs::read_to_string(&path).unwrap();
        let example = &text[text.find("# [[mailbox]]").unwrap()..];
        let uncommented: String = example.lines().map(|l| format!("{}\n", l.trim_start_matches("# "))).collect();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.toml");
        std::fs::write(&file, uncommented).unwrap();
        let s = super::load::load_with_env(Some(&file), &Default::default()).unwrap();
        assert_eq!(s.mailboxes[0].smtp.as_ref().unwrap().pool_size, 8);
    }

    #[test]
    fn misspelt_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.toml");
        std::fs::write(&file, "[ingest]\nmax_mesage_bytes = 5\n").unwrap();
        let err = super::load::load_with_env(Some(&file), &Default::default()).unwrap_err().to_string();
        assert!(err.contains("max_mesage_bytes"), "{err}");
    }

    #[test]
    fn urls_lose_their_password_in_logs() {
        assert_eq!(redact_url("postgres://dm:s3cret@db:5432/x"), "postgres://dm:[redacted]@db:5432/x");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let s = SecuritySettings { secret: Some("topsecret".into()), ..Default::default() };
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
