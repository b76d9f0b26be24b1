//! The portal through real mail (Postfix into Dovecot), on both stores: the sign-in link arrives and works once,
//! customers' mails link to their ticket and ask for a rating, a flood of requests mails at most three links.

use crate::helpers::{Store, TestApp, mail, outbox_drained};
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for, wait_inbox};
use crate::outbound::sending_app;
use crate::store_tests;
use crate::web_client::Browser;
use deskmail::ingest::parse::parse;
use serde_json::json;

store_tests!(
    a_sign_in_link_arrives_by_mail_and_the_customers_mails_link_to_their_ticket,
    a_flood_of_sign_in_requests_mails_at_most_three_links_an_hour,
);

/// The first `{path}…` link in a text (HTML-escaped slashes undone), as a local path.
pub fn portal_link(text: &str, path: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r"{path}[A-Za-z0-9/?=#]+")).unwrap();
    re.find(&text.replace("&#x2f;", "/")).map(|m| m.as_str().to_string())
}

/// The plain-text bodies of the mails in `user`'s inbox whose subject contains `subject`.
async fn bodies_with(env: &MailEnv, user: &str, n: usize, subject: &str) -> Vec<String> {
    let inbox = wait_inbox(env, user, n, 30).await;
    inbox.iter().filter_map(|raw| parse(raw)).filter(|m| m.subject.contains(subject)).map(|m| m.body_text).collect()
}

async fn patch(app: &TestApp, n: i64, body: serde_json::Value) {
    let req = app.client.patch(format!("{}/api/v1/tickets/{n}", app.address)).bearer_auth(&app.admin_token);
    assert!(req.json(&body).send().await.unwrap().status().is_success());
}

async fn a_sign_in_link_arrives_by_mail_and_the_customers_mails_link_to_their_ticket(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(store, &env, |_| {}).await else { return };
    let customer = env.address("portal");
    let n =
        app.ingest_at("out", &[&mail(&customer, "Lamp broken", "pm1@customer.example", "Hi")]).await[0].ticket.unwrap();
    let acks = bodies_with(&env, &customer, 1, "Lamp broken").await;
    let ticket_link = portal_link(&acks[0], "/portal/t/").expect("the acknowledgement links to the ticket");
    assert!(ticket_link.starts_with(&format!("/portal/t/{n}/")), "{ticket_link}");
    let b = Browser::new(&app);
    assert_eq!(b.get(&ticket_link).await.status, 200, "the link opens the ticket");
    let asked = b.post("/portal/login", &[("email", &customer.to_uppercase())]).await;
    assert_eq!(asked.status, 200);
    let logins = bodies_with(&env, &customer, 2, "sign-in link").await;
    assert_eq!(logins.len(), 1, "one sign-in mail");
    let link = portal_link(&logins[0], "/portal/login/").expect("a sign-in link");
    let signed_in = b.get(&link).await;
    assert_eq!((signed_in.status, signed_in.location.as_str()), (303, "/portal/tickets"));
    assert!(b.get("/portal/tickets").await.body.contains("Lamp broken"));
    assert_eq!(Browser::new(&app).get(&link).await.status, 410, "the link works once");
    let reply = app.client.post(format!("{}/api/v1/tickets/{n}/replies", app.address)).bearer_auth(&app.admin_token);
    assert!(reply.json(&json!({ "body": "A new bulb is on its way." })).send().await.unwrap().status().is_success());
    patch(&app, n, json!({ "status": "resolved" })).await;
    outbox_drained(&app).await;
    let mails = bodies_with(&env, &customer, 4, "Lamp broken").await;
    let reply = mails.iter().find(|m| m.contains("A new bulb")).expect("the agent's reply");
    assert_eq!(portal_link(reply, "/portal/t/").as_deref(), Some(ticket_link.as_str()), "the reply links to it");
    let resolved = mails.iter().find(|m| m.contains("How did we do?")).expect("the resolved mail asks for a rating");
    let good = portal_link(resolved, "/portal/t/").expect("a rating link");
    assert!(good.ends_with("?rating=good#rate"), "{good}");
    let page = Browser::new(&app).get(good.trim_end_matches("#rate")).await.body;
    assert!(page.contains("value=\"good\" checked"), "the link preselects the answer");
}

async fn a_flood_of_sign_in_requests_mails_at_most_three_links_an_hour(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(store, &env, |_| {}).await else { return };
    let customer = env.address("flood");
    let b = Browser::new(&app);
    for _ in 0..8 {
        assert_eq!(b.post("/portal/login", &[("email", &customer)]).await.status, 200);
    }
    let db = &app.services.db;
    let three =
        wait_for(10, || async { (db.portal_tokens_since(&customer, 0).await.unwrap() == 3).then_some(()) }).await;
    assert!(three.is_some(), "three links issued");
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(b.post("/portal/login", &[("email", "someone@else.example")]).await.status);
    }
    assert!(answers.contains(&429), "one client is throttled after ten requests a minute: {answers:?}");
    outbox_drained(&app).await;
    let logins = |inbox: &[Vec<u8>]| {
        inbox.iter().filter_map(|raw| parse(raw)).filter(|m| m.subject.contains("sign-in link")).count()
    };
    // Postfix delivers in parallel, not in order: the three first, then a marker shows nothing more came.
    wait_inbox(&env, &customer, 3, 30).await;
    let others = inbox_after_marker(&env, &customer).await;
    assert_eq!(logins(&others), 3, "at most three sign-in mails an hour");
    assert_eq!(db.portal_tokens_since(&customer, 0).await.unwrap(), 3);
}
