//! The ingest pipeline end to end: tickets, attachments, duplicates, bounces, quarantine.

use crate::helpers::{Store, mail, spawn_app};
use crate::{blob_store_tests, store_tests};
use deskmail::ingest::OutcomeKind;

// What is kept as a blob (raw mail, attachments, quarantined raw) also against an S3 bucket.
blob_store_tests!(
    a_new_mail_becomes_a_ticket_with_its_fields,
    attachments_are_stored_and_downloadable,
    the_same_bytes_twice_are_a_duplicate,
    bad_input_is_quarantined_not_dropped,
    malformed_mail_is_stored_readable_with_its_raw_bytes_kept,
);

store_tests!(
    a_bounce_of_our_mail_lands_on_its_ticket,
    a_bounce_naming_nothing_of_ours_is_logged,
    auto_replies_are_marked_and_open_no_ticket_status_change,
    html_is_sanitised_before_it_is_served,
    ticket_numbers_start_at_1000_and_count_up,
);

async fn a_new_mail_becomes_a_ticket_with_its_fields(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let raw = b"From: =?UTF-8?Q?Jos=C3=A9_P=C3=A9rez?= <Jose@Customer.example>\r\nTo: support@example.test\r\n\
Cc: Ana <ana@customer.example>\r\nSubject: =?UTF-8?B?TGFtcCDml6XmnKzoqp4g8J+SoQ==?=\r\nMessage-ID: <first@customer.example>\r\n\
Date: Tue, 01 Sep 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy lamp is broken.\r\n\r\n-- \r\nJos\xc3\xa9\r\n";
    let o = app.ingest(raw).await;
    assert_eq!(o.kind, OutcomeKind::Created);
    let t = app.ticket(o.ticket.unwrap()).await;
    assert_eq!(t["subject"], "Lamp 日本語 💡");
    assert_eq!(t["status"], "new");
    assert_eq!(t["requester"]["email"], "jose@customer.example");
    assert_eq!(t["requester"]["name"], "José Pérez");
    assert_eq!(t["mailbox"], "support");
    assert_eq!(t["message_count"], 1);
    let m = &t["messages"][0];
    assert_eq!(m["kind"], "customer");
    assert_eq!(m["message_id"], "first@customer.example");
    assert_eq!(m["visible_text"], "My lamp is broken.");
    assert!(m["body_text"].as_str().unwrap().contains("José"));
    assert_eq!(m["cc"][0], "ana@customer.example");
    let roles: Vec<_> =
        t["participants"].as_array().unwrap().iter().map(|p| p["role"].as_str().unwrap().to_string()).collect();
    assert_eq!(roles, ["requester", "cc"]);
    assert_eq!(t["events"][0]["kind"], "ticket_created");
    assert_eq!(t["links"], serde_json::json!([]));
}

async fn attachments_are_stored_and_downloadable(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let raw = b"From: a@customer.example\r\nTo: support@example.test\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\n\
Content-Type: application/pdf; name=\"r\xc3\xa9\xc3\xa7u.pdf\"\r\nContent-Disposition: attachment; filename=\"r\xc3\xa9\xc3\xa7u.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\
Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX--\r\n";
    let o = app.ingest(raw).await;
    let t = app.ticket(o.ticket.unwrap()).await;
    let atts = t["messages"][0]["attachments"].as_array().unwrap().clone();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["filename"], "réçu.pdf");
    assert_eq!(atts[0]["content_type"], "application/pdf");
    assert_eq!(atts[0]["size"], 9);
    assert_eq!(atts[1]["inline"], true);
    let resp = app
        .client
        .get(format!("{}/api/v1/attachments/{}", app.address, atts[0]["id"]))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");
    let (status, _) = app.get("/api/v1/attachments/999999").await;
    assert_eq!(status, 404);
}

async fn the_same_bytes_twice_are_a_duplicate(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let raw = mail("a@customer.example", "hello", "dup@customer.example", "body");
    let first = app.ingest(&raw).await;
    let again = app.ingest_at("support", &[&raw, &raw]).await;
    assert!(again.iter().all(|o| o.kind == OutcomeKind::Duplicate && o.ticket == first.ticket), "{again:?}");
    let (_, list) = app.get("/api/v1/tickets").await;
    assert_eq!(list["total"], 1);
}

async fn bad_input_is_quarantined_not_dropped(store: Store) {
    let Some(app) = spawn_app_limited(store).await else {
        return;
    };
    let no_sender = b"Subject: who am I\r\n\r\nno from header".to_vec();
    let too_large = [b"From: a@b.example\r\n\r\n".as_slice(), &vec![b'x'; 5000]].concat();
    let empty = Vec::new();
    let looped = b"From: support@example.test\r\nSubject: loop\r\n\r\nx".to_vec();
    let outcomes = app.ingest_at("support", &[&no_sender, &too_large, &empty, &looped]).await;
    assert!(outcomes.iter().all(|o| o.kind == OutcomeKind::Quarantined), "{outcomes:?}");
    let (status, q) = app.get("/api/v1/quarantine").await;
    assert_eq!(status, 200);
    assert_eq!(q["total"], 4);
    let reasons: Vec<&str> =
        q["quarantine"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.starts_with("too large")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("loop")), "{reasons:?}");
    for entry in q["quarantine"].as_array().unwrap() {
        assert_eq!(entry["raw_kept"], true);
        let sha = entry["sha256"].as_str().unwrap();
        let raw = crate::helpers::read_blob(&app.services.blobs, sha).await;
        assert_eq!(deskmail::platform::storage::sha256_hex(&raw), sha);
    }
}

/// NUL bytes, a broken MIME boundary, an unknown charset, a 3,000-byte header line and 200 nested parts: each is a
/// ticket (or quarantined with a reason), its text readable, and its raw bytes kept exactly.
async fn malformed_mail_is_stored_readable_with_its_raw_bytes_kept(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let head =
        |subject: &str| format!("From: c@customer.example\r\nTo: support@example.test\r\nSubject: {subject}\r\n");
    let mut nested = head("nested") + "MIME-Version: 1.0\r\n";
    for i in 0..200 {
        nested += &format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n");
    }
    nested += "Content-Type: text/plain\r\n\r\ndeep inside\r\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("nul", [head("nul").as_bytes(), b"\r\nhello\0world\r\n"].concat(), "hello"),
        (
            "boundary",
            (head("boundary")
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--never\r\n\
                   Content-Type: text/plain\r\n\r\nbody without an end\r\n")
                .into_bytes(),
            "body without an end",
        ),
        (
            "charset",
            (head("charset") + "Content-Type: text/plain; charset=x-unknown-42\r\n\r\nplain words\r\n").into_bytes(),
            "plain words",
        ),
        ("long", (head(&"x".repeat(3000)) + "\r\nafter a long header\r\n").into_bytes(), "after a long header"),
        ("nested", nested.into_bytes(), "deep inside"),
    ];
    for (name, raw, text) in &cases {
        let o = app.ingest(raw).await;
        assert_eq!(crate::helpers::read_blob(&app.services.blobs, &o.sha256).await, *raw, "{name}: raw bytes kept");
        match o.kind {
            OutcomeKind::Created => {
                let t = app.ticket(o.ticket.unwrap()).await;
                let body = t["messages"][0]["body_text"].as_str().unwrap_or_default().to_string();
                assert!(body.contains(text), "{name}: {body:?} lacks {text:?}");
            }
            OutcomeKind::Quarantined => assert!(o.reason.is_some_and(|r| !r.is_empty()), "{name}: a reason"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

async fn spawn_app_limited(store: Store) -> Option<crate::helpers::TestApp> {
    crate::helpers::spawn_app_with(store, |s| s.ingest.max_message_bytes = 4096).await
}

async fn a_bounce_of_our_mail_lands_on_its_ticket(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let o = app.ingest(&mail("gone@customer.example", "help", "q1@customer.example", "hi")).await;
    let number = o.ticket.unwrap();
    let ours = app.services.signer.message_id(number, "1", "example.test");
    let dsn = dsn_for(&ours);
    let b = app.ingest(dsn.as_bytes()).await;
    assert_eq!((b.kind, b.ticket), (OutcomeKind::Bounce, Some(number)));
    let t = app.ticket(number).await;
    let event = t["events"].as_array().unwrap().iter().find(|e| e["kind"] == "bounce").expect("bounce event");
    assert!(event["detail"].as_str().unwrap().contains("5.1.1"), "{event}");
    assert_eq!(t["message_count"], 1, "a bounce is never a message");
    let (_, list) = app.get("/api/v1/tickets").await;
    assert_eq!(list["total"], 1, "a bounce never opens a ticket");
}

async fn a_bounce_naming_nothing_of_ours_is_logged(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let b = app.ingest(dsn_for("someone-else@other.example").as_bytes()).await;
    assert_eq!((b.kind, b.ticket), (OutcomeKind::Bounce, None));
    assert!(b.reason.unwrap().contains("bounce log"));
    let (_, list) = app.get("/api/v1/tickets").await;
    assert_eq!(list["total"], 0);
    let (status, log) = app.get("/api/v1/bounces").await;
    assert_eq!(status, 200);
    assert_eq!(log["bounces"][0]["status"], "5.1.1");
    assert_eq!(log["bounces"][0]["ticket"], serde_json::Value::Null);
    assert_eq!(log["bounces"][0]["recipients"], "gone@customer.example");
    let agent = app.token_for("agent@example.test", deskmail::domain::Role::Agent).await;
    assert_eq!(app.get_as("/api/v1/bounces", &agent).await.0, 403);
}

/// A standard RFC 3464 report about the message `original`.
pub fn dsn_for(original: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\nTo: support@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n\
--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\nFinal-Recipient: rfc822; gone@customer.example\r\n\
Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: Recipient address rejected\r\n\r\n\
--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@example.test\r\nTo: gone@customer.example\r\nSubject: Re: help\r\n\
Message-ID: <{original}>\r\n\r\nour reply\r\n--B--\r\n"
    )
}

async fn auto_replies_are_marked_and_open_no_ticket_status_change(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let o = app.ingest(&mail("c@customer.example", "question", "q@customer.example", "hi")).await;
    let number = o.ticket.unwrap();
    let ooo = "From: c@customer.example\r\nTo: support@example.test\r\nSubject: Out of Office: question\r\nAuto-Submitted: auto-replied\r\n\
In-Reply-To: <q@customer.example>\r\nMessage-ID: <ooo@customer.example>\r\n\r\nI am away until Monday.\r\n";
    let a = app.ingest(ooo.as_bytes()).await;
    assert_eq!((a.kind, a.ticket), (OutcomeKind::Threaded, Some(number)));
    let t = app.ticket(number).await;
    assert_eq!(t["messages"][1]["auto"], true);
    assert_eq!(t["status"], "new");
}

async fn html_is_sanitised_before_it_is_served(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let raw = b"From: x@customer.example\r\nTo: support@example.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"steal()\">Hello<script>alert(1)</script><a href=\"javascript:alert(2)\">x</a></p>\r\n";
    let o = app.ingest(raw).await;
    let t = app.ticket(o.ticket.unwrap()).await;
    let html = t["messages"][0]["body_html"].as_str().unwrap();
    assert!(
        html.contains("Hello") && !html.contains("script") && !html.contains("onclick") && !html.contains("javascript"),
        "{html}"
    );
    assert!(t["messages"][0]["visible_text"].as_str().unwrap().contains("Hello"));
}

async fn ticket_numbers_start_at_1000_and_count_up(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let a = mail("a@customer.example", "one", "n1@customer.example", "1");
    let b = mail("b@customer.example", "two", "n2@customer.example", "2");
    let outcomes = app.ingest_at("support", &[&a, &b]).await;
    assert_eq!(outcomes.iter().map(|o| o.ticket.unwrap()).collect::<Vec<_>>(), [1000, 1001]);
}
