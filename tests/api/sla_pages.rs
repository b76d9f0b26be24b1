//! The admin pages of ticket types, SLA calendars and policies over HTTP: agents get 403, saves land in the store
//! (as the API reads them) and ask for the SLA recompute, refusals are shown beside their fields.

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::automation::sla::worker::RECOMPUTE_JOB;
use deskmail::domain::Role;
use std::time::Duration;

store_tests!(
    agents_get_403_on_the_type_calendar_and_policy_pages,
    an_admin_adds_retitles_and_deletes_a_type_with_errors_beside_the_field,
    a_calendar_is_refused_beside_its_fields_then_saved_and_previewed,
    a_policy_is_refused_beside_its_fields_then_saved_and_clocks_follow,
);

/// Whether the SLA recompute was ever asked for (its job row exists only then).
async fn recompute_asked(app: &TestApp) -> bool {
    app.services.db.job(RECOMPUTE_JOB).await.unwrap().is_some()
}

/// The form fields of a Monday-to-Friday calendar; callers replace some.
fn calendar<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("name", "office"), ("time_zone", "Europe/Berlin"), ("holidays", "12-25\n2026-12-31")];
    for day in ["hours_mon", "hours_tue", "hours_wed", "hours_thu", "hours_fri"] {
        fields.push((day, "09:00-12:30, 13:30-17:00"));
    }
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    fields
}

async fn agents_get_403_on_the_type_calendar_and_policy_pages(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    assert_eq!(admin.post("/admin/calendars", &calendar(&[])).await.status, 303);
    assert_eq!(admin.post("/admin/sla", &[("name", "std"), ("first_response_minutes", "60")]).await.status, 303);
    for path in ["/admin/types", "/admin/calendars", "/admin/calendars/new", "/admin/calendars/office"]
        .into_iter()
        .chain(["/admin/sla", "/admin/sla/new", "/admin/sla/std"])
    {
        assert_eq!(agent.get(path).await.status, 403, "agent GET {path}");
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "admin GET {path}: {}", page.body);
        for link in ["/admin/types", "/admin/calendars", "/admin/sla"] {
            assert!(page.body.contains(&format!(r#"<a href="{link}""#)), "{path} links {link}");
        }
    }
    let posts = ["/admin/types", "/admin/types/delete", "/admin/calendars", "/admin/calendars/office"];
    for path in posts.into_iter().chain(["/admin/calendars/office/delete", "/admin/sla", "/admin/sla/std/delete"]) {
        let p = agent.post(path, &[("name", "x"), ("time_zone", "UTC"), ("first_response_minutes", "5")]).await;
        assert_eq!(p.status, 403, "agent POST {path}");
    }
    let (calendars, policies) = app.services.db.sla_setup().await.unwrap();
    assert_eq!((calendars.len(), policies.len()), (1, 1), "the agent changed nothing");
    assert!(app.services.db.ticket_types().await.unwrap().is_empty());
}

async fn an_admin_adds_retitles_and_deletes_a_type_with_errors_beside_the_field(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let bad = admin.post("/admin/types", &[("name", "Refund!"), ("title", "Refunds")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains(r#"value="Refund!" aria-invalid="true" aria-describedby="f-name-error">"#),
        "{}",
        bad.body
    );
    assert!(bad.body.contains(r#"<p class="field-error" id="f-name-error">Use 1 to 40 lowercase letters"#));
    let add = admin.post("/admin/types", &[("name", "refund"), ("title", "Refunds")]).await;
    assert_eq!((add.status, add.location.as_str()), (303, "/admin/types"));
    let again = admin.post("/admin/types", &[("name", "refund"), ("title", "Other")]).await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("Type refund exists already"), "{}", again.body);

    let long = "x".repeat(81);
    let rename = [("name", "refund"), ("existing", "1"), ("title", long.as_str())];
    let bad = admin.post("/admin/types", &rename).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"aria-invalid="true" aria-describedby="title-refund-error">"#), "{}", bad.body);
    assert!(bad.body.contains(r#"<p class="field-error" id="title-refund-error">At most 80 characters.</p>"#));
    let ok = admin.post("/admin/types", &[("name", "refund"), ("existing", "1"), ("title", "Money back")]).await;
    assert_eq!(ok.status, 303);
    let page = admin.get("/admin/types").await.body;
    assert!(page.contains("Type refund saved.") && page.contains(r#"value="Money back""#), "{page}");
    let (_, types) = app.get("/api/v1/ticket_types").await;
    assert_eq!(types["ticket_types"][0]["title"], "Money back");
    assert!(!recompute_asked(&app).await, "a new or retitled type changes no clock");

    let del = admin.post("/admin/types/delete", &[("name", "refund")]).await;
    assert_eq!(del.status, 303);
    assert!(app.services.db.ticket_types().await.unwrap().is_empty());
    assert!(recompute_asked(&app).await, "its tickets lost their type: policies may change");
}

async fn a_calendar_is_refused_beside_its_fields_then_saved_and_previewed(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let bad =
        calendar(&[("time_zone", "Mars/Olympus"), ("hours_tue", "09:00-12:00, 11:00-17:00"), ("holidays", "xmas")]);
    let p = admin.post("/admin/calendars", &bad).await;
    assert_eq!(p.status, 422);
    for (field, text) in [
        ("time_zone", "Unknown time zone “Mars/Olympus”: use an IANA name like Europe/Berlin."),
        ("hours_tue", "Range 2: 11:00 starts before the previous range ends (12:00)."),
        ("holidays", "“xmas” is not a date (YYYY-MM-DD or MM-DD)."),
    ] {
        let text = text.replace('/', "&#x2f;");
        let shown = format!(r#"<p class="field-error" id="f-{field}-error">{text}</p>"#);
        assert!(p.body.contains(&shown), "{shown} missing in {}", p.body);
    }
    assert!(p.body.contains(r#"value="09:00-12:00, 11:00-17:00" placeholder="closed" aria-invalid="true""#));
    assert!(!p.body.contains("f-hours_mon-error"), "only the bad fields are marked");
    assert!(app.services.db.sla_setup().await.unwrap().0.is_empty());
    assert!(!recompute_asked(&app).await);

    let ok = admin.post("/admin/calendars", &calendar(&[("hours_sat", "10:00-14:00")])).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/admin/calendars/office"), "{}", ok.body);
    assert!(recompute_asked(&app).await);
    let (_, cal) = app.get("/api/v1/calendars/office").await;
    assert_eq!(cal["time_zone"], "Europe/Berlin");
    assert_eq!(cal["hours"]["mon"], serde_json::json!([["09:00", "12:30"], ["13:30", "17:00"]]));
    assert_eq!(cal["holidays"], serde_json::json!(["12-25", "2026-12-31"]));
    let page = admin.get("/admin/calendars/office").await.body;
    assert!(page.contains("Calendar office saved"), "{page}");
    let preview = page.split(r#"<table class="grid week">"#).nth(1).expect("a week preview").to_string();
    assert_eq!(preview.matches("<tr>").count(), 8, "a header and 7 days: {preview}");
    assert!(preview.contains("09:00–12:30, 13:30–17:00") && preview.contains("10:00–14:00"), "{preview}");
    assert!(preview.contains(r#"<td class="closed">closed</td>"#), "Sunday is closed: {preview}");

    let again = admin.post("/admin/calendars", &calendar(&[])).await;
    assert!(again.body.contains("Calendar office exists already"), "a new one does not overwrite");
    let edit = calendar(&[("hours_sun", "00:00-24:00"), ("name", "ignored")]);
    assert_eq!(admin.post("/admin/calendars/office", &edit).await.status, 303);
    let (_, cal) = app.get("/api/v1/calendars/office").await;
    assert_eq!(cal["hours"]["sun"], serde_json::json!([["00:00", "24:00"]]));
    assert_eq!(app.get("/api/v1/calendars/ignored").await.0, 404, "the edited calendar keeps its name");

    assert_eq!(
        admin
            .post("/admin/sla", &[("name", "std"), ("calendar", "office"), ("resolution_minutes", "600")])
            .await
            .status,
        303
    );
    let used = admin.post("/admin/calendars/office/delete", &[]).await;
    assert_eq!(used.location, "/admin/calendars/office");
    assert!(admin.get(&used.location).await.body.contains("Calendar office is used by policy std"));
    assert_eq!(admin.post("/admin/sla/std/delete", &[]).await.status, 303);
    assert_eq!(admin.post("/admin/calendars/office/delete", &[]).await.location, "/admin/calendars");
    assert!(app.services.db.sla_setup().await.unwrap().0.is_empty());
}

async fn a_policy_is_refused_beside_its_fields_then_saved_and_clocks_follow(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let n = app.ingest(&mail("c@customer.example", "Where is it?", "w@customer.example", "?")).await.ticket.unwrap();
    let bad = [
        ("name", "std"),
        ("conditions", r#"{"all": [{"field": "ticket.age_minutes", "op": "gt", "value": 5}]}"#),
        ("calendar", "nope"),
        ("warn_before_minutes", "soon"),
    ];
    let p = admin.post("/admin/sla", &bad).await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains(r#"<p class="field-error" id="f-warn_before_minutes-error">Enter a whole number.</p>"#),
        "{}",
        p.body
    );
    assert!(p.body.contains(r#"value="soon" aria-invalid="true""#), "the input is kept");
    let p = admin.post("/admin/sla", &bad[..3]).await;
    assert!(
        p.body.contains(r#"id="f-conditions-error">Conditions: ticket.age_minutes cannot choose a policy"#),
        "{}",
        p.body
    );
    let p = admin.post("/admin/sla", &[("name", "std"), ("calendar", "nope")]).await;
    assert!(
        p.body.contains(r#"id="f-first_response_minutes-error">A policy needs at least one target.</p>"#),
        "{}",
        p.body
    );
    let p = admin.post("/admin/sla", &[("name", "std"), ("calendar", "nope"), ("first_response_minutes", "60")]).await;
    assert!(
        p.body.contains(r#"<p class="field-error" id="f-calendar-error">There is no calendar nope.</p>"#),
        "{}",
        p.body
    );
    assert!(app.services.db.sla_setup().await.unwrap().1.is_empty(), "nothing saved");

    let urgent = r#"{"all": [{"field": "ticket.priority", "op": "is", "value": "urgent"}]}"#;
    let fields =
        [("name", "urgent"), ("conditions", urgent), ("first_response_minutes", "30"), ("warn_before_minutes", "10")];
    assert_eq!(admin.post("/admin/sla", &fields).await.location, "/admin/sla");
    let std = [("name", "std"), ("first_response_minutes", "120"), ("resolution_minutes", "2880")];
    assert_eq!(admin.post("/admin/sla", &std).await.status, 303);
    let list = admin.get("/admin/sla").await.body;
    assert!(list.contains("Policy std saved"), "{list}");
    let first = list.find(r#"href="/admin/sla/urgent""#).unwrap();
    assert!(first < list.find(r#"href="/admin/sla/std""#).unwrap(), "by position: urgent first");
    let (_, p) = app.get("/api/v1/sla/std").await;
    assert_eq!((p["position"].as_i64(), p["resolution_minutes"].as_i64()), (Some(1), Some(2880)));

    // The recompute gives the ticket, opened before any policy, its clock.
    let mut sla = serde_json::Value::Null;
    for _ in 0..150 {
        sla = app.ticket(n).await["sla"].clone();
        if !sla.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sla["policy"], "std", "{sla}");

    let edit = admin.get("/admin/sla/std").await.body;
    assert!(edit.contains(r#"name="resolution_minutes" type="text" value="2880""#), "{edit}");
    let moved = [("position", "0"), ("first_response_minutes", "120"), ("name", "ignored")];
    assert_eq!(admin.post("/admin/sla/std", &moved).await.status, 303);
    let (_, all) = app.get("/api/v1/sla").await;
    let names: Vec<_> = all["policies"].as_array().unwrap().iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, ["std", "urgent"], "position 0 comes first; the name stays");
    assert_eq!(all["policies"][0]["resolution_minutes"], serde_json::Value::Null, "an emptied target is none");
    assert_eq!(admin.post("/admin/sla/urgent/delete", &[]).await.status, 303);
    assert_eq!(app.services.db.sla_setup().await.unwrap().1.len(), 1);
}
