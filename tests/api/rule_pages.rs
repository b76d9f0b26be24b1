//! The rule pages over HTTP with a cookie-keeping client (forms posted as a browser without JavaScript would, the
//! same-origin check standing in for a CSRF token): an admin creates a rule through the form, sees a bad value
//! beside its row, sees the dry run list the matching ticket, reorders, disables and deletes; an agent's `/rules`
//! shows only their own rules and another's rule is 404; macro buttons on the ticket page and in the bulk form.

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::rules::{call, create_rule};
use crate::store_tests;
use crate::web_client::{Browser, signed_in_staff};
use deskmail::domain::Role;
use serde_json::json;

store_tests!(
    an_admin_creates_a_rule_in_the_form_sees_errors_beside_fields_a_dry_run_and_reorders_it,
    an_agent_sees_only_their_own_rules_and_another_agents_rule_is_404,
    macro_buttons_on_the_ticket_page_and_in_the_bulk_form_run_their_rule,
);

/// A rule form's fields: a name, trigger, enabled, and rows `(field, op, value)` and `(type, text)`.
fn rule_form(
    name: &str,
    trigger: &str,
    conds: &[(&str, &str, &str)],
    actions: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("name".into(), name.into()),
        ("trigger".into(), trigger.into()),
        ("enabled".into(), "1".into()),
        ("owner".into(), String::new()),
        ("mode".into(), "all".into()),
        ("conditions_json".into(), "{\n  \"all\": []\n}".into()),
        ("conditions_orig".into(), "{\"all\":[]}".into()),
    ];
    for i in 0..5 {
        let (field, op, value) = conds.get(i).copied().unwrap_or(("", "is", ""));
        f.extend([
            (format!("c{i}_field"), field.into()),
            (format!("c{i}_op"), op.into()),
            (format!("c{i}_value"), value.into()),
        ]);
    }
    for i in 0..4 {
        let (kind, text) = actions.get(i).copied().unwrap_or(("", ""));
        f.extend([(format!("a{i}_type"), kind.into()), (format!("a{i}_text"), text.into())]);
        f.extend(["to", "secret", "canned"].map(|k| (format!("a{i}_{k}"), String::new())));
    }
    f
}

async fn post(b: &Browser, path: &str, fields: &[(String, String)]) -> crate::web_client::Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post(path, &pairs).await
}

/// The id in a `/rules/{id}` redirect.
fn rule_id(location: &str) -> i64 {
    location.strip_prefix("/rules/").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a rule: {location}"))
}

/// The rows of a rules list (not the flash messages above it).
fn table(page: &str) -> String {
    page.split_once("<tbody>").map(|(_, rows)| rows.to_string()).unwrap_or_default()
}

async fn two_tickets(app: &TestApp) -> (i64, i64) {
    let kim = "Kim <kim@customer.example>";
    let refund = app.ingest(&mail(kim, "Refund for order 7", "r1@customer.example", "Money back?")).await.ticket;
    let hello = app.ingest(&mail(kim, "Hello there", "h1@customer.example", "Just saying hi.")).await.ticket;
    (refund.unwrap(), hello.unwrap())
}

async fn an_admin_creates_a_rule_in_the_form_sees_errors_beside_fields_a_dry_run_and_reorders_it(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let (refund, hello) = two_tickets(&app).await;
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let blank = admin.get("/rules/new").await;
    assert_eq!(blank.status, 200);
    assert!(blank.body.contains("name=\"c4_field\"") && blank.body.contains("name=\"a3_type\""), "5 + 4 empty rows");

    let cond = [("ticket.subject", "contains", "refund")];
    let bad =
        rule_form("Refunds are urgent", "ticket_created", &cond, &[("add_tag", "refund"), ("set_priority", "asap")]);
    let p = post(&admin, "/rules", &bad).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"action-1-error\">Action 2:"), "the error is beside action row 2: {}", p.body);
    assert!(p.body.contains("value=\"Refunds are urgent\""), "the input is kept");
    let minutes = rule_form("Old", "schedule", &[("ticket.age_minutes", "gt", "soon")], &[("add_tag", "old")]);
    let p = post(&admin, "/rules", &minutes).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"cond-0-error\">A whole number is needed."), "{}", p.body);

    // A macro: an event rule could still meet the tickets' creation events, which the log consumer may not have read.
    let good = rule_form("Refunds are urgent", "manual", &cond, &[("set_priority", "urgent")]);
    let p = post(&admin, "/rules", &good).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = rule_id(&p.location);
    let (_, rule) = call(&app, &app.admin_token, reqwest::Method::GET, &format!("/api/v1/rules/{id}"), None).await;
    assert_eq!(rule["conditions"], json!({"all": [{"field": "ticket.subject", "op": "contains", "value": "refund"}]}));
    assert_eq!(rule["enabled"], true);
    let dry = admin.get(&format!("/rules/{id}?dry_run=1")).await;
    assert!(dry.body.contains(&format!("href=\"/tickets/{refund}\"")), "the refund ticket is listed: {}", dry.body);
    assert!(!dry.body.contains(&format!("href=\"/tickets/{hello}\"")));
    assert!(dry.body.contains("priority → urgent"));
    assert_eq!(app.ticket(refund).await["priority"], "normal", "a dry run changes nothing");

    // A new time rule is saved disabled, a second rule goes last; up swaps them; disable; delete needs confirm.
    let p = post(
        &admin,
        "/rules",
        &rule_form("Old tickets", "schedule", &[("ticket.age_minutes", "gt", "600")], &[("add_tag", "old")]),
    )
    .await;
    let old = rule_id(&p.location);
    let (_, rule) = call(&app, &app.admin_token, reqwest::Method::GET, &format!("/api/v1/rules/{old}"), None).await;
    assert_eq!(rule["enabled"], false, "a new schedule rule waits for its dry run");
    let list = table(&admin.get("/admin/rules").await.body);
    assert!(list.find("Refunds are urgent").unwrap() < list.find("Old tickets").unwrap());
    assert!(
        list.contains("<input type=\"hidden\" name=\"scope\" value=\"all\">"),
        "the buttons' hidden fields: {list}"
    );
    let back = |dir: &'static str| [("back", "/admin/rules"), ("scope", "all"), ("dir", dir)];
    assert_eq!(admin.post(&format!("/rules/{old}/move"), &back("up")).await.status, 303);
    let list = table(&admin.get("/admin/rules").await.body);
    assert!(list.find("Old tickets").unwrap() < list.find("Refunds are urgent").unwrap(), "moved up");
    assert_eq!(admin.post(&format!("/rules/{id}/toggle"), &back("")).await.status, 303);
    let (_, rule) = call(&app, &app.admin_token, reqwest::Method::GET, &format!("/api/v1/rules/{id}"), None).await;
    assert_eq!(rule["enabled"], false);
    let mut conn = app.services.db.pool().acquire().await.unwrap();
    deskmail::db::rules::disable(&mut conn, old, "acted 50 times in an hour on ticket 1000", 1).await.unwrap();
    drop(conn);
    assert!(admin.get("/admin/rules").await.body.contains("Switched off by the engine: acted 50 times"));
    assert_eq!(admin.post(&format!("/rules/{old}/copy"), &back("")).await.status, 303);
    assert!(admin.get("/admin/rules").await.body.contains("Copy of Old tickets"));
    admin.post(&format!("/rules/{id}/delete"), &back("")).await;
    assert!(app.services.db.rule(id).await.unwrap().is_some(), "not deleted without confirm");
    let confirmed = [("back", "/admin/rules"), ("confirm", "1")];
    assert_eq!(admin.post(&format!("/rules/{id}/delete"), &confirmed).await.status, 303);
    assert!(app.services.db.rule(id).await.unwrap().is_none());
}

async fn an_agent_sees_only_their_own_rules_and_another_agents_rule_is_404(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let ann = signed_in_staff(&app, "ann@example.test", Role::Agent).await;
    let bob = signed_in_staff(&app, "bob@example.test", Role::Agent).await;
    create_rule(
        &app,
        json!({"name": "Global tagger", "trigger": "ticket_created", "actions": [{"type": "add_tag", "value": "x"}]}),
    )
    .await;
    let mut mine = rule_form("Ann's macro", "manual", &[], &[("set_status", "pending")]);
    mine.retain(|(k, _)| k != "owner");
    mine.push(("owner".into(), "".into()));
    let p = post(&ann, "/rules", &mine).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let anns = rule_id(&p.location);
    let p = post(&bob, "/rules", &rule_form("Bob's macro", "manual", &[], &[("add_tag", "bob")])).await;
    let bobs = rule_id(&p.location);
    let (_, rule) = call(&app, &app.admin_token, reqwest::Method::GET, &format!("/api/v1/rules/{anns}"), None).await;
    assert_eq!(rule["owner"], "ann@example.test", "an agent's rule is theirs");

    let list = ann.get("/rules").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Ann&#x27;s macro") || list.body.contains("Ann's macro"), "{}", list.body);
    assert!(!list.body.contains("Bob") && !list.body.contains("Global tagger"));
    assert!(list.body.contains("href=\"/rules\""), "the Rules link is in the menu");
    assert_eq!(ann.get(&format!("/rules/{anns}")).await.status, 200);
    assert_eq!(ann.get(&format!("/rules/{bobs}")).await.status, 404);
    assert_eq!(ann.post(&format!("/rules/{bobs}/toggle"), &[]).await.status, 404);
    assert_eq!(ann.post(&format!("/rules/{bobs}"), &[("name", "mine now")]).await.status, 404);
    assert_eq!(ann.get("/admin/rules").await.status, 403);
}

async fn macro_buttons_on_the_ticket_page_and_in_the_bulk_form_run_their_rule(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let (refund, hello) = two_tickets(&app).await;
    let ann = signed_in_staff(&app, "ann@example.test", Role::Agent).await;
    signed_in_staff(&app, "bob@example.test", Role::Agent).await;
    let escalate = create_rule(
        &app,
        json!({"name": "Escalate", "trigger": "manual",
        "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tag", "value": "escalated"}]}),
    )
    .await;
    let refunds_only = create_rule(
        &app,
        json!({"name": "Refund reply", "trigger": "manual",
        "conditions": {"all": [{"field": "ticket.subject", "op": "contains", "value": "refund"}]},
        "actions": [{"type": "add_tag", "value": "refund"}]}),
    )
    .await;
    let bobs = create_rule(
        &app,
        json!({"name": "Bob only", "trigger": "manual", "owner": "bob@example.test",
        "actions": [{"type": "add_tag", "value": "bob"}]}),
    )
    .await;

    let page = ann.get(&format!("/tickets/{hello}")).await.body;
    assert!(page.contains(&format!("action=\"/tickets/{hello}/macros/{escalate}\"")), "{page}");
    assert!(!page.contains("Bob only"), "another agent's macro is not listed");
    let p = ann.post(&format!("/tickets/{hello}/macros/{escalate}"), &[]).await;
    assert_eq!((p.status, p.location.as_str()), (303, format!("/tickets/{hello}").as_str()));
    let t = app.ticket(hello).await;
    assert_eq!(t["priority"], "urgent");
    let page = ann.get(&format!("/tickets/{hello}")).await.body;
    assert!(page.contains("Macro “Escalate” ran."), "flash");
    assert!(page.contains("Rule “Escalate”: priority"), "the history names the rule: {page}");

    ann.post(&format!("/tickets/{hello}/macros/{refunds_only}"), &[]).await;
    assert!(ann.get(&format!("/tickets/{hello}")).await.body.contains("does not apply to this ticket"));
    assert_eq!(ann.post(&format!("/tickets/{hello}/macros/{bobs}"), &[]).await.status, 404);

    let list = ann.get("/tickets").await.body;
    assert!(list.contains(&format!("value=\"macro:{refunds_only}\"")), "the bulk form offers the macros");
    let (r, h) = (refund.to_string(), hello.to_string());
    let value = format!("macro:{refunds_only}");
    let form = [("ids", r.as_str()), ("ids", h.as_str()), ("action", "macro"), ("value", &value), ("back", "/tickets")];
    assert_eq!(ann.post("/tickets/bulk", &form).await.status, 303);
    let flash = ann.get("/tickets").await.body;
    assert!(flash.contains("Macro “Refund reply” acted on 1 ticket. It did not apply to 1 ticket."), "{flash}");
    assert!(app.ticket(refund).await["tags"].as_array().unwrap().iter().any(|t| t == "refund"));
}
