//! Servers that accept and never answer (tarpits): sends and syncs time out and retry, the other mailboxes go on,
//! `/healthz` shows the outbox that does not move, and SIGTERM still stops deskmail within 15 seconds.

use crate::helpers::{Store, spawn_app_with};
use crate::mailenv::{MailEnv, test_mail, wait_for, wait_inbox};
use crate::store_tests;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

store_tests!(a_silent_smtp_server_times_out_and_retries_while_the_other_mailbox_keeps_sending);

/// A TCP server that accepts every connection and never sends or reads a byte; returns its port.
fn tarpit() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

fn silent_smtp(port: u16, timeout_secs: u64) -> deskmail::platform::config::SmtpSettings {
    toml::from_str(&format!("host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = {timeout_secs}"))
        .unwrap()
}

async fn a_silent_smtp_server_times_out_and_retries_while_the_other_mailbox_keeps_sending(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let (stuck_addr, out_addr) = (env.address("stuck"), env.address("works"));
    let mut stuck = env.sending_mailbox("stuck", &stuck_addr);
    stuck.smtp = Some(silent_smtp(tarpit(), 1));
    let works = env.sending_mailbox("works", &out_addr);
    let Some(app) = spawn_app_with(store, move |s| {
        s.mailboxes.extend([stuck, works]);
        s.outbound.retry_initial_secs = 1;
        s.outbound.retry_cap_secs = 1;
        s.outbound.stalled_after_secs = 2;
    })
    .await
    else {
        return;
    };
    let (waiting, served) = (env.address("waiting"), env.address("served"));
    // The stuck mailbox's mail is queued first: it must not hold up the other's.
    for i in 0..3 {
        app.ingest_at("stuck", &[&test_mail(&waiting, &stuck_addr, &format!("stuck {i}"))]).await;
    }
    app.ingest_at("works", &[&test_mail(&served, &out_addr, "works")]).await;
    assert_eq!(wait_inbox(&env, &served, 1, 20).await.len(), 1, "the working mailbox's acknowledgement arrived");
    let retried = wait_for(20, || async {
        let (_, o) = app.get("/api/v1/outbox?status=queued").await;
        let mine: Vec<Value> =
            o["outbox"].as_array()?.iter().filter(|d| d["recipient"] == waiting.as_str()).cloned().collect();
        mine.iter().any(|d| d["attempts"].as_i64() >= Some(2)).then_some(mine)
    })
    .await
    .expect("the stuck deliveries time out and are retried");
    let error = retried.iter().find_map(|d| d["error"].as_str()).unwrap_or_default().to_string();
    assert!(error.contains("no answer"), "the timeout is the recorded error: {error}");
    let health = wait_for(20, || async {
        let (_, h) = app.get("/healthz").await;
        (h["status"] == "degraded" && h["outbox"]["state"] == "stalled").then_some(h)
    })
    .await
    .expect("/healthz reports the outbox that does not move");
    let entry = health["outbox"]["mailboxes"].as_array().unwrap().iter().find(|m| m["name"] == "stuck").cloned();
    let entry = entry.expect("the stuck mailbox is listed");
    assert!(
        entry["queued"].as_i64() >= Some(3) && entry["last_error"].as_str().is_some_and(|e| e.contains("no answer"))
    );
    assert!(health["outbox"]["oldest_queued_secs"].as_i64() >= Some(2));
}

#[tokio::test]
async fn a_silent_imap_server_times_out_while_the_other_mailbox_keeps_importing() {
    let Some(env) = MailEnv::shared() else { return };
    let good = env.address("imapgood");
    let mut silent = env.mailbox("silent", "silent@example.test", |_| {});
    if let Some(imap) = silent.imap.as_mut() {
        imap.port = tarpit();
        imap.tls = deskmail::platform::config::TlsMode::None;
    }
    let working = env.mailbox("working", &good, |i| i.poll_interval_secs = 1);
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.mailboxes.extend([silent, working]);
        s.imap.command_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let health = wait_for(20, || async {
        let (_, h) = app.get("/healthz").await;
        let m = h["mailboxes"].as_array()?.iter().find(|m| m["name"] == "silent")?.clone();
        m["error"].as_str().is_some_and(|e| e.contains("timed out during greeting")).then_some(m)
    })
    .await
    .expect("the silent server's sync times out at the greeting");
    assert!(matches!(health["state"].as_str(), Some("backing_off" | "failing")), "{health}");
    env.send(&env.address("c"), &[&good], &test_mail("c@customer.example", &good, "still imported")).await;
    let imported = wait_for(30, || async {
        let (_, t) = app.get("/api/v1/tickets?mailbox=working").await;
        (t["total"].as_i64() >= Some(1)).then_some(())
    })
    .await;
    assert!(imported.is_some(), "the working mailbox imports meanwhile");
}

#[tokio::test]
async fn sigterm_stops_deskmail_within_15_seconds_while_servers_never_answer() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (smtp, imap) = (tarpit(), tarpit());
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[security]\nsecret = \"tarpit-test-secret-tarpit-test\"\n\
             [imap]\ncommand_timeout_secs = 300\n\
             [[mailbox]]\nname = \"stuck\"\naddress = \"stuck@example.test\"\n\
             imap = {{ host = \"127.0.0.1\", port = {imap}, tls = \"none\", username = \"u\", password = \"p\" }}\n\
             smtp = {{ host = \"127.0.0.1\", port = {smtp}, tls = \"none\", timeout_secs = 300 }}\n"
        ),
    )
    .unwrap();
    let mail = dir.path().join("m.eml");
    std::fs::write(&mail, test_mail("c@customer.example", "stuck@example.test", "needs an ack")).unwrap();
    let ingest = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "ingest", "--mailbox", "stuck", mail.to_str().unwrap()])
        .env("DESKMAIL_LOG", "warn")
        .status()
        .unwrap();
    assert!(ingest.success());
    let mut serve = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("DESKMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("data/deskmail.db");
    let sending =
        wait_for(30, || async { (delivery_status(&db).await.as_deref() == Some("sending")).then_some(()) }).await;
    assert!(sending.is_some(), "the acknowledgement's send is under way (and stuck)");
    let started = Instant::now();
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    let exited = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(20) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    if exited.is_none() {
        let _ = serve.kill();
    }
    assert!(exited.is_some_and(|s| s.success()) && took < Duration::from_secs(15), "exit took {took:?}: {exited:?}");
    assert_eq!(delivery_status(&db).await.as_deref(), Some("queued"), "the stuck send was given back to the queue");
}

/// The status of the (only) delivery, read from the SQLite file of a running or stopped instance.
async fn delivery_status(db: &std::path::Path) -> Option<String> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await.ok()?;
    sqlx::query_scalar("select status from deliveries order by id limit 1").fetch_optional(&mut conn).await.ok()?
}
