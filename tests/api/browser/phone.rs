//! The dashboard on a phone-sized screen: no page scrolls sideways (list, ticket, forms, admin), the reply box is usable.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, mail, spawn_app_with};
use deskmail::domain::Role;

/// How far the page is wider than the screen, in CSS pixels (0 when nothing scrolls sideways).
async fn overflow(b: &Browser) -> i64 {
    let v = b.eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;").await;
    v.as_i64().unwrap_or(i64::MAX)
}

#[tokio::test]
async fn on_a_phone_no_page_scrolls_sideways_and_the_reply_box_is_usable() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Admin).await;
    let long_words = "Bestellnummer-100023-Lieferadresse-Hauptstraße-42-Hinterhaus-dritter-Stock-links ".repeat(3);
    let subject = "Die Lieferung mit der sehr langen Betreffzeile kam leider beschädigt an";
    let raw =
        mail("Maximiliane Mustermann-Schmidt <max@customer.example>", subject, "p1@customer.example", &long_words);
    let number = app.ingest(&raw).await.ticket.unwrap();
    let Some(b) = Browser::start(&app).await else { return };
    b.client.set_window_size(390, 844).await.expect("phone-sized window");
    b.goto("/tickets").await;
    b.login("alice@example.test", PASSWORD).await;
    b.screenshot("tickets-list-phone").await;
    assert_eq!(overflow(&b).await, 0, "the ticket list scrolls sideways on a phone");
    b.goto(&format!("/tickets/{number}")).await;
    b.screenshot("ticket-page-phone").await;
    assert_eq!(overflow(&b).await, 0, "the ticket page scrolls sideways on a phone");
    let width = b.eval("return document.querySelector('textarea[name=body]').getBoundingClientRect().width;").await;
    assert!(width.as_f64().unwrap_or(0.0) >= 300.0, "the reply box is too narrow to write in: {width}");
    let pages = ["/tickets/new", "/canned", "/settings", "/admin/mailboxes", "/admin/mailboxes/new", "/admin/users"];
    let admin =
        ["/admin/templates", "/admin/templates/ack.txt", "/admin/quarantine", "/admin/deliveries", "/admin/bounces"];
    for page in pages.into_iter().chain(admin) {
        b.goto(page).await;
        let wide = overflow(&b).await;
        if wide > 0 {
            b.screenshot(&format!("phone{}", page.replace('/', "-"))).await;
        }
        assert_eq!(wide, 0, "{page} scrolls sideways on a phone");
    }
    b.close().await;
}
