//! The ticket event log: every write records its typed event(s) in the same transaction, with the right actor.

use crate::helpers::{Store, TestApp, mail, reply, spawn_app};
use crate::store_tests;
use serde_json::{Value, json};

store_tests!(
    each_write_records_its_event_with_the_actor,
    a_failure_after_the_event_insert_leaves_neither_the_change_nor_the_event,
);

/// `(kind, actor)` of the ticket's events after the first `skip`.
async fn events_after(app: &TestApp, number: i64, skip: usize) -> Vec<(String, String)> {
    let t = app.ticket(number).await;
    t["events"].as_array().unwrap()[skip..]
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect()
}

async fn count_events(app: &TestApp, number: i64) -> usize {
    app.ticket(number).await["events"].as_array().unwrap().len()
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, a)| (k.to_string(), a.to_string())).collect()
}

async fn each_write_records_its_event_with_the_actor(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = "admin@example.test";
    let created = app.ingest(&mail("Cleo <cleo@customer.example>", "Lamp", "ev-1@c.example", "It flickers.")).await;
    let n = created.ticket.unwrap();
    assert_eq!(
        events_after(&app, n, 0).await,
        pairs(&[("ticket_created", "customer"), ("message_received", "customer")])
    );
    let data = &app.ticket(n).await["events"][0]["data"];
    assert_eq!(data["channel"], "mail");
    assert_eq!(data["requester"], "cleo@customer.example");

    let before = count_events(&app, n).await;
    let (status, _) =
        send(&app, reqwest::Method::POST, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "n"})).await;
    assert_eq!(status, 201);
    let expected = [("note_added", admin), ("status_changed", admin)];
    assert_eq!(events_after(&app, n, before).await, pairs(&expected), "a note on a new ticket opens it");

    let before = count_events(&app, n).await;
    let (status, _) =
        send(&app, reqwest::Method::POST, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "r"})).await;
    assert_eq!(status, 201);
    let expected = [("reply_sent", admin), ("status_changed", admin)];
    assert_eq!(events_after(&app, n, before).await, pairs(&expected), "open → pending");

    for (body, kind) in [
        (json!({"priority": "high"}), "priority_changed"),
        (json!({"assignee": admin}), "assignee_changed"),
        (json!({"tags": ["refund", "lamp"]}), "tags_changed"),
        (json!({"status": "resolved"}), "status_changed"),
    ] {
        let before = count_events(&app, n).await;
        let (status, t) = send(&app, reqwest::Method::PATCH, &format!("/api/v1/tickets/{n}"), body.clone()).await;
        assert_eq!(status, 200, "{t}");
        assert_eq!(events_after(&app, n, before).await, pairs(&[(kind, admin)]), "{body}");
    }
    let t = app.ticket(n).await;
    assert_eq!(t["tags"], json!(["lamp", "refund"]));
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["data"], json!({"from": "pending", "to": "resolved"}));

    let before = count_events(&app, n).await;
    app.ingest(&reply("cleo@customer.example", "Re: Lamp", "ev-2@c.example", "ev-1@c.example", "Still broken")).await;
    let expected = [("status_changed", "customer"), ("message_received", "customer")];
    assert_eq!(events_after(&app, n, before).await, pairs(&expected), "a customer's reply reopens");

    let before = count_events(&app, n).await;
    send(&app, reqwest::Method::PATCH, &format!("/api/v1/tickets/{n}"), json!({"status": "resolved"})).await;
    let now = deskmail::domain::now();
    assert_eq!(app.services.tickets.try_auto_close(7, now + 8 * 86_400).await.unwrap(), 1);
    let expected = [("status_changed", admin), ("status_changed", "system")];
    assert_eq!(events_after(&app, n, before).await, pairs(&expected), "auto-close is the system's");
}

/// A trigger that fails right after a `priority_changed` event is inserted: the whole change must roll back.
async fn inject_failure_after_event(app: &TestApp, store: Store) {
    let pool = app.services.db.pool();
    let statements: &[&str] = match store {
        Store::Sqlite => &["create trigger fail_after_event after insert on ticket_events \
             when new.kind = 'priority_changed' begin select raise(abort, 'injected failure'); end"],
        Store::Postgres | Store::PostgresS3 => &[
            "create function fail_after_event() returns trigger language plpgsql as \
             $$ begin raise exception 'injected failure'; end $$",
            "create trigger fail_after_event after insert on ticket_events for each row \
             when (new.kind = 'priority_changed') execute function fail_after_event()",
        ],
    };
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await.unwrap();
    }
}

async fn a_failure_after_the_event_insert_leaves_neither_the_change_nor_the_event(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("dan@customer.example", "Chair", "ev-3@c.example", "Wobbly.")).await.ticket.unwrap();
    let before = app.ticket(n).await;
    inject_failure_after_event(&app, store).await;
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{n}"),
        json!({"priority": "urgent", "status": "open"}),
    )
    .await;
    assert_eq!(status, 500);
    let after = app.ticket(n).await;
    assert_eq!(after["priority"], "normal", "the priority change was rolled back");
    assert_eq!(after["status"], "new", "so was the status change made before it in the same transaction");
    assert_eq!(after["events"], before["events"], "and no event of either is left");
}
