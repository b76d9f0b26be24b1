//! The ticket page over HTTP, with a sending mailbox and no mail server: the mail sent about the ticket, and a
//! colleague replying at the same time.

use crate::helpers::{Store, mail};
use crate::outbound_api::app;
use crate::store_tests;
use deskmail::domain::Role;
use serde_json::{Value, json};

store_tests!(the_ticket_page_shows_the_mail_sent_about_the_ticket);

async fn the_ticket_page_shows_the_mail_sent_about_the_ticket(store: Store) {
    let Some(app) = app(store).await else { return };
    crate::browser::staff(&app, "page@example.test", "Paula Page", Role::Agent).await;
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let client = crate::browser::http_client();
    crate::browser::http_login(&app, &client, "page@example.test").await;
    let page = client.get(format!("{}/tickets/{n}", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Mail sent") && page.contains("ack:") && page.contains("c@customer.example"), "{page}");
}

store_tests!(an_agent_sees_that_a_colleague_is_replying);

async fn an_agent_sees_that_a_colleague_is_replying(store: Store) {
    let Some(app) = app(store).await else { return };
    crate::browser::staff(&app, "ana@example.test", "Ana", Role::Agent).await;
    crate::browser::staff(&app, "bo@example.test", "Bo", Role::Agent).await;
    let n = app.ingest(&mail("c@customer.example", "q", "q@customer.example", "?")).await.ticket.unwrap();
    let (ana, bo) = (crate::browser::http_client(), crate::browser::http_client());
    crate::browser::http_login(&app, &ana, "ana@example.test").await;
    crate::browser::http_login(&app, &bo, "bo@example.test").await;
    let url = format!("{}/tickets/{n}/presence", app.address);
    let who = |c: &reqwest::Client| c.get(&url).send();
    assert_eq!(who(&bo).await.unwrap().json::<Value>().await.unwrap()["replying"], json!([]));
    let typed = ana.post(&url).header("Origin", &app.address).send().await.unwrap();
    assert_eq!(typed.status(), 204);
    assert_eq!(who(&bo).await.unwrap().json::<Value>().await.unwrap()["replying"], json!(["Ana"]));
    assert_eq!(
        who(&ana).await.unwrap().json::<Value>().await.unwrap()["replying"],
        json!([]),
        "nobody is warned about themselves"
    );
    let page = bo.get(format!("{}/tickets/{n}", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Ana is also replying."), "{page}");
    let cross = ana.post(&url).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), 403);
}
