//! Threading rules (design §2) against a real store.

use crate::helpers::{Store, mail, reply, spawn_app};
use crate::store_tests;
use deskmail::domain::EmailAddress;
use deskmail::ingest::OutcomeKind;

store_tests!(
    a_reply_naming_our_signed_id_only_in_references_threads,
    a_forged_deskmail_message_id_does_not_thread,
    a_signed_plus_address_threads,
    a_reply_to_a_stored_inbound_message_id_threads,
    a_stranger_copying_a_subject_tag_gets_a_new_ticket,
    a_participant_using_the_subject_tag_threads,
    a_reply_to_a_closed_ticket_opens_a_linked_follow_up,
    a_reply_to_a_pending_ticket_reopens_it,
    the_same_mail_at_two_mailboxes_is_one_ticket,
    the_same_staff_mail_at_two_mailboxes_acts_once,
    two_different_mails_sharing_a_message_id_are_both_kept,
);

async fn a_reply_naming_our_signed_id_only_in_references_threads(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let ours = app.services.signer.message_id(number, "7", "example.test");
    let raw = format!(
        "From: c@customer.example\r\nTo: support@example.test\r\nSubject: totally different\r\nMessage-ID: <m2@customer.example>\r\n\
References: <unrelated@elsewhere.example> <{ours}>\r\n\r\nthanks\r\n"
    );
    let o = app.ingest(raw.as_bytes()).await;
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
}

async fn a_forged_deskmail_message_id_does_not_thread(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let forged = deskmail::platform::tokens::Signer::new(b"not our secret").message_id(number, "7", "example.test");
    let o = app.ingest(&reply("x@attacker.example", "hello", "m2@attacker.example", &forged, "x")).await;
    assert_eq!(o.kind, OutcomeKind::Created);
    assert_ne!(o.ticket, Some(number));
}

async fn a_signed_plus_address_threads(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let mb = EmailAddress::parse("support@example.test").unwrap();
    let plus = app.services.signer.reply_address(&mb, number);
    let raw = format!(
        "From: c@customer.example\r\nTo: {plus}\r\nSubject: new words\r\nMessage-ID: <m3@customer.example>\r\n\r\nmore\r\n"
    );
    let o = app.ingest(raw.as_bytes()).await;
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
    let unsigned = format!(
        "From: c@customer.example\r\nTo: support+{number}-0000000000000000@example.test\r\nSubject: s\r\n\r\nx\r\n"
    );
    assert_eq!(app.ingest(unsigned.as_bytes()).await.kind, OutcomeKind::Created);
}

async fn a_reply_to_a_stored_inbound_message_id_threads(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let o = app
        .ingest(&reply(
            "colleague@customer.example",
            "Re: help",
            "m2@customer.example",
            "m1@customer.example",
            "me too",
        ))
        .await;
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
    assert_eq!(app.ticket(number).await["message_count"], 2);
}

async fn a_stranger_copying_a_subject_tag_gets_a_new_ticket(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let o = app
        .ingest(&mail("stranger@evil.example", &format!("Re: [#{number}] help"), "s1@evil.example", "let me in"))
        .await;
    assert_eq!(o.kind, OutcomeKind::Created);
    assert_ne!(o.ticket, Some(number));
}

async fn a_participant_using_the_subject_tag_threads(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    let o =
        app.ingest(&mail("C@Customer.example", &format!("Re: [#{number}] help"), "m9@customer.example", "again")).await;
    assert_eq!((o.kind, o.ticket), (OutcomeKind::Threaded, Some(number)));
}

async fn a_reply_to_a_closed_ticket_opens_a_linked_follow_up(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    set_status(&app, number, deskmail::domain::Status::Closed).await;
    let o = app
        .ingest(&reply(
            "c@customer.example",
            "Re: help",
            "m2@customer.example",
            "m1@customer.example",
            "it broke again",
        ))
        .await;
    assert_eq!(o.kind, OutcomeKind::Created);
    let follow = app.ticket(o.ticket.unwrap()).await;
    assert_eq!(follow["follow_up_of"], number);
    let old = app.ticket(number).await;
    assert_eq!(old["status"], "closed");
    let event = old["events"].as_array().unwrap().iter().find(|e| e["kind"] == "follow_up").expect("a follow_up event");
    assert_eq!(event["data"]["ticket"], o.ticket.unwrap(), "the event names the follow-up by its real number");
}

async fn a_reply_to_a_pending_ticket_reopens_it(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let number = app.ingest(&mail("c@customer.example", "help", "m1@customer.example", "hi")).await.ticket.unwrap();
    set_status(&app, number, deskmail::domain::Status::Pending).await;
    let o = app
        .ingest(&reply("c@customer.example", "Re: help", "m2@customer.example", "m1@customer.example", "still broken"))
        .await;
    assert_eq!(o.ticket, Some(number));
    assert_eq!(app.ticket(number).await["status"], "open");
}

async fn set_status(app: &crate::helpers::TestApp, number: i64, status: deskmail::domain::Status) {
    let t = app.services.db.ticket(number).await.unwrap().unwrap();
    let mut conn = app.services.db.pool().acquire().await.unwrap();
    deskmail::db::tickets::set_status(&mut *conn, t.id, status, deskmail::domain::now()).await.unwrap();
}

async fn the_same_mail_at_two_mailboxes_is_one_ticket(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    app.services.db.create_mailbox("sales", "sales@example.test", "Sales", false).await.unwrap();
    let body = "From: c@customer.example\r\nTo: support@example.test, sales@example.test\r\nSubject: both\r\nMessage-ID: <both@customer.example>\r\n\r\nhello both\r\n";
    let at_support = format!("Delivered-To: support@example.test\r\nReceived: from mx by support-host\r\n{body}");
    let at_sales = format!("Delivered-To: sales@example.test\r\nReceived: from mx by sales-host\r\n{body}");
    let first = app.ingest_at("support", &[at_support.as_bytes()]).await.remove(0);
    let second = app.ingest_at("sales", &[at_sales.as_bytes()]).await.remove(0);
    assert_eq!(first.kind, OutcomeKind::Created);
    assert_eq!((second.kind, second.ticket), (OutcomeKind::Duplicate, first.ticket));
}

async fn the_same_staff_mail_at_two_mailboxes_acts_once(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    app.services.db.create_mailbox("sales", "sales@example.test", "Sales", false).await.unwrap();
    app.services.db.create_user("ana@example.test", "Ana", deskmail::domain::Role::Agent, "x").await.unwrap();
    let number = app.ingest(&mail("c@customer.example", "help", "h1@customer.example", "hi")).await.ticket.unwrap();
    let body = format!(
        "From: ana@example.test\r\nTo: support@example.test, sales@example.test\r\nSubject: Re: [#{number}] help\r\n\
         Message-ID: <staff@example.test>\r\nIn-Reply-To: <h1@customer.example>\r\n\r\nI will look into it.\r\n"
    );
    let first = app.ingest_at("support", &[format!("Delivered-To: support@example.test\r\n{body}").as_bytes()]).await;
    let second = app.ingest_at("sales", &[format!("Delivered-To: sales@example.test\r\n{body}").as_bytes()]).await;
    assert_eq!(first[0].ticket, Some(number));
    assert_eq!((second[0].kind, second[0].ticket), (OutcomeKind::Duplicate, Some(number)));
    let t = app.ticket(number).await;
    let notes = t["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "note").count();
    assert_eq!(notes, 1, "one unverified note, not two: {t}");
}

async fn two_different_mails_sharing_a_message_id_are_both_kept(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let a = app.ingest(&mail("a@customer.example", "first", "shared@broken-client.example", "one")).await;
    let b = app.ingest(&mail("b@other.example", "second", "shared@broken-client.example", "two")).await;
    assert_eq!(a.kind, OutcomeKind::Created);
    assert_eq!(b.kind, OutcomeKind::Created);
    assert_ne!(a.ticket, b.ticket);
}
