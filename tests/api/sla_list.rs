//! The ticket list and page with SLA clocks and types, over HTTP: `sort=due` order, due badges, the SLA and type
//! filters, the "Due soon" view, the sidebar's type select with its error beside it. Clocks are written directly
//! (no policy exists, so the SLA worker leaves them alone).

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::store_tests;
use crate::web_client::{Browser, signed_in_staff, staff};
use deskmail::db::sla::{ClockRow, store_clock};
use deskmail::domain::Role;

store_tests!(
    the_list_sorts_by_due_and_shows_each_rows_badge,
    the_sla_filter_and_the_due_soon_view_pick_their_tickets,
    a_type_is_set_in_the_sidebar_shown_as_a_chip_and_filtered_by,
);

/// Opens a ticket; returns its number and id.
pub async fn ticket(app: &TestApp, subject: &str) -> (i64, i64) {
    let id = format!("{}@customer.example", subject.replace(' ', "-"));
    let n = app.ingest(&mail("Cora <cora@customer.example>", subject, &id, "Help")).await.ticket.unwrap();
    (n, app.services.db.ticket(n).await.unwrap().unwrap().id)
}

/// Stores ticket `id`'s clock: `state`, first reply due `due` seconds from now (none: nothing running).
pub async fn set_clock(app: &TestApp, id: i64, state: &str, due: Option<i64>) {
    let now = deskmail::domain::now();
    let due = due.map(|d| now + d);
    let clock = ClockRow {
        ticket_id: id,
        policy: "standard".into(),
        state: state.into(),
        first_response_due: due,
        due_at: due,
        updated_at: now,
        ..ClockRow::default()
    };
    let mut conn = app.services.db.pool().acquire().await.unwrap();
    store_clock(&mut conn, id, Some(&clock)).await.unwrap();
}

/// The ticket numbers of a list page, in their order.
pub fn numbers(body: &str) -> Vec<i64> {
    body.split(r#"<td class="num"><a href="/tickets/"#)
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// Three clocked tickets (due in 3 h, overdue by 25 min, due in 10 min), one without a clock, one paused.
async fn five_tickets(app: &TestApp) -> [i64; 5] {
    let (later, a) = ticket(app, "later").await;
    let (late, b) = ticket(app, "late").await;
    let (soon, c) = ticket(app, "soon").await;
    let (none, _) = ticket(app, "no sla").await;
    let (paused, e) = ticket(app, "paused").await;
    // Half a minute of slack: the label is read a few moments later and rounds down to whole minutes.
    set_clock(app, a, "ok", Some(3 * 3600 + 30)).await;
    set_clock(app, b, "breached", Some(-25 * 60)).await;
    set_clock(app, c, "warning", Some(10 * 60 + 30)).await;
    set_clock(app, e, "paused", None).await;
    [later, late, soon, none, paused]
}

async fn the_list_sorts_by_due_and_shows_each_rows_badge(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let [later, late, soon, none, paused] = five_tickets(&app).await;
    let page = agent.get("/tickets?sort=due").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(numbers(&page.body), [late, soon, later, none, paused], "nearest due first, no running target last");
    for badge in [
        r#"<span class="badge sla sla-breached" title="#,
        r#">first reply overdue by 25 m</span>"#,
        r#"<span class="badge sla sla-warning" title="#,
        r#">first reply due in 10 m</span>"#,
        r#"<span class="badge sla sla-ok" title="#,
        r#">first reply due in 3 h</span>"#,
        r#"<span class="badge sla sla-paused">paused</span>"#,
    ] {
        assert!(page.body.contains(badge), "{badge} missing in {}", page.body);
    }
    assert!(page.body.contains(r#"<option value="due" selected>SLA due first</option>"#));
    let ticket = agent.get(&format!("/tickets/{late}")).await.body;
    assert!(
        ticket.contains(r#"<span class="badge sla sla-breached" id="sla-badge""#)
            && ticket.contains(">first reply overdue by 25 m</span>"),
        "{ticket}"
    );
    assert!(ticket.contains(r#"<section id="sla">"#) && ticket.contains("<dt>Policy</dt><dd>standard</dd>"));
    let plain = agent.get(&format!("/tickets/{none}")).await.body;
    assert!(!plain.contains("sla-badge") && !plain.contains(r#"<section id="sla">"#), "no clock, no badge");
}

async fn the_sla_filter_and_the_due_soon_view_pick_their_tickets(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let me = signed_in_staff(&app, "me@example.test", Role::Agent).await;
    let other = staff(&app, "other@example.test", Role::Agent).await;
    let [later, late, soon, none, paused] = five_tickets(&app).await;
    assert_eq!(numbers(&me.get("/tickets?sla=breached").await.body), [late]);
    assert_eq!(numbers(&me.get("/tickets?sla=warning&status=all").await.body), [soon]);
    let running = me.get("/tickets?sla=running&sort=due").await.body;
    assert_eq!(numbers(&running), [late, soon, later], "tickets with a running target");

    let assign = Browser::signed_in(&app, "other@example.test", crate::web_client::PASSWORD).await;
    let p = assign.post(&format!("/tickets/{later}/assignee"), &[("value", &other.to_string())]).await;
    assert_eq!(p.status, 303);
    let list = me.get("/tickets").await.body;
    // As the page writes it (minijinja escapes `/` and `&`).
    let link = "&#x2f;tickets?status=active&amp;assignee=mine_or_none&amp;sla=running&amp;sort=due";
    assert!(list.contains(&format!(r#"<a class="view" href="{link}""#)), "{list}");
    let link = link.replace("&amp;", "&").replace("&#x2f;", "/");
    let view = me.get(&link).await.body;
    assert_eq!(numbers(&view), [late, soon], "of mine or of nobody, with a due time, nearest first");
    assert!(view.contains(r#"aria-current="page">Due soon</a>"#), "the view is marked as current");
    assert!(!view.contains(r#"aria-current="page">Active"#), "the status tab is not");
    let theirs = assign.get(&link).await.body;
    assert_eq!(numbers(&theirs), [late, soon, later], "the other agent's view has their ticket");
    let _ = (none, paused);
}

async fn a_type_is_set_in_the_sidebar_shown_as_a_chip_and_filtered_by(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let db = &app.services.db;
    db.put_ticket_type("refund", "Refunds", 1).await.unwrap();
    db.put_ticket_type("question", "Questions", 1).await.unwrap();
    let (refund, _) = ticket(&app, "money back").await;
    let (other, _) = ticket(&app, "hello").await;
    let page = agent.get(&format!("/tickets/{refund}")).await.body;
    assert!(page.contains(r#"<option value="none">none</option>"#) && page.contains(">Refunds</option>"), "{page}");

    let set = agent.post(&format!("/tickets/{refund}/type"), &[("value", "refund")]).await;
    assert_eq!((set.status, set.location.as_str()), (303, format!("/tickets/{refund}").as_str()));
    assert_eq!(app.ticket(refund).await["type"], "refund");
    let page = agent.get(&format!("/tickets/{refund}")).await.body;
    assert!(
        page.contains("Type set to refund.") && page.contains(r#"<option value="refund" selected>Refunds</option>"#)
    );

    let bad = agent.post(&format!("/tickets/{refund}/type"), &[("value", "nope")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains(r#"<select id="type" name="value" aria-invalid="true" aria-describedby="type-error">"#),
        "{}",
        bad.body
    );
    assert!(bad.body.contains(r#"<p class="field-error" id="type-error">No ticket type nope.</p>"#), "{}", bad.body);
    assert_eq!(app.ticket(refund).await["type"], "refund", "unchanged");

    let list = agent.get("/tickets?type=refund").await.body;
    assert_eq!(numbers(&list), [refund]);
    assert!(list.contains(r#"<a class="chip type" href="/tickets?status=all&amp;type=refund">Refunds</a>"#), "{list}");
    assert!(list.contains(r#"<option value="refund" selected>Refunds</option>"#), "the filter shows its choice");
    assert_eq!(numbers(&agent.get("/tickets?type=question").await.body), Vec::<i64>::new());

    let cleared = agent.post(&format!("/tickets/{refund}/type"), &[("value", "none")]).await;
    assert_eq!(cleared.status, 303);
    assert_eq!(app.ticket(refund).await["type"], serde_json::Value::Null);
    assert_eq!(numbers(&agent.get("/tickets").await.body).len(), 2, "{other} and {refund} both listed");
}
