//! Property test: calendar arithmetic against a naive minute-by-minute reference over random calendars.
//!
//! The reference decides "is minute instant t open?" the plain way: take t's local date in the zone, skip it if
//! it is a holiday, map each of that weekday's ranges to `[compatible(start), compatible(end))` (24:00 being the
//! next date's midnight) and look for one containing t. Invariants checked per case:
//! - `add_minutes(start, m)` is the end of the m-th open minute from `start` (m = 0: the first open minute);
//! - `next_open(start)` is the first open minute; `is_open(start)` iff `next_open(start) == Some(start)`;
//! - `minutes_between(start, start + k min)` and `seconds_between` equal the reference's count for a random k;
//! - `is_open` agrees with the reference at the start, the probe, just before and at the due instant;
//! - for m > 0: `seconds_between(start, due) == m * 60` and the second before `due` is open;
//! - `seconds_between(t, t + 1)` is 1 iff `is_open(t)`;
//! - `has_hours` iff some weekday has a range.
//!
//! The reference walks at most [`WINDOW`] minutes of wall clock; beyond it, only "the due is later" is checked.

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

const ZONES: [&str; 5] = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"];
/// Minutes of wall clock the reference walks at most (60 days).
const WINDOW: i64 = 60 * 24 * 60;
const START_2026: i64 = 1_767_225_600;
const MINUTES_2026_2027: i64 = (1_830_297_600 - START_2026) / 60;
/// Midnights UTC of the DST change days of 2026–2027 in Berlin, New York and Lord Howe.
const DST_DAYS: [i64; 12] = [
    1_774_742_400,
    1_792_886_400,
    1_806_192_000,
    1_824_940_800,
    1_772_928_000,
    1_793_491_200,
    1_804_982_400,
    1_825_545_600,
    1_775_347_200,
    1_791_072_000,
    1_806_796_800,
    1_822_521_600,
];

/// 0–3 ranges on a 15-minute or 1-minute grid: sorted random points paired up (touching ranges happen).
fn day_ranges(step: u16) -> impl Strategy<Value = Vec<[String; 2]>> {
    (0usize..=3).prop_flat_map(move |k| prop::collection::vec(0..=DAY_MINUTES / step, 2 * k)).prop_map(
        move |mut points| {
            points.sort_unstable();
            points.chunks(2).filter(|p| p[0] < p[1]).map(|p| [clock(p[0] * step), clock(p[1] * step)]).collect()
        },
    )
}

fn holiday() -> impl Strategy<Value = String> {
    prop_oneof![
        (2026..=2027, 1..=12, 1..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        (1..=12, 1..=28).prop_map(|(m, d)| format!("{m:02}-{d:02}")),
    ]
}

fn spec() -> impl Strategy<Value = CalendarSpec> {
    let zone = prop::sample::select(&ZONES[..]);
    let step = prop_oneof![Just(15u16), Just(1u16)];
    (zone, step, prop::collection::vec(holiday(), 0..4)).prop_flat_map(|(zone, step, holidays)| {
        prop::array::uniform7(day_ranges(step)).prop_map(move |days| CalendarSpec {
            time_zone: zone.to_owned(),
            hours: WEEKDAYS.iter().zip(days).filter(|(_, r)| !r.is_empty()).map(|(d, r)| (d.to_string(), r)).collect(),
            holidays: holidays.clone(),
        })
    })
}

/// A minute-aligned instant in 2026–2027, a third of the time within 3 days before a DST change.
fn start() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => (0..MINUTES_2026_2027).prop_map(|m| START_2026 + m * 60),
        1 => (prop::sample::select(&DST_DAYS[..]), 0..3 * 24 * 60i64).prop_map(|(day, m)| day - m * 60),
    ]
}

struct Reference<'a> {
    spec: &'a CalendarSpec,
    tz: TimeZone,
    /// The start of the UTC half hour of the last lookup, its local date and that date's ranges as instants. Every
    /// offset of the zones tested is a multiple of 30 minutes, so the local date is the same throughout a UTC half
    /// hour: one date lookup per half hour, not per minute (this runs for every minute walked, in a debug build).
    block: i64,
    day: Option<Date>,
    ranges: Vec<(i64, i64)>,
}

impl<'a> Reference<'a> {
    fn new(spec: &'a CalendarSpec) -> Self {
        Reference { spec, tz: TimeZone::get(&spec.time_zone).unwrap(), block: i64::MIN, day: None, ranges: Vec::new() }
    }

    fn instant(&self, day: Date, hhmm: &str) -> i64 {
        let (h, m): (i8, i8) = (hhmm[..2].parse().unwrap(), hhmm[3..].parse().unwrap());
        let (day, h) = if h == 24 { (day.tomorrow().unwrap(), 0) } else { (day, h) };
        self.tz.to_ambiguous_timestamp(day.at(h, m, 0, 0)).compatible().unwrap().as_second()
    }

    fn ranges_of(&self, day: Date) -> Vec<(i64, i64)> {
        let text = day.to_string();
        if self.spec.holidays.iter().any(|h| *h == text || *h == text[5..]) {
            return Vec::new();
        }
        let key = WEEKDAYS[day.weekday().to_monday_zero_offset() as usize];
        let ranges = self.spec.hours.get(key).map(Vec::as_slice).unwrap_or_default();
        ranges.iter().map(|[s, e]| (self.instant(day, s), self.instant(day, e))).collect()
    }

    fn open(&mut self, t: i64) -> bool {
        if t < self.block || t >= self.block + 1800 {
            self.block = t - t.rem_euclid(1800);
            let day = self.tz.to_datetime(Timestamp::from_second(t).unwrap()).date();
            if self.day != Some(day) {
                self.day = Some(day);
                self.ranges = self.ranges_of(day);
            }
        }
        let ranges: &[(i64, i64)] = &self.ranges;
        let mut i = 0;
        while i < ranges.len() {
            if ranges[i].0 <= t && t < ranges[i].1 {
                return true;
            }
            i += 1;
        }
        false
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn arithmetic_agrees_with_a_minute_by_minute_reference(
        spec in spec(), start in start(), minutes in 0i64..20_000, probe in 0usize..WINDOW as usize,
    ) {
        let cal = Calendar::parse(&spec).unwrap();
        let mut reference = Reference::new(&spec);
        prop_assert_eq!(cal.has_hours(), !spec.hours.is_empty());
        // counts[k]: open minutes in [start, start + k min), for k up to the minutes walked: until the due is found
        // or the window ends. Slices and plain loops keep this affordable in a debug build.
        let mut counts_vec = vec![0i64; WINDOW as usize + 1];
        let counts: &mut [i64] = &mut counts_vec;
        let (mut walked, mut first_open, mut due) = (0usize, None, None);
        let mut t = start;
        while due.is_none() && walked < WINDOW as usize {
            let open = reference.open(t);
            counts[walked + 1] = counts[walked] + open as i64;
            walked += 1;
            if open {
                if first_open.is_none() {
                    first_open = Some(t);
                }
                if minutes == 0 || counts[walked] == minutes {
                    due = Some(if minutes == 0 { t } else { t + 60 });
                }
            }
            t += 60;
        }
        let walked_to = t;
        let later = |x: Option<i64>| x.is_none_or(|x| x >= walked_to);
        match due {
            Some(due) => prop_assert_eq!(cal.add_minutes(start, minutes), Some(due)),
            None => prop_assert!(later(cal.add_minutes(start, minutes)), "due before {}", walked_to),
        }
        match first_open {
            Some(first) => prop_assert_eq!(cal.next_open(start), Some(first)),
            None => prop_assert!(later(cal.next_open(start))),
        }
        prop_assert_eq!(cal.is_open(start), cal.next_open(start) == Some(start));
        prop_assert_eq!(cal.seconds_between(start, start + 1), i64::from(cal.is_open(start)));
        let k = probe % (walked + 1);
        let at = start + k as i64 * 60;
        prop_assert_eq!(cal.minutes_between(start, at), counts[k]);
        prop_assert_eq!(cal.seconds_between(start, at), counts[k] * 60);
        prop_assert_eq!(cal.is_open(start), reference.open(start));
        prop_assert_eq!(cal.is_open(at), reference.open(at));
        if let (Some(due), true) = (due, minutes > 0) {
            prop_assert_eq!(cal.seconds_between(start, due), minutes * 60);
            prop_assert!(cal.is_open(due - 1) && reference.open(due - 60));
            prop_assert_eq!(cal.is_open(due), reference.open(due));
        }
    }
}

#[test]
fn the_reference_sees_the_berlin_spring_forward_night() {
    let spec: CalendarSpec = serde_json::from_value(serde_json::json!({"time_zone": "Europe/Berlin",
        "hours": {"sun": [["01:00", "04:00"]]}}))
    .unwrap();
    let mut reference = Reference::new(&spec);
    let night = TimeZone::get("Europe/Berlin").unwrap().to_timestamp(date(2026, 3, 29).at(0, 0, 0, 0)).unwrap();
    let open = (0..12 * 60).filter(|m| reference.open(night.as_second() + m * 60)).count();
    assert_eq!(open, 120);
}
