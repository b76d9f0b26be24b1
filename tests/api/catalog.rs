//! The shop catalog: PUT and NDJSON import (API and CLI), links by hand and automatic, links in mail and the list.

use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use crate::store_tests;
use deskmail::domain::Role;
use serde_json::{Value, json};

store_tests!(
    ten_thousand_orders_and_two_thousand_products_import_and_reimport_without_duplicates,
    products_and_orders_are_put_by_admins_and_validated,
    an_order_mentioned_in_a_mail_is_linked_automatically_and_flagged_when_foreign,
    links_are_added_and_removed_with_history_and_filter_the_list,
);

/// An app whose `support` mailbox can send (to a closed port: mail stays queued, its text inspectable).
async fn app(store: Store) -> Option<TestApp> {
    spawn_app_with(store, |s| {
        s.mailboxes[0].smtp = Some(toml::from_str("host = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n").unwrap());
        s.outbound.retry_initial_secs = 3600;
    })
    .await
}

fn catalog_ndjson(orders: usize, products: usize) -> String {
    let mut out = String::new();
    for p in 0..products {
        out.push_str(&json!({"type": "product", "ref": format!("SKU-{p}"), "title": format!("Desk lamp model {p}"), "price": "49.90", "url": format!("https://shop.example/p/{p}")}).to_string());
        out.push('\n');
    }
    for o in 0..orders {
        let lines: Vec<Value> = (0..3).map(|l| json!({"ref": format!("{l}"), "product_ref": format!("SKU-{}", (o + l) % products.max(1)), "title": format!("Lamp {l}"), "quantity": l + 1})).collect();
        out.push_str(&json!({"type": "order", "number": format!("{}", 100_000 + o), "customer_email": format!("c{}@customer.example", o % 500), "status": "shipped", "total": "99.80", "currency": "EUR", "placed_at": 1_790_000_000 + o as i64, "lines": lines}).to_string());
        out.push('\n');
    }
    out
}

async fn post_ndjson(app: &TestApp, body: String) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/catalog/import", app.address))
        .bearer_auth(&app.admin_token)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn ten_thousand_orders_and_two_thousand_products_import_and_reimport_without_duplicates(store: Store) {
    let Some(app) = app(store).await else { return };
    let mut text = catalog_ndjson(10_000, 2_000);
    let (status, report) = post_ndjson(&app, text.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["created"].as_u64(), report["orders"].as_u64(), report["products"].as_u64()),
        (Some(12_000), Some(10_000), Some(2_000))
    );
    assert_eq!(app.services.db.catalog_counts().await.unwrap(), (2_000, 10_000, 30_000));
    text.insert_str(0, "{\"type\":\"order\",\"number\":\"bad/1\",\"customer_email\":\"x@y.test\"}\nnot json at all\n");
    let (_, again) = post_ndjson(&app, text).await;
    assert_eq!((again["created"].as_u64(), again["updated"].as_u64()), (Some(0), Some(12_000)), "{again:?}");
    let rejected: Vec<(u64, String)> = again["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["error"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(rejected.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(rejected[0].1.starts_with("number:") && rejected[1].1.starts_with("not JSON"), "{rejected:?}");
    assert_eq!(app.services.db.catalog_counts().await.unwrap(), (2_000, 10_000, 30_000), "nothing duplicated or lost");
}

async fn products_and_orders_are_put_by_admins_and_validated(store: Store) {
    let Some(app) = app(store).await else { return };
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    let put = |path: &str, token: &str, body: Value| {
        let req = app.client.put(format!("{}/api/v1{path}", app.address)).bearer_auth(token).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(put("/products/LAMP-1", &agent, json!({"title": "Lamp"})).await.0, 403);
    assert_eq!(put("/products/LAMP-1", &app.admin_token, json!({"title": "Lamp", "price": "19.90"})).await.0, 201);
    assert_eq!(put("/products/LAMP-1", &app.admin_token, json!({"title": "Lamp v2"})).await.0, 200);
    let order = json!({"customer_email": "jose@customer.example", "status": "paid", "total": "19.90", "currency": "EUR", "lines": [{"ref": "1", "product_ref": "LAMP-1", "title": "Lamp", "quantity": 1}]});
    assert_eq!(put("/orders/100023", &app.admin_token, order.clone()).await.0, 201);
    let (status, body) = put("/orders/100024", &app.admin_token, json!({"customer_email": "nope"})).await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().starts_with("customer_email"), "{body}");
    let mut fewer = order.clone();
    fewer["lines"] = json!([]);
    assert_eq!(put("/orders/100023", &app.admin_token, fewer).await.0, 200);
    assert!(app.services.db.order_lines("100023").await.unwrap().is_empty(), "a PUT replaces the lines");
}

async fn seed_orders(app: &TestApp) {
    let text = [
        json!({"type": "order", "number": "100023", "customer_email": "jose@customer.example", "status": "shipped", "total": "59.90", "currency": "EUR", "lines": [{"ref": "1", "product_ref": "LAMP-1", "title": "Desk lamp", "quantity": 1}]}),
        json!({"type": "order", "number": "100099", "customer_email": "someone.else@customer.example", "status": "paid"}),
        json!({"type": "product", "ref": "LAMP-1", "title": "Desk lamp"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    assert_eq!(post_ndjson(app, text).await.0, 200);
}

async fn an_order_mentioned_in_a_mail_is_linked_automatically_and_flagged_when_foreign(store: Store) {
    let Some(app) = app(store).await else { return };
    seed_orders(&app).await;
    let own = app
        .ingest(&mail(
            "jose@customer.example",
            "Broken lamp",
            "a1@customer.example",
            "Hello, about my order #100023: the lamp is broken.",
        ))
        .await;
    let t = app.ticket(own.ticket.unwrap()).await;
    assert_eq!(t["links"].as_array().unwrap().len(), 1, "{}", t["links"]);
    assert_eq!(
        (t["links"][0]["ref"].as_str(), t["links"][0]["other_customer"].as_bool()),
        (Some("100023"), Some(false))
    );
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["kind"] == "link_added" && e["actor"] == "system"));
    let ack: Vec<u8> = sqlx::query_scalar("select raw from outbound_mails where kind = 'ack'")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&ack).contains("100023"), "the acknowledgement names the linked order");
    let unknown =
        app.ingest(&mail("jose@customer.example", "Another", "a2@customer.example", "Order 999999 never came.")).await;
    assert_eq!(app.ticket(unknown.ticket.unwrap()).await["links"], json!([]));
    let foreign = app
        .ingest(&mail("jose@customer.example", "Gift", "a3@customer.example", "Bestellung 100099 was a gift."))
        .await;
    let t = app.ticket(foreign.ticket.unwrap()).await;
    assert_eq!(t["links"][0]["other_customer"], true);
}

async fn links_are_added_and_removed_with_history_and_filter_the_list(store: Store) {
    let Some(app) = app(store).await else { return };
    seed_orders(&app).await;
    let n = app
        .ingest(&mail("jose@customer.example", "Question", "q@customer.example", "no number here"))
        .await
        .ticket
        .unwrap();
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    let post = |body: Value| {
        let req = app.client.post(format!("{}/api/v1/tickets/{n}/links", app.address)).bearer_auth(&agent).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, order) = post(json!({"kind": "order", "ref": "100023"})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        (order["added_by"].as_str(), order["title"].as_str()),
        (Some("agent@example.test"), Some("Order 100023"))
    );
    let (status, line) = post(json!({"kind": "order_line", "ref": "100023/1"})).await;
    assert_eq!((status, line["title"].as_str()), (201, Some("Desk lamp")));
    assert_eq!(post(json!({"kind": "product", "ref": "LAMP-1"})).await.0, 201);
    let (status, missing) = post(json!({"kind": "order", "ref": "424242"})).await;
    assert_eq!(status, 422, "{missing}");
    let (_, by_order) = app.get("/api/v1/tickets?status=new,open&order=100023").await;
    assert_eq!(by_order["total"], 1);
    let (_, by_product) = app.get("/api/v1/tickets?product=LAMP-1").await;
    assert_eq!(by_product["total"], 1);
    let id = order["id"].as_i64().unwrap();
    let resp = app
        .client
        .delete(format!("{}/api/v1/tickets/{n}/links/{id}", app.address))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let t = app.ticket(n).await;
    assert_eq!(t["links"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "link_added").count(), 3);
    assert!(kinds.contains(&"link_removed"));
    let (_, gone) = app.get("/api/v1/tickets?order=100023").await;
    assert_eq!(gone["total"], 0);
}

#[tokio::test]
async fn the_cli_imports_a_file_and_reports_bad_lines_with_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(&config, format!("[database]\nurl = \"sqlite://{}/d.db?mode=rwc\"\n[security]\nsecret = \"import-test-secret-import-test\"\n", dir.path().display())).unwrap();
    let file = dir.path().join("catalog.ndjson");
    let mut text = catalog_ndjson(10_000, 2_000);
    text.push_str("{\"type\":\"product\",\"ref\":\"X\"}\n");
    std::fs::write(&file, &text).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_deskmail"))
            .args(["--config", config.to_str().unwrap(), "import", "--json", file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(65), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"], 12_000);
    assert_eq!(report["rejected"][0]["line"], 12_001);
    assert!(report["rejected"][0]["error"].as_str().unwrap().starts_with("title"));
    let again: Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!((again["created"].as_u64(), again["updated"].as_u64()), (Some(0), Some(12_000)));
}
