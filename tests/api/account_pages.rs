//! Account administration over HTTP with a cookie-keeping client: invitations, password resets and deactivation.

use crate::helpers::{Store, spawn_app, spawn_app_with};
use crate::mailenv::{MailEnv, wait_for, wait_inbox};
use crate::outbound::sending_app;
use crate::store_tests;
use crate::web_client::{Browser, PASSWORD, staff};
use deskmail::domain::Role;
use deskmail::ingest::parse::parse;

store_tests!(
    an_invitation_is_mailed_and_its_link_signs_the_invitee_in_once,
    without_a_sending_mailbox_the_admin_gets_the_invitation_link,
    password_reset_reveals_no_account_is_single_use_and_expires,
    a_deactivated_user_is_signed_out_and_their_api_token_stops_working,
    sign_in_and_password_forms_refuse_big_bodies_and_impossible_addresses,
    hsts_is_sent_only_when_the_public_url_is_https,
    the_session_cookie_is_http_only_lax_and_secure_under_https,
    behind_a_trusted_proxy_sign_ins_are_throttled_per_forwarded_client,
);

/// The first `/{path}/TOKEN` link in a text or page (where `/` is escaped), as a local path.
fn link_in(text: &str, path: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r"/{path}/([A-Za-z0-9]{{20,}})")).unwrap();
    re.captures(&text.replace("&#x2f;", "/")).map(|c| format!("/{path}/{}", &c[1]))
}

/// The reset link of each mail, in order.
fn reset_links(inbox: &[Vec<u8>]) -> Vec<String> {
    inbox.iter().filter_map(|raw| link_in(&parse(raw)?.body_text, "password/reset")).collect()
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
    let other = env.address("marker");
    let other_id = staff(&app, &other, Role::Agent).await;
    let tokens = |user: i64| {
        let pool = app.services.db.pool().clone();
        async move {
            let n: i64 = sqlx::query_scalar("select count(*) from user_tokens where user_id = $1")
                .bind(user)
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    ask(email.clone()).await;
    // A refused request is handled in the background and leaves no trace. The marker: a request for another account,
    // made after it and handled the same way; once its link exists, the fourth request has had its turn.
    ask(other).await;
    assert!(wait_for(15, || async { (tokens(other_id).await == 1).then_some(()) }).await.is_some(), "no marker link");
    let count = tokens(id).await;
    assert_eq!(count, 3, "the per-address limit did not hold");
}

async fn a_deactivated_user_is_signed_out_and_their_api_token_stops_working(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin_id = staff(&app, "boss@example.test", Role::Admin).await;
    let id = staff(&app, "ana@example.test", Role::Agent).await;
    let token = deskmail::platform::password::new_api_token();
    app.services.db.create_token(id, "t", &deskmail::platform::password::token_hash(&token)).await.unwrap();
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

async fn sign_in_and_password_forms_refuse_big_bodies_and_impossible_addresses(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    staff(&app, "ana@example.test", Role::Agent).await;
    // An address no account can have fails like any wrong sign-in.
    let long = format!("{}@example.test", "a".repeat(300));
    let p = Browser::new(&app).post("/login", &[("email", &long), ("password", PASSWORD)]).await;
    assert!(p.status == 422 && p.body.contains("Wrong e-mail address or password."), "{}", p.body);

    let huge = "a".repeat(20 * 1024);
    let p = Browser::new(&app).post("/login", &[("email", huge.as_str()), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 413, "a 20 KB login form was read");
    let p = Browser::new(&app).post("/password/forgot", &[("email", huge.as_str())]).await;
    assert_eq!(p.status, 413);
    let p = Browser::new(&app).post("/password/reset/sometoken", &[("password", &huge), ("confirm", &huge)]).await;
    assert_eq!(p.status, 413);
    let me = Browser::signed_in(&app, "ana@example.test", PASSWORD).await;
    let p = me.post("/settings/password", &[("current", PASSWORD), ("new", &huge), ("confirm", &huge)]).await;
    assert_eq!(p.status, 413);
    // Other forms keep the usual limit.
    let p = me.post("/settings/profile", &[("signature", "x".repeat(20 * 1024).as_str())]).await;
    assert_eq!(p.status, 422);
}

async fn hsts_is_sent_only_when_the_public_url_is_https(store: Store) {
    let Some(app) = spawn_app_with(store, |s| s.server.public_url = "https://desk.example.test".into()).await else {
        return;
    };
    let p = Browser::new(&app).get("/login").await;
    assert_eq!((p.status, p.header("strict-transport-security")), (200, "max-age=31536000"));
    let Some(plain) = spawn_app(store).await else { return };
    assert!(Browser::new(&plain).get("/login").await.header("strict-transport-security").is_empty());
}

async fn the_session_cookie_is_http_only_lax_and_secure_under_https(store: Store) {
    for https in [true, false] {
        let Some(app) = spawn_app_with(store, |s| {
            if https {
                s.server.public_url = "https://desk.example.test".into();
            }
        })
        .await
        else {
            return;
        };
        staff(&app, "ana@example.test", Role::Agent).await;
        let p = Browser::new(&app).post("/login", &[("email", "ana@example.test"), ("password", PASSWORD)]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let cookies: Vec<&str> = p.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
        let session = cookies.iter().find(|c| c.starts_with("deskmail_session=")).expect("a session cookie");
        let attrs: Vec<String> = session.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
        assert!(attrs.contains(&"httponly".to_string()), "{session}");
        assert!(attrs.contains(&"samesite=lax".to_string()), "{session}");
        assert_eq!(attrs.contains(&"secure".to_string()), https, "Secure only under https: {session}");
    }
}

async fn behind_a_trusted_proxy_sign_ins_are_throttled_per_forwarded_client(store: Store) {
    // An address too long to be an account's: refused without a password check, but charged to the client.
    let nobody = format!("{}@example.test", "x".repeat(300));
    for trusted in [true, false] {
        let Some(app) = spawn_app_with(store, |s| {
            if trusted {
                s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        })
        .await
        else {
            return;
        };
        let b = Browser::new(&app);
        let login = |client: &'static str| {
            let url = format!("{}/login", app.address);
            let form = [("email", nobody.as_str()), ("password", "x")];
            let req = b.client().post(url).header("Origin", &app.address).header("X-Forwarded-For", client);
            async move { req.form(&form).send().await.unwrap().status().as_u16() }
        };
        for _ in 0..20 {
            assert_eq!(login("198.51.100.1").await, 422);
        }
        assert_eq!(login("198.51.100.1").await, 429, "the 21st attempt a minute from one client");
        let other = login("198.51.100.2").await;
        if trusted {
            assert_eq!(other, 422, "another client behind the proxy is not throttled");
        } else {
            assert_eq!(other, 429, "without trusted proxies X-Forwarded-For is ignored");
        }
    }
}
