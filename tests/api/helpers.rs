//! Test harness: `spawn_app` on port 0 with a fresh store (SQLite file or PostgreSQL database) per test.

use deskmail::ingest::{Input, Outcome};
use deskmail::platform::config::Settings;
use deskmail::startup::{Application, Services};
use serde_json::Value;
use std::sync::Once;
use tokio_util::sync::CancellationToken;

/// The two stores every store test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
    /// PostgreSQL with the blobs in an S3 bucket (moto, started by scripts/test): how several instances share.
    PostgresS3,
}

/// Under `CI=true` (the same rule as scripts/lib.sh's dm_is_ci) a missing piece fails a test instead of skipping it.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| ["true", "TRUE", "True", "1", "yes"].contains(&v.as_str()))
}

/// An environment variable a test needs; under `CI=true` its absence fails the test, otherwise it skips.
pub fn require_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if is_ci() => panic!("{name} is not set; scripts/test starts the servers and sets it"),
        _ => {
            eprintln!("skipping: {name} is not set (run scripts/test)");
            None
        }
    }
}

pub fn init_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if std::env::var("TEST_LOG").is_ok() {
            deskmail::platform::telemetry::init(deskmail::platform::telemetry::LogFormat::Human);
        }
    });
}

/// A fresh, migrated database of `store` (files in the returned folder), or `None` when PostgreSQL is not available
/// (and not required).
pub async fn migrated_db(store: Store) -> Option<(tempfile::TempDir, deskmail::db::Db)> {
    init_once();
    let dir = tempfile::tempdir().unwrap();
    let db = deskmail::db::Db::connect(&fresh_database(store, dir.path()).await?, 4).await.unwrap();
    db.migrate().await.unwrap();
    Some((dir, db))
}

/// A fresh database URL for `store`, or `None` when PostgreSQL is not available (and not required).
pub async fn fresh_database(store: Store, dir: &std::path::Path) -> Option<String> {
    match store {
        Store::Sqlite => Some(format!("sqlite://{}/deskmail.db?mode=rwc", dir.display())),
        Store::Postgres | Store::PostgresS3 => {
            let admin = require_env("TEST_DATABASE_URL")?;
            let name = format!("dm_test_{}", uuid::Uuid::new_v4().simple());
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to TEST_DATABASE_URL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            Some(format!("{base}/{name}"))
        }
    }
}

/// Points `settings` at a fresh bucket of the S3 test server when `store` keeps its blobs there (`None` when the
/// server is not available and not required).
pub async fn blob_storage(store: Store, settings: &mut Settings) -> Option<()> {
    if store != Store::PostgresS3 {
        return Some(());
    }
    let endpoint = require_env("TEST_S3_ENDPOINT")?;
    let bucket = format!("dm-test-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("S3 test server");
    assert!(created.status().is_success(), "creating bucket {bucket}: {}", created.status());
    settings.storage.url = Some(format!("s3://{bucket}/deskmail"));
    settings.storage.endpoint = Some(endpoint);
    settings.storage.allow_http = true;
    Some(())
}

/// A blob's bytes (on a blocking thread, as the store's calls must run; panics when it is not there).
pub async fn read_blob(blobs: &deskmail::platform::storage::BlobStore, sha256: &str) -> Vec<u8> {
    let (blobs, sha) = (blobs.clone(), sha256.to_string());
    tokio::task::spawn_blocking(move || blobs.get(&sha).unwrap_or_else(|e| panic!("blob {sha}: {e}"))).await.unwrap()
}

/// A running deskmail with a fresh store.
pub struct TestApp {
    pub address: String,
    pub services: Services,
    pub admin_token: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

/// Settings for a test app rooted in `dir`.
pub fn test_settings(dir: &std::path::Path, url: String) -> Settings {
    let mut s = Settings::default();
    s.server.listen = "127.0.0.1:0".into();
    s.database.url = url;
    s.database.max_connections = 4;
    s.storage.dir = dir.join("storage");
    s.security.secret = Some("test-secret-test-secret-test-secret".into());
    s
}

/// Starts deskmail on `store` with a `support@example.test` mailbox; `None` when the store is unavailable.
pub async fn spawn_app(store: Store) -> Option<TestApp> {
    spawn_app_with(store, |_| {}).await
}

/// Like [`spawn_app`], with a hook to adjust settings.
pub async fn spawn_app_with(store: Store, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    start_app(store, adjust, true).await
}

/// Like [`spawn_app`] with nothing running: no server, no workers (tests drive the workers with chosen times).
pub async fn build_app(store: Store) -> Option<TestApp> {
    start_app(store, |_| {}, false).await
}

async fn start_app(store: Store, adjust: impl FnOnce(&mut Settings), run: bool) -> Option<TestApp> {
    init_once();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_database(store, dir.path()).await?;
    let mut settings = test_settings(dir.path(), url);
    settings.mailboxes.push(
        toml::from_str(
            r#"name = "support"
address = "support@example.test"
display_name = "Example Support"
plus_addressing = true"#,
        )
        .unwrap(),
    );
    blob_storage(store, &mut settings).await?;
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("application starts");
    let port = app.port();
    let services = app.services().clone();
    let shutdown = CancellationToken::new();
    let admin =
        services.db.create_user("admin@example.test", "Ada Admin", deskmail::domain::Role::Admin, "x").await.unwrap();
    let admin_token = deskmail::platform::password::new_api_token();
    services.db.create_token(admin, "test", &deskmail::platform::password::token_hash(&admin_token)).await.unwrap();
    if run {
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
    }
    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        services,
        admin_token,
        client: reqwest::Client::new(),
        shutdown,
        _dir: dir,
    })
}

impl TestApp {
    /// Ingests raw messages at a mailbox, as `deskmail ingest` does.
    pub async fn ingest_at(&self, mailbox: &str, raws: &[&[u8]]) -> Vec<Outcome> {
        let mb = self.services.db.mailbox_by_name(mailbox).await.unwrap().expect("mailbox exists");
        let inputs = raws.iter().map(|r| Input { raw: r.to_vec(), source: None }).collect();
        self.services.pipeline.ingest(&mb, inputs, None).await.expect("ingest")
    }

    /// Ingests one message at the `support` mailbox.
    pub async fn ingest(&self, raw: &[u8]) -> Outcome {
        self.ingest_at("support", &[raw]).await.remove(0)
    }

    /// GET with the admin token; returns status and JSON.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, &self.admin_token).await
    }

    /// GET with a given token.
    pub async fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        let resp = self.client.get(format!("{}{path}", self.address)).bearer_auth(token).send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The ticket JSON with this number.
    pub async fn ticket(&self, number: i64) -> Value {
        let (status, body) = self.get(&format!("/api/v1/tickets/{number}")).await;
        assert_eq!(status, 200, "ticket {number}: {body}");
        body
    }

    /// A token for a new user with this role.
    pub async fn token_for(&self, email: &str, role: deskmail::domain::Role) -> String {
        let id = self.services.db.create_user(email, email, role, "x").await.unwrap();
        let token = deskmail::platform::password::new_api_token();
        self.services.db.create_token(id, "t", &deskmail::platform::password::token_hash(&token)).await.unwrap();
        token
    }
}

/// Waits (polling, up to 30 s) until no delivery in the app's outbox is queued or sending: all mail queued so far has
/// been handed to the mail server or has failed for good. One unfiltered `GET /api/v1/outbox` per poll is one
/// snapshot, so a delivery moving between queued and sending cannot slip between two queries.
pub async fn outbox_drained(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = app.get("/api/v1/outbox?per_page=200").await;
        assert_eq!(status, 200, "{body}");
        let all = body["outbox"].as_array().cloned().unwrap_or_default();
        assert!(all.len() < 200, "more deliveries than one page holds");
        let pending: Vec<&Value> = all.iter().filter(|d| d["status"] == "queued" || d["status"] == "sending").collect();
        if pending.is_empty() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not drain in 30 s: {pending:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The kinds of the mail the app has sent to `recipient`, oldest first.
pub async fn sent_to(app: &TestApp, recipient: &str) -> Vec<String> {
    let (status, body) = app.get("/api/v1/outbox?status=sent&per_page=200").await;
    assert_eq!(status, 200, "{body}");
    let sent = body["outbox"].as_array().cloned().unwrap_or_default();
    let to = sent.iter().filter(|d| d["recipient"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(recipient)));
    let mut kinds: Vec<String> = to.filter_map(|d| d["kind"].as_str().map(str::to_owned)).collect();
    kinds.reverse();
    kinds
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A plain customer mail.
pub fn mail(from: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Support <support@example.test>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 01 Sep 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A reply with threading headers.
pub fn reply(from: &str, subject: &str, message_id: &str, in_reply_to: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\nDate: Tue, 01 Sep 2026 11:00:00 +0000\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// One `#[tokio::test]` per listed store, in a module named after the test: `sqlite => Sqlite, …`.
#[macro_export]
macro_rules! store_test_variants {
    ($name:ident: $($variant:ident => $store:ident),+) => {
        mod $name {
            $(
                #[tokio::test]
                async fn $variant() {
                    super::$name($crate::helpers::Store::$store).await
                }
            )+
        }
    };
}

/// Generates one `#[tokio::test]` per store for each listed `async fn name(store: Store)`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        $( $crate::store_test_variants!($name: sqlite => Sqlite, postgres => Postgres); )+
    };
}

/// Like `store_tests!`, plus a third run on PostgreSQL with the blobs in an S3 bucket (`postgres_s3`): for the
/// tests of what is stored as a blob (raw mail, attachments, backups, erasure).
#[macro_export]
macro_rules! blob_store_tests {
    ($($name:ident),+ $(,)?) => {
        $( $crate::store_test_variants!($name: sqlite => Sqlite, postgres => Postgres, postgres_s3 => PostgresS3); )+
    };
}
