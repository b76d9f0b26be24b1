//! SLA in a real browser: a calendar and policy made through the API give new tickets clocks (the worker inside
//! the app keeps them); with two clocks set by hand (breached, warning) the list sorted by due shows each row's
//! badge in its colour, the "Due soon" view lists them, the ticket page shows its badge and takes a type, the
//! admin calendar page previews the week, the reports page shows its table and charts, and the pages fit a phone;
//! screenshots.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, TestApp, mail, spawn_app_with};
use deskmail::automation::sla::worker::RECOMPUTE_JOB;
use deskmail::db::sla::{ClockRow, store_clock};
use deskmail::domain::Role;
use serde_json::{Value, json};
use std::time::Duration;

async fn put(app: &TestApp, path: &str, body: Value) {
    let url = format!("{}/api/v1{path}", app.address);
    let resp = app.client.put(url).bearer_auth(&app.admin_token).json(&body).send().await.expect("PUT");
    assert_eq!(resp.status().as_u16(), 200, "PUT {path}: {}", resp.text().await.unwrap_or_default());
}

/// Waits until the worker has given ticket `n` a clock in `state`, and no recompute is pending.
async fn clock_in(app: &TestApp, n: i64, state: &str) -> Value {
    for _ in 0..200 {
        let sla = app.ticket(n).await["sla"].clone();
        if sla["state"] == state && !app.services.db.job_requested(RECOMPUTE_JOB).await.unwrap() {
            return sla;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("ticket {n} got no {state} clock: {}", app.ticket(n).await["sla"]);
}

/// Overwrites ticket `n`'s clock: first reply due `due` seconds from now, in `state` (no alert pending, so the
/// worker's tick leaves it be).
async fn force_clock(app: &TestApp, n: i64, state: &str, due: i64) {
    let now = deskmail::domain::now();
    let id = app.services.db.ticket(n).await.unwrap().unwrap().id;
    let mut conn = app.services.db.pool().acquire().await.unwrap();
    let mut clock = deskmail::db::sla::clock(&mut *conn, id).await.unwrap().expect("a clock");
    clock = ClockRow {
        state: state.into(),
        first_response_due: Some(now + due),
        due_at: Some(now + due),
        alert_at: None,
        ..clock
    };
    store_clock(&mut conn, id, Some(&clock)).await.unwrap();
}

/// `[number, badge class, badge text, badge colour]` of each list row.
async fn rows(b: &Browser) -> Vec<Vec<String>> {
    let script = "return Array.from(document.querySelectorAll('table.tickets tbody tr')).map(r => { \
        const badge = r.querySelector('td.due .badge'); \
        return [r.querySelector('td.num a').textContent, badge ? badge.className : '', badge ? badge.textContent : '', \
                badge ? getComputedStyle(badge).color : '']; });";
    serde_json::from_value(b.eval(script).await).expect("rows")
}

#[tokio::test]
async fn the_list_sorted_by_due_shows_coloured_badges_and_the_ticket_page_its_own() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "root@example.test", "Rita Admin", Role::Admin).await;
    let always: Value = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!([["00:00", "24:00"]])))
        .collect::<serde_json::Map<_, _>>()
        .into();
    put(&app, "/calendars/always", json!({ "time_zone": "UTC", "hours": always })).await;
    let policy = json!({ "calendar": "always", "first_response_minutes": 60, "resolution_minutes": 1440, "warn_before_minutes": 15 });
    put(&app, "/sla/standard", policy).await;
    put(&app, "/ticket_types/refund", json!({ "title": "Refunds" })).await;
    let mut numbers = Vec::new();
    for (i, subject) in ["Order never arrived", "Lamp flickers", "Which size fits?", "Photos follow"].iter().enumerate()
    {
        let raw = mail("Cora <cora@customer.example>", subject, &format!("s{i}@customer.example"), "Please help");
        numbers.push(app.ingest(&raw).await.ticket.unwrap());
    }
    let [late, soon, fine, waiting] = numbers[..] else { unreachable!() };
    for n in &numbers {
        clock_in(&app, *n, "ok").await;
    }
    let patch = app.client.patch(format!("{}/api/v1/tickets/{waiting}", app.address)).bearer_auth(&app.admin_token);
    assert_eq!(patch.json(&json!({ "status": "pending" })).send().await.unwrap().status().as_u16(), 200);
    clock_in(&app, waiting, "paused").await;
    force_clock(&app, late, "breached", -25 * 60).await;
    force_clock(&app, soon, "warning", 10 * 60 + 30).await;

    let Some(b) = Browser::start(&app).await else { return };
    b.goto("/tickets?sort=due").await;
    b.login("root@example.test", PASSWORD).await;
    assert_eq!(b.path().await, "/tickets?sort=due");
    let list = rows(&b).await;
    let order: Vec<String> = list.iter().map(|r| r[0].clone()).collect();
    assert_eq!(order, [late, soon, fine, waiting].map(|n| n.to_string()), "nearest due first: {list:?}");
    assert_eq!(list[0][1..], ["badge sla sla-breached", "first reply overdue by 25 m", "rgb(180, 35, 24)"], "red");
    assert_eq!(list[1][1..], ["badge sla sla-warning", "first reply due in 10 m", "rgb(138, 81, 0)"], "amber");
    assert_eq!(list[2][1], "badge sla sla-ok");
    assert!(list[2][2].starts_with("first reply due in "), "{list:?}");
    assert_eq!(list[3][1], "badge sla sla-paused", "grey");
    assert!(list[3][2].starts_with("paused"), "{list:?}");
    assert_eq!(b.find("select[name=sort] option[selected]").await.text().await.unwrap(), "SLA due first");
    b.screenshot("sla-list-due").await;

    b.click_and_wait(".tabs a.view").await;
    assert!(b.path().await.contains("assignee=mine_or_none"), "{}", b.path().await);
    assert_eq!(b.text(".tabs a[aria-current]").await, "Due soon");
    let due_soon: Vec<String> = rows(&b).await.iter().map(|r| r[0].clone()).collect();
    assert_eq!(due_soon, [late, soon, fine, waiting].map(|n| n.to_string()), "all unassigned and running");

    b.click_and_wait(&format!("td.subject a[href='/tickets/{late}']")).await;
    assert_eq!(b.text("#sla-badge").await, "first reply overdue by 25 m");
    assert_eq!(b.find("#sla-badge").await.attr("class").await.unwrap().unwrap(), "badge sla sla-breached");
    assert_eq!(b.text("#sla dd").await, "standard", "the policy");
    b.screenshot("sla-ticket-badge").await;
    b.find("#type option[value=refund]").await.click().await.unwrap();
    b.click_and_wait("#type-form button[type=submit]").await;
    assert!(b.flashes().await.iter().any(|f| f == "Type set to refund."), "{:?}", b.flashes().await);
    assert_eq!(b.find("#type option[selected]").await.text().await.unwrap(), "Refunds");
    b.screenshot("sla-ticket-type").await;

    b.goto("/admin/calendars/always").await;
    let week = b.texts("table.week tbody tr").await;
    assert_eq!(week.len(), 7, "{week:?}");
    assert!(week.iter().all(|d| d.ends_with("00:00–24:00")), "{week:?}");
    b.screenshot("sla-admin-calendar").await;
    b.goto("/admin/sla").await;
    assert!(b.text("table.policies").await.contains("standard"));
    b.screenshot("sla-admin-policies").await;

    // The reports page: this week's four tickets by type (one is a refund now), with its two charts.
    b.goto("/reports?group=type").await;
    let rows = b.texts("table.report tbody tr").await;
    assert_eq!(rows.len(), 2, "refund and none: {rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("refund 1 ")), "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("none 3 ")), "{rows:?}");
    let charts = b.eval("return document.querySelectorAll('.report-charts svg').length;").await;
    assert_eq!(charts.as_i64(), Some(2), "created/resolved bars and the backlog line");
    b.screenshot("sla-reports").await;

    b.client.set_window_size(390, 844).await.expect("phone-sized window");
    b.goto("/tickets?sort=due").await;
    let wide = b.eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;").await;
    b.screenshot("sla-list-phone").await;
    assert_eq!(wide.as_i64(), Some(0), "the list with badges scrolls sideways on a phone");
    assert!(b.find("td.due .badge").await.is_displayed().await.unwrap(), "phones still see the due badge");
    for page in
        ["/reports", "/admin/types", "/admin/calendars", "/admin/calendars/always", "/admin/sla", "/admin/sla/standard"]
    {
        b.goto(page).await;
        let wide = b.eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;").await;
        assert_eq!(wide.as_i64(), Some(0), "{page} scrolls sideways on a phone");
    }
    b.screenshot("sla-admin-policy-phone").await;
    b.close().await;
}
