//! OAuth2 mailboxes against real servers: a private Dovecot with its `oauth2` passdb (IMAP, and Postfix submission
//! through Dovecot SASL) checking tokens at the test's provider (`oauth_provider`): import and send with XOAUTH2
//! and OAUTHBEARER, an access token expiring mid-IDLE, refresh-token rotation, a revoked grant in the health and
//! one admin notice, and the dashboard's Connect flow.

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::imap::wait_tickets;
use crate::mailenv::{MailEnv, test_mail, wait_for, wait_inbox};
use crate::oauth_provider::{CLIENT_ID, CLIENT_SECRET, Provider};
use crate::store_tests;
use deskmail::platform::config::{MailboxAuth, MailboxSettings, OAuthSettings, PasswordSource, Settings};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

store_tests!(an_xoauth2_mailbox_imports_sends_rotates_its_token_survives_expiry_and_reports_revocation);

/// A provider and a private mail system that checks its tokens.
struct Rig {
    provider: Provider,
    env: MailEnv,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn start(lifetime: Duration, rotate: bool) -> Option<Self> {
        let provider = Provider::start(lifetime, rotate).await;
        let env = MailEnv::private_with(&[("MAILENV_OAUTH2_URL", &format!("{}/introspect", provider.url))])?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client-secret"), format!("{CLIENT_SECRET}\n")).unwrap();
        Some(Self { provider, env, dir })
    }

    fn secret_file(&self) -> PathBuf {
        self.dir.path().join("client-secret")
    }

    /// A mailbox fetching and sending as `address` with `auth`; the first refresh token from a file.
    fn mailbox(&self, name: &str, address: &str, auth: MailboxAuth, refresh_token: &str) -> MailboxSettings {
        let file = self.dir.path().join(format!("{name}-refresh-token"));
        std::fs::write(&file, refresh_token).unwrap();
        let grant = OAuthSettings {
            token_url: Some(format!("{}/token", self.provider.url)),
            client_id: Some(CLIENT_ID.into()),
            client_secret_file: Some(self.secret_file()),
            refresh_token_file: Some(file),
            ..Default::default()
        };
        let mut mb = self.env.mailbox(name, address, |imap| {
            (imap.password, imap.auth, imap.oauth) = (PasswordSource::default(), auth, Some(grant));
        });
        let mut smtp = self.env.smtp(address);
        (smtp.password, smtp.auth) = (PasswordSource::default(), auth);
        mb.smtp = Some(smtp);
        mb
    }
}

/// A mailbox's entry in `/healthz`.
async fn health(app: &TestApp, name: &str) -> Option<Value> {
    let (_, body) = app.get("/healthz").await;
    body["mailboxes"].as_array()?.iter().find(|m| m["name"] == name).cloned()
}

/// Waits until the mailbox's poller is in IDLE with a working grant.
async fn idle_with_token(app: &TestApp, name: &str) {
    let ready = wait_for(30, || async {
        let h = health(app, name).await?;
        (h["state"] == "idle" && h["oauth"]["state"] == "ok").then_some(())
    })
    .await;
    assert!(ready.is_some(), "no IDLE with a fresh token: {:?}", health(app, name).await);
}

/// The `mailbox_alert` deliveries in the outbox (any status).
async fn alerts(app: &TestApp) -> Vec<Value> {
    let (_, body) = app.get("/api/v1/outbox?per_page=200").await;
    let all = body["outbox"].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|d| d["kind"] == "mailbox_alert").collect()
}

/// Sends a customer mail to `to` over SMTP and waits for its ticket; returns the subject.
async fn mail_becomes_a_ticket(app: &TestApp, env: &MailEnv, from: &str, to: &str, what: &str) -> String {
    let subject = format!("{what}-{}", uuid::Uuid::new_v4().simple());
    env.send(from, &[to], &test_mail(from, to, &subject)).await;
    assert_eq!(wait_tickets(app, &subject, 1, 30).await, 1, "{what}: no ticket within 30 s");
    subject
}

/// The acknowledgement of `subject` arrived in `customer`'s INBOX (sent through submission with a token). Postfix
/// only: the kit's aiosmtpd front end (non-root runs) checks PLAIN only.
async fn ack_arrives(env: &MailEnv, customer: &str, subject: &str) {
    let dir = env.private_dir.clone().unwrap_or_default();
    if std::fs::read_to_string(format!("{dir}/smtp_impl")).is_ok_and(|i| i.trim() != "postfix") {
        eprintln!("skipping the XOAUTH2 submission check: the mail kit runs aiosmtpd, not Postfix (run as root)");
        return;
    }
    let arrived = wait_for(30, || async {
        let inbox = wait_inbox(env, customer, 0, 0).await;
        inbox.into_iter().map(|m| String::from_utf8_lossy(&m).into_owned()).find(|m| m.contains(subject))
    })
    .await;
    let raw = arrived.unwrap_or_else(|| panic!("the acknowledgement of {subject} did not arrive"));
    assert!(raw.contains("with ESMTPSA"), "not sent with SMTP AUTH: {raw}");
}

async fn an_xoauth2_mailbox_imports_sends_rotates_its_token_survives_expiry_and_reports_revocation(store: Store) {
    let lifetime = Duration::from_secs(4);
    let Some(rig) = Rig::start(lifetime, true).await else { return };
    let (support, customer) = (rig.env.address("oauth"), rig.env.address("customer"));
    let seed = rig.provider.grant(&support);
    let mb = rig.mailbox("gmail", &support, MailboxAuth::Xoauth2, &seed);
    let Some(app) = spawn_app_with(store, move |s| s.mailboxes.push(mb)).await else { return };
    idle_with_token(&app, "gmail").await;

    // Import over IMAP and the acknowledgement over submission, both with XOAUTH2.
    let first = mail_becomes_a_ticket(&app, &rig.env, &customer, &support, "xoauth2").await;
    ack_arrives(&rig.env, &customer, &first).await;

    // Refresh tokens rotate at every refresh: the first one is gone at the provider, the newest is stored sealed and
    // is what the next refreshes present.
    let id = app.services.db.mailbox_by_name("gmail").await.unwrap().unwrap().id;
    let stored = wait_for(15, || async {
        let sealed = app.services.db.oauth_grant(id).await.ok()??.refresh_token_sealed?;
        let valid = rig.provider.refresh_tokens(&support);
        let opened = app.services.secrets.open(&sealed).ok()?;
        (valid == [opened]).then_some(sealed)
    })
    .await
    .expect("the valid refresh token is the stored one");
    assert!(stored.starts_with("v1:") && !stored.contains("rt-"), "stored in plain text: {stored}");
    let presented = wait_for(15, || async { Some(rig.provider.presented()).filter(|p| p.len() >= 2) }).await;
    let presented = presented.expect("no second refresh within 15 s");
    assert_eq!(presented.first(), Some(&seed));
    assert!(presented.len() >= 2 && presented[1..].iter().all(|t| *t != seed), "{presented:?}");
    assert!(!rig.provider.refresh_tokens(&support).contains(&seed));

    // The token the IDLE session signed in with expires; the server then ends the session (as Microsoft's does).
    idle_with_token(&app, "gmail").await;
    let signed_in = rig.provider.introspected().len();
    tokio::time::sleep(lifetime + Duration::from_secs(1)).await;
    rig.env.kick(&support);
    mail_becomes_a_ticket(&app, &rig.env, &customer, &support, "after-expiry").await;
    assert!(rig.provider.introspected().len() > signed_in, "no new sign-in after the session ended");

    // A revoked grant shows in the health within a minute, and admins hear of it once.
    let revoked = Instant::now();
    rig.provider.revoke(&support);
    let failing = wait_for(60, || async {
        let h = health(&app, "gmail").await?;
        (h["oauth"]["state"] == "failing").then_some(h)
    })
    .await
    .expect("the revoked grant is not in /healthz within a minute");
    assert!(revoked.elapsed() < Duration::from_secs(60));
    assert_eq!(failing["state"], "failing", "{failing}");
    assert!(failing["error"].as_str().unwrap_or_default().contains("invalid_grant"), "{failing}");
    assert_eq!(app.get("/healthz").await.1["status"], "degraded");
    let told = wait_for(45, || async { Some(alerts(&app).await).filter(|a| !a.is_empty()) }).await;
    let told = told.expect("no admin notice within 45 s");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["recipient"], "admin@example.test");
    let worker = deskmail::outbound::oauth_alerts::OAuthAlerts {
        db: app.services.db.clone(),
        composer: app.services.composer.clone(),
    };
    let now = deskmail::domain::now();
    assert_eq!(worker.try_alert(now).await.unwrap(), 0);
    assert_eq!(worker.try_alert(now + 1800).await.unwrap(), 0, "a second notice within the hour");
    assert_eq!(worker.try_alert(now + 3601).await.unwrap(), 1, "the next hour's notice");
}

#[tokio::test]
async fn an_oauthbearer_mailbox_imports_and_sends() {
    let Some(rig) = Rig::start(Duration::from_secs(3600), false).await else { return };
    let (support, customer) = (rig.env.address("bearer"), rig.env.address("customer"));
    let seed = rig.provider.grant(&support);
    let mb = rig.mailbox("bearer", &support, MailboxAuth::Oauthbearer, &seed);
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| s.mailboxes.push(mb)).await else { return };
    idle_with_token(&app, "bearer").await;
    let subject = mail_becomes_a_ticket(&app, &rig.env, &customer, &support, "oauthbearer").await;
    ack_arrives(&rig.env, &customer, &subject).await;
    let dir = rig.env.private_dir.clone().unwrap();
    let dovecot = std::fs::read_to_string(format!("{dir}/log/dovecot.log")).unwrap_or_default();
    assert!(dovecot.contains(&format!("user=<{support}>, method=OAUTHBEARER")), "IMAP did not use OAUTHBEARER");
    assert_eq!(rig.provider.presented().len(), 1, "one refresh: the token is cached");

    // The server refuses the cached token (revoked early): the poller drops it, refreshes once and signs in.
    rig.provider.drop_access_tokens(&support);
    rig.env.kick(&support);
    mail_becomes_a_ticket(&app, &rig.env, &customer, &support, "refused-token").await;
    assert_eq!(rig.provider.presented(), [seed.clone(), seed], "exactly one more refresh");
}

#[tokio::test]
async fn connect_with_google_stores_the_refresh_token_of_the_pkce_flow_and_the_mailbox_signs_in() {
    let Some(rig) = Rig::start(Duration::from_secs(3600), true).await else { return };
    let support = rig.env.address("connect");
    let mut mb = rig.mailbox("google", &support, MailboxAuth::Xoauth2, "");
    let imap = mb.imap.as_mut().unwrap();
    imap.oauth =
        Some(OAuthSettings { provider: Some(deskmail::platform::config::Provider::Google), ..Default::default() });
    mb.smtp = None;
    let (url, secret) = (rig.provider.url.clone(), rig.secret_file());
    let Some(app) = spawn_app_with(Store::Sqlite, move |s: &mut Settings| {
        s.oauth.google.client_id = Some(CLIENT_ID.into());
        s.oauth.google.client_secret_file = Some(secret);
        s.oauth.google.auth_url = Some(format!("{url}/authorize"));
        s.oauth.google.token_url = Some(format!("{url}/token"));
        s.mailboxes.push(mb);
    })
    .await
    else {
        return;
    };
    let id = app.services.db.mailbox_by_name("google").await.unwrap().unwrap().id;
    let unconnected =
        wait_for(15, || async { health(&app, "google").await.filter(|h| h["oauth"]["state"] == "failing") });
    let unconnected = unconnected.await.expect("a mailbox without a refresh token is failing");
    assert!(unconnected["oauth"]["error"].as_str().unwrap().contains("no refresh token"), "{unconnected}");

    let agent = crate::web_client::signed_in_staff(&app, "agent@example.test", deskmail::domain::Role::Agent).await;
    assert_eq!(agent.get(&format!("/admin/mailboxes/{id}/oauth/google")).await.status, 403);
    let admin = crate::web_client::signed_in_staff(&app, "boss@example.test", deskmail::domain::Role::Admin).await;
    let list = admin.get("/admin/mailboxes").await;
    assert!(list.body.contains(&format!("/admin/mailboxes/{id}/oauth/google")), "no Connect link");
    let start = admin.get(&format!("/admin/mailboxes/{id}/oauth/google")).await;
    assert_eq!(start.status, 303);
    assert!(start.location.starts_with(&format!("{}/authorize?", rig.provider.url)), "{}", start.location);
    for part in ["access_type=offline", "prompt=consent", "scope=https%3A%2F%2Fmail.google.com%2F", "login_hint="] {
        assert!(start.location.contains(part), "{part} missing: {}", start.location);
    }
    let (redirect_uri, code, state) = rig.provider.consent(&start.location, &support);
    assert!(redirect_uri.ends_with("/admin/oauth/callback"), "{redirect_uri}");

    // A forged state is refused and leaves the flow under way alone.
    let forged = admin.get(&format!("/admin/oauth/callback?code={code}&state=forged")).await;
    assert_eq!((forged.status, forged.location.as_str()), (303, "/admin/mailboxes"));
    assert!(app.services.db.oauth_grant(id).await.unwrap().and_then(|g| g.refresh_token_sealed).is_none());
    let back = admin.get(&format!("/admin/oauth/callback?code={code}&state={state}")).await;
    assert_eq!((back.status, back.location.as_str()), (303, "/admin/mailboxes"));
    assert!(admin.get("/admin/mailboxes").await.body.contains("connected with Google"));

    // The refresh token of the code exchange is what the next refresh presents (and rotates; the newest is stored).
    let ok = wait_for(60, || async { health(&app, "google").await.filter(|h| h["oauth"]["state"] == "ok") }).await;
    assert!(ok.is_some(), "the connected grant does not refresh: {:?}", health(&app, "google").await);
    assert_eq!(rig.provider.presented().first(), rig.provider.code_grants().first());
    let stored = wait_for(10, || async {
        let sealed = app.services.db.oauth_grant(id).await.ok()??.refresh_token_sealed?;
        let opened = app.services.secrets.open(&sealed).ok()?;
        (rig.provider.refresh_tokens(&support) == [opened]).then_some(sealed)
    });
    assert!(!stored.await.expect("the valid refresh token is the stored one").contains("rt-"));
    let customer = rig.env.address("customer");
    let subject = format!("connected-{}", uuid::Uuid::new_v4().simple());
    rig.env.send(&customer, &[&support], &test_mail(&customer, &support, &subject)).await;
    assert_eq!(wait_tickets(&app, &subject, 1, 90).await, 1, "no import after Connect");
    let test = admin.post(&format!("/admin/mailboxes/{id}/test"), &[]).await;
    assert!(test.body.contains(&format!("as {support}: login ok")), "connection test: {}", test.body);
}
