//! Rule webhooks, on both stores: a delivery queued in a transaction goes out once the sender is woken, signed and
//! unchanged; an error answer is retried with backoff and "retry now" sends it; a silent endpoint times out without
//! holding up a good one; the last attempt fails for good; admins see the deliveries (page and API), agents do not.

use crate::helpers::{Store, TestApp, fresh_database, init_once, mail, spawn_app_with, test_settings};
use crate::mailenv::wait_for;
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::db::webhooks::{NewDelivery, WebhookAttempt, WebhookRow};
use deskmail::db::{Db, webhooks};
use deskmail::domain::Role;
use deskmail::outbound::webhooks::{Outcome, WebhookSender};
use deskmail::platform::config::WebhookSettings;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use std::sync::{Arc, Mutex};

store_tests!(
    a_webhook_is_signed_retried_after_an_error_answer_and_sent_by_retry_now,
    a_silent_endpoint_times_out_without_holding_up_a_good_one_and_the_last_attempt_fails,
);

pub const SECRET: &str = "0123456789abcdef-webhook-secret";

/// A request the test endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// A local HTTP endpoint answering the given statuses in turn (then 200), keeping what it received.
pub struct Endpoint {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Endpoint {
    pub async fn start(statuses: &[u16]) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(statuses.to_vec()));
        let (log, next) = (received.clone(), script.clone());
        let handler = move |headers: axum::http::HeaderMap, body: String| async move {
            log.lock().unwrap().push(Received { headers, body });
            let mut next = next.lock().unwrap();
            let status = if next.is_empty() { 200 } else { next.remove(0) };
            (axum::http::StatusCode::from_u16(status).unwrap(), "endpoint says no\n")
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// An endpoint that accepts connections and never answers.
async fn silent_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    url
}

/// Queues a delivery in a transaction of its own, as the rules engine does inside its own.
async fn enqueue(db: &Db, rule_id: Option<i64>, ticket_id: Option<i64>, url: &str, body: &str) -> i64 {
    let signature = deskmail::outbound::webhooks::sign(SECRET, body);
    let d = NewDelivery { rule_id, ticket_id, event_id: Some(1), url, body, signature: &signature };
    let mut tx = db.begin().await.unwrap();
    let id = webhooks::enqueue(&mut tx, &d, deskmail::domain::now()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn row(db: &Db, id: i64) -> WebhookRow {
    db.webhook_deliveries(100).await.unwrap().into_iter().find(|d| d.id == id).expect("the delivery is listed")
}

/// Waits (polling, up to 10 s) until the delivery matches `done`.
async fn row_when(db: &Db, id: i64, done: impl Fn(&WebhookRow) -> bool) -> WebhookRow {
    let found = wait_for(10, || async {
        let r = row(db, id).await;
        done(&r).then_some(r)
    })
    .await;
    match found {
        Some(r) => r,
        None => panic!("delivery {id} never got there: {:?}", row(db, id).await),
    }
}

pub fn valid_signature(body: &str, header: &str) -> bool {
    let Some(hex_mac) = header.strip_prefix("sha256=") else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::decode(hex_mac).is_ok_and(|m| mac.verify_slice(&m).is_ok())
}

async fn a_webhook_is_signed_retried_after_an_error_answer_and_sent_by_retry_now(store: Store) {
    let Some(app) = spawn_app_with(store, |s| s.webhooks.timeout_secs = 5).await else { return };
    let hook = Endpoint::start(&[500]).await;
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Where is my parcel", "w1@c.example", "Hi")).await;
    let n = n.ticket.unwrap();
    let ticket_id = app.services.db.ticket(n).await.unwrap().unwrap().id;
    let rule_id = disabled_rule(&app, "Tell the CRM").await;
    let body = json!({ "event": { "kind": "ticket_created", "ticket": n }, "ticket": { "number": n, "subject": "Wo ist … 📦" } });
    let body = body.to_string();
    let id = enqueue(&app.services.db, Some(rule_id), Some(ticket_id), &hook.url, &body).await;
    app.services.webhooks_wake.notify_one();

    let first = row_when(&app.services.db, id, |d| d.attempts == 1).await;
    let now = deskmail::domain::now();
    assert_eq!((first.status.as_str(), first.last_status), ("queued", Some(500)), "{first:?}");
    assert!(first.last_error.as_deref().is_some_and(|e| e.starts_with("HTTP 500") && e.contains("endpoint says no")));
    assert!((now + 20..=now + 31).contains(&first.next_attempt_at), "the first retry waits 30 s: {first:?}");
    let got = hook.received();
    assert_eq!(got.len(), 1);
    let header = |name: &str| got[0].headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(got[0].body, body, "the body goes out unchanged");
    assert!(valid_signature(&got[0].body, &header("x-deskmail-signature")), "{}", header("x-deskmail-signature"));
    assert_eq!(header("x-deskmail-delivery"), id.to_string());
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("user-agent"), concat!("deskmail/", env!("CARGO_PKG_VERSION")));

    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status, 200);
    let (ticket_link, shown_url) = (format!("href=\"/tickets/{n}\""), hook.url.replace('/', "&#x2f;"));
    for want in ["Tell the CRM", &ticket_link, &shown_url, "HTTP 500", "href=\"/admin/webhooks\""] {
        assert!(page.body.contains(want), "{want} missing from the admin page: {}", page.body);
    }
    assert!(page.body.contains(&format!("action=\"/admin/webhooks/{id}/retry\"")));
    let retried = admin.post(&format!("/admin/webhooks/{id}/retry"), &[]).await;
    assert_eq!((retried.status, retried.location.as_str()), (303, "/admin/webhooks"));
    let sent = row_when(&app.services.db, id, |d| d.status == "sent").await;
    assert_eq!((sent.attempts, sent.last_status, sent.last_error.as_deref()), (2, Some(200), None));
    assert!(sent.sent_at.is_some());
    let got = hook.received();
    assert_eq!(got.len(), 2, "sent once more, not again after success");
    assert_eq!(
        (got[1].body.as_str(), got[1].headers["x-deskmail-delivery"].to_str().unwrap()),
        (body.as_str(), &*id.to_string())
    );
    assert!(!app.services.db.retry_webhook(id, now).await.unwrap(), "a sent delivery is not sent again");
    assert!(!admin.get("/admin/webhooks").await.body.contains(&format!("/admin/webhooks/{id}/retry")));

    let (status, list) = app.get("/api/v1/webhooks/deliveries").await;
    assert_eq!(status, 200, "{list}");
    let d = &list["deliveries"][0];
    assert_eq!(
        (d["id"].as_i64(), d["rule"]["name"].as_str(), d["ticket"].as_i64()),
        (Some(id), Some("Tell the CRM"), Some(n))
    );
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some("sent"), Some(2), Some(200))
    );
    assert_eq!(d["url"], hook.url.as_str());
    assert!(d.get("body").is_none() && d.get("signature").is_none());
    let agent = app.token_for("ana@example.test", Role::Agent).await;
    assert_eq!(app.get_as("/api/v1/webhooks/deliveries", &agent).await.0, 403);
    let agent_page = signed_in_staff(&app, "bo@example.test", Role::Agent).await.get("/admin/webhooks").await;
    assert_eq!(agent_page.status, 403);
}

/// A switched-off rule (so no rule engine acts on it) to name the deliveries.
async fn disabled_rule(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar(
        "insert into rules (name, enabled, position, trigger, conditions, actions, created_at, updated_at) \
         values ($1, 0, 1, 'ticket_created', '{}', '[]', 0, 0) returning id",
    )
    .bind(name)
    .fetch_one(app.services.db.pool())
    .await
    .unwrap()
}

async fn a_silent_endpoint_times_out_without_holding_up_a_good_one_and_the_last_attempt_fails(store: Store) {
    init_once();
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(store, dir.path()).await else { return };
    // Services only, no workers: this test drives the sender's step itself.
    let services = deskmail::startup::Services::start(test_settings(dir.path(), url)).await.unwrap();
    let db = services.db.clone();
    let silent_url = silent_endpoint().await;
    let good = Endpoint::start(&[]).await;
    let refused_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let silent = enqueue(&db, None, None, &silent_url, "{}").await;
    let ok = enqueue(&db, None, None, &good.url, "{\"n\": 1}").await;
    let refused = enqueue(&db, None, None, &refused_url, "{}").await;
    let settings = WebhookSettings { timeout_secs: 1, max_attempts: 2, concurrency: 4 };
    let sender = WebhookSender::new(db.clone(), settings, Arc::default()).unwrap();

    let (outcome, silent_meanwhile) = tokio::join!(sender.try_deliver(), async {
        row_when(&db, ok, |d| d.status == "sent").await;
        row(&db, silent).await.status
    });
    assert_eq!(silent_meanwhile, "sending", "the good endpoint was served while the silent one was still waited for");
    let Outcome::Attempted(attempts) = outcome.unwrap() else { panic!("nothing attempted") };
    let ids: Vec<i64> = attempts.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [silent, ok, refused]);
    assert_eq!(attempts[1].1, WebhookAttempt::Sent { status: 200 });
    let now = deskmail::domain::now();
    for (id, want) in [(silent, "timed out"), (refused, "cannot connect")] {
        let r = row(&db, id).await;
        assert_eq!((r.status.as_str(), r.attempts, r.last_status), ("queued", 1, None), "{r:?}");
        assert!(r.last_error.as_deref().is_some_and(|e| e.starts_with(want)), "{r:?}");
        assert!((now + 20..=now + 31).contains(&r.next_attempt_at), "{r:?}");
    }
    assert_eq!(good.received().len(), 1);
    assert_eq!(sender.try_deliver().await.unwrap(), Outcome::EmptyQueue, "the retries are not due yet");

    // Due now (as "retry now" does): the second and last attempt fails for good.
    for id in [silent, refused] {
        assert!(db.retry_webhook(id, deskmail::domain::now()).await.unwrap());
    }
    let Outcome::Attempted(attempts) = sender.try_deliver().await.unwrap() else { panic!("nothing attempted") };
    assert_eq!(attempts.len(), 2);
    for (id, attempt) in attempts {
        let r = row(&db, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("failed", 2), "{r:?}");
        assert!(
            matches!(attempt, WebhookAttempt::Failed { status: None, ref error } if error.starts_with("gave up after 2 attempts"))
        );
    }
    // Retrying a failed delivery starts a new series.
    assert!(db.retry_webhook(refused, deskmail::domain::now()).await.unwrap());
    let r = row(&db, refused).await;
    assert_eq!((r.status.as_str(), r.attempts), ("queued", 0));
    assert!(!db.retry_webhook(ok, deskmail::domain::now()).await.unwrap());
    db.close().await;
}
