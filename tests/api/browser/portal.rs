//! A customer's visit to the portal in a real browser: ask for a link, read it from their real Dovecot mailbox,
//! sign in, see exactly their tickets, answer one with a file, open a new one, rate a solved one, sign out — on a
//! desk and on a phone (390 px), with screenshots of the sign-in, list and ticket pages.

use super::Browser;
use crate::helpers::{Store, mail};
use crate::mailenv::{MailEnv, wait_for, wait_inbox};
use crate::outbound::sending_app;
use crate::portal_mail::portal_link;
use deskmail::ingest::parse::parse;
use serde_json::json;

/// How far the page is wider than the screen, in CSS pixels.
async fn overflow(b: &Browser) -> i64 {
    let v = b.eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;").await;
    v.as_i64().unwrap_or(i64::MAX)
}

/// The sign-in link mailed to `customer` (waits for it).
async fn mailed_link(env: &MailEnv, customer: &str) -> String {
    wait_for(30, || async {
        let inbox = wait_inbox(env, customer, 0, 0).await;
        let login = inbox.iter().filter_map(|raw| parse(raw)).find(|m| m.subject.contains("sign-in link"))?;
        portal_link(&login.body_text, "/portal/login/")
    })
    .await
    .expect("the sign-in mail arrived")
}

#[tokio::test]
async fn a_customer_signs_in_by_mail_answers_opens_rates_and_signs_out_on_desk_and_phone() {
    let Some(env) = MailEnv::shared() else { return };
    let Some((app, _support)) = sending_app(Store::Sqlite, &env, |_| {}).await else { return };
    let customer = env.address("visitor");
    let from = format!("Vera Visitor <{customer}>");
    let lamp = app.ingest_at("out", &[&mail(&from, "Lamp broken", "v1@customer.example", "It flickers.")]).await;
    let lamp = lamp[0].ticket.unwrap();
    let invoice = app.ingest_at("out", &[&mail(&from, "Invoice copy", "v2@customer.example", "Please.")]).await;
    let invoice = invoice[0].ticket.unwrap();
    app.ingest(&mail("Other <other@customer.example>", "Not yours", "o1@customer.example", "Secret")).await;
    let Some(b) = Browser::start(&app).await else { return };

    b.goto("/portal").await;
    b.screenshot("portal-signin").await;
    b.find("#email").await.send_keys(&customer).await.unwrap();
    b.click_and_wait("form[action='/portal/login'] button").await;
    assert!(b.text("main").await.contains("If we know this address"), "{}", b.text("main").await);
    b.goto(&mailed_link(&env, &customer).await).await;
    assert_eq!(b.path().await, "/portal/tickets");
    let subjects = b.texts(".portal-list .subject").await;
    assert_eq!(subjects, ["Invoice copy", "Lamp broken"], "exactly their tickets, newest first");
    b.screenshot("portal-list").await;

    b.click_and_wait(&format!("a[href='/portal/tickets/{lamp}']")).await;
    b.find("#body").await.send_keys("Still flickering, photo attached.").await.unwrap();
    let photo = tempfile::Builder::new().prefix("lamp").suffix(".txt").tempfile().unwrap();
    std::fs::write(photo.path(), b"a photo of the lamp").unwrap();
    b.find("#attachments").await.send_keys(&photo.path().display().to_string()).await.unwrap();
    b.click_and_wait("form[action$='/replies'] button").await;
    assert!(b.text(".notice").await.contains("your message was added"));
    let files = b.texts(".files a").await;
    assert!(files.iter().any(|f| f.starts_with("lamp")), "{files:?}");
    b.screenshot("portal-ticket").await;
    let t = app.ticket(lamp).await;
    assert_eq!(t["messages"].as_array().unwrap().last().unwrap()["visible_text"], "Still flickering, photo attached.");

    b.click_and_wait("nav a[href='/portal/tickets/new']").await;
    b.find("#subject").await.send_keys("Second lamp").await.unwrap();
    b.find("#body").await.send_keys("I want to order a second one.").await.unwrap();
    b.click_and_wait("form[action='/portal/tickets'] button[type=submit]").await;
    assert!(b.text(".notice").await.contains("we received your request"));
    assert_eq!(b.text("h1").await, "Second lamp");

    let resolve = app.client.patch(format!("{}/api/v1/tickets/{invoice}", app.address)).bearer_auth(&app.admin_token);
    assert!(resolve.json(&json!({ "status": "resolved" })).send().await.unwrap().status().is_success());
    b.goto(&format!("/portal/tickets/{invoice}")).await;
    b.find("input[name=rating][value=good]").await.click().await.unwrap();
    b.find("#comment").await.send_keys("Fast, thanks").await.unwrap();
    b.click_and_wait("form[action$='/rating'] button").await;
    assert!(b.text(".notice").await.contains("Thank you for your feedback"));
    let events = app.ticket(invoice).await["events"].as_array().unwrap().clone();
    assert!(events.iter().any(|e| e["kind"] == "satisfaction_rated" && e["detail"] == "rated good: Fast, thanks"));

    b.client.set_window_size(390, 844).await.expect("phone-sized window");
    for (path, shot) in [
        ("/portal/tickets".to_string(), "portal-list-phone"),
        (format!("/portal/tickets/{lamp}"), "portal-ticket-phone"),
    ] {
        b.goto(&path).await;
        b.screenshot(shot).await;
        assert_eq!(overflow(&b).await, 0, "{path} scrolls sideways on a phone");
    }
    let width = b.eval("return document.querySelector('#body').getBoundingClientRect().width;").await;
    assert!(width.as_f64().unwrap_or(0.0) >= 300.0, "the answer box is too narrow: {width}");
    b.click_and_wait("form[action='/portal/logout'] button").await;
    assert!(b.text("main").await.contains("You are signed out"));
    b.screenshot("portal-signin-phone").await;
    assert_eq!(overflow(&b).await, 0);
    b.goto("/portal/tickets").await;
    assert_eq!(b.path().await, "/portal", "signed out for good");
    b.close().await;
}
