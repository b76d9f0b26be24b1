//! The admin pages for mail itself, over HTTP with a cookie-keeping client: e-mail template overrides, quarantine,
//! failed deliveries and the bounce log.

use crate::admin_pages::{mailbox_fields, mailbox_id};
use crate::helpers::{Store, TestApp, mail, spawn_app, spawn_app_with};
use crate::mailenv::wait_for;
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::Role;
use deskmail::ingest::OutcomeKind;

store_tests!(
    a_broken_template_is_refused_and_a_saved_override_changes_the_next_acknowledgement,
    the_shared_html_layout_is_listed_previewed_and_saved_for_every_kind,
    quarantined_mail_is_retried_turned_into_a_ticket_or_deleted,
    a_failed_delivery_is_listed_and_retried,
    the_bounce_log_lists_reports_with_their_ticket_and_raw_download,
);

/// An app whose `desk` mailbox can send (so acknowledgements are queued) but every delivery fails at once.
async fn failing_sender_app(store: Store) -> Option<TestApp> {
    spawn_app_with(store, |s| {
        s.mailboxes.push(
            toml::from_str(
                "name = \"desk\"\naddress = \"desk@example.test\"\n\
                 smtp = { host = \"127.0.0.1\", port = 1, ca_file = \"/nonexistent/ca.pem\" }\n",
            )
            .unwrap(),
        );
        // A setting that cannot work is retried like a 4xx; without retry time the first attempt gives up.
        s.outbound.retry_max_hours = 0;
    })
    .await
}

async fn outbound_raw(app: &TestApp, kind: &str) -> Vec<String> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select raw from outbound_mails where kind = '{kind}' order by id"
    )))
    .fetch_all(app.services.db.pool())
    .await
    .unwrap();
    rows.into_iter().map(|r| String::from_utf8_lossy(&r).into_owned()).collect()
}

async fn a_broken_template_is_refused_and_a_saved_override_changes_the_next_acknowledgement(store: Store) {
    let Some(app) = failing_sender_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let path = "/admin/templates/ack.subject.txt";
    let broken = admin.post(path, &[("source", "{% if ticket.number %}no end"), ("action", "save")]).await;
    assert_eq!(broken.status, 422);
    assert!(broken.body.contains(r#"aria-invalid="true" aria-describedby="source-error""#), "{}", broken.body);
    assert!(broken.body.contains(r#"<p class="field-error" id="source-error">"#));
    assert!(app.services.db.template_overrides().await.unwrap().is_empty());

    let html = admin
        .post(
            "/admin/templates/ack.html",
            &[("source", "<script>alert(1)</script>{{ ticket.subject }}"), ("action", "preview")],
        )
        .await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;Lamp arrived broken"), "{}", html.body);
    assert!(!html.body.contains("<script>alert(1)"), "the preview injects no HTML");

    let source = "Got it: {{ ticket.subject }} (case {{ ticket.number }})";
    let saved = admin.post(path, &[("source", source), ("action", "save")]).await;
    assert_eq!((saved.status, saved.location.as_str()), (303, path));
    assert!(admin.get("/admin/templates").await.body.contains("<strong>database</strong>"));
    let o =
        app.ingest_at("desk", &[&mail("cust@example.org", "Broken lamp", "t1@example.org", "help")]).await.remove(0);
    let acks = outbound_raw(&app, "ack").await;
    assert!(acks[0].contains(&format!("Subject: Got it: Broken lamp (case {})", o.ticket.unwrap())), "{}", acks[0]);

    assert_eq!(admin.post(&format!("{path}/reset"), &[]).await.status, 303);
    assert!(app.services.db.template_overrides().await.unwrap().is_empty());
    app.ingest_at("desk", &[&mail("cust2@example.org", "Second lamp", "t2@example.org", "help")]).await;
    let acks = outbound_raw(&app, "ack").await;
    assert!(!acks[1].contains("Got it:"), "the default is back: {}", acks[1]);
}

async fn the_shared_html_layout_is_listed_previewed_and_saved_for_every_kind(store: Store) {
    let Some(app) = failing_sender_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let list = admin.get("/admin/templates").await.body;
    assert!(list.contains(r#"<a href="/admin/templates/base.html">base.html</a>"#), "{list}");
    let path = "/admin/templates/base.html";
    let editor = admin.get(path).await;
    assert!(editor.status == 200 && editor.body.contains("layout of every HTML mail"), "{}", editor.body);
    assert!(editor.body.contains("{% block body %}{% endblock %}"), "{}", editor.body);

    let broken = admin.post(path, &[("source", "<main>{% block body %}</main>"), ("action", "save")]).await;
    assert_eq!(broken.status, 422, "{}", broken.body);
    let source = "<main>{% block body %}{% endblock %}</main>";
    let preview = admin.post(path, &[("source", source), ("action", "preview")]).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("&lt;main&gt;&lt;p&gt;Hello"), "the first kind previewed: {}", preview.body);
    let saved = admin.post(path, &[("source", source), ("action", "save")]).await;
    assert_eq!((saved.status, saved.location.as_str()), (303, path));
    app.ingest_at("desk", &[&mail("cust@example.org", "Broken lamp", "t1@example.org", "help")]).await;
    let ack = deskmail::ingest::parse::parse(outbound_raw(&app, "ack").await[0].as_bytes()).unwrap();
    let html = ack.body_html.unwrap_or_default();
    assert!(html.starts_with("<main><p>Hello") && html.trim_end().ends_with("</main>"), "{html}");
}

async fn quarantine_status(app: &TestApp, id: i64) -> (String, Option<i64>) {
    let e = app.services.db.quarantine_entry(id).await.unwrap();
    (e.status, e.ticket_number)
}

async fn raw_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from raw_messages").fetch_one(app.services.db.pool()).await.unwrap()
}

async fn quarantined_mail_is_retried_turned_into_a_ticket_or_deleted(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    assert_eq!(admin.post("/admin/mailboxes", &mailbox_fields("other", "other@example.test")).await.status, 303);
    let looped = app.ingest(&mail("other@example.test", "Loop", "loop@example.test", "ping")).await;
    let nosender = app.ingest(b"Subject: Who am I\r\nMessage-ID: <anon@x>\r\n\r\nno sender here").await;
    let junk = app.ingest(&mail("other@example.test", "Junk", "junk@example.test", "junk")).await;
    assert!([&looped, &nosender, &junk].iter().all(|o| o.kind == OutcomeKind::Quarantined));
    let (entries, _) = app.services.db.quarantine(10, 0).await.unwrap();
    let id_of = |subject: &str| entries.iter().find(|q| q.headers.contains(subject)).unwrap().id;
    let (loop_id, anon_id, junk_id) = (id_of("Subject: Loop"), id_of("Who am I"), id_of("Subject: Junk"));
    let list = admin.get("/admin/quarantine").await.body;
    assert!(list.contains("loop: sent from our own address other@example.test") && list.contains("Who am I"));
    let view = admin.get(&format!("/admin/quarantine/{anon_id}")).await.body;
    assert!(view.contains("no sender here") && view.contains(&format!("/admin/quarantine/{anon_id}/raw")));
    let raw = admin.get(&format!("/admin/quarantine/{anon_id}/raw")).await;
    assert!(raw.body.starts_with("Subject: Who am I"));

    // Retrying while the cause remains says why; after the address changed, it becomes a ticket.
    assert_eq!(admin.post(&format!("/admin/quarantine/{loop_id}/retry"), &[]).await.status, 303);
    let page = admin.get(&format!("/admin/quarantine/{loop_id}")).await.body;
    assert!(page.contains("Held again: loop: sent from our own address"), "{page}");
    let other = mailbox_id(&app, "other").await;
    let moved = mailbox_fields("other", "moved@example.test");
    assert_eq!(admin.post(&format!("/admin/mailboxes/{other}"), &moved).await.status, 303);
    assert_eq!(admin.post(&format!("/admin/quarantine/{loop_id}/retry"), &[]).await.status, 303);
    let (status, ticket) = quarantine_status(&app, loop_id).await;
    assert_eq!(status, "released");
    let number = ticket.expect("linked to its ticket");
    assert!(
        admin.get(&format!("/admin/quarantine/{loop_id}")).await.body.contains(&format!("href=\"/tickets/{number}\""))
    );

    // Without a sender the admin names the requester; the raw message stays as it was.
    let raws = raw_count(&app).await;
    let bad = admin.post(&format!("/admin/quarantine/{anon_id}/ticket"), &[("requester", "not an address")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains(r#"<p class="field-error" id="requester-error">"#) && bad.body.contains("not an address")
    );
    let ok = admin.post(&format!("/admin/quarantine/{anon_id}/ticket"), &[("requester", "Anon@Example.org")]).await;
    assert_eq!(ok.status, 303);
    let (status, ticket) = quarantine_status(&app, anon_id).await;
    assert_eq!(status, "released");
    let t = app.ticket(ticket.unwrap()).await;
    assert_eq!(t["requester"]["email"], "anon@example.org");
    assert_eq!(t["subject"], "Who am I");
    assert_eq!(raw_count(&app).await, raws, "no new raw message");

    // Delete marks it deleted; headers-only entries can only be deleted.
    assert_eq!(admin.post(&format!("/admin/quarantine/{junk_id}/delete"), &[]).await.status, 303);
    assert_eq!(quarantine_status(&app, junk_id).await.0, "deleted");
    assert!(!admin.get("/admin/quarantine").await.body.contains("Subject: Junk"));
    let support = mailbox_id(&app, "support").await;
    let mut tx = app.services.db.begin().await.unwrap();
    let big = deskmail::db::quarantine::NewQuarantine {
        mailbox_id: Some(support),
        reason: "too large: 90000000 bytes",
        headers: "From: big@example.org\r\nSubject: Huge",
        size: 90_000_000,
        ..Default::default()
    };
    let big_id = deskmail::db::quarantine::insert(&mut tx, &big, 1).await.unwrap();
    tx.commit().await.unwrap();
    let view = admin.get(&format!("/admin/quarantine/{big_id}")).await.body;
    assert!(view.contains("it can only be deleted") && !view.contains("/retry"));
    assert_eq!(admin.post(&format!("/admin/quarantine/{big_id}/retry"), &[]).await.status, 303);
    assert_eq!(quarantine_status(&app, big_id).await.0, "held");
    assert_eq!(admin.post(&format!("/admin/quarantine/{big_id}/delete"), &[]).await.status, 303);
    assert_eq!(quarantine_status(&app, big_id).await.0, "deleted");
}

async fn a_failed_delivery_is_listed_and_retried(store: Store) {
    let Some(app) = failing_sender_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let o = app.ingest_at("desk", &[&mail("cust@example.org", "Lamp", "d1@example.org", "help")]).await.remove(0);
    let failed = wait_for(30, || async {
        let rows = app.services.db.deliveries(Some("failed"), 10, 0).await.ok()?;
        rows.into_iter().next()
    })
    .await
    .expect("the delivery fails");
    let list = admin.get("/admin/deliveries").await.body;
    assert!(list.contains(&format!("href=\"/tickets/{}\"", o.ticket.unwrap())) && list.contains("cust@example.org"));
    assert!(list.contains("cannot read ca_file") && list.contains(&format!("/admin/deliveries/{}/retry", failed.id)));
    assert!(!admin.get("/admin/deliveries?status=sent").await.body.contains("cust@example.org"));
    let p = admin.post(&format!("/admin/deliveries/{}/retry", failed.id), &[("back", "failed")]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/deliveries?status=failed"));
    let again = wait_for(30, || async {
        let rows = app.services.db.deliveries(None, 10, 0).await.ok()?;
        rows.into_iter().find(|d| d.id == failed.id && d.attempts == 2 && d.status == "failed")
    })
    .await;
    assert!(again.is_some(), "the retried delivery was not attempted again at once");
}

async fn the_bounce_log_lists_reports_with_their_ticket_and_raw_download(store: Store) {
    let Some(app) = crate::helpers::spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    app.ingest(crate::ingest::dsn_for("nobody-of-ours@elsewhere.example").as_bytes()).await;
    let page = admin.get("/admin/bounces").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("5.1.1")
            && page.body.contains("none of ours")
            && page.body.contains("gone@customer.example"),
        "{}",
        page.body
    );
    let id: i64 = sqlx::query_scalar("select id from bounces").fetch_one(app.services.db.pool()).await.unwrap();
    let raw = admin.get(&format!("/admin/bounces/{id}/raw")).await;
    assert_eq!(raw.status, 200);
    assert!(raw.body.contains("Undelivered Mail Returned to Sender"));
}
