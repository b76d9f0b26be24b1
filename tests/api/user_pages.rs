//! The pages every user has (canned responses, settings, new ticket) and account administration
//! (invitations, password resets, deactivation), driven over HTTP with a cookie-keeping client.

use crate::helpers::{Store, TestApp, spawn_app};
use crate::mailenv::{MailEnv, wait_inbox};
use crate::outbound::sending_app;
use crate::store_tests;
use deskmail::domain::Role;
use deskmail::ingest::parse::parse;

store_tests!(
    canned_responses_are_personal_shared_ones_belong_to_admins_and_broken_ones_are_refused,
    settings_change_the_password_and_save_signature_and_notifications,
    opening_a_ticket_mails_the_first_message_without_re_and_the_answer_threads_back,
    an_invitation_is_mailed_and_its_link_signs_the_invitee_in_once,
    without_a_sending_mailbox_the_admin_gets_the_invitation_link,
    password_reset_reveals_no_account_is_single_use_and_expires,
    a_deactivated_user_is_signed_out_and_their_api_token_stops_working
);

const PASSWORD: &str = "correct horse battery";

/// A signed-in (or anonymous) browser: keeps cookies, does not follow redirects, sends `Origin`.
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
    fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { client, base: app.address.clone() }
    }

    async fn signed_in(app: &TestApp, email: &str, password: &str) -> Self {
        let b = Self::new(app);
        let p = b.post("/login", &[("email", email), ("password", password), ("next", "/tickets")]).await;
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

    async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).header("Origin", &self.base).multipart(form);
        Self::page(req.send().await.expect("POST")).await
    }
}

/// A staff account with a real password hash.
async fn staff(app: &TestApp, email: &str, role: Role) -> i64 {
    let hash = tokio::task::spawn_blocking(|| deskmail::password::hash(PASSWORD)).await.unwrap();
    app.services.db.create_user(email, &format!("Staff {email}"), role, &hash).await.unwrap()
}

/// The first `/{path}/TOKEN` link in a text or page (where `/` is escaped), as a local path.
fn link_in(text: &str, path: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r"/{path}/([A-Za-z0-9]{{20,}})")).unwrap();
    re.captures(&text.replace("&#x2f;", "/")).map(|c| format!("/{path}/{}", &c[1]))
}

/// The reset link of each mail, in order.
fn reset_links(inbox: &[Vec<u8>]) -> Vec<String> {
    inbox.iter().filter_map(|raw| link_in(&parse(raw)?.body_text, "password/reset")).collect()
}

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
    let old = Browser::new(&app).post("/login", &[("email", "ana@example.test"), ("password", PASSWORD)]).await;
    assert_eq!(old.status, 422, "the old password still works");
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

async fn an_invitation_is_mailed_and_its_link_signs_the_invitee_in_once(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(store, &env, |_| {}).await else { return };
    staff(&app, "boss@example.test", Role::Admin).await;
    let admin = Browser::signed_in(&app, "boss@example.test", PASSWORD).await;
    let invitee = env.address("new-agent");
    let p = admin.post("/admin/users", &[("name", "Nia Newcomer"), ("email", &invitee), ("role", "agent")]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/users"), "{}", p.body);
    let list = admin.get("/admin/users").await.body;
    assert!(list.contains("invitation is on its way") && list.contains("Nia Newcomer") && list.contains(">invited<"));
    let p = admin.post("/admin/users", &[("name", "Again"), ("email", &invitee), ("role", "agent")]).await;
    assert!(p.status == 422 && p.body.contains(r#"id="inv-email-error""#), "{}", p.body);

    let inbox = wait_inbox(&env, &invitee, 1, 15).await;
    assert_eq!(inbox.len(), 1, "the invitation did not arrive");
    let mail = parse(&inbox[0]).unwrap();
    assert!(mail.subject.contains("invitation"), "{}", mail.subject);
    let link = link_in(&mail.body_text, "invite").expect("a link in the invitation");
    let nia = Browser::new(&app);
    let form = nia.get(&link).await;
    assert!(form.status == 200 && form.body.contains("Welcome, Nia Newcomer"), "{}", form.body);
    let p = nia.post(&link, &[("password", "short"), ("confirm", "short")]).await;
    assert!(p.status == 422 && p.body.contains(r#"id="password-error""#), "{}", p.body);
    let p = nia.post(&link, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/tickets"));
    assert_eq!(nia.get("/tickets").await.status, 200, "the invitee is not signed in");

    // Used up: the same link works no more, for anyone.
    assert_eq!(Browser::new(&app).get(&link).await.status, 410);
    let again =
        Browser::new(&app).post(&link, &[("password", "another password"), ("confirm", "another password")]).await;
    assert!(again.status == 410 && again.body.contains("no longer works"), "{}", again.body);
    Browser::signed_in(&app, &invitee, PASSWORD).await;
    assert!(!admin.get("/admin/users").await.body.contains(">invited<"));
}

async fn without_a_sending_mailbox_the_admin_gets_the_invitation_link(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    staff(&app, "boss@example.test", Role::Admin).await;
    let admin = Browser::signed_in(&app, "boss@example.test", PASSWORD).await;
    let p = admin.post("/admin/users", &[("name", "Bo"), ("email", "not an address"), ("role", "agent")]).await;
    assert!(p.status == 422 && p.body.contains(r#"aria-describedby="inv-email-error""#), "{}", p.body);
    let p = admin.post("/admin/users", &[("name", "Bo"), ("email", "bo@example.test"), ("role", "admin")]).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("No mailbox can send mail, so the invitation was not mailed"), "{}", p.body);
    let first = link_in(&p.body, "invite").expect("the link on the page");
    let bo = app.services.db.user_by_email("bo@example.test").await.unwrap().unwrap();
    assert_eq!(bo.role, "admin");

    // Sending it again replaces the link.
    let p = admin.post(&format!("/admin/users/{}/invite", bo.id), &[]).await;
    let second = link_in(&p.body, "invite").expect("a new link");
    assert_ne!(first, second);
    assert_eq!(Browser::new(&app).get(&first).await.status, 410);
    let b = Browser::new(&app);
    assert_eq!(b.post(&second, &[("password", PASSWORD), ("confirm", PASSWORD)]).await.status, 303);
    assert_eq!(b.get("/admin/users").await.status, 200, "the new admin is signed in");
    let p = admin.post(&format!("/admin/users/{}/invite", bo.id), &[]).await;
    assert_eq!(p.status, 303, "an accepted invitation was sent again");
}

async fn password_reset_reveals_no_account_is_single_use_and_expires(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(store, &env, |_| {}).await else { return };
    let email = env.address("forgetful");
    let id = staff(&app, &email, Role::Agent).await;
    let ask = |address: String| {
        let b = Browser::new(&app);
        async move {
            let p = b.post("/password/forgot", &[("email", &address)]).await;
            (p.status, p.location, b.get("/login").await.body)
        }
    };
    let (unknown, known) = (ask("nobody@example.test".into()).await, ask(email.clone()).await);
    assert_eq!((unknown.0, unknown.1.as_str()), (303, "/login"));
    assert_eq!((unknown.0, &unknown.1, &unknown.2), (known.0, &known.1, &known.2), "the answers differ");
    assert!(known.2.contains("If an account exists for that address"), "{}", known.2);

    let first = reset_links(&wait_inbox(&env, &email, 1, 15).await).remove(0);
    ask(email.clone()).await;
    let links = reset_links(&wait_inbox(&env, &email, 2, 15).await);
    assert_eq!(links.len(), 2, "the second link did not arrive");
    let second = links.into_iter().find(|l| *l != first).expect("a second, different link");
    assert_eq!(Browser::new(&app).get(&first).await.status, 410, "a newer link did not replace the older one");

    let me = Browser::new(&app);
    assert!(me.get(&second).await.body.contains("Choose a new password"));
    let new = "a brand new password";
    let p = me.post(&second, &[("password", new), ("confirm", "different")]).await;
    assert!(p.status == 422 && p.body.contains(r#"id="confirm-error""#), "{}", p.body);
    let p = me.post(&second, &[("password", new), ("confirm", new)]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/tickets"));
    assert_eq!(me.get("/settings").await.status, 200, "not signed in after the reset");
    assert_eq!(Browser::new(&app).post(&second, &[("password", new), ("confirm", new)]).await.status, 410);
    Browser::signed_in(&app, &email, new).await;

    // An expired link shows the same clear page; a fourth request within the hour sends nothing.
    ask(email.clone()).await;
    let links = reset_links(&wait_inbox(&env, &email, 3, 15).await);
    let third = links.last().unwrap().clone();
    sqlx::query("update user_tokens set expires_at = 0 where user_id = $1")
        .bind(id)
        .execute(app.services.db.pool())
        .await
        .unwrap();
    let p = Browser::new(&app).get(&third).await;
    assert!(p.status == 410 && p.body.contains("Ask for a new link"), "{}", p.body);
    ask(email.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let count: i64 = sqlx::query_scalar("select count(*) from user_tokens where user_id = $1")
        .bind(id)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 3, "the per-address limit did not hold");
}

async fn a_deactivated_user_is_signed_out_and_their_api_token_stops_working(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin_id = staff(&app, "boss@example.test", Role::Admin).await;
    let id = staff(&app, "ana@example.test", Role::Agent).await;
    let token = deskmail::password::new_api_token();
    app.services.db.create_token(id, "t", &deskmail::password::token_hash(&token)).await.unwrap();
    let admin = Browser::signed_in(&app, "boss@example.test", PASSWORD).await;
    let ana = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    assert_eq!(ana.get("/tickets").await.status, 200);
    assert_eq!(ana.get("/admin/users").await.status, 403, "an agent reached user administration");
    assert_eq!(app.get_as("/api/v1/tickets", &token).await.0, 200);

    assert_eq!(admin.post(&format!("/admin/users/{id}/active"), &[("value", "0")]).await.status, 303);
    let p = ana.get("/tickets").await;
    assert!(p.status == 303 && p.location.starts_with("/login"), "still signed in: {}", p.status);
    assert_eq!(app.get_as("/api/v1/tickets", &token).await.0, 401, "the API token still works");
    let p = Browser::new(&app).post("/login", &[("email", "ana@example.test"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 422, "a deactivated user signed in");
    assert!(admin.get("/admin/users").await.body.contains("deactivated"));

    // An admin can neither deactivate nor demote themselves.
    admin.post(&format!("/admin/users/{admin_id}/active"), &[("value", "0")]).await;
    admin.post(&format!("/admin/users/{admin_id}/role"), &[("value", "agent")]).await;
    let me = app.services.db.user(admin_id).await.unwrap();
    assert_eq!((me.active, me.role.as_str()), (1, "admin"));

    assert_eq!(admin.post(&format!("/admin/users/{id}/active"), &[("value", "1")]).await.status, 303);
    assert_eq!(admin.post(&format!("/admin/users/{id}/role"), &[("value", "admin")]).await.status, 303);
    assert_eq!(app.get_as("/api/v1/tickets", &token).await.0, 200);
    let ana = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    assert_eq!(ana.get("/admin/users").await.status, 200, "the promoted user is no admin");
}
