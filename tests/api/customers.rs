//! Customers, on both stores: the profile API and page, the note, blocking an address or a domain (mail held with
//! no ticket and no reply) and unblocking (held mail goes through).

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::Role;
use serde_json::Value;

store_tests!(
    a_blocked_sender_is_held_without_a_ticket_and_unblocking_lets_the_mail_through,
    the_customer_profile_lists_tickets_orders_and_the_note_and_unknown_addresses_are_404,
);

async fn send(app: &TestApp, method: reqwest::Method, path: &str) -> (u16, Value) {
    let resp = app.client.request(method, format!("{}{path}", app.address)).bearer_auth(&app.admin_token);
    let resp = resp.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn a_blocked_sender_is_held_without_a_ticket_and_unblocking_lets_the_mail_through(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let first = app.ingest(&mail("Kim <kim@customer.example>", "Hi", "b1@customer.example", "first")).await;
    assert!(first.ticket.is_some());
    let (s, body) = send(&app, reqwest::Method::POST, "/api/v1/customers/Kim@Customer.example/block").await;
    assert_eq!((s, body["blocked"].as_str()), (200, Some("kim@customer.example")), "{body}");
    let held = app.ingest(&mail("Kim <kim@customer.example>", "Again", "b2@customer.example", "second")).await;
    assert_eq!(held.kind.as_str(), "quarantined");
    assert_eq!((held.ticket, held.reason.as_deref()), (None, Some("blocked: kim@customer.example")));
    let (_, profile) = app.get("/api/v1/customers/kim@customer.example").await;
    assert_eq!(profile["blocked"], true);
    let (s, _) = send(&app, reqwest::Method::POST, "/api/v1/customers/x@junk.example/block?domain=true").await;
    assert_eq!(s, 200);
    let other = app.ingest(&mail("Spammer <other@junk.example>", "Buy", "b3@junk.example", "spam")).await;
    assert_eq!(other.reason.as_deref(), Some("blocked: @junk.example"));
    let (s, _) = send(&app, reqwest::Method::POST, "/api/v1/customers/support@example.test/block?domain=true").await;
    assert_eq!(s, 422, "our own mailbox's domain");
    let (_, q) = app.get("/api/v1/quarantine").await;
    assert_eq!(q["total"].as_i64().or(q["entries"].as_array().map(|a| a.len() as i64)), Some(2), "{q}");
    let (s, body) = send(&app, reqwest::Method::DELETE, "/api/v1/customers/kim@customer.example/block").await;
    assert_eq!((s, body["released"].as_i64()), (200, Some(1)), "{body}");
    let (_, profile) = app.get("/api/v1/customers/kim@customer.example").await;
    assert_eq!(profile["blocked"], false);
    let subjects: Vec<&str> =
        profile["tickets"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"Again"), "the held mail became a ticket: {subjects:?}");
    let again = app.ingest(&mail("Kim <kim@customer.example>", "Third", "b4@customer.example", "third")).await;
    assert!(again.ticket.is_some(), "no longer blocked");
}

async fn the_customer_profile_lists_tickets_orders_and_the_note_and_unknown_addresses_are_404(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n =
        app.ingest(&mail("Kim Weber <kim@customer.example>", "Lamp", "c1@customer.example", "x")).await.ticket.unwrap();
    let order = serde_json::json!({ "customer_email": "kim@customer.example", "status": "paid" });
    let put = app.client.put(format!("{}/api/v1/orders/7001", app.address)).bearer_auth(&app.admin_token);
    assert!(put.json(&order).send().await.unwrap().status().is_success());
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let page = agent.get("/customers/kim@customer.example").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Kim Weber") && page.body.contains(&format!("#{n}")) && page.body.contains("Order 7001")
    );
    let saved = agent.post("/customers/kim@customer.example/note", &[("note", "Prefers <b>phone</b> calls")]).await;
    assert_eq!(saved.status, 303);
    let page = agent.get("/customers/kim@customer.example").await;
    assert!(page.body.contains("Prefers &lt;b&gt;phone&lt;&#x2f;b&gt; calls"), "the note, escaped");
    let (_, p) = app.get("/api/v1/customers/kim@customer.example").await;
    assert_eq!((p["name"].as_str(), p["note"].as_str()), (Some("Kim Weber"), Some("Prefers <b>phone</b> calls")));
    assert_eq!(p["tickets"][0]["number"].as_i64(), Some(n));
    assert_eq!(p["orders"][0]["number"], "7001");
    assert_eq!(app.get("/api/v1/customers/nobody@nowhere.example").await.0, 404);
    let search = agent.get("/tickets?status=all&q=kim%40customer.example").await.body;
    assert!(search.contains("Customer: <a href=\"/customers/kim%40customer.example\">Kim Weber</a>"), "{search}");
    assert_eq!(agent.get("/customers/nobody@nowhere.example").await.status, 404);
    let from_ticket = agent
        .post("/customers/kim@customer.example/block", &[("back", &format!("/tickets/{n}")), ("scope", "address")])
        .await;
    assert_eq!((from_ticket.status, from_ticket.location.clone()), (303, format!("/tickets/{n}")));
    let page = agent.get("/customers/kim@customer.example").await;
    assert!(page.body.contains("Blocked (kim@customer.example)"), "{}", page.body);
    assert_eq!(agent.post("/customers/kim@customer.example/unblock", &[]).await.status, 303);
}
