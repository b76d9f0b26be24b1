//! The rules engine on both stores: an event rule acting once per matching episode on inbound mail, with one
//! history entry per action; two opposing rules stopped at the depth cap; rule replies never to automatic mail and
//! a few per recipient and hour; macros only for their owner; time rules acting within seconds of being saved,
//! capped per run, exactly on what their dry run listed.

use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use crate::store_tests;
use deskmail::domain::Role;
use serde_json::{Value, json};
use std::time::Duration;

store_tests!(
    an_event_rule_acts_once_per_episode_with_one_history_entry_per_action,
    opposing_rules_stop_at_the_depth_cap_and_the_server_stays_responsive,
    a_macro_runs_for_its_owner_only_and_bad_rules_are_refused_with_their_place,
    a_time_rule_acts_within_seconds_capped_and_exactly_on_its_dry_run,
);

pub async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.address)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Creates a rule as the admin; returns its id.
pub async fn create_rule(app: &TestApp, rule: Value) -> i64 {
    let (s, b) = call(app, &app.admin_token, reqwest::Method::POST, "/api/v1/rules", Some(rule)).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

/// The ticket's history entries by `actor`, as `(kind, detail)`.
pub async fn events_by(app: &TestApp, number: i64, actor: &str) -> Vec<(String, String)> {
    let t = app.ticket(number).await;
    let events = t["events"].as_array().cloned().unwrap_or_default();
    events
        .iter()
        .filter(|e| e["actor"] == actor)
        .map(|e| (e["kind"].as_str().unwrap_or("").to_string(), e["detail"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// Polls `check` (up to 15 s) until it gives `Some`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the rules consumer has read every event written so far (its cursor is at the end of the log).
pub async fn rules_caught_up(app: &TestApp) {
    let db = app.services.db.clone();
    eventually("the rules consumer to catch up", || {
        let db = db.clone();
        async move { db.consumer_caught_up(deskmail::automation::worker::CONSUMER).await.unwrap().then_some(()) }
    })
    .await
}

async fn an_event_rule_acts_once_per_episode_with_one_history_entry_per_action(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    let id = create_rule(
        &app,
        json!({"name": "Refunds are urgent", "trigger": "message_received",
            "conditions": {"all": [{"field": "message.subject", "op": "contains", "value": "REFUND"},
                                   {"any": [{"field": "message.auto", "op": "is", "value": false}]}]},
            "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tag", "value": "refund"},
                        {"type": "add_note", "body": "Refund for {{ customer.email }}: check the order."}]}),
    )
    .await;
    let n = app.ingest(&mail("ana@example.com", "Refund please", "r1@example.com", "I want my money back")).await;
    let number = n.ticket.unwrap();
    let actor = format!("rule:{id}");
    let by_rule = eventually("the rule to act", || {
        let (app, actor) = (&app, actor.clone());
        async move {
            let e = events_by(app, number, &actor).await;
            (e.len() >= 3).then_some(e)
        }
    })
    .await;
    let kinds: Vec<&str> = by_rule.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["priority_changed", "tags_changed", "note_added"], "{by_rule:?}");
    let t = app.ticket(number).await;
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["tags"], json!(["refund"]));
    let note = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "note").expect("the rule's note").clone();
    assert_eq!(note["visible_text"], "Refund for ana@example.com: check the order.", "{note}");
    // Still matching: the same episode, no second run.
    app.ingest(&crate::helpers::reply("ana@example.com", "Re: Refund please", "r2@example.com", "r1@example.com", "?"))
        .await;
    rules_caught_up(&app).await;
    assert_eq!(events_by(&app, number, &actor).await.len(), 3, "acted again within one episode");
    // A mail that does not match ends the episode; the next match acts again.
    app.ingest(&crate::helpers::reply("ana@example.com", "Re: thanks", "r3@example.com", "r2@example.com", "ok")).await;
    rules_caught_up(&app).await;
    let (s, _) = call(
        &app,
        &app.admin_token,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{number}"),
        Some(json!({"priority": "low", "tags": []})),
    )
    .await;
    assert_eq!(s, 200);
    app.ingest(&crate::helpers::reply("ana@example.com", "Re: refund?", "r4@example.com", "r3@example.com", "still"))
        .await;
    let again = eventually("the rule to act in a new episode", || {
        let (app, actor) = (&app, actor.clone());
        async move {
            let e = events_by(app, number, &actor).await;
            (e.len() >= 6).then_some(e)
        }
    })
    .await;
    assert_eq!(again.len(), 6, "{again:?}");
    let (s, runs) = call(&app, &app.admin_token, reqwest::Method::GET, &format!("/api/v1/rules/{id}/runs"), None).await;
    assert_eq!(s, 200);
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2, "{runs}");
}

async fn opposing_rules_stop_at_the_depth_cap_and_the_server_stays_responsive(store: Store) {
    // "changed to" holds only at the change, so each rule re-arms at once: only the depth cap ends the loop (with
    // "is", the episodes alone would stop it after a round).
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    let rule = |name: &str, from: &str, to: &str| {
        json!({"name": name, "trigger": "ticket_updated",
            "conditions": {"all": [{"field": "ticket.priority", "op": "changed_to", "value": from}]},
            "actions": [{"type": "set_priority", "value": to}]})
    };
    create_rule(&app, rule("Down", "high", "low")).await;
    create_rule(&app, rule("Up", "low", "high")).await;
    let number = app.ingest(&mail("bo@example.com", "Hello", "p1@example.com", "hi")).await.ticket.unwrap();
    let path = format!("/api/v1/tickets/{number}");
    let (s, _) = call(&app, &app.admin_token, reqwest::Method::PATCH, &path, Some(json!({"priority": "high"}))).await;
    assert_eq!(s, 200);
    let stopped = eventually("the chain to stop", || {
        let app = &app;
        async move {
            let e = events_by(app, number, "system").await;
            let stopped: Vec<_> = e.into_iter().filter(|(k, _)| k == "rule_chain_stopped").collect();
            (!stopped.is_empty()).then_some(stopped)
        }
    })
    .await;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    rules_caught_up(&app).await;
    let t = app.ticket(number).await;
    let changes = t["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "priority_changed").count();
    assert_eq!(changes, 4, "the agent's change and three by rules: {}", t["events"]);
    let (s, _) = app.get("/healthz").await;
    assert!(s == 200 || s == 503, "healthz answers");
}

async fn a_macro_runs_for_its_owner_only_and_bad_rules_are_refused_with_their_place(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    let ana = app.token_for("ana@staff.example", Role::Agent).await;
    let bo = app.token_for("bo@staff.example", Role::Agent).await;
    let post = reqwest::Method::POST;
    let (s, b) = call(
        &app,
        &ana,
        post.clone(),
        "/api/v1/rules",
        Some(json!({"name": "Wait for customer", "trigger": "manual",
            "actions": [{"type": "set_status", "value": "pending"}, {"type": "add_tag", "value": "waiting"}]})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["owner"], "ana@staff.example", "an agent's rule is personal");
    let id = b["id"].as_i64().unwrap();
    let number = app.ingest(&mail("cy@example.com", "Where is it", "m1@example.com", "?")).await.ticket.unwrap();
    let run = format!("/api/v1/tickets/{number}/macros/{id}");
    let (s, _) = call(&app, &bo, post.clone(), &run, None).await;
    assert_eq!(s, 404, "another agent's macro");
    let (s, _) = call(&app, &bo, reqwest::Method::GET, &format!("/api/v1/rules/{id}"), None).await;
    assert_eq!(s, 404);
    let (s, listed) = call(&app, &bo, reqwest::Method::GET, "/api/v1/rules", None).await;
    assert_eq!((s, listed["rules"].as_array().unwrap().len()), (200, 0), "{listed}");
    let (s, b) = call(&app, &ana, post.clone(), &run, None).await;
    assert_eq!(s, 200, "{b}");
    let t = app.ticket(number).await;
    assert_eq!((t["status"].as_str(), t["tags"].clone()), (Some("pending"), json!(["waiting"])));
    let history = events_by(&app, number, &format!("rule:{id}")).await;
    assert_eq!(history.len(), 2, "{history:?}");
    let (s, b) = call(
        &app,
        &bo,
        post.clone(),
        "/api/v1/rules",
        Some(json!({"name": "x", "owner": "ana@staff.example", "trigger": "manual",
            "actions": [{"type": "add_tag", "value": "x"}]})),
    )
    .await;
    assert_eq!(s, 403, "an agent cannot make rules for another: {b}");
    for (rule, place) in [
        (
            json!({"name": "x", "trigger": "manual", "actions": [{"type": "set_priority", "value": "asap"}]}),
            "actions[0].value",
        ),
        (
            json!({"name": "x", "trigger": "ticket_created", "actions": [{"type": "add_tag", "value": "x"}],
                "conditions": {"all": [{"field": "message.body", "op": "matches", "value": "(open"}]}}),
            "conditions.all[0].value",
        ),
    ] {
        let (s, b) = call(&app, &app.admin_token, post.clone(), "/api/v1/rules", Some(rule)).await;
        assert_eq!(s, 422, "{b}");
        assert!(b["error"].as_str().unwrap().starts_with(place), "{b}");
    }
}

async fn a_time_rule_acts_within_seconds_capped_and_exactly_on_its_dry_run(store: Store) {
    let Some(app) = spawn_app_with(store, |s| s.rules.schedule_cap = 2).await else { return };
    let mut numbers = Vec::new();
    for i in 0..3 {
        let raw = mail(&format!("c{i}@example.com"), "Question", &format!("t{i}@example.com"), "?");
        let number = app.ingest(&raw).await.ticket.unwrap();
        let path = format!("/api/v1/tickets/{number}");
        let (s, _) =
            call(&app, &app.admin_token, reqwest::Method::PATCH, &path, Some(json!({"status": "pending"}))).await;
        assert_eq!(s, 200);
        numbers.push(number);
    }
    let id = create_rule(
        &app,
        json!({"name": "Close idle pending", "trigger": "schedule", "enabled": false,
            "conditions": {"all": [{"field": "ticket.status", "op": "is", "value": "pending"},
                                   {"field": "ticket.idle_minutes", "op": "gte", "value": 0}]},
            "actions": [{"type": "set_status", "value": "resolved"}]}),
    )
    .await;
    let (s, preview) =
        call(&app, &app.admin_token, reqwest::Method::POST, &format!("/api/v1/rules/{id}/preview"), None).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["matches"], 2, "capped at 2: {preview}");
    assert_eq!(preview["actions"], json!(["status → resolved"]));
    let listed: Vec<i64> = preview["tickets"].as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).collect();
    for n in &numbers {
        assert_eq!(app.ticket(*n).await["status"], "pending", "the dry run changed nothing");
    }
    let path = format!("/api/v1/rules/{id}");
    let (s, _) = call(&app, &app.admin_token, reqwest::Method::PATCH, &path, Some(json!({"enabled": true}))).await;
    assert_eq!(s, 200);
    let resolved = eventually("the time rule to run", || {
        let (app, numbers) = (&app, numbers.clone());
        async move {
            let mut resolved = Vec::new();
            for n in numbers {
                if app.ticket(n).await["status"] == "resolved" {
                    resolved.push(n);
                }
            }
            (resolved.len() >= 2).then_some(resolved)
        }
    })
    .await;
    assert_eq!(resolved, listed, "the run changed exactly what the dry run listed");
    let job = app.services.db.job(deskmail::automation::schedule::JOB).await.unwrap().unwrap();
    assert_eq!(job.last_acted, Some(2));
}
