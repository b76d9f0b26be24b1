use super::*;
use crate::domain::calendar::CalendarSpec;

const T0: i64 = 1_790_000_000; // 2026-09-21 14:13:20 UTC, a Monday
const MIN: i64 = 60;

fn targets(fr: Option<i64>, nr: Option<i64>, res: Option<i64>, warn: i64) -> Targets {
    Targets { first_response: fr, next_response: nr, resolution: res, warn_before: warn }
}

fn always() -> Calendar {
    Calendar::always()
}

#[test]
fn an_answer_before_the_due_time_meets_the_first_response_target() {
    let c = compute(&targets(Some(60), None, None, 0), &always(), T0, &[Mark::Answer(T0 + 30 * MIN)], T0 + 40 * MIN);
    assert_eq!(c.first_response_due, Some(T0 + 60 * MIN));
    assert_eq!(c.first_response_at, Some(T0 + 30 * MIN));
    assert_eq!(c.state, Some(SlaState::Ok));
    assert_eq!(c.due_at, None, "nothing runs any more");
    assert!(c.alerts.is_empty());
}

#[test]
fn an_unanswered_ticket_warns_then_breaches_at_the_right_minute() {
    let t = targets(Some(60), None, None, 15);
    let c = compute(&t, &always(), T0, &[], T0 + 44 * MIN);
    assert_eq!(c.state, Some(SlaState::Ok));
    assert_eq!(c.due_at, Some(T0 + 60 * MIN));
    let at: Vec<(&str, i64)> = c.alerts.iter().map(|a| (a.key.as_str(), a.at)).collect();
    assert_eq!(at, [("warning:first_response", T0 + 45 * MIN), ("breached:first_response", T0 + 60 * MIN)]);
    assert_eq!(compute(&t, &always(), T0, &[], T0 + 45 * MIN).state, Some(SlaState::Warning));
    assert_eq!(compute(&t, &always(), T0, &[], T0 + 60 * MIN).state, Some(SlaState::Breached));
    let late = compute(&t, &always(), T0, &[Mark::Answer(T0 + 61 * MIN)], T0 + 70 * MIN);
    assert_eq!(late.state, Some(SlaState::Breached), "answered late stays breached");
    assert!(late.alerts.is_empty(), "nothing left to raise once answered");
}

#[test]
fn pending_pauses_the_resolution_clock_and_the_paused_minutes_are_added() {
    let t = targets(None, None, Some(120), 0);
    let marks = [Mark::Status(T0 + 30 * MIN, Status::Pending)];
    let paused = compute(&t, &always(), T0, &marks, T0 + 80 * MIN);
    assert_eq!(paused.state, Some(SlaState::Paused));
    assert_eq!(paused.resolution_due, None);
    assert_eq!(paused.paused_minutes, 50);
    assert_eq!(paused.due_at, None);
    let marks = [Mark::Status(T0 + 30 * MIN, Status::Pending), Mark::Status(T0 + 90 * MIN, Status::Open)];
    let resumed = compute(&t, &always(), T0, &marks, T0 + 100 * MIN);
    assert_eq!(resumed.paused_minutes, 60);
    assert_eq!(resumed.resolution_due, Some(T0 + 180 * MIN));
    assert_eq!(resumed.state, Some(SlaState::Ok));
}

#[test]
fn a_customer_message_after_a_reply_starts_next_response_once() {
    let t = targets(Some(60), Some(30), None, 0);
    let marks = [Mark::Answer(T0 + 10 * MIN), Mark::Customer(T0 + 20 * MIN), Mark::Customer(T0 + 25 * MIN)];
    let c = compute(&t, &always(), T0, &marks, T0 + 30 * MIN);
    assert_eq!(c.next_response_due, Some(T0 + 50 * MIN), "from the first unanswered message");
    assert_eq!(c.alerts[0].key, format!("breached:next_response:{}", T0 + 20 * MIN));
    let answered = [marks.as_slice(), &[Mark::Answer(T0 + 40 * MIN)]].concat();
    let c = compute(&t, &always(), T0, &answered, T0 + 60 * MIN);
    assert_eq!((c.next_response_due, c.state), (None, Some(SlaState::Ok)));
    let late = [marks.as_slice(), &[Mark::Answer(T0 + 55 * MIN)]].concat();
    assert_eq!(compute(&t, &always(), T0, &late, T0 + 60 * MIN).state, Some(SlaState::Breached));
}

#[test]
fn customer_mail_before_any_reply_does_not_start_next_response() {
    let t = targets(None, Some(30), None, 0);
    let c = compute(&t, &always(), T0, &[Mark::Customer(T0 + MIN)], T0 + 90 * MIN);
    assert_eq!((c.next_response_due, c.state), (None, Some(SlaState::Ok)));
}

#[test]
fn resolving_in_time_is_met_and_late_is_breached() {
    let t = targets(Some(60), None, Some(240), 0);
    let ok = [Mark::Answer(T0 + 5 * MIN), Mark::Status(T0 + 200 * MIN, Status::Resolved)];
    let c = compute(&t, &always(), T0, &ok, T0 + 1000 * MIN);
    assert_eq!((c.state, c.resolved_at, c.due_at), (Some(SlaState::Met), Some(T0 + 200 * MIN), None));
    let late = [Mark::Answer(T0 + 5 * MIN), Mark::Status(T0 + 241 * MIN, Status::Resolved)];
    assert_eq!(compute(&t, &always(), T0, &late, T0 + 1000 * MIN).state, Some(SlaState::Breached));
}

#[test]
fn a_reopened_ticket_counts_the_resolved_time_as_paused() {
    let t = targets(None, None, Some(240), 0);
    let marks = [Mark::Status(T0 + 60 * MIN, Status::Resolved), Mark::Status(T0 + 180 * MIN, Status::Open)];
    let c = compute(&t, &always(), T0, &marks, T0 + 200 * MIN);
    assert_eq!((c.paused_minutes, c.resolution_due), (120, Some(T0 + 360 * MIN)));
}

#[test]
fn due_times_follow_business_hours() {
    let spec: CalendarSpec = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
                  "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]},
        "holidays": []
    }))
    .unwrap();
    let cal = Calendar::parse(&spec).unwrap();
    // Friday 2026-12-04 16:30 Berlin (15:30 UTC); 4 business hours → Monday 12:30 Berlin (11:30 UTC).
    let friday = 1_796_398_200;
    let c = compute(&targets(Some(240), None, None, 60), &cal, friday, &[], friday + 60);
    assert_eq!(c.first_response_due, Some(1_796_643_000));
    // The warning an hour of business time before: Monday 11:30 Berlin.
    assert_eq!(c.alerts[0].at, 1_796_643_000 - 3600);
}
