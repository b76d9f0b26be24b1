//! Hostile input through the API and the dashboard: roles, file names and types, NUL, filters, cookies, origins.

use crate::helpers::{Store, mail, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::Role;
use serde_json::json;

store_tests!(
    the_outbox_api_is_for_admins_only,
    api_attachments_are_cleaned_like_mail_ones_and_bad_types_refused,
    unknown_list_filters_answer_400,
    signing_out_expires_the_session_cookie,
    a_post_from_the_same_host_with_another_scheme_is_refused,
);

async fn the_outbox_api_is_for_admins_only(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    let (status, body) = app.get_as("/api/v1/outbox", &agent).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].is_string());
    assert_eq!(app.get("/api/v1/outbox").await.0, 200);
}

async fn api_attachments_are_cleaned_like_mail_ones_and_bad_types_refused(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let number = app.ingest(&mail("c@customer.example", "files", "f1@customer.example", "x")).await.ticket.unwrap();
    let data = base64_of(b"hello");
    let bad_type = json!({ "body": "n", "attachments": [{ "filename": "a.txt", "content_type": "text/plain\r\nX-Evil: 1", "data_base64": data }] });
    let (status, body) = crate::outbound::post(&app, &format!("/api/v1/tickets/{number}/notes"), bad_type).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("content_type"), "{body}");
    let evil_name = json!({
        "body": "with\u{0}nul",
        "attachments": [{ "filename": "../../etc/pass\r\nwd\u{0}.txt", "content_type": "Text/Plain", "data_base64": data }],
    });
    let (status, body) = crate::outbound::post(&app, &format!("/api/v1/tickets/{number}/notes"), evil_name).await;
    assert_eq!(status, 201, "{body}");
    let ticket = app.ticket(number).await;
    let note = ticket["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "note").unwrap().clone();
    assert_eq!(note["body_text"], "withnul");
    let file = &note["attachments"][0];
    assert_eq!(file["filename"], "....etcpasswd.txt");
    assert_eq!(file["content_type"], "text/plain");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn unknown_list_filters_answer_400(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let (status, body) = app.get("/api/v1/tickets?stauts=open").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("stauts"), "{body}");
    assert_eq!(app.get("/api/v1/tickets?status=open&page=1").await.0, 200);
    assert_eq!(app.get("/api/v1/outbox?colour=red").await.0, 400);
}

async fn signing_out_expires_the_session_cookie(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let browser = signed_in_staff(&app, "out@example.test", Role::Agent).await;
    let page = browser.post("/logout", &[]).await;
    assert_eq!(page.status, 303);
    let cookies: Vec<&str> = page.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    let cookie = cookies.iter().find(|c| c.starts_with("deskmail_session=")).copied().unwrap_or_default();
    assert!(!cookie.is_empty(), "the session cookie is sent back to be removed: {cookies:?}");
    assert!(cookie.contains("Max-Age=0") || cookie.contains("1970"), "…expired: {cookie:?}");
    let login = browser.get(&page.location).await;
    assert!(login.body.contains("Signed out."), "the sign-in page says so");
    assert_eq!(browser.get("/tickets").await.status, 303, "the old session is gone");
}

async fn a_post_from_the_same_host_with_another_scheme_is_refused(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let browser = signed_in_staff(&app, "scheme@example.test", Role::Agent).await;
    // The same host and port, but https (the app is served over http): not the dashboard's origin.
    let other = app.address.replace("http://", "https://");
    let resp = browser
        .client()
        .post(format!("{}/settings/profile", app.address))
        .header("Origin", &other)
        .form(&[("signature", "x"), ("notify_assigned", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let same = browser.post("/settings/profile", &[("signature", "x"), ("notify_assigned", "on")]).await;
    assert_ne!(same.status, 403, "the real origin still works");
    // Behind a TLS proxy the public URL is https: a page of the public host must be https too.
    let Some(proxied) =
        crate::helpers::spawn_app_with(store, |s| s.server.public_url = "https://desk.example.test".into()).await
    else {
        return;
    };
    let browser = signed_in_staff(&proxied, "proxied@example.test", Role::Agent).await;
    for (origin, allowed) in [("http://desk.example.test", false), ("https://desk.example.test", true)] {
        let resp = browser
            .client()
            .post(format!("{}/settings/profile", proxied.address))
            .header("Host", "desk.example.test")
            .header("Origin", origin)
            .form(&[("signature", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status() != 403, allowed, "{origin}");
    }
}
