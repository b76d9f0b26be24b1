//! The pages every user has, driven over HTTP with a cookie-keeping client: canned responses, settings and opening a
//! ticket to a customer.

use crate::helpers::{Store, spawn_app};
use crate::mailenv::{MailEnv, wait_inbox};
use crate::outbound::sending_app;
use crate::store_tests;
use crate::web_client::{Browser, PASSWORD, staff};
use deskmail::domain::Role;
use deskmail::ingest::parse::parse;

store_tests!(
    canned_responses_are_personal_shared_ones_belong_to_admins_and_broken_ones_are_refused,
    settings_change_the_password_and_save_signature_and_notifications,
    checking_the_current_password_counts_against_the_sign_in_quota,
    signed_in_pages_and_downloads_are_not_cached_static_assets_are,
    opening_a_ticket_mails_the_first_message_without_re_and_the_answer_threads_back,
    errors_are_pages_that_say_what_to_do_and_scripts_still_get_json,
);

/// The id of the first canned response with this title, from the list page.
fn canned_id(list: &str, title: &str) -> i64 {
    let re = regex::Regex::new(&format!(r#"href="/canned/(\d+)">{title}<"#)).unwrap();
    re.captures(list).unwrap_or_else(|| panic!("{title} not listed")).get(1).unwrap().as_str().parse().unwrap()
}
async fn canned_responses_are_personal_shared_ones_belong_to_admins_and_broken_ones_are_refused(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    staff(&app, "boss@example.test", Role::Admin).await;
    staff(&app, "ana@example.test", Role::Agent).await;
    let admin = Browser::signed_in(&app, "boss@example.test", PASSWORD).await;
    let agent = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;

    let p = agent
        .post("/canned", &[("title", "Thanks"), ("body", "Thanks, {{ customer.name }}!"), ("action", "save")])
        .await;
    assert_eq!((p.status, p.location.as_str()), (303, "/canned"), "{}", p.body);
    let p = agent.post("/canned", &[("title", "Mine to share"), ("body", "x"), ("shared", "on")]).await;
    assert_eq!(p.status, 403, "an agent shared a response");
    let p = admin.post("/canned", &[("title", "Shipping times"), ("body", "2-3 days"), ("shared", "on")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    admin.post("/canned", &[("title", "Boss private"), ("body", "private")]).await;

    let list = agent.get("/canned").await.body;
    assert!(list.contains("Thanks") && list.contains("Shipping times") && !list.contains("Boss private"), "{list}");
    let (mine, shared) = (canned_id(&list, "Thanks"), canned_id(&list, "Shipping times"));
    let private = canned_id(&admin.get("/canned").await.body, "Boss private");
    assert_eq!(agent.post(&format!("/canned/{shared}"), &[("title", "Mine now"), ("body", "x")]).await.status, 403);
    assert_eq!(agent.post(&format!("/canned/{shared}/delete"), &[]).await.status, 403);
    assert_eq!(agent.get(&format!("/canned/{private}")).await.status, 404);
    assert_eq!(agent.post(&format!("/canned/{private}/delete"), &[]).await.status, 404);
    let shown = agent.get(&format!("/canned/{shared}")).await;
    assert!(shown.status == 200 && shown.body.contains("managed by administrators"), "{}", shown.body);

    // The preview fills the variables on a sample ticket; nothing is saved.
    let body = "Hello {{ customer.name }}, about #{{ ticket.number }}. {{ agent.name }}";
    let p = agent.post(&format!("/canned/{mine}"), &[("title", "Thanks"), ("body", body), ("action", "preview")]).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Hello José Pérez, about #1042. Staff ana@example.test"), "{}", p.body);
    // A body that does not render is refused with the error beside the field, the input kept.
    let broken = "Hi {{ customer.name | shout }}";
    let p = agent.post(&format!("/canned/{mine}"), &[("title", "Thanks!"), ("body", broken), ("action", "save")]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains(r#"id="canned-body" name="body" rows="12" required aria-invalid="true""#), "{}", p.body);
    assert!(p.body.contains("does not render") && p.body.contains("shout"), "{}", p.body);
    assert!(p.body.contains("Hi {{ customer.name | shout }}") && p.body.contains(r#"value="Thanks!""#), "input lost");
    // One that would render for ever runs out of fuel and is refused the same way, at once.
    let endless = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}";
    for action in ["preview", "save"] {
        let p =
            agent.post(&format!("/canned/{mine}"), &[("title", "Loop"), ("body", endless), ("action", action)]).await;
        assert!(p.status == 422 && p.body.contains(r#"id="canned-body-error""#), "{}", p.body);
        assert!(p.body.contains("takes too long to render"), "{}", p.body);
    }
    let p = agent.post("/canned", &[("title", ""), ("body", "x")]).await;
    assert!(p.status == 422 && p.body.contains(r#"id="canned-title-error""#), "{}", p.body);

    let p = agent.post(&format!("/canned/{mine}"), &[("title", "Thank you"), ("body", "Thank you!")]).await;
    assert_eq!(p.status, 303);
    assert_eq!(app.services.db.canned(mine).await.unwrap().title, "Thank you");
    // An admin may unshare a shared response (it becomes theirs) and delete it.
    let p = admin.post(&format!("/canned/{shared}"), &[("title", "Shipping"), ("body", "2 days")]).await;
    assert_eq!(p.status, 303);
    assert!(app.services.db.canned(shared).await.unwrap().owner_id.is_some());
    assert_eq!(agent.post(&format!("/canned/{mine}/delete"), &[]).await.status, 303);
    assert!(app.services.db.canned(mine).await.is_err(), "not deleted");
}

async fn settings_change_the_password_and_save_signature_and_notifications(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let id = staff(&app, "ana@example.test", Role::Agent).await;
    let me = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    let elsewhere = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    assert_eq!(me.get("/settings").await.status, 200);

    let new = "a much better password";
    let cases = [
        ("wrong current password", new, new, "current"),
        (PASSWORD, "short", "short", "new"),
        (PASSWORD, new, "something else", "confirm"),
    ];
    for (current, fresh, confirm, field) in cases {
        let p = me.post("/settings/password", &[("current", current), ("new", fresh), ("confirm", confirm)]).await;
        assert_eq!(p.status, 422, "{field}");
        let marked = format!(r#"aria-invalid="true" aria-describedby="{field}-error""#);
        assert!(p.body.contains(&marked) && p.body.contains(&format!(r#"id="{field}-error""#)), "{field}: {}", p.body);
    }
    let p = me.post("/settings/password", &[("current", PASSWORD), ("new", new), ("confirm", new)]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/settings"));
    assert!(me.get("/settings").await.body.contains("Your password was changed"));
    assert_eq!(elsewhere.get("/settings").await.status, 303, "another session survived the password change");
    // Checked on the stored hash: another sign-in would exceed the account's five password checks a minute.
    let hash = app.services.db.user(id).await.unwrap().password_hash;
    assert!(!deskmail::platform::password::verify(PASSWORD, &hash), "the old password still works");
    Browser::signed_in(&app, "ana@example.test", new).await;

    let form = [("signature", "Ana\r\nLamps & Co."), ("notify_new_ticket", "on"), ("notify_assigned", "on")];
    assert_eq!(me.post("/settings/profile", &form).await.status, 303);
    let u = app.services.db.user(id).await.unwrap();
    assert_eq!(u.signature, "Ana\nLamps & Co.");
    assert_eq!((u.notify_new_ticket, u.notify_customer_replied, u.notify_assigned), (1, 0, 1));
    let long = "x\n".repeat(30);
    let p = me.post("/settings/profile", &[("signature", long.as_str())]).await;
    assert!(p.status == 422 && p.body.contains(r#"id="signature-error""#), "{}", p.body);
}

async fn checking_the_current_password_counts_against_the_sign_in_quota(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let id = staff(&app, "ana@example.test", Role::Agent).await;
    let me = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    let new = "a much better password";
    let change = |current: &'static str| [("current", current), ("new", new), ("confirm", new)];
    // The sign-in was the first of five checks a minute; four wrong guesses use up the rest.
    for _ in 0..4 {
        assert_eq!(me.post("/settings/password", &change("guess")).await.status, 422);
    }
    for current in ["guess", PASSWORD] {
        let p = me.post("/settings/password", &change(current)).await;
        assert!(p.status == 429 && p.body.contains(r#"id="current-error""#), "{current}: {}", p.body);
        assert!(p.body.contains("Too many attempts"), "{}", p.body);
    }
    let hash = app.services.db.user(id).await.unwrap().password_hash;
    assert!(deskmail::platform::password::verify(PASSWORD, &hash), "the password changed while throttled");
    let login = Browser::new(&app).post("/login", &[("email", "ana@example.test"), ("password", PASSWORD)]).await;
    assert_eq!(login.status, 429, "sign-ins are not throttled by the same quota");
}

async fn signed_in_pages_and_downloads_are_not_cached_static_assets_are(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let raw = b"From: a@customer.example\r\nTo: support@example.test\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\n\
Content-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n";
    let number = app.ingest(raw).await.ticket.unwrap();
    let attachment = app.ticket(number).await["messages"][0]["attachments"][0]["id"].as_i64().unwrap();
    staff(&app, "ana@example.test", Role::Agent).await;
    let me = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    for path in [
        "/tickets".to_string(),
        format!("/tickets/{number}"),
        format!("/tickets/{number}/attachments/{attachment}"),
        "/settings".into(),
    ] {
        let p = me.get(&path).await;
        assert_eq!((p.status, p.header("cache-control")), (200, "no-store"), "{path}");
        assert!(p.header("strict-transport-security").is_empty(), "HSTS over plain HTTP: {path}");
    }
    assert_eq!(Browser::new(&app).get("/login").await.header("cache-control"), "no-store");
    let css = me.get("/static/app.css").await;
    assert_eq!((css.status, css.header("cache-control")), (200, "public, max-age=3600"));
}

async fn opening_a_ticket_mails_the_first_message_without_re_and_the_answer_threads_back(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, support)) = sending_app(store, &env, |_| {}).await else { return };
    staff(&app, "ana@example.test", Role::Agent).await;
    let ana = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    let form = ana.get("/tickets/new").await;
    assert!(form.status == 200 && form.body.contains(&support), "{}", form.body);
    assert!(!form.body.contains("support@example.test"), "a mailbox that cannot send is offered");
    let mailbox = app.services.db.mailbox_by_name("out").await.unwrap().unwrap().id.to_string();
    let customer = env.address("kunde");
    let fields = |subject: &str| {
        reqwest::multipart::Form::new()
            .text("email", customer.clone())
            .text("name", "José Pérez")
            .text("mailbox", mailbox.clone())
            .text("subject", subject.to_string())
            .text("body", "Hello José,\nyour replacement lamp ships today.")
            .text("status", "open")
            .text("idempotency_key", uuid::Uuid::new_v4().to_string())
    };
    let p = ana.post_multipart("/tickets/new", fields("  ")).await;
    assert!(p.status == 422 && p.body.contains(r#"id="nt-subject-error""#), "{}", p.body);
    assert!(p.body.contains(&customer), "the input was not kept");

    let file =
        reqwest::multipart::Part::bytes(b"label".to_vec()).file_name("label.txt").mime_str("text/plain").unwrap();
    let p = ana.post_multipart("/tickets/new", fields("Your replacement lamp").part("files", file)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let number: i64 = p.location.trim_start_matches("/tickets/").parse().expect("redirect to the ticket");
    let t = app.ticket(number).await;
    assert_eq!((t["status"].as_str(), t["requester"]["email"].as_str()), (Some("open"), Some(customer.as_str())));
    assert_eq!(t["messages"][0]["kind"], "agent");

    let inbox = wait_inbox(&env, &customer, 1, 15).await;
    assert_eq!(inbox.len(), 1, "the first message did not arrive");
    let mail = parse(&inbox[0]).unwrap();
    assert_eq!(mail.subject, format!("[#{number}] Your replacement lamp"));
    assert!(mail.body_text.contains("your replacement lamp ships today"), "{}", mail.body_text);
    assert_eq!(mail.attachments.iter().map(|a| a.filename.as_str()).collect::<Vec<_>>(), ["label.txt"]);
    assert!(mail.in_reply_to.is_empty(), "a first message answers nothing");

    let id = mail.message_id.clone().unwrap();
    let answer = format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: Re: {}\r\nMessage-ID: <a-{id}>\r\nIn-Reply-To: <{id}>\r\n\r\nThanks!\r\n",
        mail.subject
    );
    let o = app.ingest_at("out", &[answer.as_bytes()]).await.remove(0);
    assert_eq!(o.ticket, Some(number), "the answer did not thread onto the new ticket");
}

async fn errors_are_pages_that_say_what_to_do_and_scripts_still_get_json(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    staff(&app, "ana@example.test", Role::Agent).await;
    let me = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    let p = me.get("/tickets/999999").await;
    assert_eq!(p.status, 404);
    assert!(p.header("content-type").starts_with("text/html"), "{}", p.header("content-type"));
    assert!(p.body.contains("404 — not found") && p.body.contains("Back to the tickets"), "{}", p.body);
    let p = me.post("/tickets/bulk", &[("action", "explode"), ("ids", "1")]).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("unknown bulk action") && p.body.contains("check what you entered"), "{}", p.body);
    let p = me.post("/tickets/bulk", &[("nonsense", "1")]).await;
    assert!(p.status >= 400 && p.header("content-type").starts_with("text/html"), "a form the server cannot read");
    assert!(p.body.contains("Back to the tickets"), "{}", p.body);
    let script =
        me.client().get(format!("{}/tickets/999999/presence", app.address)).header("Accept", "application/json");
    let resp = script.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}
