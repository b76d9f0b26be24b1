//! The IMAP gateway against the real Dovecot and Postfix: push and poll, after_import, UIDVALIDITY, parallel mailboxes.

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::mailenv::{MailEnv, append, search, test_mail, wait_for};
use crate::store_tests;
use deskmail::platform::config::{AfterImport, ImapSettings};

store_tests!(
    mail_sent_over_smtp_becomes_a_ticket_with_idle,
    after_import_seen_flags_the_message_and_keeps_it,
    after_import_move_and_delete_empty_the_folder,
    a_recreated_folder_with_the_same_mails_makes_no_duplicates,
    one_mail_to_two_mailboxes_polled_in_parallel_is_one_ticket,
);

/// An app polling one IMAP mailbox at `address` (settings adjusted by `adjust`).
pub async fn app_with_mailbox(
    store: Store,
    env: &MailEnv,
    address: &str,
    adjust: impl FnOnce(&mut ImapSettings),
) -> Option<TestApp> {
    let mb = env.mailbox("imap", address, adjust);
    spawn_app_with(store, move |s| s.mailboxes.push(mb)).await
}

/// Waits until `n` tickets match `q`; returns the count seen last.
pub async fn wait_tickets(app: &TestApp, q: &str, n: i64, secs: u64) -> i64 {
    let path = format!("/api/v1/tickets?q={q}&per_page=1");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let (_, body) = app.get(&path).await;
        let total = body["total"].as_i64().unwrap_or(0);
        if total >= n || tokio::time::Instant::now() > deadline {
            return total;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn mail_sent_over_smtp_becomes_a_ticket_with_idle(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("support");
    let Some(app) = app_with_mailbox(store, &env, &support, |i| {
        i.idle = true;
        // Polling would find the mail only after an hour: within the wait below only IDLE can deliver it.
        i.poll_interval_secs = 3600;
    })
    .await
    else {
        return;
    };
    let waiting = wait_for(30, || async {
        let (_, health) = app.get("/healthz").await;
        let mailboxes = health["mailboxes"].as_array()?.clone();
        mailboxes.iter().any(|m| m["name"] == "imap" && m["state"] == "idle").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "the poller never reached IDLE after its first sync");
    let subject = format!("idle-{}", uuid::Uuid::new_v4().simple());
    env.send("customer@example.test", &[&support], &test_mail("customer@example.test", &support, &subject)).await;
    assert_eq!(wait_tickets(&app, &subject, 1, 30).await, 1, "no ticket within 30 s");
    let (_, health) = app.get("/healthz").await;
    let mb = health["mailboxes"].as_array().unwrap().iter().find(|m| m["name"] == "imap").cloned().unwrap();
    assert!(mb["last_sync_at"].is_string(), "{health}");
    assert_eq!(mb["error"], serde_json::Value::Null);
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    for series in [
        r#"deskmail_messages_ingested_total{mailbox="imap",outcome="created"}"#,
        r#"deskmail_ingested_bytes_total{mailbox="imap"}"#,
        r#"deskmail_imap_oldest_unimported_seconds{mailbox="imap"}"#,
        r#"deskmail_imap_sync_duration_seconds"#,
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
}

#[tokio::test]
async fn mail_sent_over_smtp_becomes_a_ticket_with_polling() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("support");
    let Some(app) = app_with_mailbox(Store::Sqlite, &env, &support, |i| {
        i.idle = false;
        i.poll_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    let subject = format!("poll-{}", uuid::Uuid::new_v4().simple());
    env.send("customer@example.test", &[&support], &test_mail("customer@example.test", &support, &subject)).await;
    assert_eq!(wait_tickets(&app, &subject, 1, 30).await, 1, "no ticket within 30 s");
}

async fn after_import_seen_flags_the_message_and_keeps_it(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("seen");
    let mut s = env.session(&support).await;
    append(&mut s, "INBOX", &test_mail("c@customer.example", &support, "seen-one")).await;
    let Some(app) = app_with_mailbox(store, &env, &support, |i| i.after_import = AfterImport::Seen).await else {
        return;
    };
    assert_eq!(wait_tickets(&app, "seen-one", 1, 30).await, 1);
    let seen = wait_for(15, || {
        let env = env.clone();
        let support = support.clone();
        async move {
            let mut s = env.session(&support).await;
            let seen = search(&mut s, "INBOX", "SEEN").await;
            (!seen.is_empty()).then_some(seen)
        }
    })
    .await;
    assert_eq!(seen.map(|s| s.len()), Some(1));
    assert_eq!(search(&mut s, "INBOX", "ALL").await.len(), 1, "seen keeps the message in the folder");
}

async fn after_import_move_and_delete_empty_the_folder(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    for (prefix, action) in [("move", AfterImport::Move("Done/Imported".into())), ("delete", AfterImport::Delete)] {
        let support = env.address(prefix);
        let mut s = env.session(&support).await;
        append(&mut s, "INBOX", &test_mail("c@customer.example", &support, &format!("{prefix}-mail"))).await;
        let act = action.clone();
        let Some(app) = app_with_mailbox(store, &env, &support, move |i| i.after_import = act).await else { return };
        assert_eq!(wait_tickets(&app, &format!("{prefix}-mail"), 1, 30).await, 1);
        let emptied = wait_for(15, || {
            let (env, support) = (env.clone(), support.clone());
            async move { search(&mut env.session(&support).await, "INBOX", "ALL").await.is_empty().then_some(()) }
        })
        .await;
        assert!(emptied.is_some(), "{prefix}: INBOX still holds the message");
        if let AfterImport::Move(folder) = &action {
            assert_eq!(search(&mut s, folder, "ALL").await.len(), 1, "moved into {folder}");
        }
    }
}

async fn a_recreated_folder_with_the_same_mails_makes_no_duplicates(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("recreate");
    let mails: Vec<Vec<u8>> =
        (0..3).map(|i| test_mail("c@customer.example", &support, &format!("recreated-{i}"))).collect();
    let mut s = env.session(&support).await;
    s.create("Support").await.unwrap();
    for m in &mails {
        append(&mut s, "Support", m).await;
    }
    let Some(app) = app_with_mailbox(store, &env, &support, |i| {
        i.folder = "Support".into();
        i.idle = false;
        i.poll_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    assert_eq!(wait_tickets(&app, "recreated-", 3, 30).await, 3);
    s.select("INBOX").await.unwrap();
    s.delete("Support").await.unwrap();
    s.create("Support").await.unwrap();
    for m in &mails {
        // Dovecot may refuse an APPEND while another session (deskmail's poller) reopens the folder it just saw
        // deleted ("Mailbox was deleted under us"); a moment later it takes it.
        let mut tries = 0;
        while let Err(e) = s.append("Support", None, None, m).await {
            tries += 1;
            assert!(tries < 5, "append: {e:?}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let new_validity = s.select("Support").await.unwrap().uid_validity.unwrap();
    let mb = app.services.db.mailbox_by_name("imap").await.unwrap().unwrap();
    let rescanned = wait_for(30, || {
        let db = app.services.db.clone();
        async move {
            // All three re-scanned (the poller may have started while they were still being appended).
            let state = db.sync_state(mb.id, "Support").await.ok()?;
            (state.uid_validity == Some(i64::from(new_validity)) && state.scanning == 0 && state.last_uid >= 3)
                .then_some(())
        }
    })
    .await;
    assert!(rescanned.is_some(), "the folder with the new UIDVALIDITY was never fully synced");
    let (_, list) = app.get("/api/v1/tickets?q=recreated-").await;
    assert_eq!(list["total"], 3);
    for t in list["tickets"].as_array().unwrap() {
        assert_eq!(t["message_count"], 1, "{t}");
    }
}

async fn one_mail_to_two_mailboxes_polled_in_parallel_is_one_ticket(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let (a, b) = (env.address("first"), env.address("second"));
    let (mb_a, mb_b) = (env.mailbox("first", &a, |_| {}), env.mailbox("second", &b, |_| {}));
    let Some(app) = spawn_app_with(store, move |s| s.mailboxes.extend([mb_a, mb_b])).await else { return };
    let subject = format!("both-{}", uuid::Uuid::new_v4().simple());
    let raw = test_mail("c@customer.example", &format!("{a}, {b}"), &subject);
    env.send("c@customer.example", &[&a, &b], &raw).await;
    let delivered = wait_for(30, || {
        let db = app.services.db.clone();
        async move {
            let n: i64 = sqlx::query_scalar("select count(*) from receipts").fetch_one(db.pool()).await.ok()?;
            (n >= 2).then_some(())
        }
    })
    .await;
    assert!(delivered.is_some(), "both mailboxes should have received the mail");
    let (_, list) = app.get(&format!("/api/v1/tickets?q={subject}")).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["tickets"][0]["message_count"], 1);
}
