//! SLA clocks on both stores: what answers (a reply, never a note), what pauses (pending, with the paused minutes
//! added), a policy re-chosen when the ticket changes and every clock recomputed when a policy changes, a 1-minute
//! target breached within the minute and escalated by a rule, alerts raised once across instances and a restart,
//! and the setup API's checks.

use crate::helpers::{Store, TestApp, mail, reply, spawn_app_with};
use crate::rules::{call, create_rule, eventually};
use crate::store_tests;
use deskmail::automation::sla::keeper::{Alerts, keep};
use deskmail::automation::sla::policy::Setup;
use deskmail::automation::sla::worker::{CONSUMER, SlaWorker};
use deskmail::db::sla::ClockRow;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

store_tests!(
    a_note_does_not_answer_a_reply_does_and_pending_pauses_the_resolution_clock,
    a_changed_ticket_gets_its_policy_again_and_a_changed_policy_recomputes_every_clock,
    a_one_minute_target_breaches_within_the_minute_and_a_rule_escalates,
    warnings_and_breaches_are_raised_once_across_instances_and_a_restart,
    an_escalation_notice_waits_for_working_hours_unless_the_rule_says_any_time,
    the_setup_api_checks_what_it_is_given_and_agents_only_read,
);

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    call(app, &app.admin_token, Method::PUT, path, Some(body)).await
}

async fn ticket_id(app: &TestApp, number: i64) -> i64 {
    app.services.db.ticket(number).await.unwrap().unwrap().id
}

/// The ticket's stored clock once `check` holds for it (the SLA worker runs inside the app).
async fn clock_when(app: &TestApp, number: i64, what: &str, check: impl Fn(&ClockRow) -> bool) -> ClockRow {
    let id = ticket_id(app, number).await;
    let db = app.services.db.clone();
    eventually(what, || {
        let (db, check) = (db.clone(), &check);
        async move { deskmail::db::sla::clock(db.pool(), id).await.unwrap().filter(|c| check(c)) }
    })
    .await
}

/// Waits until the SLA consumer has read every event written so far.
async fn sla_caught_up(app: &TestApp) {
    let db = app.services.db.clone();
    eventually("the SLA consumer to catch up", || {
        let db = db.clone();
        async move { db.consumer_caught_up(CONSUMER).await.unwrap().then_some(()) }
    })
    .await
}

/// Waits until the app's SLA consumer has its cursor (a new consumer starts at the end of the log).
async fn sla_started(app: &TestApp) {
    let db = app.services.db.clone();
    eventually("the SLA consumer to start", || {
        let db = db.clone();
        async move {
            let n: i64 = sqlx::query_scalar("select count(*) from event_consumers where name = 'sla'")
                .fetch_one(db.pool())
                .await
                .unwrap();
            (n > 0).then_some(())
        }
    })
    .await
}

/// Moves the ticket's history into the past: its creation to `created_ago` minutes ago and each other event to the
/// minutes ago `ago(kind, nth of that kind, data)` gives it; then makes its clock due, so the worker keeps it now.
async fn backdate(app: &TestApp, id: i64, created_ago: i64, ago: impl Fn(&str, usize, &str) -> i64) -> i64 {
    let pool = app.services.db.pool();
    let now = deskmail::domain::now();
    let events: Vec<(i64, String, String)> =
        sqlx::query_as("select id, kind, data from ticket_events where ticket_id = $1 order by id")
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap();
    let mut seen = std::collections::HashMap::new();
    for (event, kind, data) in &events {
        let nth = seen.entry(kind.clone()).or_insert(0);
        let minutes = if kind == "ticket_created" { created_ago } else { ago(kind, *nth, data) };
        *nth += 1;
        sqlx::query("update ticket_events set at = $2 where id = $1")
            .bind(event)
            .bind(now - minutes * 60)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("update tickets set created_at = $2 where id = $1")
        .bind(id)
        .bind(now - created_ago * 60)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("update ticket_sla set alert_at = 0 where ticket_id = $1").bind(id).execute(pool).await.unwrap();
    now
}

async fn a_note_does_not_answer_a_reply_does_and_pending_pauses_the_resolution_clock(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    sla_started(&app).await;
    let policy = json!({"first_response_minutes": 30, "next_response_minutes": 240, "resolution_minutes": 240});
    assert_eq!(put(&app, "/api/v1/sla/standard", policy).await.0, 200);
    let number =
        app.ingest(&mail("ana@example.com", "Broken lamp", "s1@example.com", "It flickers.")).await.ticket.unwrap();
    let created = app.services.db.ticket(number).await.unwrap().unwrap().created_at;
    let c = clock_when(&app, number, "a clock", |_| true).await;
    assert_eq!((c.policy.as_str(), c.state.as_str()), ("standard", "ok"));
    assert_eq!(c.first_response_due, Some(created + 30 * 60), "first response counts from creation");
    assert_eq!(c.resolution_due, Some(created + 240 * 60));
    let path = format!("/api/v1/tickets/{number}");
    let (s, _) =
        call(&app, &app.admin_token, Method::POST, &format!("{path}/notes"), Some(json!({"body": "Ask logistics"})))
            .await;
    assert_eq!(s, 201);
    sla_caught_up(&app).await;
    let c = deskmail::db::sla::clock(app.services.db.pool(), ticket_id(&app, number).await).await.unwrap().unwrap();
    assert_eq!(c.first_response_at, None, "a note does not answer (nor does the acknowledgement)");
    let (s, _) =
        call(&app, &app.admin_token, Method::POST, &format!("{path}/replies"), Some(json!({"body": "On its way"})))
            .await;
    assert_eq!(s, 201);
    // A reply leaves the ticket pending (waiting for the customer) unless it says otherwise: paused.
    let c = clock_when(&app, number, "the reply to answer", |c| c.first_response_at.is_some()).await;
    assert_eq!((c.state.as_str(), c.next_response_due), ("paused", None));
    let (s, _) = call(&app, &app.admin_token, Method::PATCH, &path, Some(json!({"status": "open"}))).await;
    assert_eq!(s, 200);
    clock_when(&app, number, "open to run again", |c| c.state == "ok").await;
    let (s, _) = call(&app, &app.admin_token, Method::PATCH, &path, Some(json!({"status": "pending"}))).await;
    assert_eq!(s, 200);
    clock_when(&app, number, "pending to pause", |c| c.state == "paused").await;
    // The customer answers: the ticket reopens, the next response is due, the resolution clock runs again.
    app.ingest(&reply("ana@example.com", "Re: Broken lamp", "s2@example.com", "s1@example.com", "Still broken")).await;
    let c = clock_when(&app, number, "the reopen", |c| c.state == "ok" && c.next_response_due.is_some()).await;
    assert!(c.resolution_due.is_some());
    // Seen from later: created 180 min ago, answered (pending) at 170, open again at 165, pending from 160 to
    // 100, when the customer wrote: 5 + 60 minutes paused.
    let id = ticket_id(&app, number).await;
    let now = backdate(&app, id, 180, |kind, nth, _| match (kind, nth) {
        ("message_received", 0) => 180,
        ("message_received", _) => 100,
        // new → open (the note), open → pending (the reply), back to open, pending again, open (the customer).
        ("status_changed", 0 | 1) => 170,
        ("status_changed", 2) => 165,
        ("status_changed", 3) => 160,
        ("status_changed", _) => 100,
        _ => 170,
    })
    .await;
    let c =
        clock_when(&app, number, "the clock from the moved history", |c| c.first_response_at < Some(now - 60)).await;
    let history: Vec<(i64, String, String)> =
        sqlx::query_as("select (at - $2) / 60, kind, data from ticket_events where ticket_id = $1 order by id")
            .bind(id)
            .bind(now)
            .fetch_all(app.services.db.pool())
            .await
            .unwrap();
    assert_eq!(c.paused_minutes, 65, "{c:?} {history:#?}");
    assert_eq!(c.first_response_at, Some(now - 170 * 60), "answered at 170 minutes ago");
    assert_eq!(c.next_response_due, Some(now - 100 * 60 + 240 * 60), "from the customer's mail");
    assert_eq!(c.resolution_due, Some(now - 180 * 60 + (240 + 65) * 60), "the paused minutes added");
    assert_eq!(c.state, "ok");
    let t = app.ticket(number).await;
    assert_eq!(t["sla"]["paused_minutes"], 65, "{t}");
    assert_eq!(t["sla"]["policy"], "standard");
    assert_eq!(t["sla"]["first_response_at"], deskmail::domain::rfc3339(now - 170 * 60));
}

async fn a_changed_ticket_gets_its_policy_again_and_a_changed_policy_recomputes_every_clock(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    sla_started(&app).await;
    assert_eq!(put(&app, "/api/v1/ticket_types/refund", json!({"title": "Refund"})).await.0, 200);
    let refunds = json!({"position": 0, "first_response_minutes": 30,
        "conditions": {"all": [{"field": "ticket.type", "op": "is", "value": "refund"}]}});
    assert_eq!(put(&app, "/api/v1/sla/refunds", refunds).await.0, 200);
    assert_eq!(put(&app, "/api/v1/sla/standard", json!({"position": 1, "first_response_minutes": 240})).await.0, 200);
    let a = app.ingest(&mail("ana@example.com", "Where is it", "p1@example.com", "?")).await.ticket.unwrap();
    let b = app.ingest(&mail("bo@example.com", "Also late", "p2@example.com", "?")).await.ticket.unwrap();
    let created = app.services.db.ticket(a).await.unwrap().unwrap().created_at;
    let c = clock_when(&app, a, "the standard policy", |c| c.policy == "standard").await;
    assert_eq!(c.first_response_due, Some(created + 240 * 60));
    let (s, _) =
        call(&app, &app.admin_token, Method::PATCH, &format!("/api/v1/tickets/{a}"), Some(json!({"type": "refund"})))
            .await;
    assert_eq!(s, 200);
    let c = clock_when(&app, a, "the refund policy", |c| c.policy == "refunds").await;
    assert_eq!(c.first_response_due, Some(created + 30 * 60), "due again from the original start");
    // A policy changed: every clock it decides is recomputed, without a new event on the tickets.
    assert_eq!(put(&app, "/api/v1/sla/standard", json!({"position": 1, "first_response_minutes": 120})).await.0, 200);
    let created_b = app.services.db.ticket(b).await.unwrap().unwrap().created_at;
    let c = clock_when(&app, b, "the recompute", |c| c.first_response_due == Some(created_b + 120 * 60)).await;
    assert_eq!(c.policy, "standard");
    let (s, list) = call(&app, &app.admin_token, Method::GET, "/api/v1/tickets?sort=due&sla=running", None).await;
    assert_eq!(s, 200);
    let order: Vec<i64> = list["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(order, [a, b], "the refund ticket is due first");
    // No policy left: no clock left.
    for name in ["refunds", "standard"] {
        assert_eq!(call(&app, &app.admin_token, Method::DELETE, &format!("/api/v1/sla/{name}"), None).await.0, 204);
    }
    let id = ticket_id(&app, b).await;
    let db = app.services.db.clone();
    eventually("the clocks to go", || {
        let db = db.clone();
        async move { deskmail::db::sla::clock(db.pool(), id).await.unwrap().is_none().then_some(()) }
    })
    .await;
    assert_eq!(app.ticket(b).await["sla"], Value::Null);
}

async fn a_one_minute_target_breaches_within_the_minute_and_a_rule_escalates(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    sla_started(&app).await;
    app.token_for("lead@example.test", deskmail::domain::Role::Agent).await;
    create_rule(
        &app,
        json!({"name": "Escalate breaches", "trigger": "sla_breached", "conditions": {"all": []},
            "actions": [{"type": "assign", "value": "lead@example.test"}, {"type": "add_tag", "value": "escalated"}]}),
    )
    .await;
    let policy = json!({"first_response_minutes": 1, "resolution_minutes": 600, "warn_before_minutes": 0});
    assert_eq!(put(&app, "/api/v1/sla/fast", policy).await.0, 200);
    let number = app.ingest(&mail("ana@example.com", "Urgent", "f1@example.com", "Help")).await.ticket.unwrap();
    let created = app.services.db.ticket(number).await.unwrap().unwrap().created_at;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let t = loop {
        let t = app.ticket(number).await;
        if t["tags"] == json!(["escalated"]) && t["assignee"]["email"] == "lead@example.test" {
            break t;
        }
        assert!(tokio::time::Instant::now() < deadline, "no escalation within 90 s: {t}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let breaches: Vec<&Value> =
        t["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "sla_breached").collect();
    assert_eq!(breaches.len(), 1, "{t}");
    assert_eq!(breaches[0]["actor"], "system");
    assert_eq!(breaches[0]["data"]["target"], "first_response");
    let at = app.services.db.events(ticket_id(&app, number).await).await.unwrap();
    let breach_at = at.iter().find(|e| e.kind == "sla_breached").unwrap().at;
    assert!(breach_at >= created + 60 && breach_at <= created + 60 + 15, "raised at {breach_at}, due {}", created + 60);
    assert_eq!(t["sla"]["state"], "breached");
    let (s, health) = app.get("/healthz").await;
    assert_eq!((s, &health["sla_clock"]["state"]), (200, &json!("ok")), "the clock ticks: {health}");
    assert!(health["sla_clock"]["last_run_at"].is_string(), "{health}");
}

async fn warnings_and_breaches_are_raised_once_across_instances_and_a_restart(store: Store) {
    // Two workers and a restart, driven with chosen times (the app's own worker does not run here).
    let Some(app) = crate::helpers::build_app(store).await else { return };
    let db = app.services.db.clone();
    let policy = json!({"first_response_minutes": 60, "resolution_minutes": 120, "warn_before_minutes": 10});
    db.put_policy(&deskmail::db::sla::PolicyRow {
        name: "standard".into(),
        position: 0,
        calendar: None,
        conditions: r#"{"all":[]}"#.into(),
        first_response_minutes: policy["first_response_minutes"].as_i64(),
        next_response_minutes: None,
        resolution_minutes: policy["resolution_minutes"].as_i64(),
        warn_before_minutes: 10,
        updated_at: 0,
    })
    .await
    .unwrap();
    let lease = Duration::from_secs(30);
    let first = SlaWorker::new(db.clone(), "one", lease);
    first.try_step(deskmail::domain::now()).await.unwrap();
    let mut numbers = Vec::new();
    for i in 0..20 {
        let raw = mail(&format!("c{i}@example.com"), "Help", &format!("once{i}@example.com"), "?");
        numbers.push(app.ingest(&raw).await.ticket.unwrap());
    }
    let t0 = deskmail::domain::now();
    // Idle is not enough on PostgreSQL: events wait until every older transaction of the cluster has ended, and
    // other tests' databases share it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !db.consumer_caught_up(CONSUMER).await.unwrap() {
        assert!(tokio::time::Instant::now() < deadline, "the SLA consumer never caught up");
        if matches!(first.try_step(t0).await.unwrap(), deskmail::automation::sla::worker::Step::Idle) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Minute 55: the first-response warnings.
    first.tick(t0 + 55 * 60).await.unwrap();
    // Instance one dies holding its leases; two instances keep the clocks at minute 61 at once.
    drop(first);
    let (cals, pols) = db.sla_setup().await.unwrap();
    let setup = Setup::build(&cals, &pols);
    let ids: Vec<i64> = futures::future::join_all(numbers.iter().map(|n| db.ticket(*n)))
        .await
        .into_iter()
        .map(|t| t.unwrap().unwrap().id)
        .collect();
    let racer = |name: &'static str| {
        let (db, setup, ids) = (db.clone(), setup.clone(), ids.clone());
        async move {
            for id in ids {
                let mut tx = db.begin().await.unwrap();
                keep(&mut tx, db.backend(), &setup, id, t0 + 61 * 60, Alerts::Raise).await.expect(name);
                tx.commit().await.unwrap();
            }
        }
    };
    tokio::join!(racer("two"), racer("three"));
    // After the restart: a new instance takes over once the old lease ran out, and ticks on.
    let restarted = SlaWorker::new(db.clone(), "restarted", lease);
    for minute in [62, 63, 115, 125, 126] {
        restarted.tick(t0 + minute * 60).await.unwrap();
    }
    for id in ids {
        let kinds: Vec<(String, String)> = db
            .events(id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind.starts_with("sla_"))
            .map(|e| (e.kind.clone(), serde_json::from_str::<Value>(&e.data).unwrap()["target"].to_string()))
            .collect();
        let expected = [
            ("sla_warning", "\"first_response\""),
            ("sla_breached", "\"first_response\""),
            ("sla_warning", "\"resolution\""),
            ("sla_breached", "\"resolution\""),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, t)| (k.to_string(), t.to_string())).collect();
        assert_eq!(kinds, expected, "ticket {id}");
    }
    app.shutdown.cancel();
}

async fn the_setup_api_checks_what_it_is_given_and_agents_only_read(store: Store) {
    let Some(app) = spawn_app_with(store, |_| {}).await else { return };
    let berlin = json!({"time_zone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "tue": [["09:00", "17:00"]]},
        "holidays": ["2026-12-24", "12-25"]});
    let (s, cal) = put(&app, "/api/v1/calendars/office", berlin).await;
    assert_eq!(s, 200, "{cal}");
    assert_eq!(cal["week"].as_array().unwrap().len(), 7, "{cal}");
    let bad = [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"time_zone": "UTC", "hours": {"mon": [["09:00", "25:00"]]}}), "hours.mon[0]"),
        (json!({"time_zone": "UTC", "hours": {"mon": [["10:00", "12:00"], ["11:00", "13:00"]]}}), "hours.mon[1]"),
        (json!({"time_zone": "UTC", "holidays": ["31-31"]}), "holidays[0]"),
    ];
    for (body, place) in bad {
        let (s, b) = put(&app, "/api/v1/calendars/bad", body).await;
        assert_eq!(s, 422, "{b}");
        assert!(b.to_string().contains(place), "{place}: {b}");
    }
    let (s, b) = put(&app, "/api/v1/sla/x", json!({"calendar": "nope", "first_response_minutes": 5})).await;
    assert_eq!((s, b.to_string().contains("calendar")), (422, true), "{b}");
    let (s, b) = put(&app, "/api/v1/sla/x", json!({"calendar": "office"})).await;
    assert_eq!((s, b.to_string().contains("target")), (422, true), "{b}");
    let age = json!({"first_response_minutes": 5,
        "conditions": {"all": [{"field": "ticket.age_minutes", "op": "gt", "value": 5}]}});
    assert_eq!(put(&app, "/api/v1/sla/x", age).await.0, 422);
    let good = json!({"calendar": "office", "first_response_minutes": 60, "warn_before_minutes": 15});
    let (s, p) = put(&app, "/api/v1/sla/office-hours", good).await;
    assert_eq!((s, &p["calendar"], &p["position"]), (200, &json!("office"), &json!(0)), "{p}");
    let (s, b) = call(&app, &app.admin_token, Method::DELETE, "/api/v1/calendars/office", None).await;
    assert_eq!(s, 409, "a calendar in use stays: {b}");
    assert!(b["error"].as_str().unwrap_or("").contains("office-hours"), "names the policy: {b}");
    assert_eq!(put(&app, "/api/v1/calendars/spare", json!({"time_zone": "UTC"})).await.0, 200);
    assert_eq!(call(&app, &app.admin_token, Method::DELETE, "/api/v1/calendars/spare", None).await.0, 204);
    assert_eq!(call(&app, &app.admin_token, Method::DELETE, "/api/v1/calendars/spare", None).await.0, 404);
    let agent = app.token_for("agent@example.test", deskmail::domain::Role::Agent).await;
    let (s, list) = call(&app, &agent, Method::GET, "/api/v1/sla", None).await;
    assert_eq!((s, list["policies"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(call(&app, &agent, Method::GET, "/api/v1/calendars/office", None).await.0, 200);
    assert_eq!(
        call(&app, &agent, Method::PUT, "/api/v1/sla/mine", Some(json!({"resolution_minutes": 5}))).await.0,
        403
    );
    assert_eq!(call(&app, &agent, Method::DELETE, "/api/v1/calendars/office", None).await.0, 403);
}

async fn an_escalation_notice_waits_for_working_hours_unless_the_rule_says_any_time(store: Store) {
    let Some(app) = spawn_app_with(store, |s| {
        s.mailboxes[0].smtp = Some(toml::from_str("host = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n").unwrap());
    })
    .await
    else {
        return;
    };
    sla_started(&app).await;
    app.token_for("lead@example.test", deskmail::domain::Role::Agent).await;
    // Open around the clock on every day but today (UTC): the breach is raised now, while closed.
    let today = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [time::OffsetDateTime::now_utc().weekday().number_days_from_monday() as usize];
    let hours: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), if *d == today { json!([]) } else { json!([["00:00", "24:00"]]) }))
        .collect();
    assert_eq!(put(&app, "/api/v1/calendars/not-today", json!({"time_zone": "UTC", "hours": hours})).await.0, 200);
    let policy = json!({"calendar": "not-today", "first_response_minutes": 60});
    assert_eq!(put(&app, "/api/v1/sla/standard", policy).await.0, 200);
    create_rule(
        &app,
        json!({"name": "Tell the lead", "trigger": "sla_breached", "conditions": {"all": []},
            "actions": [{"type": "notify", "to": "lead@example.test", "body": "Breached (waits)"},
                        {"type": "notify", "to": "lead@example.test", "body": "Breached (now)", "any_time": true}]}),
    )
    .await;
    let number = app.ingest(&mail("ana@example.com", "Help", "h1@example.com", "?")).await.ticket.unwrap();
    clock_when(&app, number, "a clock", |_| true).await;
    // Created two days ago (an open day): the first response was due long ago.
    let id = ticket_id(&app, number).await;
    let now = backdate(&app, id, 2 * 24 * 60, |_, _, _| 2 * 24 * 60).await;
    let actor = "rule:";
    let applied = eventually("the rule's notices", || {
        let app = &app;
        async move {
            let t = app.ticket(number).await;
            let e: Vec<String> = t["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["actor"].as_str().is_some_and(|a| a.starts_with(actor)) && e["kind"] == "rule_applied")
                .map(|e| e["detail"].to_string())
                .collect();
            (e.len() >= 2).then_some(e)
        }
    })
    .await;
    let midnight = (now / 86_400 + 1) * 86_400;
    assert!(applied[0].contains(&deskmail::domain::rfc3339(midnight)), "held until tomorrow: {applied:?}");
    assert!(!applied[1].contains("sent at"), "any_time goes now: {applied:?}");
    let next: Vec<(i64, i64)> = sqlx::query_as(
        "select d.next_attempt_at, d.attempts from deliveries d join outbound_mails o on o.id = d.outbound_id \
         where o.kind = 'rule_notice' order by d.id",
    )
    .fetch_all(app.services.db.pool())
    .await
    .unwrap();
    assert_eq!(next.len(), 2, "{next:?}");
    assert_eq!(next[0], (midnight, 0), "the held notice is not tried before working hours");
    assert!(next[1].0 < midnight, "{next:?}");
}
