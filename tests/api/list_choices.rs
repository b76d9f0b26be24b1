//! The ticket list's filter choices: every tag in use once, sorted (read by a skip scan of the tag index), offered
//! on the list page; a tag no ticket carries any more is no longer offered once the choices are read again.

use crate::helpers::{Store, mail, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::{Actor, Role};

store_tests!(the_tag_filter_offers_each_tag_in_use_once_in_order);

async fn the_tag_filter_offers_each_tag_in_use_once_in_order(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let db = &app.services.db;
    assert!(db.all_tags().await.unwrap().is_empty());
    let (a, b) = (
        app.ingest(&mail("a@customer.example", "Lamp", "la@c.example", "x")).await.ticket.unwrap(),
        app.ingest(&mail("b@customer.example", "Desk", "de@c.example", "x")).await.ticket.unwrap(),
    );
    let system = Actor::System;
    for (number, tag) in [(a, "vip"), (a, "refund"), (b, "refund"), (b, "damaged"), (b, "zz-last")] {
        app.services.tickets.tag(number, tag, true, &system).await.unwrap();
    }
    assert_eq!(db.all_tags().await.unwrap(), ["damaged", "refund", "vip", "zz-last"]);

    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let page = agent.get("/tickets").await;
    assert_eq!(page.status, 200);
    let offered: Vec<&str> = ["damaged", "refund", "vip", "zz-last"]
        .into_iter()
        .filter(|t| page.body.contains(&format!("<option>{t}</option>")))
        .collect();
    assert_eq!(offered.len(), 4, "tag choices on the page: {offered:?}");

    app.services.tickets.tag(b, "zz-last", false, &system).await.unwrap();
    assert_eq!(db.all_tags().await.unwrap(), ["damaged", "refund", "vip"]);
}
