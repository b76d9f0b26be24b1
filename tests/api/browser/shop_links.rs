//! The ticket page's orders and products in the browser: linked orders with their lines, suggestions, search, removal,
//! and a canned response that names the linked order.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, mail, spawn_app_with};
use deskmail::domain::Role;
use serde_json::json;

#[tokio::test]
async fn an_agent_sees_linked_orders_with_lines_and_adds_and_removes_links() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    let agent = staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let catalog = [
        json!({"type": "product", "ref": "LAMP-1", "title": "Desk lamp", "url": "https://shop.example/p/lamp-1"}),
        json!({"type": "order", "number": "100023", "customer_email": "jose@customer.example", "status": "shipped", "placed_at": 1_790_000_000,
               "lines": [{"ref": "1", "product_ref": "LAMP-1", "title": "Desk lamp", "quantity": 2}]}),
        json!({"type": "order", "number": "100024", "customer_email": "jose@customer.example", "status": "paid", "placed_at": 1_790_100_000}),
    ];
    let body: String = catalog.iter().map(|v| v.to_string() + "\n").collect();
    let resp = app
        .client
        .post(format!("{}/api/v1/catalog/import", app.address))
        .bearer_auth(&app.admin_token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let number = app
        .ingest(&mail(
            "José <jose@customer.example>",
            "Broken",
            "j1@customer.example",
            "About my order #100023: the lamp broke.",
        ))
        .await
        .ticket
        .unwrap();
    let canned = app
        .services
        .db
        .save_canned(
            None,
            Some(agent),
            "Order answer",
            "Regarding your order {{ links.orders[0].number }}, {{ customer.name }}:",
        )
        .await
        .unwrap();

    let Some(b) = Browser::start(&app).await else { return };
    b.goto(&format!("/tickets/{number}")).await;
    b.login("alice@example.test", PASSWORD).await;
    let shop = b.text("aside .shop").await;
    assert!(shop.contains("Order 100023") && shop.contains("2 × Desk lamp"), "linked order with its lines: {shop}");
    assert!(shop.contains("+ Order 100024"), "the requester's other order is suggested: {shop}");

    b.find("#canned").await.select_by_value(&canned.to_string()).await.expect("pick canned");
    b.click_and_wait("form.canned-pick button[type=submit]").await;
    let text = b.eval("return document.getElementById('reply-body').value;").await;
    assert_eq!(text.as_str(), Some("Regarding your order 100023, José:"));

    b.click_and_wait("aside .shop form.inline button.link[type=submit]:not([aria-label])").await;
    assert!(b.flashes().await.iter().any(|f| f.contains("100024")), "{:?}", b.flashes().await);
    b.find("#link_q").await.send_keys("lamp").await.expect("type search");
    b.click_and_wait("aside .shop form[method=get] button[type=submit]").await;
    let results = b.text("aside .shop ul.results").await;
    assert!(results.contains("Desk lamp"), "{results}");
    b.click_and_wait("aside .shop ul.results button[type=submit]").await;
    b.screenshot("ticket-links").await;

    let t = app.ticket(number).await;
    let mut refs: Vec<String> =
        t["links"].as_array().unwrap().iter().map(|l| l["ref"].as_str().unwrap().to_string()).collect();
    refs.sort();
    assert_eq!(refs, ["100023", "100024", "LAMP-1"]);
    b.click_and_wait("aside .shop button[aria-label='Remove link 100023']").await;
    let t = app.ticket(number).await;
    assert!(!t["links"].as_array().unwrap().iter().any(|l| l["ref"] == "100023"), "the link was removed");
    assert!(!b.text("aside .shop").await.contains("2 × Desk lamp"));
    b.close().await;
}
