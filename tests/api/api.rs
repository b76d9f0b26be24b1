//! The read side of the JSON API: authentication, roles, filters, paging, health and metrics.

use crate::helpers::{Store, mail, spawn_app};
use crate::store_tests;
use deskmail::domain::Role;

store_tests!(
    api_calls_need_a_valid_token,
    quarantine_is_for_admins_only,
    the_list_filters_and_pages,
    unknown_filter_values_are_a_bad_request,
    every_api_error_is_json_with_a_fitting_status,
    healthz_and_metrics_answer_without_a_token,
);

async fn api_calls_need_a_valid_token(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let (status, body) = app.get_as("/api/v1/tickets", "dm_wrong").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "authentication required");
    let resp = app.client.get(format!("{}/api/v1/tickets", app.address)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let (status, _) = app.get("/api/v1/tickets/99999").await;
    assert_eq!(status, 404);
}

async fn quarantine_is_for_admins_only(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let agent = app.token_for("agent@example.test", Role::Agent).await;
    assert_eq!(app.get_as("/api/v1/quarantine", &agent).await.0, 403);
    assert_eq!(app.get_as("/api/v1/tickets", &agent).await.0, 200);
    app.services
        .db
        .set_user_active(app.services.db.user_by_email("agent@example.test").await.unwrap().unwrap().id, false)
        .await
        .unwrap();
    assert_eq!(app.get_as("/api/v1/tickets", &agent).await.0, 401, "a deactivated user's token stops working");
}

async fn the_list_filters_and_pages(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    for i in 0..5 {
        app.ingest(&mail(
            &format!("c{i}@customer.example"),
            &format!("Lamp problem {i}"),
            &format!("l{i}@customer.example"),
            "x",
        ))
        .await;
    }
    app.ingest(&mail("zed@other.example", "Invoice question", "inv@other.example", "x")).await;
    let (_, all) = app.get("/api/v1/tickets?per_page=2&page=2").await;
    assert_eq!(all["total"], 6);
    assert_eq!(all["tickets"].as_array().unwrap().len(), 2);
    let (_, q) = app.get("/api/v1/tickets?q=invoice").await;
    assert_eq!(q["total"], 1);
    assert_eq!(q["tickets"][0]["requester"]["email"], "zed@other.example");
    let (_, by_requester) = app.get("/api/v1/tickets?q=c3%40customer").await;
    assert_eq!(by_requester["total"], 1);
    // `deskmail reindex` writes every message's search document again and finds the same.
    assert_eq!(app.services.db.rebuild_search_index().await.unwrap(), 6);
    assert_eq!(app.get("/api/v1/tickets?q=invoice").await.1["total"], 1);
    assert_eq!(app.get("/api/v1/tickets?q=lamp%20problem").await.1["total"], 5);
    let (_, new) = app.get("/api/v1/tickets?status=new,open&mailbox=support&priority=normal&assignee=none").await;
    assert_eq!(new["total"], 6);
    let (_, mine) = app.get("/api/v1/tickets?assignee=me").await;
    assert_eq!(mine["total"], 0);
    let (_, closed) = app.get("/api/v1/tickets?status=closed").await;
    assert_eq!(closed["total"], 0);
    let t = &all["tickets"][0];
    for key in [
        "number",
        "subject",
        "status",
        "priority",
        "mailbox",
        "requester",
        "assignee",
        "created_at",
        "updated_at",
        "message_count",
    ] {
        assert!(t.get(key).is_some(), "missing {key}");
    }
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn unknown_filter_values_are_a_bad_request(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let (status, body) = app.get("/api/v1/tickets?status=lost").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("new, open, pending, resolved, closed"));
    assert_eq!(app.get("/api/v1/tickets?assignee=nobody@example.test").await.0, 400);
}

async fn every_api_error_is_json_with_a_fitting_status(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let url = |path: &str| format!("{}/api/v1{path}", app.address);
    let token = app.admin_token.clone();
    let too_large = format!("{{\"title\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let cases = [
        (app.client.get(url("/tickets/abc")), 400),
        (app.client.get(url("/tickets?page=x")), 400),
        (app.client.get(url("/tickets?per_page=-1")), 400),
        (app.client.get(url("/no/such/endpoint")), 404),
        (app.client.delete(url("/tickets")), 405),
        (app.client.put(url("/products/p1")).header("content-type", "text/plain").body("{}"), 415),
        (app.client.put(url("/products/p1")).header("content-type", "application/json").body("{"), 400),
        (app.client.put(url("/products/p1")).header("content-type", "application/json").body(too_large), 413),
    ];
    for (request, expected) in cases {
        let resp = request.bearer_auth(&token).send().await.unwrap();
        let status = resp.status().as_u16();
        let kind = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        assert_eq!(status, expected, "{body}");
        assert_eq!(kind.as_deref(), Some("application/json"));
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{expected}: {body}");
    }
}

async fn healthz_and_metrics_answer_without_a_token(store: Store) {
    let Some(app) = spawn_app(store).await else {
        return;
    };
    app.ingest(&mail("m@customer.example", "metrics", "met@customer.example", "x")).await;
    let health: serde_json::Value =
        app.client.get(format!("{}/healthz", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    for series in [
        r#"deskmail_messages_ingested_total{mailbox="support",outcome="created"}"#,
        r#"deskmail_ingested_bytes_total{mailbox="support"}"#,
    ] {
        assert!(metrics.contains(series), "{series} missing from {metrics}");
    }
}
