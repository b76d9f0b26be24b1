//! Hostile mail: CR/LF in display names (CLI, IMAP, replies), HTML that would cost quadratic time, all of it with
//! acknowledgements composed, so nothing a customer sends can stop the mailbox.

use crate::helpers::{Store, mail, spawn_app_with};
use crate::mailenv::{MailEnv, append, wait_for, wait_inbox};
use crate::store_tests;
use deskmail::ingest::OutcomeKind;
use deskmail::ingest::parse::parse;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

store_tests!(
    a_crlf_display_name_among_good_mails_is_stored_and_the_cli_goes_on,
    a_reply_to_a_participant_stored_with_crlf_in_the_name_has_a_clean_header,
    html_nested_200000_deep_and_a_20_mb_line_are_stored_without_hanging,
);

/// `From: =?utf-8?q?Evil=0D=0ABcc:_x@y?= <…>`: a legal encoded word that decodes to CR LF and a Bcc header.
fn evil_mail(from: &str, to: &str, id: &str) -> Vec<u8> {
    format!(
        "From: =?utf-8?q?Evil=0D=0ABcc:_x@evil.test?= <{from}>\r\nTo: {to}\r\n\
         Cc: =?utf-8?q?Second=0ABcc:_y@evil.test?= <second-{id}@customer.example>\r\nSubject: evil name\r\n\
         Message-ID: <{id}@customer.example>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\n\r\nHello\r\n"
    )
    .into_bytes()
}

/// Every header line of a raw mail (continuations joined), lower-cased names.
fn header_names(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_once(':'))
        .map(|(n, _)| n.to_lowercase())
        .collect()
}

/// The raw bytes of every mail in the outbox, in the order queued.
async fn queued_raws(db: &deskmail::db::Db) -> Vec<Vec<u8>> {
    sqlx::query_scalar("select raw from outbound_mails order by id").fetch_all(db.pool()).await.unwrap()
}

async fn a_crlf_display_name_among_good_mails_is_stored_and_the_cli_goes_on(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = crate::helpers::fresh_database(store, dir.path()).await else { return };
    // SMTP is configured (acknowledgements are composed) but never reached: nothing sends during `ingest`.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{url}\"\n[storage]\ndir = \"spool\"\n[security]\nsecret = \"hostile-test-secret-hostile-test\"\n\
             [[mailbox]]\nname = \"support\"\naddress = \"support@example.test\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {closed}, tls = \"none\" }}\n"
        ),
    )
    .unwrap();
    let files = [
        ("good.eml", mail("ana@customer.example", "good one", "g1@customer.example", "fine")),
        ("evil.eml", evil_mail("evil@customer.example", "support@example.test", "e1")),
        ("good2.eml", mail("bo@customer.example", "good two", "g2@customer.example", "fine too")),
    ];
    let paths: Vec<_> = files
        .iter()
        .map(|(name, raw)| {
            let p = dir.path().join(name);
            std::fs::write(&p, raw).unwrap();
            p
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .arg("--config")
        .arg(&config)
        .args(["ingest", "--mailbox", "support", "--json"])
        .args(&paths)
        .env("DESKMAIL_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let outcomes: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["created", "created", "created"], "every mail stored, the evil one too");
    let db = deskmail::db::Db::connect(&url, 2).await.unwrap();
    let name: String = sqlx::query_scalar("select name from customers where email = 'evil@customer.example'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(name, "Evil Bcc: x@evil.test", "the name without its line break");
    let raws = queued_raws(&db).await;
    assert_eq!(raws.len(), 3, "three acknowledgements queued");
    for raw in &raws {
        assert!(!header_names(raw).contains(&"bcc".to_string()), "{}", String::from_utf8_lossy(raw));
        assert!(parse(raw).is_some_and(|m| m.to.len() == 1), "one clean To: {}", String::from_utf8_lossy(raw));
    }
}

async fn a_reply_to_a_participant_stored_with_crlf_in_the_name_has_a_clean_header(store: Store) {
    let Some(app) = spawn_app_with(store, |s| {
        s.mailboxes[0].smtp = Some(toml::from_str("host = \"127.0.0.1\"\nport = 9\ntls = \"none\"").unwrap());
    })
    .await
    else {
        return;
    };
    let raw = mail("Ana <ana@customer.example>", "help", "h1@customer.example", "please");
    let number = app.ingest(&raw).await.ticket.unwrap();
    let cc = crate::helpers::reply(
        "Ana <ana@customer.example>",
        "Re: help",
        "h2@customer.example",
        "h1@customer.example",
        "Cc",
    );
    let cc = String::from_utf8(cc).unwrap().replace("To: ", "Cc: Carl <carl@customer.example>\r\nTo: ");
    app.ingest(cc.as_bytes()).await;
    // As a version before the clean names would have stored it.
    sqlx_update(&app, "update customers set name = 'Ana\r\nBcc: z@evil.test' where email = 'ana@customer.example'")
        .await;
    let (status, body) = crate::outbound::post(
        &app,
        &format!("/api/v1/tickets/{number}/replies"),
        serde_json::json!({ "body": "Here is the answer." }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let raws = queued_raws(&app.services.db).await;
    let reply = raws.iter().find(|r| String::from_utf8_lossy(r).contains("Here is the answer")).expect("reply queued");
    assert!(!header_names(reply).contains(&"bcc".to_string()), "{}", String::from_utf8_lossy(reply));
    let m = parse(reply).unwrap();
    assert_eq!(m.to[0].name, "Ana Bcc: z@evil.test");
    assert!(m.cc.iter().any(|c| c.email.as_str() == "carl@customer.example"), "the Cc participant still copied");
}

async fn sqlx_update(app: &crate::helpers::TestApp, sql: &'static str) {
    sqlx::query(sql).execute(app.services.db.pool()).await.unwrap();
}

async fn html_nested_200000_deep_and_a_20_mb_line_are_stored_without_hanging(store: Store) {
    let Some(app) = spawn_app_with(store, |s| {
        s.mailboxes[0].smtp = Some(toml::from_str("host = \"127.0.0.1\"\nport = 9\ntls = \"none\"").unwrap());
    })
    .await
    else {
        return;
    };
    let head = |id: &str| {
        format!(
            "From: html@customer.example\r\nTo: support@example.test\r\nSubject: {id}\r\nMessage-ID: <{id}@c.example>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        )
    };
    let nested = head("nested") + &"<div>".repeat(200_000) + "deep" + &"</div>".repeat(200_000) + "\r\n";
    let line = head("line") + &"<span>word</span> ".repeat(1_200_000) + "\r\n";
    assert!(line.len() > 20_000_000);
    for raw in [nested, line] {
        // A guard against a hang, not a speed figure (that is `scripts/bench`): unbounded, the nested mail took
        // minutes; bounded it takes well under a second, so a minute holds on any loaded machine.
        let outcome = tokio::time::timeout(Duration::from_secs(60), app.ingest(raw.as_bytes()))
            .await
            .unwrap_or_else(|_| panic!("{} still not stored after a minute", &raw[..200]));
        assert!(matches!(outcome.kind, OutcomeKind::Created | OutcomeKind::Quarantined), "{outcome:?}");
    }
}

#[tokio::test]
async fn over_imap_a_crlf_name_is_stored_acknowledged_cleanly_and_the_poller_keeps_importing() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("hostile");
    let customer = env.address("evilcust");
    let mut mb = env.mailbox("hostile", &support, |i| i.poll_interval_secs = 1);
    mb.smtp = Some(env.smtp(&support));
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.mailboxes.push(mb);
        // A send that fails once under a loaded suite is retried within the wait below, not after the default minute.
        s.outbound.retry_initial_secs = 2;
        s.outbound.retry_cap_secs = 2;
    })
    .await
    else {
        return;
    };
    let mut session = env.session(&support).await;
    append(
        &mut session,
        "INBOX",
        &mail(&env.address("good"), "good", &format!("{}@c.example", uuid::Uuid::new_v4()), "x"),
    )
    .await;
    append(&mut session, "INBOX", &evil_mail(&customer, &support, &uuid::Uuid::new_v4().simple().to_string())).await;
    assert!(wait_for(60, || async { (tickets(&app).await >= 2).then_some(()) }).await.is_some(), "both imported");
    append(
        &mut session,
        "INBOX",
        &mail(&env.address("later"), "later", &format!("{}@c.example", uuid::Uuid::new_v4()), "y"),
    )
    .await;
    assert!(wait_for(60, || async { (tickets(&app).await >= 3).then_some(()) }).await.is_some(), "the next one too");
    let ack = wait_inbox(&env, &customer, 1, 60).await;
    let outbox = app.get("/api/v1/outbox").await.1;
    assert_eq!(ack.len(), 1, "the evil sender got its acknowledgement; outbox: {outbox}");
    assert!(!header_names(&ack[0]).contains(&"bcc".to_string()), "{}", String::from_utf8_lossy(&ack[0]));
    assert_eq!(parse(&ack[0]).unwrap().to[0].name, "Evil Bcc: x@evil.test");
}

async fn tickets(app: &crate::helpers::TestApp) -> i64 {
    app.get("/api/v1/tickets?mailbox=hostile").await.1["total"].as_i64().unwrap_or(0)
}
