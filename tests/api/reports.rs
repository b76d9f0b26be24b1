//! Reports: the summary of thirty hand-written tickets (`reports/fixture.rs`) against figures computed by hand,
//! per mailbox, agent, type and week, the backlog per day, the refusals, the CSV download and the page's charts.
//!
//! Minutes are wall-clock, except #6–#9 under policy `vip`: office hours 08:00–16:00 UTC, Mon–Fri, Thu 12 a holiday.
//! First responses (of tickets created in the period; d = day of the period, 0 = Mon 2 Feb):
//!   #6 Mon d0 15:00 → Tue 09:00: 60 + 60 = 120   #7 Fri 15:30 → Mon 08:30: 30 + 30 = 60
//!   #8 Wed 14:00 → Fri 09:00: 120 + 0 (holiday) + 60 = 180   #9 Sat 10:00 → Sat 11:00: 0
//!   #10 30, #11 45 (the system's and rule's replies do not count), #12 120, #16 10, #17 660, #18 5, #19 360,
//!   #20 20, #21 60, #22 15, #23 40, #25 30, #27 1 (90 s), #28 1440, #29 10; #13, #14, #15, #24, #26, #30 none.
//! Resolutions (first resolved or closed in the period; its week is the resolution's):
//!   #6 Mon 15:00 → Wed 10:00: 60 + 480 + 120 = 660 (W06)   #7 → Mon d7 12:00: 30 + 240 = 270 (W07, reopened)
//!   #9 Sat → Mon d7 10:00: 120 (W07)   #2 created 5 days before → d1 02:00: 6 × 1440 + 120 = 8760 (W06)
//!   #10 120, #11 120, #12 1440, #13 2880 (reopened), #16 40, #27 2, #28 1500, #29 20 (all W06);
//!   #17 720, #19 1440, #20 120, #21 1440 (reopened), #22 60, #25 2159 (all W07). #23 is resolved after the
//!   period, #4 before it (and reopened in it).
//! Final clocks of tickets created in the period: met #6 #7 #9 #10 #11 #13 #16 #19 #22 #23 #25 #27 #29, breached
//!   #8 #12 #17; #18 paused and #21 ok do not count; #1's is before the period.
//! Answers in the period: good #3 (support, unassigned, none) #19 #20 #22, bad #21 #12; #10's is at its end.

mod fixture;

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use serde_json::{Value, json};

store_tests!(
    the_summary_matches_the_figures_computed_by_hand,
    bad_parameters_are_refused_and_agents_may_read,
    the_page_draws_charts_and_the_csv_holds_the_same_table
);

const PERIOD: &str = "from=2026-02-02&to=2026-02-15";

async fn app(store: Store) -> Option<TestApp> {
    let app = spawn_app_with(store, |s| {
        // Its tickets were resolved long ago: the hourly auto-close must not add events.
        s.tickets.auto_close_days = 0;
        let sales = "name = \"sales\"\naddress = \"sales@example.test\"\ndisplay_name = \"Sales\"";
        s.mailboxes.push(toml::from_str(sales).unwrap());
    })
    .await?;
    fixture::write(&app).await;
    Some(app)
}

/// One group's expected figures: `[median, p90]` of first response and resolution minutes.
#[allow(clippy::too_many_arguments)]
fn g(
    key: &str,
    created: u64,
    resolved: u64,
    first: [Option<i64>; 2],
    resolution: [Option<i64>; 2],
    sla: Option<f64>,
    reopen: Option<f64>,
    satisfaction: (u64, Option<f64>),
) -> Value {
    json!({
        "key": key, "created": created, "resolved": resolved,
        "first_response_minutes": {"median": first[0], "p90": first[1]},
        "resolution_minutes": {"median": resolution[0], "p90": resolution[1]},
        "sla_met_pct": sla, "reopen_rate_pct": reopen,
        "satisfaction": {"count": satisfaction.0, "good_pct": satisfaction.1},
    })
}

async fn summary(app: &TestApp, group: &str) -> Value {
    let (status, body) = app.get(&format!("/api/v1/reports/summary?{PERIOD}&group={group}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["from"], &body["to"], &body["group"]),
        (&json!("2026-02-02"), &json!("2026-02-15"), &json!(group))
    );
    body
}

async fn the_summary_matches_the_figures_computed_by_hand(store: Store) {
    let Some(app) = app(store).await else { return };
    let s = summary(&app, "mailbox").await;
    let expected = [
        // created #8 #9 #16 #17 #18 #19 #24 #25 #26 #29; resolved #2 #9 #16 #17 #19 #25 #29.
        // first [0, 5, 10, 10, 30, 180, 360, 660]: median rank 4 → 10, p90 rank ⌈7.2⌉ = 8 → 660.
        // resolution [20, 40, 120, 720, 1440, 2159, 8760]: rank ⌈3.5⌉ = 4 → 720, rank ⌈6.3⌉ = 7 → 8760.
        // SLA met 5 of 7 final (#8 #17 breached) = 71.4; none reopened; #19's answer good.
        g("sales", 10, 7, [Some(10), Some(660)], [Some(720), Some(8760)], Some(71.4), Some(0.0), (1, Some(100.0))),
        // first [1, 15, 20, 30, 40, 45, 60, 60, 120, 120, 1440]: rank 6 → 45, rank ⌈9.9⌉ = 10 → 120.
        // resolution [2, 60, 120, 120, 120, 270, 660, 1440, 1440, 1500, 2880]: rank 6 → 270, rank 10 → 1500.
        // SLA 8 of 9 (#12) = 88.9; reopened #7 #13 #21 = 3 of 11 = 27.3; answers #3 #20 #22 good, #21 #12 bad = 60.
        g("support", 15, 11, [Some(45), Some(120)], [Some(270), Some(1500)], Some(88.9), Some(27.3), (5, Some(60.0))),
    ];
    assert_eq!(s["groups"], json!(expected));
    // Open at each day's end: #1 always; #2 d0; #6 d0–1; #12 d2; #13 d2–3, d5; #4 d3–8; #14 from d3; #7 d4–6;
    // #9 d5–6; #28 d5; #17 d6; #18 from d7; #19 d8; #8 from d9; #21 d9, from d11; #23 from d11; #24 from d12;
    // #25 d12; #26 #30 d13.
    let open: Vec<u64> = s["backlog"].as_array().unwrap().iter().map(|d| d["open"].as_u64().unwrap()).collect();
    assert_eq!(open, [3, 2, 3, 4, 4, 7, 6, 4, 5, 5, 4, 6, 8, 9]);
    assert_eq!((&s["backlog"][0]["date"], &s["backlog"][13]["date"]), (&json!("2026-02-02"), &json!("2026-02-15")));

    let expected = [
        // created #6 #7 #10 #11 #16 #17 #20 #21 #25 #27, all resolved in the period too.
        // first [1, 10, 20, 30, 30, 45, 60, 60, 120, 660]: rank 5 → 30, rank 9 → 120.
        // resolution [2, 40, 120, 120, 120, 270, 660, 720, 1440, 2159]: rank 5 → 120, rank 9 → 1440.
        // SLA 7 of 8 (#17; #20 none, #21 ok) = 87.5; reopened #7 #21 = 20; #20 good, #21 bad.
        g(
            "ana@example.test",
            10,
            10,
            [Some(30), Some(120)],
            [Some(120), Some(1440)],
            Some(87.5),
            Some(20.0),
            (2, Some(50.0)),
        ),
        // created #8 #9 #12 #13 #18 #19 #22 #23 #26 #28 #29; resolved #2 #9 #12 #13 #19 #22 #28 #29.
        // first [0, 5, 10, 15, 40, 120, 180, 360, 1440]: rank 5 → 40, rank ⌈8.1⌉ = 9 → 1440.
        // resolution [20, 60, 120, 1440, 1440, 1500, 2880, 8760]: rank 4 → 1440, rank 8 → 8760.
        // SLA 6 of 8 (#8 #12) = 75; reopened #13 = 1 of 8 = 12.5; #19 #22 good, #12 bad = 66.7.
        g(
            "ben@example.test",
            11,
            8,
            [Some(40), Some(1440)],
            [Some(1440), Some(8760)],
            Some(75.0),
            Some(12.5),
            (3, Some(66.7)),
        ),
        // created #14 #15 #24 #30, no replies, clocks or resolutions; #3's good answer.
        g("unassigned", 4, 0, [None, None], [None, None], None, None, (1, Some(100.0))),
    ];
    assert_eq!(summary(&app, "agent").await["groups"], json!(expected));

    let expected = [
        // created #8 #10 #11 #16 #17 #22 #23 #26 #27 #29; resolved #2 #10 #11 #16 #17 #22 #27 #29.
        // first [1, 10, 10, 15, 30, 40, 45, 180, 660]: rank 5 → 30, rank 9 → 660.
        // resolution [2, 20, 40, 60, 120, 120, 720, 8760]: rank 4 → 60, rank 8 → 8760.
        // SLA 7 of 9 (#8 #17) = 77.8; none reopened; #22 good.
        g("question", 10, 8, [Some(30), Some(660)], [Some(60), Some(8760)], Some(77.8), Some(0.0), (1, Some(100.0))),
        // created #6 #7 #9 #13 #15 #18 #20 #21 #25 #28; resolved #6 #7 #9 #13 #20 #21 #25 #28.
        // first [0, 5, 20, 30, 60, 60, 120, 1440]: rank 4 → 30, rank 8 → 1440.
        // resolution [120, 120, 270, 660, 1440, 1500, 2159, 2880]: rank 4 → 660, rank 8 → 2880.
        // SLA 5 of 5 (#18 paused, #21 ok); reopened #7 #13 #21 = 3 of 8 = 37.5; #20 good, #21 bad.
        g("refund", 10, 8, [Some(30), Some(1440)], [Some(660), Some(2880)], Some(100.0), Some(37.5), (2, Some(50.0))),
        // created #12 #14 #19 #24 #30; resolved #12 #19 (1440 each); first [120, 360]; SLA 1 of 2;
        // #3 #19 good, #12 bad.
        g("none", 5, 2, [Some(120), Some(360)], [Some(1440), Some(1440)], Some(50.0), Some(0.0), (3, Some(66.7))),
    ];
    assert_eq!(summary(&app, "type").await["groups"], json!(expected));

    let expected = [
        // created d0–d6: #6 #7 #9 #10 #11 #12 #13 #14 #15 #16 #17 #27 #28 #29; resolved #2 #6 #10 #11 #12 #13 #16
        // #27 #28 #29. first [0, 1, 10, 10, 30, 45, 60, 120, 120, 660, 1440]: rank 6 → 45, rank 10 → 660.
        // resolution [2, 20, 40, 120, 120, 660, 1440, 1500, 2880, 8760]: rank 5 → 120, rank 9 → 2880.
        // SLA 9 of 11 (#12 #17) = 81.8; reopened #13 = 1 of 10; answers #3 good, #12 bad.
        g("2026-W06", 14, 10, [Some(45), Some(660)], [Some(120), Some(2880)], Some(81.8), Some(10.0), (2, Some(50.0))),
        // created d7–d13: #8 #18 #19 #20 #21 #22 #23 #24 #25 #26 #30; resolved #7 #9 #17 #19 #20 #21 #22 #25.
        // first [5, 15, 20, 30, 40, 60, 180, 360]: rank 4 → 30, rank 8 → 360.
        // resolution [60, 120, 120, 270, 720, 1440, 1440, 2159]: rank 4 → 270, rank 8 → 2159.
        // SLA 4 of 5 (#8) = 80; reopened #7 #21 = 2 of 8 = 25; #19 #20 #22 good, #21 bad = 75.
        g("2026-W07", 11, 8, [Some(30), Some(360)], [Some(270), Some(2159)], Some(80.0), Some(25.0), (4, Some(75.0))),
    ];
    assert_eq!(summary(&app, "week").await["groups"], json!(expected));
}

async fn bad_parameters_are_refused_and_agents_may_read(store: Store) {
    let Some(app) = app(store).await else { return };
    for bad in [
        "from=2026-02-30",
        "to=15.02.2026",
        "group=team",
        "from=2026-02-16&to=2026-02-15",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let (status, body) = app.get(&format!("/api/v1/reports/summary?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let url = format!("{}/api/v1/reports/summary", app.address);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    let agent = app.token_for("ann@example.test", deskmail::domain::Role::Agent).await;
    let (status, body) = app.get_as(&format!("/api/v1/reports/summary?{PERIOD}&group=week"), &agent).await;
    assert_eq!((status, body["groups"][0]["created"].as_u64()), (200, Some(14)), "{body}");
    // The default: the last 28 days, per mailbox (the fixture's tickets are long before).
    let (status, body) = app.get("/api/v1/reports/summary").await;
    assert_eq!(
        (status, body["group"].as_str(), body["backlog"].as_array().map(Vec::len)),
        (200, Some("mailbox"), Some(28))
    );
}

async fn the_page_draws_charts_and_the_csv_holds_the_same_table(store: Store) {
    let Some(app) = app(store).await else { return };
    let agent = signed_in_staff(&app, "ann@example.test", deskmail::domain::Role::Agent).await;
    let page = agent.get(&format!("/reports?{PERIOD}&group=mailbox")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for part in ["<svg viewBox=\"0 0 400", "width=\"100%\"", "<polyline points=", "<th scope=\"row\">support</th>"] {
        assert!(page.body.contains(part), "{part} missing:\n{}", page.body);
    }
    assert!(page.body.contains("href=\"/reports\" aria-current=\"page\""), "the nav marks the page");
    assert!(page.body.contains("reports.csv?from=2026-02-02&amp;to=2026-02-15&amp;group=mailbox"), "{}", page.body);
    let bad = agent.get("/reports?from=2026-13-01").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a date") && !bad.body.contains("<svg"), "{}", bad.body);

    let csv = agent.get(&format!("/reports.csv?{PERIOD}&group=mailbox")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").contains("deskmail-report-mailbox-2026-02-02-2026-02-15.csv"));
    assert_eq!(
        csv.body,
        "mailbox,created,resolved,first_response_median_minutes,first_response_p90_minutes,\
         resolution_median_minutes,resolution_p90_minutes,sla_met_pct,reopen_rate_pct,satisfaction_count,\
         satisfaction_good_pct\r\n\
         sales,10,7,10,660,720,8760,71.4,0,1,100\r\n\
         support,15,11,45,120,270,1500,88.9,27.3,5,60\r\n"
    );
    let csv = agent.get(&format!("/reports.csv?{PERIOD}&group=agent")).await;
    assert!(csv.body.ends_with("\r\nunassigned,4,0,,,,,,,1,100\r\n"), "{}", csv.body);
}
