//! Table tests of business-hours arithmetic and of spec refusals.

use super::*;
use jiff::civil::date;
use serde_json::json;

const HOUR: i64 = 3600;

fn cal(spec: serde_json::Value) -> Calendar {
    Calendar::parse(&serde_json::from_value(spec).unwrap()).unwrap()
}

/// Mon–Fri with the same ranges in `zone`.
fn weekdays(zone: &str, ranges: serde_json::Value, holidays: serde_json::Value) -> Calendar {
    let hours: serde_json::Map<_, _> = WEEKDAYS[..5].iter().map(|d| (d.to_string(), ranges.clone())).collect();
    cal(json!({"time_zone": zone, "hours": hours, "holidays": holidays}))
}

/// Every day with the same ranges in `zone`.
fn daily(zone: &str, ranges: serde_json::Value) -> Calendar {
    let hours: serde_json::Map<_, _> = WEEKDAYS.iter().map(|d| (d.to_string(), ranges.clone())).collect();
    cal(json!({"time_zone": zone, "hours": hours}))
}

/// The instant of a local wall-clock time (compatible disambiguation).
fn local(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
    TimeZone::get(zone).unwrap().to_timestamp(date(y, mo, d).at(h, mi, 0, 0)).unwrap().as_second()
}

fn berlin(mo: i8, d: i8, h: i8, mi: i8) -> i64 {
    local("Europe/Berlin", 2026, mo, d, h, mi)
}

#[test]
fn four_business_hours_from_friday_afternoon_are_due_monday_noon_thirty() {
    let c = weekdays("Europe/Berlin", json!([["09:00", "17:00"]]), json!([]));
    let created = berlin(6, 5, 16, 30);
    assert_eq!(c.add_minutes(created, 240), Some(berlin(6, 8, 12, 30)));
    assert_eq!(c.minutes_between(created, berlin(6, 8, 12, 30)), 240);
    assert_eq!(c.minutes_between(created, berlin(6, 8, 12, 29) + 59), 239);
    // The count running out at a closing time is due then, not at the next opening.
    assert_eq!(c.add_minutes(berlin(6, 5, 16, 0), 60), Some(berlin(6, 5, 17, 0)));
    // Zero minutes: the first working instant at or after the start.
    assert_eq!(c.add_minutes(berlin(6, 5, 10, 0), 0), Some(berlin(6, 5, 10, 0)));
    assert_eq!(c.add_minutes(berlin(6, 5, 17, 0), 0), Some(berlin(6, 8, 9, 0)));
    assert_eq!(c.add_minutes(berlin(6, 5, 17, 0), -5), Some(berlin(6, 8, 9, 0)));
    assert_eq!(c.next_open(berlin(6, 6, 12, 0)), Some(berlin(6, 8, 9, 0)));
    assert!(c.is_open(berlin(6, 5, 9, 0)) && !c.is_open(berlin(6, 5, 17, 0)) && !c.is_open(berlin(6, 6, 12, 0)));
}

#[test]
fn lunch_breaks_are_not_counted() {
    let c = weekdays("Europe/Berlin", json!([["13:30", "17:00"], ["09:00", "12:30"]]), json!([]));
    assert_eq!(c.add_minutes(berlin(6, 1, 11, 0), 120), Some(berlin(6, 1, 14, 0)));
    assert_eq!(c.add_minutes(berlin(6, 1, 12, 0), 30), Some(berlin(6, 1, 12, 30)));
    assert_eq!(c.add_minutes(berlin(6, 1, 12, 45), 15), Some(berlin(6, 1, 13, 45)));
    assert!(!c.is_open(berlin(6, 1, 12, 45)));
    assert_eq!(c.next_open(berlin(6, 1, 12, 45)), Some(berlin(6, 1, 13, 30)));
    assert_eq!(c.minutes_between(berlin(6, 1, 0, 0), berlin(6, 2, 0, 0)), 420);
}

#[test]
fn holidays_in_a_row_and_the_weekend_are_skipped() {
    let c = weekdays("Europe/Berlin", json!([["09:00", "17:00"]]), json!(["12-24", "2026-12-25", "12-26"]));
    let start = berlin(12, 23, 16, 0);
    assert_eq!(c.add_minutes(start, 120), Some(berlin(12, 28, 10, 0)));
    assert_eq!(c.minutes_between(start, berlin(12, 28, 10, 0)), 120);
    assert!(!c.is_open(berlin(12, 24, 10, 0)));
    assert_eq!(c.next_open(berlin(12, 24, 10, 0)), Some(berlin(12, 28, 9, 0)));
}

#[test]
fn yearly_holidays_recur_and_dated_ones_do_not() {
    let c = cal(json!({"time_zone": "UTC", "hours": {"sat": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]]},
        "holidays": ["12-25", "2026-12-31"]}));
    let utc = |y, mo, d| local("UTC", y, mo, d, 10, 0);
    assert!(!c.is_open(utc(2026, 12, 25)) && !c.is_open(utc(2027, 12, 25)));
    assert!(c.is_open(utc(2027, 12, 24)), "a Friday");
    assert!(!c.is_open(utc(2026, 12, 31)) && c.is_open(utc(2027, 12, 31)));
    let leap = cal(json!({"time_zone": "UTC", "hours": {"sat": [["00:00", "24:00"]]}, "holidays": ["02-29"]}));
    assert!(!leap.is_open(utc(2020, 2, 29)) && leap.is_open(utc(2020, 2, 22)));
}

#[test]
fn a_calendar_without_hours_never_opens() {
    let c = cal(json!({"time_zone": "Europe/Berlin", "hours": {"mon": []}}));
    assert!(!c.has_hours());
    let t = berlin(6, 1, 10, 0);
    assert_eq!((c.add_minutes(t, 10), c.next_open(t), c.seconds_between(t, t + 100 * HOUR)), (None, None, 0));
    assert!(!c.is_open(t));
    assert!(c.week(t).iter().all(|day| day.intervals.is_empty()) && c.week(t).len() == 7);
}

#[test]
fn weekend_only_hours_skip_the_working_week() {
    let c = cal(json!({"time_zone": "UTC", "hours": {"sat": [["10:00", "14:00"]], "sun": [["10:00", "14:00"]]}}));
    let monday = local("UTC", 2026, 6, 1, 8, 0);
    assert_eq!(c.add_minutes(monday, 300), Some(local("UTC", 2026, 6, 7, 11, 0)));
    assert_eq!(c.minutes_between(monday, monday + 7 * 24 * HOUR), 480);
}

#[test]
fn always_is_24x7_in_utc() {
    let c = Calendar::always();
    let t = 1_790_000_000;
    assert!(c.has_hours() && c.is_open(t) && c.is_open(t + 12 * HOUR + 17));
    assert_eq!(c.add_minutes(t, 90), Some(t + 5400));
    assert_eq!(c.add_minutes(t, 0), Some(t));
    assert_eq!(c.seconds_between(t, t + 1_000_000), 1_000_000);
    assert_eq!((c.minutes_between(t, t + 119), c.seconds_between(t, t - 5)), (1, 0));
}

#[test]
fn targets_spanning_weeks_count_only_working_days() {
    let c = weekdays("Europe/Berlin", json!([["09:00", "17:00"]]), json!([]));
    // 2,400 minutes a week: two weeks and 200 minutes.
    assert_eq!(c.add_minutes(berlin(6, 1, 9, 0), 5000), Some(berlin(6, 15, 12, 20)));
    assert_eq!(c.minutes_between(berlin(1, 1, 0, 0), local("Europe/Berlin", 2027, 1, 1, 0, 0)), 261 * 480);
}

#[test]
fn a_24x7_zone_calendar_follows_both_dst_changes() {
    let c = daily("Europe/Berlin", json!([["00:00", "24:00"]]));
    assert_eq!(c.seconds_between(berlin(3, 28, 12, 0), berlin(3, 29, 12, 0)), 23 * HOUR);
    assert_eq!(c.seconds_between(berlin(10, 24, 12, 0), berlin(10, 25, 12, 0)), 25 * HOUR);
    assert_eq!(c.add_minutes(berlin(3, 28, 12, 0), 24 * 60), Some(berlin(3, 29, 13, 0)));
    assert_eq!(c.add_minutes(berlin(10, 24, 12, 0), 24 * 60), Some(berlin(10, 25, 11, 0)));
    let week = c.week(berlin(3, 26, 20, 0));
    assert_eq!(week[0].date, date(2026, 3, 26));
    let lengths: Vec<i64> = week.iter().map(|day| day.intervals.iter().map(|(s, e)| e - s).sum()).collect();
    assert_eq!(lengths, [24, 24, 24, 23, 24, 24, 24].map(|h| h * HOUR));
}

#[test]
fn early_morning_ranges_shrink_and_grow_on_dst_nights() {
    for (zone, spring, fall) in [("Europe/Berlin", (3, 29), (10, 25)), ("America/New_York", (3, 8), (11, 1))] {
        let c = daily(zone, json!([["01:00", "04:00"]]));
        let day =
            |(mo, d): (i8, i8)| c.seconds_between(local(zone, 2026, mo, d, 0, 0), local(zone, 2026, mo, d, 12, 0));
        assert_eq!((day(spring), day((6, 7)), day(fall)), (2 * HOUR, 3 * HOUR, 4 * HOUR), "{zone}");
        assert_eq!(
            c.add_minutes(local(zone, 2026, spring.0, spring.1, 1, 0), 90),
            Some(local(zone, 2026, spring.0, spring.1, 3, 30))
        );
    }
    // A range starting in the gap opens at the later instant; one starting in the fold at the earlier.
    let ny = daily("America/New_York", json!([["02:30", "05:00"]]));
    assert_eq!(
        ny.next_open(local("America/New_York", 2026, 3, 8, 0, 0)),
        Some(local("America/New_York", 2026, 3, 8, 3, 30))
    );
    let ny = daily("America/New_York", json!([["01:30", "03:00"]]));
    let (start, end) = (1_793_511_000, 1_793_520_000); // 2026-11-01 05:30Z (01:30 EDT) and 08:00Z (03:00 EST)
    assert_eq!(ny.week(start)[0].intervals, [(start, end)]);
    // Gap ranges overlapping the previous range once mapped are merged, not counted twice.
    let merged = daily("America/New_York", json!([["01:00", "02:30"], ["03:00", "04:00"]]));
    let night = local("America/New_York", 2026, 3, 8, 0, 0);
    assert_eq!(merged.seconds_between(night, night + 12 * HOUR), 2 * HOUR);
}

#[test]
fn degenerate_inputs_end_quickly() {
    let every_day: Vec<String> =
        (1..=12).flat_map(|m| (1..=date(2000, m, 1).days_in_month()).map(move |d| format!("{m:02}-{d:02}"))).collect();
    let c = cal(json!({"time_zone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": every_day}));
    assert!(c.has_hours());
    assert_eq!((c.next_open(0), c.add_minutes(0, 10)), (None, None));
    assert_eq!(c.seconds_between(i64::MIN, i64::MAX), 0);
    let c = weekdays("Europe/Berlin", json!([["09:00", "17:00"]]), json!([]));
    assert!(c.add_minutes(0, i64::MAX).is_none());
    assert_eq!((c.add_minutes(i64::MAX, 1), c.is_open(i64::MIN), c.week(i64::MAX).len()), (None, false, 0));
    assert!(c.seconds_between(i64::MIN, i64::MAX) > 0);
}

#[test]
fn the_spec_round_trips_as_the_stored_json() {
    let stored = json!({"time_zone": "Europe/Berlin", "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]],
        "sun": []}, "holidays": ["2026-12-25", "12-24"]});
    let spec: CalendarSpec = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(serde_json::to_value(&spec).unwrap(), stored);
    assert!(Calendar::parse(&spec).is_ok());
    let bare: CalendarSpec = serde_json::from_value(json!({"time_zone": "UTC"})).unwrap();
    assert!(!Calendar::parse(&bare).unwrap().has_hours());
}

#[test]
fn touching_and_unsorted_ranges_are_accepted() {
    let c = cal(json!({"time_zone": "UTC", "hours": {"mon": [["12:00", "24:00"], ["00:00", "12:00"]]}}));
    let monday = local("UTC", 2026, 6, 1, 0, 0);
    assert_eq!(c.week(monday)[0].intervals, [(monday, monday + 24 * HOUR)]);
}

#[test]
fn refusals_name_their_place() {
    let refused =
        |spec: serde_json::Value| Calendar::parse(&serde_json::from_value(spec).unwrap()).unwrap_err().to_string();
    let hours = |ranges: serde_json::Value| json!({"time_zone": "UTC", "hours": {"mon": ranges}});
    assert_eq!(refused(json!({"time_zone": "Mars/Base"})), r#"time_zone: unknown time zone "Mars/Base""#);
    assert_eq!(
        refused(json!({"time_zone": "UTC", "hours": {"monday": []}})),
        "hours.monday: not a weekday (mon, tue, wed, thu, fri, sat or sun)"
    );
    assert_eq!(
        refused(hours(json!([["09:00", "12:00"], ["11:00", "14:00"], ["13:00", "17:00"]]))),
        "hours.mon[1]: 11:00 starts before the previous range ends (12:00)"
    );
    assert_eq!(
        refused(hours(json!([["13:00", "17:00"], ["09:00", "14:00"]]))),
        "hours.mon[0]: 13:00 starts before the previous range ends (14:00)"
    );
    assert_eq!(refused(hours(json!([["17:00", "09:00"]]))), "hours.mon[0]: 17:00 does not start before its end 09:00");
    assert_eq!(refused(hours(json!([["09:00", "09:00"]]))), "hours.mon[0]: 09:00 does not start before its end 09:00");
    assert_eq!(refused(hours(json!([["24:00", "24:00"]]))), "hours.mon[0]: 24:00 does not start before its end 24:00");
    for bad in ["9:00", "24:30", "12:60", "25:00", "", "09:00:00", "ab:cd", "+9:00", "09h00"] {
        assert_eq!(
            refused(hours(json!([["08:00", "08:30"], ["09:00", bad]]))),
            format!("hours.mon[1]: {bad:?} is not a time (HH:MM from 00:00 to 24:00)")
        );
    }
    for bad in ["2026-02-30", "02-30", "13-01", "2026-1-05", "26-01-05", "tomorrow", "", "2026-12-25-1", "+026-12-25"] {
        assert_eq!(
            refused(json!({"time_zone": "UTC", "holidays": ["12-25", "2026-12-24", bad]})),
            format!("holidays[2]: {bad:?} is not a date (YYYY-MM-DD or MM-DD)")
        );
    }
}
