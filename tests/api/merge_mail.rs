//! Merge and split through real mail (Postfix into Dovecot), on both stores: a customer answers by mail the reply
//! of a ticket that was merged meanwhile — it lands on the target without a new acknowledgement; after a split,
//! answering the reply of the new ticket lands there.

use crate::helpers::{Store, TestApp, outbox_drained, reply};
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for, wait_inbox};
use crate::outbound::sending_app;
use crate::store_tests;
use deskmail::ingest::parse::{ParsedMail, parse};
use serde_json::{Value, json};

store_tests!(a_mailed_answer_to_a_merged_or_split_ticket_lands_where_its_messages_went);

async fn api(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> Value {
    let req = app.client.request(method, format!("{}{path}", app.address)).bearer_auth(&app.admin_token);
    let resp = req.json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// The first mail in `user`'s inbox whose text contains `needle` (waits for it).
async fn received(env: &MailEnv, user: &str, needle: &str) -> ParsedMail {
    wait_for(30, || async {
        let inbox = wait_inbox(env, user, 0, 0).await;
        inbox.iter().filter_map(|raw| parse(raw)).find(|m| m.body_text.contains(needle))
    })
    .await
    .unwrap_or_else(|| panic!("no mail with {needle:?} arrived"))
}

/// The customer's answer to a mail they received, as their mail client would write it.
fn answer_to(customer: &str, got: &ParsedMail, id: &str, text: &str) -> Vec<u8> {
    let parent = got.message_id.clone().expect("a Message-ID");
    reply(customer, &format!("Re: {}", got.subject), id, &parent, text)
}

async fn a_mailed_answer_to_a_merged_or_split_ticket_lands_where_its_messages_went(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(store, &env, |_| {}).await else { return };
    let customer = env.address("merge");
    let first = crate::helpers::mail(&customer, "Lamp", "mm1@customer.example", "The lamp flickers.");
    let second = crate::helpers::mail(&customer, "Lamp again", "mm2@customer.example", "Still flickering.");
    let a = app.ingest_at("out", &[&first]).await[0].ticket.unwrap();
    let b = app.ingest_at("out", &[&second]).await[0].ticket.unwrap();
    api(&app, reqwest::Method::POST, &format!("/api/v1/tickets/{a}/replies"), json!({ "body": "Try bulb model X." }))
        .await;
    let got = received(&env, &customer, "Try bulb model X.").await;
    api(&app, reqwest::Method::POST, &format!("/api/v1/tickets/{a}/merge"), json!({ "into": b })).await;

    let answer = answer_to(&customer, &got, "mm3@customer.example", "Model X did not help.");
    let landed = app.ingest_at("out", &[&answer]).await.remove(0);
    assert_eq!((landed.kind.as_str(), landed.ticket), ("threaded", Some(b)), "the answer lands on the target");

    let t = app.ticket(b).await;
    let ids: Vec<i64> = t["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let last = *ids.last().unwrap();
    let split = api(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{b}/split"),
        json!({ "messages": [last], "subject": "Model X" }),
    )
    .await;
    let c = split["ticket"].as_i64().unwrap();
    api(&app, reqwest::Method::POST, &format!("/api/v1/tickets/{c}/replies"), json!({ "body": "We send model Y." }))
        .await;
    let got = received(&env, &customer, "We send model Y.").await;
    assert!(got.subject.contains(&format!("[#{c}]")), "{}", got.subject);
    let answer = answer_to(&customer, &got, "mm4@customer.example", "Thanks for model Y.");
    assert_eq!(app.ingest_at("out", &[&answer]).await[0].ticket, Some(c), "the answer after the split lands on it");

    outbox_drained(&app).await;
    let inbox = inbox_after_marker(&env, &customer).await;
    let acks = inbox
        .iter()
        .filter_map(|raw| parse(raw))
        .filter(|m| m.body_text.contains("We have received your request"))
        .count();
    assert_eq!(acks, 2, "one acknowledgement per ticket the customer opened; none for answers, merges or splits");
    let history: Vec<String> = app.ticket(b).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(history.contains(&"merged".into()) && history.contains(&"split".into()), "{history:?}");
}
