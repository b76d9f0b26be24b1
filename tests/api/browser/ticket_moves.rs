//! Merge and split from the ticket page in a real browser: merge by number, across customers only when ticked,
//! split ticked messages off with a new subject; then the customer's page: note, block, unblock; screenshots.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, mail, reply, spawn_app_with};
use deskmail::domain::Role;

#[tokio::test]
async fn an_agent_merges_two_tickets_confirms_a_merge_across_customers_and_splits_a_message_off() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let kim = "Kim <kim@customer.example>";
    let a = app.ingest(&mail(kim, "Lamp broken", "k1@customer.example", "The lamp is broken.")).await.ticket.unwrap();
    let b = app.ingest(&mail(kim, "Lamp still broken", "k2@customer.example", "Any news?")).await.ticket.unwrap();
    let more =
        reply(kim, "Re: Lamp still broken", "k3@customer.example", "k2@customer.example", "And the invoice is wrong.");
    assert_eq!(app.ingest(&more).await.ticket, Some(b));
    let lou = app
        .ingest(&mail("Lou <lou@other.example>", "Same lamp", "l1@other.example", "Mine too."))
        .await
        .ticket
        .unwrap();
    let Some(br) = Browser::start(&app).await else { return };
    br.goto(&format!("/tickets/{a}")).await;
    br.login("alice@example.test", PASSWORD).await;

    br.find("#merge-into").await.send_keys(&b.to_string()).await.unwrap();
    br.click_and_wait("#merge-form button[type=submit]").await;
    assert_eq!(br.path().await, format!("/tickets/{b}"));
    assert!(
        br.flashes().await.iter().any(|f| f.contains(&format!("Merged #{a} into #{b}"))),
        "{:?}",
        br.flashes().await
    );
    assert_eq!(br.texts(".timeline .msg").await.len(), 3, "the merged ticket's message is on the target");
    br.screenshot("ticket-merged-target").await;
    br.goto(&format!("/tickets/{a}")).await;
    assert!(br.text(".notice.merged").await.contains(&format!("merged into #{b}")));

    br.goto(&format!("/tickets/{lou}")).await;
    br.find("#merge-into").await.send_keys(&b.to_string()).await.unwrap();
    br.click_and_wait("#merge-form button[type=submit]").await;
    assert!(br.flashes().await.iter().any(|f| f.contains("Merge across customers")), "asks for confirmation");
    assert_eq!(app.ticket(lou).await["status"], "new", "nothing merged yet");
    br.find("#merge-into").await.send_keys(&b.to_string()).await.unwrap();
    br.find("#merge-form input[name=confirm]").await.click().await.unwrap();
    br.click_and_wait("#merge-form button[type=submit]").await;
    assert_eq!(br.path().await, format!("/tickets/{b}"));
    let target = app.ticket(b).await;
    assert_eq!(target["requester"]["email"], "kim@customer.example", "the target's requester stays");

    let invoice =
        target["messages"].as_array().unwrap().iter().find(|m| m["visible_text"] == "And the invoice is wrong.");
    let invoice = invoice.expect("the invoice message")["id"].as_i64().unwrap();
    br.find(&format!("input[name=messages][value='{invoice}']")).await.click().await.unwrap();
    let subject = br.find("#split-subject").await;
    subject.clear().await.unwrap();
    subject.send_keys("Invoice wrong").await.unwrap();
    br.click_and_wait("#split-form button[type=submit]").await;
    assert!(br.text("h1").await.ends_with("Invoice wrong"), "{}", br.text("h1").await);
    assert_eq!(br.texts(".timeline .msg").await.len(), 1);
    br.screenshot("ticket-split-off").await;
    let history = br.texts(".history li").await.join("\n");
    assert!(history.contains("split off from"), "{history}");

    // The requester's page: their tickets, a note, block and unblock.
    br.click_and_wait("a[href^='/customers/']").await;
    assert_eq!(br.text("h1").await, "Kim");
    assert!(br.texts("table.grid td a").await.iter().any(|t| t == &format!("#{b}")));
    br.find("#note").await.send_keys("Prefers e-mail.").await.unwrap();
    br.click_and_wait("form[action$='/note'] button").await;
    br.click_and_wait("form[action$='/block'] button").await;
    assert!(br.text(".notice").await.contains("Blocked (kim@customer.example)"));
    br.screenshot("customer-page-blocked").await;
    let held = app.ingest(&mail(kim, "While blocked", "k9@customer.example", "Held?")).await;
    assert_eq!(held.kind.as_str(), "quarantined");
    br.click_and_wait("form[action$='/unblock'] button").await;
    assert!(
        br.flashes().await.iter().any(|f| f.contains("1 held message(s) went through")),
        "{:?}",
        br.flashes().await
    );
    assert!(br.texts("table.grid td").await.iter().any(|t| t == "While blocked"), "the held mail is a ticket now");
    br.close().await;
}
