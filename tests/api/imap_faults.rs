//! IMAP faults: commits before flags, bad credentials/TLS/ports, server restarts, SIGKILLed imports, two instances.

use crate::helpers::{Store, TestApp, fresh_database, spawn_app_with, test_settings};
use crate::imap::{app_with_mailbox, wait_tickets};
use crate::mailenv::{MailEnv, append, search, test_mail, wait_for};
use deskmail::platform::config::AfterImport;
use serde_json::Value;

async fn mailbox_health(app: &TestApp, name: &str) -> Value {
    let (_, health) = app.get("/healthz").await;
    health["mailboxes"].as_array().and_then(|m| m.iter().find(|m| m["name"] == name).cloned()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn seen_is_never_set_before_the_message_is_committed() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("commit");
    let Some(app) = app_with_mailbox(Store::Sqlite, &env, &support, |i| {
        i.after_import = AfterImport::Seen;
        i.idle = false;
        i.poll_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    let pool = app.services.db.pool();
    sqlx::query("create trigger fail_raw before insert on raw_messages begin select raise(abort, 'injected store failure'); end")
        .execute(pool)
        .await
        .unwrap();
    let mut s = env.session(&support).await;
    append(&mut s, "INBOX", &test_mail("c@customer.example", &support, "not-yet")).await;
    let failed =
        wait_for(15, || async { mailbox_health(&app, "imap").await["error"].as_str().map(str::to_string) }).await;
    assert!(failed.expect("the store failure shows in /healthz").contains("injected store failure"));
    assert!(search(&mut s, "INBOX", "SEEN").await.is_empty(), "flagged \\Seen although nothing was committed");
    sqlx::query("drop trigger fail_raw").execute(pool).await.unwrap();
    assert_eq!(wait_tickets(&app, "not-yet", 1, 15).await, 1, "imported after the store recovered");
    let seen = wait_for(15, || {
        let (env, support) = (env.clone(), support.clone());
        async move { (!search(&mut env.session(&support).await, "INBOX", "SEEN").await.is_empty()).then_some(()) }
    })
    .await;
    assert!(seen.is_some());
}

#[tokio::test]
async fn broken_mailboxes_show_their_error_and_the_others_keep_importing() {
    let Some(env) = MailEnv::shared() else { return };
    let good = env.address("good");
    // Bound but never listening: the port stays ours (nobody else can start listening on it) and refuses connections.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    let mailboxes = vec![
        env.mailbox("good", &good, |i| i.idle = true),
        env.mailbox("badpass", &env.address("badpass"), |i| i.password.password = Some("wrong-password".into())),
        env.mailbox("badtls", &env.address("badtls"), |i| i.port = env.imap_port),
        env.mailbox("closed", &env.address("closed"), |i| i.port = closed_port),
    ];
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| s.mailboxes.extend(mailboxes)).await else { return };
    env.send("c@customer.example", &[&good], &test_mail("c@customer.example", &good, "still-importing")).await;
    assert_eq!(wait_tickets(&app, "still-importing", 1, 30).await, 1);
    for (name, expected) in
        [("badpass", "login refused"), ("badtls", "TLS handshake failed"), ("closed", "cannot connect")]
    {
        let h = wait_for(30, || async {
            let h = mailbox_health(&app, name).await;
            h["error"].is_string().then_some(h)
        })
        .await
        .unwrap_or_else(|| panic!("{name}: no error in /healthz"));
        assert!(h["error"].as_str().unwrap().contains(expected), "{name}: {h}");
        assert!(matches!(h["state"].as_str(), Some("backing_off" | "failing" | "syncing")), "{name}: {h}");
    }
    let (_, health) = app.get("/healthz").await;
    assert_eq!(health["status"], "degraded");
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"deskmail_imap_sync_errors_total{mailbox="badpass"}"#), "no sync error counted");
    assert_eq!(mailbox_health(&app, "good").await["error"], Value::Null);
}

#[tokio::test]
async fn a_dovecot_restart_during_an_import_loses_nothing() {
    let Some(env) = MailEnv::private() else { return };
    let support = env.address("restart");
    let mb = env.mailbox("imap", &support, |i| i.idle = true);
    // Short IMAP steps and lease: a connection Dovecot left half-open is given up within seconds, so the outage is
    // noticed well inside the wait below.
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.imap.command_timeout_secs = 5;
        s.imap.lease_secs = 12;
        s.mailboxes.push(mb);
    })
    .await
    else {
        return;
    };
    let mut mails = Vec::new();
    for i in 0..60 {
        mails.push(test_mail(&format!("c{i}@customer.example"), &support, &format!("restart-{i:03}")));
    }
    for m in &mails[..30] {
        env.send("c@customer.example", &[&support], m).await;
    }
    env.control("stop-imap");
    // Postfix queues what arrives while Dovecot is down and delivers it after the restart.
    for m in &mails[30..] {
        env.send("c@customer.example", &[&support], m).await;
    }
    let noticed =
        wait_for(30, || async { mailbox_health(&app, "imap").await["error"].is_string().then_some(()) }).await;
    assert!(noticed.is_some(), "the poller did not notice that Dovecot is down");
    env.control("start-imap");
    assert_eq!(wait_tickets(&app, "restart-", 60, 60).await, 60);
    let n: i64 = sqlx::query_scalar("select count(*) from messages").fetch_one(app.services.db.pool()).await.unwrap();
    assert_eq!(n, 60, "nothing doubled");
}

/// Whether the instance on `port` has completed a sync of the mailbox `imap` (its own health, not the database's).
async fn has_synced(port: u16) -> bool {
    let url = format!("http://127.0.0.1:{port}/healthz");
    let health: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let mailboxes = health["mailboxes"].as_array().cloned().unwrap_or_default();
    mailboxes.iter().any(|m| m["name"] == "imap" && m["last_sync_at"].is_string())
}

#[tokio::test]
async fn two_instances_on_one_postgres_import_every_mail_once() {
    let Some(env) = MailEnv::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(Store::Postgres, dir.path()).await else { return };
    let support = env.address("twins");
    let mut apps = Vec::new();
    for _ in 0..2 {
        let mut settings = test_settings(dir.path(), url.clone());
        settings.imap.lease_secs = 3;
        settings.mailboxes.push(env.mailbox("imap", &support, |i| i.idle = true));
        let app = deskmail::startup::Application::build(settings).await.unwrap();
        let (services, port) = (app.services().clone(), app.port());
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        apps.push((services, stop, task, port));
    }
    let count = |db: deskmail::db::Db| async move {
        let n: i64 = sqlx::query_scalar("select count(*) from receipts").fetch_one(db.pool()).await.unwrap();
        n
    };
    for i in 0..20 {
        env.send("c@customer.example", &[&support], &test_mail("c@customer.example", &support, &format!("twin-{i}")))
            .await;
    }
    let db = apps[0].0.db.clone();
    assert!(
        wait_for(20, || {
            let db = db.clone();
            async move { (count(db).await >= 20).then_some(()) }
        })
        .await
        .is_some()
    );
    // Only the lease holder ever synced (each instance has its own /healthz); it stops, the other takes over.
    let synced = [has_synced(apps[0].3).await, has_synced(apps[1].3).await];
    assert_eq!(synced.iter().filter(|s| **s).count(), 1, "exactly one instance polls the mailbox: {synced:?}");
    let holder = synced.iter().position(|s| *s).unwrap();
    let (_, stop, task, _) = apps.remove(holder);
    stop.cancel();
    task.await.unwrap().unwrap();
    let db = apps[0].0.db.clone();
    for i in 20..30 {
        env.send("c@customer.example", &[&support], &test_mail("c@customer.example", &support, &format!("twin-{i}")))
            .await;
    }
    assert!(
        wait_for(30, || {
            let db = db.clone();
            async move { (count(db).await >= 30).then_some(()) }
        })
        .await
        .is_some()
    );
    // Its health records the sync once the whole sync is done, a moment after the batch's commit.
    let port = apps[0].3;
    let took_over = wait_for(30, || async move { has_synced(port).await.then_some(()) }).await;
    assert!(took_over.is_some(), "the other instance took the lease over");
    // Nothing is left to import once the checkpoint is past the INBOX's last UID and no batch awaits its flags.
    let last_uid = i64::from(*search(&mut env.session(&support).await, "INBOX", "ALL").await.last().unwrap());
    let db = apps[0].0.db.clone();
    let settled = wait_for(15, || {
        let db = db.clone();
        async move {
            let sql = "select count(*) from mailbox_sync where last_uid >= $1 and pending = ''";
            let n: i64 = sqlx::query_scalar(sql).bind(last_uid).fetch_one(db.pool()).await.unwrap();
            (n == 1).then_some(())
        }
    })
    .await;
    assert!(settled.is_some(), "the sync state did not settle");
    let messages: i64 =
        sqlx::query_scalar("select count(*) from messages").fetch_one(apps[0].0.db.pool()).await.unwrap();
    assert_eq!((count(apps[0].0.db.clone()).await, messages), (30, 30), "every mail imported exactly once");
    apps[0].1.cancel();
}

#[tokio::test]
async fn mail_too_large_to_fetch_is_quarantined_with_its_headers_and_left_untouched() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("big");
    let mut s = env.session(&support).await;
    let big = format!(
        "From: c@customer.example\r\nTo: {support}\r\nSubject: huge scan\r\nMessage-ID: <big@c.example>\r\n\r\n{}\r\n",
        "x".repeat(20_000)
    );
    append(&mut s, "INBOX", big.as_bytes()).await;
    append(&mut s, "INBOX", &test_mail("c@customer.example", &support, "small-after-big")).await;
    let mb = env.mailbox("imap", &support, |i| i.after_import = AfterImport::Move("Done".into()));
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.ingest.max_message_bytes = 10_000;
        s.mailboxes.push(mb);
    })
    .await
    else {
        return;
    };
    assert_eq!(wait_tickets(&app, "small-after-big", 1, 30).await, 1, "the queue moves on past the big message");
    let (_, q) = app.get("/api/v1/quarantine").await;
    let entry = q["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["headers"].as_str().unwrap_or("").contains("huge scan"))
        .cloned();
    let entry = entry.expect("the big message is in quarantine with its headers");
    assert_eq!(entry["raw_kept"], false);
    assert!(entry["reason"].as_str().unwrap().contains("too large"));
    // The move follows the batch's commit, so the ticket can be visible a moment before it.
    let (env, support) = (&env, &support);
    wait_for(
        10,
        || async move { (search(&mut env.session(support).await, "INBOX", "ALL").await.len() < 2).then_some(()) },
    )
    .await;
    let left = search(&mut s, "INBOX", "ALL").await;
    assert_eq!(left.len(), 1, "after_import moved only the message deskmail holds");
    assert!(search(&mut s, "INBOX", "SEEN").await.is_empty(), "the big message stays unread on the server");
}
