//! The quick check (`check_interval_ms`) against the real Dovecot: it finds mail between polls, and IDLE keeps
//! working when it leaves IDLE for the check many times.

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::imap::wait_tickets;
use crate::mailenv::{MailEnv, test_mail, wait_for};
use deskmail::platform::config::ImapSettings;
use std::time::Duration;

/// An app polling one IMAP mailbox named `name` (the metrics are one registry for every app of this test process,
/// so each test's mailbox has a name of its own).
async fn app_with(env: &MailEnv, name: &str, address: &str, adjust: impl FnOnce(&mut ImapSettings)) -> Option<TestApp> {
    let mb = env.mailbox(name, address, adjust);
    spawn_app_with(Store::Sqlite, move |s| s.mailboxes.push(mb)).await
}

/// Waits until the mailbox `name` waits for mail (IDLE or between polls) after its first sync (the state is `idle`
/// before the first connection too, so the sync time is required as well).
async fn until_waiting(app: &TestApp, name: &str) {
    let waiting = wait_for(30, || async {
        let (_, health) = app.get("/healthz").await;
        let mailboxes = health["mailboxes"].as_array()?.clone();
        mailboxes
            .iter()
            .any(|m| m["name"] == name && m["state"] == "idle" && m["last_sync_at"].is_string())
            .then_some(())
    })
    .await;
    assert!(waiting.is_some(), "the poller never finished its first sync");
}

/// Sends `n` mails one at a time (`pause` apart); each must become a ticket.
async fn each_mail_becomes_a_ticket(app: &TestApp, env: &MailEnv, to: &str, n: usize, pause: Duration) {
    for i in 0..n {
        let subject = format!("check-{i}-{}", uuid::Uuid::new_v4().simple());
        env.send("customer@example.test", &[to], &test_mail("customer@example.test", to, &subject)).await;
        assert_eq!(wait_tickets(app, &subject, 1, 30).await, 1, "mail {i}: no ticket within 30 s");
        tokio::time::sleep(pause).await;
    }
}

/// No sync of the mailbox failed (a check that broke the session would show here, not in the tickets: the
/// poller reconnects and finds the mail anyway).
async fn no_sync_failed(app: &TestApp, name: &str) {
    let (_, health) = app.get("/healthz").await;
    let mb = health["mailboxes"].as_array().unwrap().iter().find(|m| m["name"] == name).cloned().unwrap();
    assert_eq!(mb["error"], serde_json::Value::Null, "{health}");
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    let failed = format!("deskmail_imap_sync_errors_total{{mailbox=\"{name}\"}}");
    assert!(!metrics.contains(&failed), "a sync failed:\n{metrics}");
}

#[tokio::test]
async fn the_quick_check_finds_mail_between_polls() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("check-poll");
    let Some(app) = app_with(&env, "check-poll", &support, |i| {
        i.idle = false;
        // The next poll is an hour away: only the check can find the mails within the waits below.
        i.poll_interval_secs = 3600;
        i.check_interval_ms = 100;
    })
    .await
    else {
        return;
    };
    until_waiting(&app, "check-poll").await;
    each_mail_becomes_a_ticket(&app, &env, &support, 3, Duration::from_millis(300)).await;
    no_sync_failed(&app, "check-poll").await;
}

#[tokio::test]
async fn idle_with_the_quick_check_keeps_working_across_many_checks() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("check-idle");
    let Some(app) = app_with(&env, "check-idle", &support, |i| {
        i.idle = true;
        i.poll_interval_secs = 3600;
        i.check_interval_ms = 50;
    })
    .await
    else {
        return;
    };
    until_waiting(&app, "check-idle").await;
    // 1.5 s between mails: ~30 rounds of DONE, NOOP and IDLE again each time.
    each_mail_becomes_a_ticket(&app, &env, &support, 3, Duration::from_millis(1500)).await;
    no_sync_failed(&app, "check-idle").await;
}

/// A poll shorter than a third of the lease (the renewal period) still renews the lease: the renewal clock runs
/// across polls instead of starting again with each.
#[tokio::test]
async fn polling_more_often_than_the_renewal_keeps_the_lease() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("check-lease");
    let mb = env.mailbox("check-lease", &support, |i| {
        i.idle = false;
        i.poll_interval_secs = 1;
    });
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.mailboxes.push(mb);
        // Renewed every 2 s, so the 1 s polls end before each renewal is due.
        s.imap.lease_secs = 6;
    })
    .await
    else {
        return;
    };
    until_waiting(&app, "check-lease").await;
    let id = app.services.db.mailbox_by_name("check-lease").await.unwrap().expect("mailbox").id;
    for _ in 0..4 {
        // Two lease periods without mail in all: a lease not renewed would have run out.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let expires: i64 = sqlx::query_scalar("select expires_at from mailbox_leases where mailbox_id = $1")
            .bind(id)
            .fetch_one(app.services.db.pool())
            .await
            .unwrap();
        assert!(expires >= deskmail::domain::now(), "the lease ran out at {expires} while the mailbox was polled");
    }
    no_sync_failed(&app, "check-lease").await;
}
