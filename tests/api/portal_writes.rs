//! Writing through the customer portal, on both stores: new tickets and answers stored as mail is (events,
//! reopening, follow-ups), bad input answered beside the field with the text kept, solved and rated once.

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::portal::portal_customer;
use crate::store_tests;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

store_tests!(
    a_new_ticket_with_a_file_and_an_order_is_stored_like_a_customer_mail,
    answers_reopen_pending_tickets_and_open_a_follow_up_of_closed_ones,
    oversized_or_too_many_files_are_refused_beside_the_field_and_the_text_is_kept,
    a_customer_marks_a_ticket_solved_and_rates_the_resolution_once,
    the_portal_switched_off_answers_every_page_with_not_available,
);

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_string()).mime_str("text/plain").unwrap()
}

async fn patch(app: &TestApp, n: i64, body: Value) {
    let resp = app
        .client
        .patch(format!("{}/api/v1/tickets/{n}", app.address))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

async fn agent_reply(app: &TestApp, n: i64, body: &str) {
    let resp = app
        .client
        .post(format!("{}/api/v1/tickets/{n}/replies", app.address))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

fn event_kinds(t: &Value) -> Vec<(String, String)> {
    t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect()
}

async fn a_new_ticket_with_a_file_and_an_order_is_stored_like_a_customer_mail(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let order =
        json!({ "customer_email": "kim@customer.example", "status": "shipped", "total": "20.00", "currency": "EUR" });
    let put = app.client.put(format!("{}/api/v1/orders/5001", app.address)).bearer_auth(&app.admin_token);
    assert!(put.json(&order).send().await.unwrap().status().is_success());
    let put = app.client.put(format!("{}/api/v1/ticket_types/damaged", app.address)).bearer_auth(&app.admin_token);
    assert!(put.json(&json!({"title": "Arrived damaged"})).send().await.unwrap().status().is_success());
    let kim = portal_customer(&app, "kim@customer.example").await;
    let form_page = kim.get("/portal/tickets/new").await;
    assert!(form_page.body.contains("Order 5001"), "the customer's orders are offered");
    assert!(form_page.body.contains("Arrived damaged"), "the ticket types are offered");
    let form = Form::new()
        .text("subject", "Broken <i>lamp</i> [#1000]")
        .text("body", "The lamp arrived broken.")
        .text("order", "5001")
        .text("type", "damaged")
        .part("attachments", file("photo.txt", b"a photo".to_vec()));
    let p = kim.post_multipart("/portal/tickets", form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let number: i64 =
        p.location.trim_start_matches("/portal/tickets/").trim_end_matches("?done=opened").parse().unwrap();
    let t = app.ticket(number).await;
    assert_eq!(t["requester"]["email"], "kim@customer.example");
    assert_eq!(t["subject"], "Broken <i>lamp</i>", "the ticket tag is dropped, the rest kept as text");
    let m = &t["messages"][0];
    assert_eq!((m["kind"].as_str(), m["visible_text"].as_str()), (Some("customer"), Some("The lamp arrived broken.")));
    assert_eq!(m["attachments"][0]["filename"], "photo.txt");
    assert_eq!(t["links"][0]["ref"], "5001");
    assert_eq!(t["type"], "damaged");
    let kinds = event_kinds(&t);
    assert!(kinds.contains(&("type_changed".into(), "customer".into())), "{kinds:?}");
    assert!(kinds.contains(&("ticket_created".into(), "customer".into())), "{kinds:?}");
    assert!(kinds.contains(&("message_received".into(), "customer".into())), "{kinds:?}");
    let page = kim.get(&p.location).await;
    assert!(page.body.contains("we received your request") && page.body.contains("photo.txt"), "{}", page.body);
    assert!(page.body.contains("Broken &lt;i&gt;lamp"), "HTML in the subject is text");
    let other = kim
        .post_multipart("/portal/tickets", Form::new().text("subject", "x").text("body", "y").text("order", "9999"))
        .await;
    assert_eq!(other.status, 422, "an order that is not theirs");
    let bad_type = kim
        .post_multipart("/portal/tickets", Form::new().text("subject", "x").text("body", "y").text("type", "nope"))
        .await;
    assert_eq!(bad_type.status, 422, "a type that does not exist");
    assert!(bad_type.body.contains("kinds of request"), "{}", bad_type.body);
}

async fn answers_reopen_pending_tickets_and_open_a_follow_up_of_closed_ones(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Lamp", "a1@customer.example", "Hi")).await.ticket.unwrap();
    agent_reply(&app, n, "Try a new bulb.").await;
    assert_eq!(app.ticket(n).await["status"], "pending");
    let kim = portal_customer(&app, "kim@customer.example").await;
    let form = Form::new().text("body", "Did not help.").part("attachments", file("log.txt", b"log".to_vec()));
    let p = kim.post_multipart(&format!("/portal/tickets/{n}/replies"), form).await;
    assert_eq!((p.status, p.location.clone()), (303, format!("/portal/tickets/{n}?done=sent")), "{}", p.body);
    let t = app.ticket(n).await;
    assert_eq!(t["status"], "open", "a customer answer reopens a pending ticket");
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["visible_text"], "Did not help.");
    assert_eq!(last["attachments"][0]["filename"], "log.txt");
    patch(&app, n, json!({ "status": "closed" })).await;
    let p = kim.post(&format!("/portal/tickets/{n}/replies"), &[("body", "It broke again.")]).await;
    assert_eq!(p.status, 303);
    let follow_up: i64 =
        p.location.trim_start_matches("/portal/tickets/").trim_end_matches("?done=sent").parse().unwrap();
    assert_ne!(follow_up, n, "a closed ticket gets a follow-up");
    let f = app.ticket(follow_up).await;
    assert_eq!(f["messages"][0]["visible_text"], "It broke again.");
    assert_eq!(app.ticket(n).await["status"], "closed");
    assert_eq!(kim.get(&p.location).await.status, 200, "the customer sees the follow-up");
}

async fn oversized_or_too_many_files_are_refused_beside_the_field_and_the_text_is_kept(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Big", "b1@customer.example", "Hi")).await.ticket.unwrap();
    let kim = portal_customer(&app, "kim@customer.example").await;
    let big =
        Form::new().text("body", "My long text").part("attachments", file("huge.txt", vec![b'x'; 11 * 1024 * 1024]));
    let p = kim.post_multipart(&format!("/portal/tickets/{n}/replies"), big).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("huge.txt is larger than 10 MB") && p.body.contains("id=\"file-error\""), "{}", p.body);
    assert!(p.body.contains(">My long text</textarea>"), "the text is kept");
    let mut many = Form::new().text("body", "Eleven files");
    for i in 0..11 {
        many = many.part("attachments", file(&format!("f{i}.txt"), b"x".to_vec()));
    }
    let p = kim.post_multipart(&format!("/portal/tickets/{n}/replies"), many).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("At most 10 files") && p.body.contains(">Eleven files</textarea>"), "{}", p.body);
    let empty = kim.post(&format!("/portal/tickets/{n}/replies"), &[("body", "  ")]).await;
    assert_eq!(empty.status, 422);
    let new = kim.post("/portal/tickets", &[("subject", ""), ("body", "kept body")]).await;
    assert_eq!(new.status, 422);
    assert!(new.body.contains("id=\"form-error\"") && new.body.contains(">kept body</textarea>"), "{}", new.body);
    assert_eq!(app.ticket(n).await["messages"].as_array().unwrap().len(), 1, "nothing was stored");
}

async fn a_customer_marks_a_ticket_solved_and_rates_the_resolution_once(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Rate", "r1@customer.example", "Hi")).await.ticket.unwrap();
    let kim = portal_customer(&app, "kim@customer.example").await;
    assert!(!kim.get(&format!("/portal/tickets/{n}")).await.body.contains("How did we do?"), "not solved yet");
    let early = kim.post(&format!("/portal/tickets/{n}/rating"), &[("rating", "good")]).await;
    assert_eq!(early.status, 422, "nothing to rate before a resolution");
    let solved = kim.post(&format!("/portal/tickets/{n}/solved"), &[]).await;
    assert_eq!(solved.status, 303);
    let t = app.ticket(n).await;
    assert_eq!(t["status"], "resolved");
    assert!(event_kinds(&t).contains(&("status_changed".into(), "customer".into())));
    let page = kim.get(&format!("/portal/tickets/{n}?rating=bad")).await.body;
    assert!(page.contains("How did we do?") && page.contains("value=\"bad\" checked"), "{page}");
    let bad = kim.post(&format!("/portal/tickets/{n}/rating"), &[("rating", "meh"), ("comment", "kept")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Choose good or bad") && bad.body.contains(">kept</textarea>"));
    let rated = kim.post(&format!("/portal/tickets/{n}/rating"), &[("rating", "good"), ("comment", "Quick!")]).await;
    assert_eq!(rated.status, 303);
    let again = kim.post(&format!("/portal/tickets/{n}/rating"), &[("rating", "bad")]).await;
    assert_eq!(again.status, 303, "answered alike, but the first answer stays");
    let t = app.ticket(n).await;
    let rated: Vec<_> = t["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "satisfaction_rated").collect();
    assert_eq!(rated.len(), 1, "one answer per resolution");
    assert_eq!(rated[0]["detail"], "rated good: Quick!");
    assert!(kim.get(&format!("/portal/tickets/{n}")).await.body.contains("You said: <strong>good</strong>"));
    let counts = app.services.db.satisfaction_counts(false, 0).await.unwrap();
    assert_eq!((counts[0].key.as_str(), counts[0].good, counts[0].bad), ("support", 1, 0));
}

async fn the_portal_switched_off_answers_every_page_with_not_available(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Off", "o1@customer.example", "Hi")).await.ticket.unwrap();
    let kim = portal_customer(&app, "kim@customer.example").await;
    app.services.db.set_setting("portal.enabled", "false").await.unwrap();
    for path in ["/portal".to_string(), format!("/portal/tickets/{n}"), "/portal/tickets".to_string()] {
        let p = kim.get(&path).await;
        assert_eq!(p.status, 404, "{path}");
        assert!(p.body.contains("not available"), "{}", p.body);
    }
    assert_eq!(kim.post("/portal/login", &[("email", "kim@customer.example")]).await.status, 404);
}
