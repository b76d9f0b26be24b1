//! Who may do what: admin-only API calls refuse agent tokens, pages need a session, `next` never leaves the site.

use super::{Browser, PASSWORD, http_client, staff};
use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use deskmail::domain::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A failed delivery: an admin's reply from a mailbox without SMTP settings.
async fn failed_delivery(app: &TestApp, number: i64) -> i64 {
    let reply = json!({ "body": "We are on it." });
    assert_eq!(post_as(app, &app.admin_token, &format!("/api/v1/tickets/{number}/replies"), reply).await, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = app.get("/api/v1/outbox?status=failed").await;
        if let Some(id) = body["outbox"][0]["id"].as_i64() {
            return id;
        }
        assert!(Instant::now() < deadline, "no failed delivery appeared: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> u16 {
    let resp =
        app.client.post(format!("{}{path}", app.address)).bearer_auth(token).json(&body).send().await.expect("post");
    resp.status().as_u16()
}

#[tokio::test]
async fn admin_only_api_calls_refuse_an_agent_token() {
    // No SMTP is retried like a 4xx; without retry time the first attempt gives up and the delivery fails.
    let Some(app) = spawn_app_with(Store::Sqlite, |s| s.outbound.retry_max_hours = 0).await else { return };
    let agent = app.token_for("alice@example.test", Role::Agent).await;
    let number =
        app.ingest(&mail("c@customer.example", "Help", "authz-1@customer.example", "Hi")).await.ticket.unwrap();
    let delivery = failed_delivery(&app, number).await;

    assert_eq!(app.get_as("/api/v1/quarantine", &agent).await.0, 403);
    assert_eq!(app.get("/api/v1/quarantine").await.0, 200);

    let retry = format!("/api/v1/outbox/{delivery}/retry");
    assert_eq!(post_as(&app, &agent, &retry, json!({})).await, 403);
    let (_, failed) = app.get("/api/v1/outbox?status=failed").await;
    assert_eq!(failed["outbox"][0]["id"], delivery, "the refused retry left the delivery failed");

    let replies = format!("/api/v1/tickets/{number}/replies");
    let as_admin = json!({ "body": "Signed by the boss", "author": "admin@example.test" });
    assert_eq!(post_as(&app, &agent, &replies, as_admin).await, 403);
    let notes = format!("/api/v1/tickets/{number}/notes");
    assert_eq!(post_as(&app, &agent, &notes, json!({ "body": "x", "author": "admin@example.test" })).await, 403);
    let t = app.ticket(number).await;
    assert_eq!(t["messages"].as_array().unwrap().len(), 2, "nothing was stored: {t}");

    assert_eq!(post_as(&app, &agent, &replies, json!({ "body": "In my own name" })).await, 201);
    assert_eq!(post_as(&app, &app.admin_token, &retry, json!({})).await, 200, "the same retry works for an admin");
}

#[tokio::test]
async fn dashboard_pages_without_a_session_redirect_to_login_with_next() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    let number =
        app.ingest(&mail("c@customer.example", "Help", "authz-2@customer.example", "Hi")).await.ticket.unwrap();
    let client = http_client();
    let cases = [
        ("/tickets".to_string(), "/login?next=/tickets".to_string()),
        ("/tickets?status=all&q=a b".to_string(), "/login?next=/tickets%3Fstatus%3Dall%26q%3Da%2520b".to_string()),
        (format!("/tickets/{number}?images=1"), format!("/login?next=/tickets/{number}%3Fimages%3D1")),
        ("/admin/users".to_string(), "/login?next=/admin/users".to_string()),
        ("/settings".to_string(), "/login?next=/settings".to_string()),
    ];
    for (path, login) in cases {
        let resp = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        assert_eq!(resp.headers()["location"], login.as_str(), "{path}");
    }
    let note = reqwest::multipart::Form::new().text("body", "anonymous");
    let resp = client.post(format!("{}/tickets/{number}/notes", app.address)).multipart(note).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 303, "a post without a session is sent to login");
    assert_eq!(app.ticket(number).await["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn login_never_redirects_off_site_whatever_next_says() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    // Each account allows five sign-ins a minute: the form posts take turns on three.
    let accounts = ["alice@example.test", "ava@example.test", "amy@example.test"];
    for email in accounts {
        staff(&app, email, "Alice Agent", Role::Agent).await;
    }
    staff(&app, "ana@example.test", "Ana Agent", Role::Agent).await;
    // The form post itself, with a hostile `next` that the login page never rendered.
    let hostile = [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        "/%2F%2Fevil.example",
        "/\\\\evil.example",
        "/login?next=//evil.example",
    ];
    for (n, next) in hostile.into_iter().enumerate() {
        let resp = http_client()
            .post(format!("{}/login", app.address))
            .form(&[("email", accounts[n % 3]), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["location"], "/tickets", "{next:?}");
    }

    let Some(b) = Browser::start(&app).await else { return };
    // `%09` arrives as a tab, which browsers drop: `/\t/evil.example` would lead to `//evil.example`.
    for next in ["//evil.example", "https:%2F%2Fevil.example", "/%09/evil.example", "/%0A/evil.example"] {
        b.goto(&format!("/login?next={next}")).await;
        b.login("ana@example.test", PASSWORD).await;
        let url = b.client.current_url().await.unwrap();
        assert_eq!((url.host_str(), url.path()), (Some("127.0.0.1"), "/tickets"), "next={next}");
        b.click_and_wait("header .me form button[type=submit]").await;
    }
    b.goto("/login?next=/tickets%3Fstatus%3Dall").await;
    b.login("ana@example.test", PASSWORD).await;
    assert_eq!(b.path().await, "/tickets?status=all", "a local next is honoured");
    b.close().await;
}
