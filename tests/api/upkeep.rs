//! Work beside the requests, with a sending mailbox and no mail server: resolved tickets close after the configured
//! days, and a template override saved by another instance is picked up.

use crate::helpers::{Store, mail};
use crate::outbound_api::{app, send};
use crate::store_tests;
use serde_json::json;

store_tests!(resolved_tickets_close_after_the_configured_days);

async fn resolved_tickets_close_after_the_configured_days(store: Store) {
    let Some(app) = app(store).await else { return };
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let other = app.ingest(&mail("d@customer.example", "r", "r@customer.example", "?")).await.ticket.unwrap();
    send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{n}"),
        &app.admin_token,
        json!({ "status": "resolved" }),
        None,
    )
    .await;
    send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{other}"),
        &app.admin_token,
        json!({ "status": "open" }),
        None,
    )
    .await;
    let tickets = &app.services.tickets;
    let now = deskmail::domain::now();
    assert_eq!(tickets.try_auto_close(7, now + 6 * 86_400).await.unwrap(), 0, "too early");
    assert_eq!(tickets.try_auto_close(7, now + 8 * 86_400).await.unwrap(), 1);
    assert_eq!(app.ticket(n).await["status"], "closed");
    assert_eq!(app.ticket(other).await["status"], "open");
}

store_tests!(an_override_saved_by_another_instance_is_picked_up);

async fn an_override_saved_by_another_instance_is_picked_up(store: Store) {
    let Some(app) = app(store).await else { return };
    let composer = &app.services.composer;
    let seen = app.services.db.template_overrides().await.unwrap();
    // As if another instance had saved it: straight into the shared database.
    app.services
        .db
        .set_template_override("ack.subject.txt", Some("Got it: [#{{ ticket.number }}]"), "other@example.test")
        .await
        .unwrap();
    let now = deskmail::outbound::template_watch::try_reload(composer, &app.services.db, None, &seen).await.unwrap();
    assert_eq!(now.len(), 1);
    let sample = deskmail::outbound::templates::sample_context("ack");
    assert_eq!(composer.templates.render("ack", &sample).unwrap().subject, "Got it: [#1042]");
    app.services.db.set_template_override("ack.subject.txt", Some("{% if %}"), "other@example.test").await.unwrap();
    deskmail::outbound::template_watch::try_reload(composer, &app.services.db, None, &now).await;
    assert_eq!(
        composer.templates.render("ack", &sample).unwrap().subject,
        "Got it: [#1042]",
        "a broken override keeps the templates in use"
    );
}
