//! Cross-site form posts with a signed-in cookie are refused and change nothing; same-origin ones work.

use super::{http_client, http_login, staff};
use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use deskmail::domain::Role;

/// How a request claims where it comes from.
#[derive(Debug, Clone, Copy)]
enum Via {
    EvilOrigin,
    CrossSiteFetch,
    SameSiteFetch,
    SameOrigin,
}

fn headers(app: &TestApp, from: Via) -> Vec<(&'static str, String)> {
    match from {
        Via::EvilOrigin => vec![("origin", "https://evil.example".into())],
        Via::CrossSiteFetch => vec![("sec-fetch-site", "cross-site".into())],
        Via::SameSiteFetch => vec![("sec-fetch-site", "same-site".into()), ("origin", "http://127.0.0.2:1".into())],
        Via::SameOrigin => vec![("origin", app.address.clone()), ("sec-fetch-site", "same-origin".into())],
    }
}

async fn post_note(app: &TestApp, client: &reqwest::Client, number: i64, from: Via) -> u16 {
    let form = reqwest::multipart::Form::new()
        .text("body", format!("note sent as {from:?}"))
        .text("idempotency_key", uuid::Uuid::new_v4().to_string());
    let mut req = client.post(format!("{}/tickets/{number}/notes", app.address)).multipart(form);
    for (k, v) in headers(app, from) {
        req = req.header(k, v);
    }
    req.send().await.expect("note request").status().as_u16()
}

async fn post_status(app: &TestApp, client: &reqwest::Client, number: i64, from: Via) -> u16 {
    let mut req = client.post(format!("{}/tickets/{number}/status", app.address)).form(&[("value", "closed")]);
    for (k, v) in headers(app, from) {
        req = req.header(k, v);
    }
    req.send().await.expect("status request").status().as_u16()
}

fn notes(t: &serde_json::Value) -> Vec<String> {
    t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "note")
        .map(|m| m["body_text"].as_str().unwrap_or_default().trim().to_string())
        .collect()
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing_while_same_origin_posts_work() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let number = app.ingest(&mail("c@customer.example", "Help", "csrf-1@customer.example", "Hi")).await.ticket.unwrap();
    let client = http_client();
    http_login(&app, &client, "alice@example.test").await;

    for from in [Via::EvilOrigin, Via::CrossSiteFetch, Via::SameSiteFetch] {
        assert_eq!(post_note(&app, &client, number, from).await, 403, "note {from:?}");
        assert_eq!(post_status(&app, &client, number, from).await, 403, "status {from:?}");
    }
    let t = app.ticket(number).await;
    assert_eq!(notes(&t), Vec::<String>::new(), "a refused note was stored");
    assert_eq!(t["status"], "new", "a refused status change was applied");

    assert_eq!(post_note(&app, &client, number, Via::SameOrigin).await, 303);
    assert_eq!(post_status(&app, &client, number, Via::SameOrigin).await, 303);
    let t = app.ticket(number).await;
    assert_eq!(notes(&t), ["note sent as SameOrigin"]);
    assert_eq!(t["status"], "closed");
}

#[tokio::test]
async fn login_and_logout_cannot_be_forced_from_another_site() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let client = http_client();
    let login = client
        .post(format!("{}/login", app.address))
        .header("origin", "https://evil.example")
        .form(&[("email", "alice@example.test"), ("password", super::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 403, "login CSRF");
    let page = client.get(format!("{}/tickets", app.address)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 303, "the refused login did not sign in");

    http_login(&app, &client, "alice@example.test").await;
    let logout =
        client.post(format!("{}/logout", app.address)).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(logout.status().as_u16(), 403);
    let page = client.get(format!("{}/tickets", app.address)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "still signed in");
}
