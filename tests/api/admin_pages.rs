//! The admin pages over HTTP with a cookie-keeping client: mailboxes (validation, encrypted passwords, live pollers,
//! connection tests), e-mail templates, quarantine and deliveries; agents and other sites are refused.

use crate::helpers::{Store, TestApp, mail, spawn_app, spawn_app_with};
use crate::mailenv::{MailEnv, test_mail, wait_for, wait_inbox};
use crate::store_tests;
use deskmail::domain::Role;
use deskmail::ingest::OutcomeKind;

store_tests!(
    agents_get_403_on_every_admin_page_and_form,
    cross_site_posts_are_refused_and_same_origin_ones_work,
    a_bad_port_is_shown_beside_its_field_and_the_input_is_kept,
    dashboard_passwords_are_stored_encrypted_kept_on_edit_and_decrypted_for_use,
    a_dashboard_mailbox_imports_without_a_restart_and_stops_when_disabled,
    a_broken_template_is_refused_and_a_saved_override_changes_the_next_acknowledgement,
    quarantined_mail_is_retried_turned_into_a_ticket_or_deleted,
    a_failed_delivery_is_listed_and_retried,
    the_bounce_log_lists_reports_with_their_ticket_and_raw_download,
);

const PASSWORD: &str = "admin pages password";

/// A browser: keeps cookies, does not follow redirects, sends `Origin` with posts.
struct Browser {
    client: reqwest::Client,
    base: String,
}

/// Status, `Location` and body of a response.
struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Browser {
    /// Creates a user with a real password hash and signs in.
    async fn signed_in(app: &TestApp, email: &str, role: Role) -> Self {
        let hash = tokio::task::spawn_blocking(|| deskmail::password::hash(PASSWORD)).await.unwrap();
        app.services.db.create_user(email, email, role, &hash).await.unwrap();
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let b = Self { client, base: app.address.clone() };
        let p = b.post("/login", &[("email", email), ("password", PASSWORD), ("next", "/tickets")]).await;
        assert_eq!(p.status, 303, "login of {email}: {}", p.body);
        b
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        Page { status, location, body: resp.text().await.unwrap_or_default() }
    }

    async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).header("Origin", &self.base).form(form);
        Self::page(req.send().await.expect("POST")).await
    }
}

/// The form fields of a mailbox without servers; callers add theirs.
fn mailbox_fields<'a>(name: &'a str, address: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("address", address),
        ("display_name", "Dashboard Desk"),
        ("enabled", "1"),
        ("imap_port", "993"),
        ("imap_tls", "implicit"),
        ("imap_folder", "INBOX"),
        ("imap_after_import", "seen"),
        ("imap_poll_interval", "60"),
        ("imap_import_existing", "unseen"),
        ("smtp_port", "587"),
        ("smtp_tls", "starttls"),
    ]
}

/// Replaces (or adds) form fields.
fn with<'a>(mut fields: Vec<(&'a str, &'a str)>, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    fields
}

async fn mailbox_id(app: &TestApp, name: &str) -> i64 {
    app.services.db.mailbox_by_name(name).await.unwrap().expect("mailbox exists").id
}

async fn agents_get_403_on_every_admin_page_and_form(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let agent = Browser::signed_in(&app, "agent@example.test", Role::Agent).await;
    app.ingest(b"Subject: no sender\r\n\r\nheld").await;
    let id = mailbox_id(&app, "support").await;
    let pages = [
        "/admin/mailboxes".to_string(),
        "/admin/mailboxes/new".into(),
        format!("/admin/mailboxes/{id}"),
        "/admin/templates".into(),
        "/admin/templates/ack.txt".into(),
        "/admin/quarantine".into(),
        "/admin/quarantine/1".into(),
        "/admin/quarantine/1/raw".into(),
        "/admin/deliveries?status=all".into(),
    ];
    for path in &pages {
        assert_eq!(agent.get(path).await.status, 403, "agent GET {path}");
        let p = admin.get(path).await;
        assert_eq!(p.status, 200, "admin GET {path}: {}", p.body);
    }
    assert_eq!(admin.get("/admin").await.location, "/admin/mailboxes");
    let posts = [
        "/admin/mailboxes".to_string(),
        format!("/admin/mailboxes/{id}"),
        format!("/admin/mailboxes/{id}/enabled"),
        format!("/admin/mailboxes/{id}/test"),
        "/admin/templates/ack.txt".into(),
        "/admin/templates/ack.txt/reset".into(),
        "/admin/quarantine/1/retry".into(),
        "/admin/quarantine/1/ticket".into(),
        "/admin/quarantine/1/delete".into(),
        "/admin/deliveries/1/retry".into(),
    ];
    for path in &posts {
        assert_eq!(agent.post(path, &[("enabled", "0"), ("source", "x")]).await.status, 403, "agent POST {path}");
    }
    assert_eq!(app.services.db.quarantine(10, 0).await.unwrap().1, 1, "nothing was changed by the agent");
}

async fn cross_site_posts_are_refused_and_same_origin_ones_work(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let fields = mailbox_fields("evil", "evil@example.test");
    let url = format!("{}/admin/mailboxes", app.address);
    let evil = admin.client.post(&url).header("Origin", "https://evil.example").form(&fields).send().await.unwrap();
    assert_eq!(evil.status().as_u16(), 403);
    let fetch = admin.client.post(&url).header("Sec-Fetch-Site", "cross-site").form(&fields).send().await.unwrap();
    assert_eq!(fetch.status().as_u16(), 403);
    assert!(app.services.db.mailbox_by_name("evil").await.unwrap().is_none());
    let same = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!((same.status, same.location.as_str()), (303, "/admin/mailboxes"), "{}", same.body);
    let list = admin.get("/admin/mailboxes").await.body;
    assert!(list.contains("Mailbox evil added.") && list.contains("evil@example.test"));
}

async fn a_bad_port_is_shown_beside_its_field_and_the_input_is_kept(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let fields = with(
        mailbox_fields("sales", "sales@example.test"),
        &[
            ("imap_on", "1"),
            ("imap_host", "imap.example.test"),
            ("imap_username", "sales-user"),
            ("imap_password", "pw"),
            ("imap_port", "99999"),
        ],
    );
    let p = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains(
            r#"name="imap_port" type="text" value="99999" aria-invalid="true" aria-describedby="f-imap_port-error""#
        ),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains(r#"<p class="field-error" id="f-imap_port-error">Enter a port number between 1 and 65535.</p>"#)
    );
    assert!(p.body.contains(r#"value="imap.example.test""#) && p.body.contains(r#"value="sales-user""#), "input kept");
    assert!(!p.body.contains(r#"aria-describedby="f-imap_host-error""#), "only the bad field is marked");
    assert!(app.services.db.mailbox_by_name("sales").await.unwrap().is_none());
    let taken = admin
        .post("/admin/mailboxes", &with(fields, &[("imap_port", "993"), ("address", "support@example.test")]))
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("Another mailbox already has this address."));
}

async fn dashboard_passwords_are_stored_encrypted_kept_on_edit_and_decrypted_for_use(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let fields = with(
        mailbox_fields("crypt", "crypt@example.test"),
        &[
            ("imap_on", "1"),
            ("imap_host", "imap.invalid"),
            ("imap_username", "crypt"),
            ("imap_password", "imap-secret-4711"),
            ("smtp_on", "1"),
            ("smtp_host", "smtp.invalid"),
            ("smtp_username", "crypt"),
            ("smtp_password", "smtp-secret-0815"),
        ],
    );
    let fields: Vec<_> = fields.into_iter().filter(|(k, _)| *k != "enabled").collect();
    assert_eq!(admin.post("/admin/mailboxes", &fields).await.status, 303);
    let row = app.services.db.mailbox_by_name("crypt").await.unwrap().unwrap();
    assert!(!row.settings_json.contains("secret-"), "plaintext stored: {}", row.settings_json);
    assert!(row.settings_json.contains("password_encrypted"));
    let loaded = deskmail::secretbox::load_mailbox_settings(&row.settings_json, &app.services.secrets).unwrap();
    assert_eq!(loaded.imap.unwrap().password.resolve().unwrap().as_deref(), Some("imap-secret-4711"));
    assert_eq!(loaded.smtp.unwrap().password.resolve().unwrap().as_deref(), Some("smtp-secret-0815"));

    let edit = admin.get(&format!("/admin/mailboxes/{}", row.id)).await.body;
    assert!(!edit.contains("secret-") && edit.contains("Leave empty to keep it."));
    let kept = with(fields, &[("imap_password", ""), ("smtp_password", ""), ("display_name", "Renamed")]);
    assert_eq!(admin.post(&format!("/admin/mailboxes/{}", row.id), &kept).await.status, 303);
    let row = app.services.db.mailbox_by_name("crypt").await.unwrap().unwrap();
    assert_eq!(row.display_name, "Renamed");
    let loaded = deskmail::secretbox::load_mailbox_settings(&row.settings_json, &app.services.secrets).unwrap();
    assert_eq!(loaded.imap.unwrap().password.resolve().unwrap().as_deref(), Some("imap-secret-4711"));

    // Used: the connection test logs in to the real servers with the decrypted passwords.
    let Some(env) = MailEnv::shared() else { return };
    let address = env.address("crypt");
    let (imaps, submission, ca) =
        (env.imaps_port.to_string(), env.submission_port.to_string(), env.ca_cert.display().to_string());
    let real = with(
        mailbox_fields("real", &address),
        &[
            ("imap_on", "1"),
            ("imap_host", &env.host),
            ("imap_port", &imaps),
            ("imap_username", &address),
            ("imap_password", &env.password),
            ("imap_ca_file", &ca),
            ("smtp_on", "1"),
            ("smtp_host", &env.host),
            ("smtp_port", &submission),
            ("smtp_username", &address),
            ("smtp_password", &env.password),
            ("smtp_ca_file", &ca),
        ],
    );
    let p = admin.post("/admin/mailboxes", &real).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let real_id = mailbox_id(&app, "real").await;
    let report = admin.post(&format!("/admin/mailboxes/{real_id}/test"), &[]).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains(&format!("IMAP {}:{imaps} as {address}: login ok", env.host)), "{}", report.body);
    assert!(
        report.body.contains(&format!("SMTP {}:{submission}: connection and login ok", env.host)),
        "{}",
        report.body
    );
    let wrong = with(real, &[("imap_password", "wrong"), ("smtp_password", "wrong")]);
    assert_eq!(admin.post(&format!("/admin/mailboxes/{real_id}"), &wrong).await.status, 303);
    let report = admin.post(&format!("/admin/mailboxes/{real_id}/test"), &[]).await.body;
    assert!(report.contains("login refused") && !report.contains(": login ok"), "{report}");
}

async fn tickets_of(app: &TestApp, mailbox: &str) -> i64 {
    let (status, body) = app.get(&format!("/api/v1/tickets?mailbox={mailbox}&status=new,open,pending")).await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().unwrap_or_default()
}

async fn a_dashboard_mailbox_imports_without_a_restart_and_stops_when_disabled(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let address = env.address("live");
    env.send("first@customer.example", &[&address], &test_mail("first@customer.example", &address, "before")).await;
    assert_eq!(wait_inbox(&env, &address, 1, 10).await.len(), 1);
    let (imaps, ca) = (env.imaps_port.to_string(), env.ca_cert.display().to_string());
    let fields = with(
        mailbox_fields("live", &address),
        &[
            ("imap_on", "1"),
            ("imap_host", &env.host),
            ("imap_port", &imaps),
            ("imap_username", &address),
            ("imap_password", &env.password),
            ("imap_ca_file", &ca),
            ("imap_idle", "1"),
            ("imap_poll_interval", "5"),
            ("imap_import_existing", "all"),
        ],
    );
    let p = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let first = wait_for(20, || async { (tickets_of(&app, "live").await >= 1).then_some(()) }).await;
    assert!(first.is_some(), "the new mailbox imported nothing without a restart");
    let list = admin.get("/admin/mailboxes").await.body;
    assert!(list.contains("state-idle") || list.contains("state-syncing"), "{list}");

    env.send("second@customer.example", &[&address], &test_mail("second@customer.example", &address, "live")).await;
    let second = wait_for(20, || async { (tickets_of(&app, "live").await >= 2).then_some(()) }).await;
    assert!(second.is_some(), "mail arriving later was not imported");

    let id = mailbox_id(&app, "live").await;
    assert_eq!(admin.post(&format!("/admin/mailboxes/{id}/enabled"), &[("enabled", "0")]).await.status, 303);
    let stopped = wait_for(10, || async {
        let (_, h) = app.get("/healthz").await;
        let live = h["mailboxes"].as_array()?.iter().find(|m| m["name"] == "live")?.clone();
        (live["state"] == "disabled").then_some(())
    })
    .await;
    assert!(stopped.is_some(), "the poller did not stop");
    env.send("third@customer.example", &[&address], &test_mail("third@customer.example", &address, "late")).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(tickets_of(&app, "live").await, 2, "a disabled mailbox imported mail");
}

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
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
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

async fn quarantine_status(app: &TestApp, id: i64) -> (String, Option<i64>) {
    let e = app.services.db.quarantine_entry(id).await.unwrap();
    (e.status, e.ticket_number)
}

async fn raw_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from raw_messages").fetch_one(app.services.db.pool()).await.unwrap()
}

async fn quarantined_mail_is_retried_turned_into_a_ticket_or_deleted(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
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
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
    let o = app.ingest_at("desk", &[&mail("cust@example.org", "Lamp", "d1@example.org", "help")]).await.remove(0);
    let failed = wait_for(10, || async {
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
    let again = wait_for(10, || async {
        let rows = app.services.db.deliveries(None, 10, 0).await.ok()?;
        rows.into_iter().find(|d| d.id == failed.id && d.attempts == 2 && d.status == "failed")
    })
    .await;
    assert!(again.is_some(), "the retried delivery was not attempted again at once");
}

async fn the_bounce_log_lists_reports_with_their_ticket_and_raw_download(store: Store) {
    let Some(app) = crate::helpers::spawn_app(store).await else { return };
    let admin = Browser::signed_in(&app, "root@example.test", Role::Admin).await;
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
