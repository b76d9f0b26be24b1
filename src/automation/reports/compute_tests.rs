//! Four tickets over 2026-02-02 .. 2026-02-15 (ISO weeks 6 and 7), figured by hand.

use super::*;
use crate::automation::reports::period::{Params, parse_date};
use crate::db::reports::{ReportEventRow, ReportRatingRow};
use crate::domain::{Status, TicketEvent};

/// 2026-02-02T00:00:00Z, a Monday.
const S: i64 = 1_769_990_400;
const H: i64 = 3_600;
const D: i64 = 86_400;

fn query(group: &str) -> Query {
    let p = Params { from: Some("2026-02-02".into()), to: Some("2026-02-15".into()), group: Some(group.into()) };
    p.parse(parse_date("2026-03-01").unwrap()).unwrap()
}

fn ticket(id: i64, created_at: i64, status: &str, assignee: Option<&str>, type_name: Option<&str>) -> ReportTicketRow {
    ReportTicketRow {
        id,
        created_at,
        status: status.into(),
        mailbox: if id == 3 { "sales" } else { "support" }.into(),
        assignee: assignee.map(Into::into),
        type_name: type_name.map(Into::into),
        sla_state: None,
        calendar: None,
    }
}

fn ev(ticket_id: i64, at: i64, actor: &str, e: TicketEvent) -> ReportEventRow {
    ReportEventRow { ticket_id, at, actor: actor.into(), kind: e.kind().as_str().into(), data: e.data().to_string() }
}

fn reply(ticket_id: i64, at: i64, actor: &str) -> ReportEventRow {
    ev(ticket_id, at, actor, TicketEvent::ReplySent { message: 1, to: vec![], cc: vec![] })
}

fn change(ticket_id: i64, at: i64, from: Status, to: Status) -> ReportEventRow {
    ev(ticket_id, at, "ana@example.test", TicketEvent::StatusChanged { from, to })
}

fn rows() -> ReportRows {
    use Status::*;
    let ana = Some("ana@example.test");
    let mut t1 = ticket(1, S + 16 * H, "resolved", ana, Some("refund"));
    (t1.sla_state, t1.calendar) = (Some("met".into()), Some("office".into()));
    let mut t2 = ticket(2, S + 2 * D, "open", None, None);
    t2.sla_state = Some("breached".into());
    let t3 = ticket(3, S - 3 * D, "open", None, None);
    let t4 = ticket(4, S + 13 * D, "new", Some("zoe@example.test"), Some("refund"));
    let events = vec![
        reply(1, S + D + 10 * H, "ana@example.test"),
        change(1, S + 8 * D + 12 * H, Open, Resolved),
        reply(2, S + 2 * D + 5 * 60, "rule:7"),
        change(2, S + 2 * D + 90 * 60, New, Resolved),
        change(2, S + 3 * D, Resolved, Open),
    ];
    let rating = |rating: &str, created_at| ReportRatingRow {
        rating: rating.into(),
        created_at,
        mailbox: "support".into(),
        assignee: ana.map(Into::into),
        type_name: Some("refund".into()),
    };
    let office = r#"{"time_zone": "UTC", "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
        "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}}"#;
    ReportRows {
        tickets: vec![t1, t2, t3, t4],
        events,
        ratings: vec![rating("good", S + 10 * D), rating("bad", S + 20 * D)],
        calendars: vec![CalendarRow { name: "office".into(), spec: office.into(), updated_at: 0 }],
    }
}

fn spread(median: Option<i64>, p90: Option<i64>) -> Spread {
    Spread { median, p90 }
}

fn sat(count: u64, good_pct: Option<f64>) -> Satisfaction {
    Satisfaction { count, good_pct }
}

#[test]
fn per_week_created_counts_by_creation_and_resolved_by_resolution() {
    let s = summarize(&query("week"), &rows());
    assert_eq!((s.from.as_str(), s.to.as_str()), ("2026-02-02", "2026-02-15"));
    let [w6, w7] = &s.groups[..] else { panic!("two weeks: {:?}", s.groups) };
    assert_eq!((w6.key.as_str(), w6.created, w6.resolved), ("2026-W06", 2, 1));
    // #1: Mon 16:00 → Tue 10:00 in office hours = 60 + 60; #2 had only a rule's reply.
    assert_eq!(w6.first_response_minutes, spread(Some(120), Some(120)));
    // #2 (no calendar): 90 wall-clock minutes, reopened a day later.
    assert_eq!((w6.resolution_minutes, w6.reopen_rate_pct), (spread(Some(90), Some(90)), Some(100.0)));
    assert_eq!((w6.sla_met_pct, w6.satisfaction), (Some(50.0), sat(0, None)), "#1 met, #2 breached");
    assert_eq!((w7.key.as_str(), w7.created, w7.resolved), ("2026-W07", 1, 1));
    // #1 resolved Tue 10th 12:00: 60 (Mon 2nd) + 4 × 480 (Tue–Fri) + 480 (Mon 9th) + 180 = 2640.
    assert_eq!((w7.resolution_minutes, w7.reopen_rate_pct), (spread(Some(2640), Some(2640)), Some(0.0)));
    assert_eq!((w7.first_response_minutes, w7.sla_met_pct), (spread(None, None), None));
    assert_eq!(w7.satisfaction, sat(1, Some(100.0)), "the bad answer is after the period");
}

#[test]
fn the_backlog_counts_tickets_not_done_at_each_days_end() {
    let s = summarize(&query("mailbox"), &rows());
    let open: Vec<u64> = s.backlog.iter().map(|d| d.open).collect();
    // #3 throughout; #1 days 0–7 (resolved on day 8); #2 from day 3 (resolved and reopened on day 2); #4 day 13.
    assert_eq!(open, [2, 2, 2, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 3]);
    assert_eq!((s.backlog[0].date.as_str(), s.backlog[13].date.as_str()), ("2026-02-02", "2026-02-15"));
}

#[test]
fn per_mailbox_only_groups_with_figures_appear() {
    let s = summarize(&query("mailbox"), &rows());
    let [support] = &s.groups[..] else { panic!("sales had nothing in the period: {:?}", s.groups) };
    assert_eq!((support.created, support.resolved), (3, 2));
    // resolution [90, 2640]: median rank ⌈1⌉ = 90, p90 rank ⌈1.8⌉ = 2640
    assert_eq!(support.resolution_minutes, spread(Some(90), Some(2640)));
    assert_eq!((support.sla_met_pct, support.reopen_rate_pct), (Some(50.0), Some(50.0)));
}

#[test]
fn per_agent_and_type_the_tickets_without_one_come_last() {
    let s = summarize(&query("agent"), &rows());
    let keys: Vec<&str> = s.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["ana@example.test", "zoe@example.test", "unassigned"]);
    let (ana, zoe, none) = (&s.groups[0], &s.groups[1], &s.groups[2]);
    assert_eq!((ana.created, ana.resolved, ana.sla_met_pct, ana.reopen_rate_pct), (1, 1, Some(100.0), Some(0.0)));
    assert_eq!(ana.satisfaction, sat(1, Some(100.0)));
    assert_eq!((zoe.created, zoe.resolved, zoe.sla_met_pct, zoe.reopen_rate_pct), (1, 0, None, None));
    assert_eq!((none.created, none.resolved, none.sla_met_pct), (1, 1, Some(0.0)));
    let s = summarize(&query("type"), &rows());
    let keys: Vec<(&str, u64)> = s.groups.iter().map(|g| (g.key.as_str(), g.created)).collect();
    assert_eq!(keys, [("refund", 2), ("none", 1)]);
}

#[test]
fn without_a_calendar_minutes_are_wall_clock_minutes() {
    assert_eq!(business_minutes(None, 0, 119), 1);
    assert_eq!(business_minutes(None, 100, 50), 0);
    assert_eq!(business_minutes(Some(&Calendar::always()), S, S + D), 1_440);
}
