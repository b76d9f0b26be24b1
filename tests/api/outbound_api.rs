//! The API write side and the composer's decisions, without a mail server (deliveries are inspected, not received).

use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use crate::ingest::dsn_for;
use crate::store_tests;
use deskmail::domain::Role;
use serde_json::{Value, json};

store_tests!(
    a_retried_reply_with_the_same_idempotency_key_is_stored_and_sent_once,
    notes_send_nothing_and_open_a_new_ticket,
    patch_changes_status_priority_and_assignee_with_history_and_a_notice,
    a_bounce_naming_our_reply_marks_its_delivery_failed,
    replying_as_another_author_needs_an_admin,
    a_reply_with_attachments_carries_them_on_the_message_and_in_the_mail,
);

/// An app whose `support` mailbox can send (to a closed port: deliveries stay queued and retry).
pub async fn app(store: Store) -> Option<TestApp> {
    spawn_app_with(store, |s| {
        s.mailboxes[0].smtp = Some(toml::from_str("host = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n").unwrap());
        s.outbound.retry_initial_secs = 3600;
    })
    .await
}

/// Sends `body` as JSON with `token`, and with an `Idempotency-Key` when `key` is given; returns status and JSON.
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.address)).bearer_auth(token).json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn a_retried_reply_with_the_same_idempotency_key_is_stored_and_sent_once(store: Store) {
    let Some(app) = app(store).await else { return };
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let path = format!("/api/v1/tickets/{n}/replies");
    let (s1, b1) =
        send(&app, reqwest::Method::POST, &path, &app.admin_token, json!({ "body": "once" }), Some("k-1")).await;
    let (s2, b2) =
        send(&app, reqwest::Method::POST, &path, &app.admin_token, json!({ "body": "once" }), Some("k-1")).await;
    assert_eq!((s1, s2), (201, 200), "{b1} {b2}");
    assert_eq!(b1["message"]["id"], b2["message"]["id"]);
    let t = app.ticket(n).await;
    assert_eq!(t["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "agent").count(), 1);
    let replies = t["outbound"].as_array().unwrap().iter().filter(|o| o["kind"] == "agent_reply").count();
    assert_eq!(replies, 1);
    let (s3, _) =
        send(&app, reqwest::Method::POST, &path, &app.admin_token, json!({ "body": "again" }), Some("k-2")).await;
    assert_eq!(s3, 201, "another key is another reply");
    let (s4, b4) = send(&app, reqwest::Method::POST, &path, &app.admin_token, json!({ "body": "  " }), None).await;
    assert_eq!(s4, 422, "{b4}");
    assert!(b4["error"].as_str().unwrap().starts_with("body:"));
    let (s5, _) =
        send(&app, reqwest::Method::POST, &path, &app.admin_token, json!({ "body": "x", "bogus": 1 }), None).await;
    assert_eq!(s5, 422);
}

async fn notes_send_nothing_and_open_a_new_ticket(store: Store) {
    let Some(app) = app(store).await else { return };
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let before = app.ticket(n).await["outbound"].as_array().unwrap().len();
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{n}/notes"),
        &app.admin_token,
        json!({ "body": "internal only" }),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"]["kind"], "note");
    let t = app.ticket(n).await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["outbound"].as_array().unwrap().len(), before, "a note is never mailed");
    let path = format!("/api/v1/tickets/{n}/notes");
    for misplaced in [json!({ "body": "x", "to": ["a@b.example"] }), json!({ "body": "x", "status": "resolved" })] {
        let (status, body) = send(&app, reqwest::Method::POST, &path, &app.admin_token, misplaced, None).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"].as_str().unwrap().contains("not a field of a note"), "{body}");
    }
}

async fn patch_changes_status_priority_and_assignee_with_history_and_a_notice(store: Store) {
    let Some(app) = app(store).await else { return };
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let path = format!("/api/v1/tickets/{n}");
    let (status, t) = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        &app.admin_token,
        json!({ "priority": "urgent", "assignee": "agent@example.test" }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (t["priority"].as_str(), t["status"].as_str(), t["assignee"]["email"].as_str()),
        (Some("urgent"), Some("open"), Some("agent@example.test"))
    );
    let detail = app.ticket(n).await;
    let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"priority_changed") && kinds.contains(&"assignee_changed") && kinds.contains(&"status_changed"),
        "{kinds:?}"
    );
    let notice = detail["outbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "notify_assigned")
        .cloned()
        .expect("assigned notice");
    assert_eq!(notice["delivery"]["recipients"][0]["email"], "agent@example.test");
    let (status, t) =
        send(&app, reqwest::Method::PATCH, &path, &agent, json!({ "status": "resolved", "assignee": null }), None)
            .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["assignee"], Value::Null);
    let resolved = app.ticket(n).await["outbound"].as_array().unwrap().iter().any(|o| o["kind"] == "resolved");
    assert!(resolved, "the customer hears that the ticket was resolved");
    for bad in [
        json!({ "status": "done" }),
        json!({ "priority": 3 }),
        json!({ "assignee": "ghost@example.test" }),
        json!({ "colour": "red" }),
    ] {
        let (status, body) = send(&app, reqwest::Method::PATCH, &path, &agent, bad.clone(), None).await;
        assert_eq!(status, 422, "{bad} → {body}");
    }
}

async fn a_bounce_naming_our_reply_marks_its_delivery_failed(store: Store) {
    let Some(app) = app(store).await else { return };
    let n = app.ingest(&mail("gone@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let (_, body) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{n}/replies"),
        &app.admin_token,
        json!({ "body": "hello" }),
        None,
    )
    .await;
    let ours = body["message"]["message_id"].as_str().unwrap().to_string();
    let b = app.ingest(dsn_for(&ours).as_bytes()).await;
    assert_eq!(b.ticket, Some(n));
    let t = app.ticket(n).await;
    let reply = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").unwrap().clone();
    assert_eq!(reply["delivery"]["status"], "failed");
    assert!(reply["delivery"]["error"].as_str().unwrap().contains("5.1.1"), "{reply}");
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["kind"] == "bounce"));
}

async fn replying_as_another_author_needs_an_admin(store: Store) {
    let Some(app) = app(store).await else { return };
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    app.token_for("other@example.test", Role::Agent).await;
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let path = format!("/api/v1/tickets/{n}/replies");
    let (status, _) =
        send(&app, reqwest::Method::POST, &path, &agent, json!({ "body": "x", "author": "other@example.test" }), None)
            .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &path,
        &app.admin_token,
        json!({ "body": "x", "author": "other@example.test" }),
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["message"]["from"], "other@example.test");
}

async fn a_reply_with_attachments_carries_them_on_the_message_and_in_the_mail(store: Store) {
    use base64::Engine;
    let Some(app) = app(store).await else { return };
    let n = app.ingest(&mail("c@customer.example", "invoice", "inv@customer.example", "send it")).await.ticket.unwrap();
    let path = format!("/api/v1/tickets/{n}/replies");
    let pdf = b"%PDF-1.4 invoice".to_vec();
    let file = json!({
        "filename": "Rechnung März.pdf",
        "content_type": "application/pdf",
        "data_base64": base64::engine::general_purpose::STANDARD.encode(&pdf),
    });
    let body = json!({ "body": "Here it is.", "attachments": [file] });
    let (status, body) = send(&app, reqwest::Method::POST, &path, &app.admin_token, body, None).await;
    assert_eq!(status, 201, "{body}");
    let t = app.ticket(n).await;
    let reply = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").unwrap().clone();
    assert_eq!(reply["attachments"][0]["filename"], "Rechnung März.pdf");
    assert_eq!(reply["attachments"][0]["size"], pdf.len());
    // The POST answers with the message it wrote, as the ticket shows it: its file and its queued delivery.
    let answered = &body["message"];
    assert_eq!((answered["id"].clone(), answered["kind"].as_str()), (reply["id"].clone(), Some("agent")), "{body}");
    assert_eq!(answered["attachments"], reply["attachments"], "{body}");
    // The sender may have tried meanwhile (to a closed port): the same delivery, its state moved on.
    let recipients = |m: &Value| -> Vec<(Value, Value)> {
        let list = m["delivery"]["recipients"].as_array().cloned().unwrap_or_default();
        list.iter().map(|r| (r["id"].clone(), r["email"].clone())).collect()
    };
    assert_eq!(
        recipients(answered),
        vec![(reply["delivery"]["recipients"][0]["id"].clone(), json!("c@customer.example"))]
    );
    assert_eq!(recipients(answered), recipients(&reply), "{body}");
    assert_eq!(body["ticket"]["number"], n, "{body}");
    let raw: Vec<u8> = sqlx::query_scalar("select raw from outbound_mails where kind = 'agent_reply'")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    let sent = deskmail::ingest::parse::parse(&raw).unwrap();
    let attached = sent.attachments.iter().find(|a| a.content_type == "application/pdf").expect("the PDF is attached");
    assert_eq!((attached.filename.as_str(), attached.data.as_slice()), ("Rechnung März.pdf", pdf.as_slice()));
    let bad = json!({ "body": "x", "attachments": [{ "filename": "a.bin", "data_base64": "%%%" }] });
    let (status, body) = send(&app, reqwest::Method::POST, &path, &app.admin_token, bad, None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("a.bin"), "{body}");
}
