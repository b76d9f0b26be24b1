//! Outbound faults: an SMTP outage (replies wait and arrive once) and a SIGKILL during a batch of 200 replies.

use crate::helpers::{Store, outbox_drained};
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for, wait_inbox};
use crate::outbound::{post, sending_app};
use deskmail::ingest::parse::parse;
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

#[tokio::test]
async fn replies_wait_out_an_smtp_outage_and_arrive_exactly_once() {
    let Some(env) = MailEnv::private() else { return };
    let Some((app, support)) = sending_app(Store::Sqlite, &env, |_| {}).await else { return };
    let customer = env.address("patient");
    let raw = format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: outage\r\nMessage-ID: <o-{}@c.example>\r\n\r\nhi\r\n",
        uuid::Uuid::new_v4().simple()
    );
    let number = app.ingest_at("out", &[raw.as_bytes()]).await.remove(0).ticket.unwrap();
    assert_eq!(wait_inbox(&env, &customer, 1, 30).await.len(), 1, "acknowledgement before the outage");
    env.control("stop-smtp");
    for i in 0..5 {
        let (status, body) =
            post(&app, &format!("/api/v1/tickets/{number}/replies"), json!({ "body": format!("reply {i}") })).await;
        assert_eq!(status, 201, "{body}");
    }
    let deferred = wait_for(15, || async {
        let (_, o) = app.get("/api/v1/outbox?status=queued").await;
        let list = o["outbox"].as_array()?.clone();
        (list.len() == 5 && list.iter().all(|d| d["attempts"].as_i64() >= Some(1))).then_some(list)
    })
    .await
    .expect("replies stay queued and are retried while SMTP is down");
    assert!(deferred[0]["error"].as_str().unwrap().len() > 5, "the connection error is recorded");
    env.control("start-smtp");
    wait_inbox(&env, &customer, 6, 30).await;
    outbox_drained(&app).await;
    // A marker sent now arrives after anything deskmail handed to Postfix before it, a second copy included.
    let inbox = inbox_after_marker(&env, &customer).await;
    let replies = inbox.iter().filter(|r| parse(r).is_some_and(|m| !m.classification.auto_reply)).count();
    assert_eq!(replies, 5, "each reply delivered exactly once after the outage");
}

fn serve(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("DESKMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn cli(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("DESKMAIL_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Sessions of the crash test's mailbox: the mails in flight at once.
const POOL: usize = 4;

async fn sent_replies(db: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await else {
        return 0;
    };
    sqlx::query_scalar("select count(*) from deliveries d join outbound_mails o on o.id = d.outbound_id where o.kind = 'agent_reply' and d.status = 'sent'")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0)
}

#[tokio::test]
async fn sigkill_during_200_replies_loses_none_and_doubles_at_most_the_mails_in_flight() {
    let Some(env) = MailEnv::shared() else { return };
    let (support, customer) = (env.address("crashout"), env.address("crashcust"));
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("deskmail.toml");
    // The replies are posted while SMTP cannot be reached (they wait, queued), so that sending them is one batch
    // under way when the kill lands, however fast the sender keeps up with the posts.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let write_config = |smtp_port: u16| {
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:{port}\"\n[outbound]\nlease_secs = 2\nretry_initial_secs = 1\nretry_cap_secs = 1\n\
                 [security]\nsecret = \"crash-out-secret-crash-out-secret\"\n\
                 [[mailbox]]\nname = \"out\"\naddress = \"{support}\"\n\
                 smtp = {{ host = \"{}\", port = {smtp_port}, tls = \"starttls\", username = \"{support}\", password = \"{}\", ca_file = \"{}\", pool_size = {POOL} }}\n",
                env.host,
                env.password,
                env.ca_cert.display()
            ),
        )
        .unwrap()
    };
    write_config(closed);
    cli(&config, &["user", "add", "--email", "ana@example.test", "--name", "Ana", "--role", "agent"]);
    let token = cli(&config, &["token", "create", "--user", "ana@example.test", "--name", "t"]).trim().to_string();
    let mail = dir.path().join("m.eml");
    std::fs::write(
        &mail,
        format!(
            "From: {customer}\r\nTo: {support}\r\nSubject: many replies\r\nAuto-Submitted: auto-generated\r\n\r\nx\r\n"
        ),
    )
    .unwrap();
    let number: i64 = serde_json::from_str::<serde_json::Value>(&cli(
        &config,
        &["ingest", "--mailbox", "out", "--json", mail.to_str().unwrap()],
    ))
    .unwrap()["ticket"]
        .as_i64()
        .unwrap();
    let db = dir.path().join("data/deskmail.db");
    let mut first = serve(&config);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_for(20, || async { client.get(format!("{base}/healthz")).send().await.ok().map(|_| ()) }).await.is_some()
    );
    for i in 0..200 {
        let resp = client
            .post(format!("{base}/api/v1/tickets/{number}/replies"))
            .bearer_auth(&token)
            .json(&json!({ "body": format!("reply number {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(sent_replies(&db).await, 0, "nothing could be sent yet");
    write_config(env.submission_port);
    let mut first = serve(&config);
    assert!(
        wait_for(60, || async { (sent_replies(&db).await >= 40).then_some(()) }).await.is_some(),
        "sending never started"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = sent_replies(&db).await;
    assert!(at_kill < 200, "the kill must land during the batch ({at_kill} already sent)");
    let mut second = serve(&config);
    let done = wait_for(90, || async { (sent_replies(&db).await >= 200).then_some(()) }).await;
    // Duplicates count in the INBOX too: wait for 200 distinct replies, not 200 messages.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 200 && tokio::time::Instant::now() < deadline {
        seen.clear();
        for raw in &wait_inbox(&env, &customer, 200, 30).await {
            if let Some(m) = parse(raw).filter(|m| m.body_text.contains("reply number")) {
                *seen.entry(m.message_id.unwrap_or_default()).or_default() += 1;
            }
        }
        if seen.len() < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(done.is_some(), "only {} of 200 replies sent", sent_replies(&db).await);
    let twice = seen.values().filter(|n| **n > 1).count();
    println!(
        "outbound crash test: {} distinct replies arrived, {twice} arrived twice (killed after {at_kill} sent)",
        seen.len()
    );
    assert_eq!(seen.len(), 200, "every reply arrived");
    // At most the mails in flight: one mailbox sends over at most `smtp.pool_size` sessions at once.
    assert!(twice <= POOL, "{twice} duplicates: more than the mails in flight");
}
