//! Outbound mail through real Postfix into real Dovecot: acknowledgements, replies and threading, a rejected recipient,
//! and no acknowledgement for automatic mail or beyond the hourly limit.

use crate::helpers::{Store, TestApp, outbox_drained, sent_to, spawn_app_with};
use crate::ingest::dsn_for;
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for, wait_inbox};
use crate::store_tests;
use deskmail::ingest::OutcomeKind;
use deskmail::ingest::parse::parse;
use serde_json::{Value, json};

store_tests!(
    acknowledgement_and_agent_reply_arrive_threaded_and_the_answer_threads_back,
    a_rejected_recipient_fails_with_the_servers_text_and_can_be_retried
);

/// An app whose mailbox `out` sends through the shared Postfix; returns it with its address.
pub async fn sending_app(
    store: Store,
    env: &MailEnv,
    adjust: impl FnOnce(&mut deskmail::platform::config::Settings),
) -> Option<(TestApp, String)> {
    let support = env.address("out");
    let mb = env.sending_mailbox("out", &support);
    let app = spawn_app_with(store, move |s| {
        s.mailboxes.push(mb);
        s.outbound.retry_initial_secs = 1;
        s.outbound.retry_cap_secs = 2;
        adjust(s);
    })
    .await?;
    Some((app, support))
}

/// POSTs JSON with the admin token.
pub async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// A customer's plain-text mail in UTF-8 (8bit), with a display name and a Message-ID.
pub fn customer_mail(from_name: &str, from: &str, to: &str, subject: &str, id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from_name} <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn acknowledgement_and_agent_reply_arrive_threaded_and_the_answer_threads_back(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(store, &env, |_| {}).await else { return };
    let customer = env.address("kunde");
    let first_id = format!("{}@kunde.example", uuid::Uuid::new_v4().simple());
    let raw = customer_mail(
        "=?UTF-8?Q?Jos=C3=A9_P=C3=A9rez?=",
        &customer,
        &support,
        "=?UTF-8?B?TGFtcGUg5pel5pys6KqeIPCfkqE=?=",
        &first_id,
        "Meine Lampe ist kaputt é 日本語 💡",
    );
    let o = app.ingest_at("out", &[&raw]).await.remove(0);
    let number = o.ticket.unwrap();
    let acks = wait_inbox(&env, &customer, 1, 30).await;
    assert_eq!(acks.len(), 1, "the acknowledgement did not arrive");
    let ack = parse(&acks[0]).unwrap();
    assert_eq!(ack.from.as_ref().unwrap().email.as_str(), support);
    assert!(
        ack.subject.contains(&format!("[#{number}]")) && ack.subject.contains("Lampe 日本語 💡"),
        "{}",
        ack.subject
    );
    assert_eq!(ack.in_reply_to, vec![first_id.clone()]);
    assert_eq!(ack.references.last(), Some(&first_id));
    assert!(ack.classification.auto_reply, "the acknowledgement is marked automatic");
    let (local, domain) = support.split_once('@').unwrap();
    let reply_to = ack.reply_to[0].email.as_str();
    assert!(
        reply_to.starts_with(&format!("{local}+{number}-")) && reply_to.ends_with(&format!("@{domain}")),
        "the Reply-To is the signed plus-address of the ticket: {reply_to}"
    );

    let (status, body) = post(
        &app,
        &format!("/api/v1/tickets/{number}/replies"),
        json!({ "body": "Hallo José, wir senden eine neue Lampe 💡.\nGrüße" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let mail = wait_inbox(&env, &customer, 2, 30).await;
    assert_eq!(mail.len(), 2, "the reply did not arrive");
    let reply_raw =
        mail.iter().find(|r| !parse(r).unwrap().classification.auto_reply).expect("the agent reply").clone();
    let reply = parse(&reply_raw).unwrap();
    assert_eq!(reply.subject, format!("Re: [#{number}] Lampe 日本語 💡"));
    assert!(reply.body_text.contains("Hallo José, wir senden eine neue Lampe 💡."), "{}", reply.body_text);
    assert_eq!(reply.from.as_ref().unwrap().name, "Ada Admin (Test Support)");
    assert_eq!(reply.in_reply_to, vec![first_id.clone()]);
    assert_eq!(reply.references.last(), Some(&first_id));
    let headers = String::from_utf8_lossy(&reply_raw);
    assert!(!headers.to_lowercase().contains("admin@example.test"), "the agent's address leaked into the mail");
    let t = app.ticket(number).await;
    assert_eq!(t["status"], "pending");
    let agent_msg = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").unwrap().clone();
    assert_eq!(agent_msg["delivery"]["status"], "sent");

    // The customer answers the reply: it threads back and reopens the ticket.
    let answer = format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: Re: {}\r\nMessage-ID: <answer-{first_id}>\r\nIn-Reply-To: <{}>\r\nReferences: <{first_id}> <{}>\r\n\r\nDanke!\r\n\r\nAm Di., 1. Sept. 2026 um 10:00 schrieb Support <{support}>:\r\n> Hallo\r\n",
        reply.subject,
        reply.message_id.clone().unwrap(),
        reply.message_id.clone().unwrap()
    );
    let o = app.ingest_at("out", &[answer.as_bytes()]).await.remove(0);
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
    let t = app.ticket(number).await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["messages"].as_array().unwrap().last().unwrap()["visible_text"], "Danke!");

    // An answer to the acknowledgement alone (only its Message-ID, sent to the signed Reply-To) threads back too.
    let to_ack = format!(
        "From: {customer}\r\nTo: {}\r\nSubject: Re: {}\r\nMessage-ID: <to-ack-{first_id}>\r\nIn-Reply-To: <{}>\r\n\r\nNoch eine Frage.\r\n",
        ack.reply_to[0].email,
        ack.subject,
        ack.message_id.clone().unwrap()
    );
    let o = app.ingest_at("out", &[to_ack.as_bytes()]).await.remove(0);
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
}

async fn a_rejected_recipient_fails_with_the_servers_text_and_can_be_retried(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(store, &env, |_| {}).await else { return };
    let customer = env.address("c");
    let raw =
        customer_mail("C", &customer, &support, "help", &format!("{}@c.example", uuid::Uuid::new_v4().simple()), "hi");
    let number = app.ingest_at("out", &[&raw]).await.remove(0).ticket.unwrap();
    let (status, body) = post(
        &app,
        &format!("/api/v1/tickets/{number}/replies"),
        json!({ "body": "to you both", "cc": ["no-such-user-xyz@example.test"] }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let failed = wait_for(15, || async {
        let t = app.ticket(number).await;
        let m = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").cloned()?;
        let rs = m["delivery"]["recipients"].as_array()?.clone();
        rs.iter().all(|r| r["status"] != "queued" && r["status"] != "sending").then_some(m)
    })
    .await
    .expect("deliveries settle");
    assert_eq!(failed["delivery"]["status"], "failed");
    let err = failed["delivery"]["error"].as_str().unwrap();
    assert!(err.contains("550") && err.contains("5.1.1"), "Postfix's diagnostic is shown: {err}");
    let ok = failed["delivery"]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == customer.as_str())
        .unwrap()
        .clone();
    assert_eq!(ok["status"], "sent", "one rejected Cc does not stop the others");
    let (_, outbox) = app.get("/api/v1/outbox?status=failed").await;
    let id = outbox["outbox"][0]["id"].as_i64().unwrap();
    let agent = app.token_for("agent@example.test", deskmail::domain::Role::Agent).await;
    let resp =
        app.client.post(format!("{}/api/v1/outbox/{id}/retry", app.address)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(resp.status(), 403, "retry needs an admin");
    let (status, _) = post(&app, &format!("/api/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!(status, 200);
    let again = wait_for(15, || async {
        let (_, o) = app.get("/api/v1/outbox?status=failed").await;
        o["outbox"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["id"] == id).filter(|d| d["attempts"].as_i64() >= Some(2)).cloned())
    })
    .await;
    assert!(again.is_some(), "the retried delivery was attempted again and failed again");
}

#[tokio::test]
async fn automatic_mail_gets_no_acknowledgement_and_acks_are_rate_limited() {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(Store::Sqlite, &env, |_| {}).await else { return };
    let customer = env.address("flood");
    let mut raws = Vec::new();
    for i in 0..20 {
        raws.push(customer_mail(
            "F",
            &customer,
            &support,
            &format!("new question {i}"),
            &format!("q{i}-{}@f.example", uuid::Uuid::new_v4().simple()),
            "?",
        ));
    }
    raws.push(format!("From: {customer}\r\nTo: {support}\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\naway\r\n").into_bytes());
    raws.push(dsn_for("whatever@elsewhere.example").into_bytes());
    let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
    let outcomes = app.ingest_at("out", &refs).await;
    assert_eq!(outcomes.iter().filter(|o| o.kind == OutcomeKind::Created).count(), 21);
    let acks: i64 = sqlx::query_scalar("select count(*) from outbound_mails where kind = 'ack'")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(acks, 3, "ack_limit_per_hour = 3 per recipient, none for automatic mail");
    // A later batch counts the acknowledgements of the earlier one (read from the outbox, not this batch's own).
    let later: Vec<Vec<u8>> = (0..2)
        .map(|i| {
            customer_mail(
                "F",
                &customer,
                &support,
                &format!("later {i}"),
                &format!("l{i}-{}@f.example", uuid::Uuid::new_v4().simple()),
                "?",
            )
        })
        .collect();
    let refs: Vec<&[u8]> = later.iter().map(Vec::as_slice).collect();
    assert_eq!(app.ingest_at("out", &refs).await.iter().filter(|o| o.kind == OutcomeKind::Created).count(), 2);
    let (acks, suppressed): (i64, i64) = sqlx::query_as(
        "select (select count(*) from outbound_mails where kind = 'ack'), \
         (select count(*) from ticket_events where kind = 'ack_suppressed')",
    )
    .fetch_one(app.services.db.pool())
    .await
    .unwrap();
    assert_eq!((acks, suppressed), (3, 17 + 2), "the limit holds across batches, and each held-back ack is recorded");
    assert_eq!(wait_inbox(&env, &customer, 3, 30).await.len(), 3);
    outbox_drained(&app).await;
    assert_eq!(sent_to(&app, &customer).await, ["ack"; 3], "deskmail sent three acknowledgements");
    assert_eq!(inbox_after_marker(&env, &customer).await.len(), 3, "no fourth mail arrived later");
    let ooo = outcomes[20].ticket.unwrap();
    let t = app.ticket(ooo).await;
    assert_eq!(t["outbound"], json!([]), "no acknowledgement for an auto-reply");
}
