//! Rules that send, through real Postfix into real Dovecot, on both stores: a refund rule raises the priority, replies
//! to the customer from a template and posts a signed webhook that a local server first refuses with 500 and then
//! takes on retry; a rule's reply never answers automatic mail and reaches one recipient at most three times an hour.

use crate::helpers::{Store, TestApp};
use crate::mailenv::{MailEnv, wait_for, wait_inbox};
use crate::outbound::{customer_mail, sending_app};
use crate::rules::{call, create_rule, events_by, rules_caught_up};
use crate::store_tests;
use crate::webhooks::{Endpoint, SECRET, valid_signature};
use deskmail::ingest::parse::parse;
use serde_json::{Value, json};

store_tests!(
    a_refund_rule_replies_from_a_template_and_posts_a_signed_webhook_retried_after_a_500,
    a_rule_reply_skips_automatic_mail_and_reaches_a_recipient_three_times_an_hour_at_most,
);

async fn a_refund_rule_replies_from_a_template_and_posts_a_signed_webhook_retried_after_a_500(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(store, &env, |_| {}).await else { return };
    let hook = Endpoint::start(&[500]).await;
    let id = create_rule(
        &app,
        json!({"name": "Refunds", "trigger": "ticket_created",
            "conditions": {"all": [{"field": "message.subject", "op": "contains", "value": "refund"}]},
            "actions": [{"type": "set_priority", "value": "urgent"},
                        {"type": "reply", "body": "Hello {{ customer.email }}, refund request #{{ ticket.number }} is with our billing team."},
                        {"type": "webhook", "url": hook.url, "secret": SECRET}]}),
    )
    .await;
    let customer = env.address("refund");
    let raw = customer_mail("Rita", &customer, &support, "Refund for order 7", "rf1@example.com", "Money back please");
    let number = app.ingest_at("out", &[&raw]).await.remove(0).ticket.unwrap();
    let inbox = wait_inbox(&env, &customer, 2, 30).await;
    let texts: Vec<String> = inbox.iter().map(|m| parse(m).unwrap().body_text.clone()).collect();
    let expected = format!("Hello {customer}, refund request #{number} is with our billing team.");
    assert!(texts.iter().any(|t| t.contains(&expected)), "the rule's reply did not arrive: {texts:?}");
    assert_eq!(app.ticket(number).await["priority"], "urgent");
    let first = wait_for(10, || async { (!hook.received().is_empty()).then_some(()) }).await;
    assert!(first.is_some(), "the webhook was not posted");
    let delivery = wait_for(10, || async {
        let (_, b) = app.get("/api/v1/webhooks/deliveries").await;
        let d = b["deliveries"].as_array().and_then(|a| a.first().cloned())?;
        (d["last_status"] == 500).then_some(d)
    })
    .await
    .expect("the 500 is recorded");
    let retry = format!("/api/v1/webhooks/deliveries/{}/retry", delivery["id"]);
    let (s, b) = call(&app, &app.admin_token, reqwest::Method::POST, &retry, None).await;
    assert_eq!(s, 200, "{b}");
    let got = wait_for(10, || async { (hook.received().len() >= 2).then(|| hook.received()) }).await.expect("retried");
    assert_eq!(got.len(), 2, "exactly one retry");
    assert_eq!(got[0].body, got[1].body, "the same body on every attempt");
    let signature = got[1].headers["x-deskmail-signature"].to_str().unwrap();
    assert!(valid_signature(&got[1].body, signature), "bad signature {signature}");
    let body: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(body["ticket"]["number"], number);
    assert_eq!(body["event"]["kind"], "ticket_created");
    let history = events_by(&app, number, &format!("rule:{id}")).await;
    let kinds: Vec<&str> = history.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["priority_changed", "reply_sent", "rule_applied"], "one entry per action: {history:?}");
}

/// Every delivery of `kind` to `recipient` in the outbox, whatever its state.
async fn queued_to(app: &TestApp, kind: &str, recipient: &str) -> usize {
    let (_, body) = app.get("/api/v1/outbox?per_page=200").await;
    let all = body["outbox"].as_array().cloned().unwrap_or_default();
    all.iter()
        .filter(|d| d["kind"] == kind && d["recipient"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(recipient)))
        .count()
}

async fn a_rule_reply_skips_automatic_mail_and_reaches_a_recipient_three_times_an_hour_at_most(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(store, &env, |_| {}).await else { return };
    let id = create_rule(
        &app,
        json!({"name": "We got it", "trigger": "message_received",
            "actions": [{"type": "reply", "body": "Thanks, we got your message."}]}),
    )
    .await;
    let robot = env.address("robot");
    let auto = format!(
        "From: {robot}\r\nTo: {support}\r\nSubject: Out of office\r\nMessage-ID: <oo1@example.com>\r\n\
         Auto-Submitted: auto-replied\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\n\r\nI am away.\r\n"
    );
    let number = app.ingest_at("out", &[auto.as_bytes()]).await.remove(0).ticket.unwrap();
    let customer = env.address("eager");
    for i in 0..5 {
        let raw =
            customer_mail("Eve", &customer, &support, &format!("Question {i}"), &format!("q{i}@example.com"), "?");
        app.ingest_at("out", &[&raw]).await;
    }
    rules_caught_up(&app).await;
    assert_eq!(queued_to(&app, "rule_reply", &robot).await, 0, "a rule answered automatic mail");
    let held = events_by(&app, number, &format!("rule:{id}")).await;
    assert!(held.iter().any(|(k, d)| k == "rule_applied" && d.contains("automatic")), "{held:?}");
    assert_eq!(queued_to(&app, "rule_reply", &customer).await, 3, "three rule replies an hour per recipient");
}
