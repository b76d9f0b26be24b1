//! Business-hours calendars for SLA clocks: a time zone, working hours per weekday and holidays, checked once,
//! then arithmetic on unix seconds (due dates, elapsed business time, week previews). Pure: no IO, no clock.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// The keys of [`CalendarSpec::hours`], Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Local dates walked at most by one computation (about 100 years), so that no input can hang a caller.
const HORIZON_DAYS: usize = 36_525;

const DAY_MINUTES: u16 = 24 * 60;

/// A calendar as the API stores it: `{"time_zone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]]},
/// "holidays": ["2026-12-25", "12-24"]}`. A missing weekday key, like an empty list, means no hours that day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// An IANA time zone name; the hours are wall-clock times there.
    pub time_zone: String,
    /// Working ranges `["HH:MM", "HH:MM"]` per weekday key (`mon` … `sun`); `"24:00"` ends a day.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<[String; 2]>>,
    /// Days without working time: `"YYYY-MM-DD"` once, `"MM-DD"` every year.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Why a [`CalendarSpec`] is refused; the message starts with the place in the spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("time_zone: unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("hours.{0}: not a weekday (mon, tue, wed, thu, fri, sat or sun)")]
    UnknownWeekday(String),
    #[error("hours.{day}[{index}]: {value:?} is not a time (HH:MM from 00:00 to 24:00)")]
    BadTime { day: String, index: usize, value: String },
    #[error("hours.{day}[{index}]: {start} does not start before its end {end}")]
    EmptyRange { day: String, index: usize, start: String, end: String },
    #[error("hours.{day}[{index}]: {start} starts before the previous range ends ({previous_end})")]
    Overlap { day: String, index: usize, start: String, previous_end: String },
    #[error("holidays[{index}]: {value:?} is not a date (YYYY-MM-DD or MM-DD)")]
    BadHoliday { index: usize, value: String },
}

/// One local date of a [`Calendar::week`] preview and its working intervals, unix seconds `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayHours {
    pub date: Date,
    pub intervals: Vec<(i64, i64)>,
}

/// A checked calendar, ready for arithmetic. Each local date's ranges become instants with the "compatible"
/// disambiguation (a wall time in a gap maps to the later instant, one in a fold to the earlier), so a day's
/// working time follows DST; a date's intervals are clipped to its own span, from its midnight to the next.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    /// Working ranges per weekday, Monday first, in minutes after local midnight: sorted, not overlapping.
    days: [Vec<(u16, u16)>; 7],
    dated: BTreeSet<Date>,
    /// Yearly holidays as (month, day).
    yearly: BTreeSet<(i8, i8)>,
}

impl Calendar {
    /// Checks a stored spec: a known zone, weekday keys, valid non-overlapping ranges, dates.
    pub fn parse(spec: &CalendarSpec) -> Result<Calendar, CalendarError> {
        let tz = TimeZone::get(&spec.time_zone).map_err(|_| CalendarError::UnknownTimeZone(spec.time_zone.clone()))?;
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for (key, ranges) in &spec.hours {
            let day =
                WEEKDAYS.iter().position(|d| d == key).ok_or_else(|| CalendarError::UnknownWeekday(key.clone()))?;
            days[day] = parse_day(key, ranges)?;
        }
        let (mut dated, mut yearly) = (BTreeSet::new(), BTreeSet::new());
        for (index, text) in spec.holidays.iter().enumerate() {
            match parse_holiday(text) {
                Some(Holiday::Dated(date)) => dated.insert(date),
                Some(Holiday::Yearly(month, day)) => yearly.insert((month, day)),
                None => return Err(CalendarError::BadHoliday { index, value: text.clone() }),
            };
        }
        Ok(Calendar { tz, days, dated, yearly })
    }

    /// 24×7 in UTC (used when an SLA policy names no calendar).
    pub fn always() -> Calendar {
        let days = std::array::from_fn(|_| vec![(0, DAY_MINUTES)]);
        Calendar { tz: TimeZone::UTC, days, dated: BTreeSet::new(), yearly: BTreeSet::new() }
    }

    /// Whether any weekday has a working range (holidays aside).
    pub fn has_hours(&self) -> bool {
        self.days.iter().any(|ranges| !ranges.is_empty())
    }

    /// The instant `minutes` business minutes after `start`: the earliest instant by which that much working time
    /// has passed since `start` (so the end of a range, not the next opening, when the count runs out exactly
    /// there). `minutes <= 0` gives the first working instant at or after `start`. `None` when the calendar has no
    /// hours, or none within about 100 years of dates after `start` (holidays covering every open day).
    pub fn add_minutes(&self, start: i64, minutes: i64) -> Option<i64> {
        if !self.has_hours() {
            return None;
        }
        let mut need = minutes.max(0).saturating_mul(60);
        for date in self.dates_from(start) {
            for (open, close) in self.intervals(date) {
                if close <= start {
                    continue;
                }
                let open = open.max(start);
                if need == 0 {
                    return Some(open);
                }
                if need <= close - open {
                    return Some(open + need);
                }
                need -= close - open;
            }
        }
        None
    }

    /// Business seconds in `[from, to)`, 0 when `to <= from`; counts at most about 100 years of dates.
    pub fn seconds_between(&self, from: i64, to: i64) -> i64 {
        let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let (from, to) = (from.clamp(min, max), to.clamp(min, max));
        if to <= from || !self.has_hours() {
            return 0;
        }
        let Some(last) = self.day_of(to - 1) else { return 0 };
        let mut total = 0;
        for date in self.dates_from(from).take_while(|date| *date <= last) {
            for (open, close) in self.intervals(date) {
                total += (close.min(to) - open.max(from)).max(0);
            }
        }
        total
    }

    /// Business minutes in `[from, to)`, rounded down.
    pub fn minutes_between(&self, from: i64, to: i64) -> i64 {
        self.seconds_between(from, to) / 60
    }

    /// Whether `at` is inside working time.
    pub fn is_open(&self, at: i64) -> bool {
        self.day_of(at).is_some_and(|date| self.intervals(date).iter().any(|&(open, close)| open <= at && at < close))
    }

    /// The first working instant at or after `at`; `None` as for [`Calendar::add_minutes`].
    pub fn next_open(&self, at: i64) -> Option<i64> {
        self.add_minutes(at, 0)
    }

    /// The 7 local dates starting at the one holding `from`, each with its working intervals (empty on closed
    /// days and holidays): the admin's week preview. Empty when `from` is outside the years jiff supports.
    pub fn week(&self, from: i64) -> Vec<DayHours> {
        self.dates_from(from).take(7).map(|date| DayHours { date, intervals: self.intervals(date) }).collect()
    }

    /// The local wall-clock time of `at` as `HH:MM` (for previews), or `--:--` outside jiff's range.
    pub fn local_hm(&self, at: i64) -> String {
        Timestamp::from_second(at)
            .map(|t| self.tz.to_datetime(t).strftime("%H:%M").to_string())
            .unwrap_or_else(|_| "--:--".into())
    }

    fn is_holiday(&self, date: Date) -> bool {
        self.dated.contains(&date) || self.yearly.contains(&(date.month(), date.day()))
    }

    /// The instant of a wall-clock minute of `date` (1440 is the next date's midnight), compatible disambiguation.
    fn wall(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= DAY_MINUTES { (date.tomorrow().ok()?, 0) } else { (date, minute) };
        let time = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        self.tz.to_timestamp(time).ok().map(Timestamp::as_second)
    }

    /// The working intervals of one local date, sorted and merged (a range starting in a DST gap can end up
    /// overlapping the one before it), clipped to the date's span.
    fn intervals(&self, date: Date) -> Vec<(i64, i64)> {
        let ranges = &self.days[date.weekday().to_monday_zero_offset() as usize];
        if ranges.is_empty() || self.is_holiday(date) {
            return Vec::new();
        }
        let (Some(midnight), Some(next_midnight)) = (self.wall(date, 0), self.wall(date, DAY_MINUTES)) else {
            return Vec::new();
        };
        let mut spans: Vec<(i64, i64)> = ranges
            .iter()
            .filter_map(|&(start, end)| {
                let (open, close) = (self.wall(date, start)?.max(midnight), self.wall(date, end)?.min(next_midnight));
                (open < close).then_some((open, close))
            })
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for (open, close) in spans {
            match merged.last_mut() {
                Some(last) if open <= last.1 => last.1 = last.1.max(close),
                _ => merged.push((open, close)),
            }
        }
        merged
    }

    /// The local date whose span (its midnight to the next) holds `at`; `None` outside jiff's years.
    fn day_of(&self, at: i64) -> Option<Date> {
        let date = self.tz.to_datetime(Timestamp::from_second(at).ok()?).date();
        // Only where a zone moves its clocks across midnight can the wall-clock date differ from the span's.
        if self.wall(date, 0).is_some_and(|midnight| at < midnight) {
            return date.yesterday().ok();
        }
        if self.wall(date, DAY_MINUTES).is_some_and(|next| at >= next) {
            return date.tomorrow().ok();
        }
        Some(date)
    }

    /// Local dates from the one holding `at` on, at most [`HORIZON_DAYS`] of them.
    fn dates_from(&self, at: i64) -> impl Iterator<Item = Date> {
        std::iter::successors(self.day_of(at), |date| date.tomorrow().ok()).take(HORIZON_DAYS)
    }
}

enum Holiday {
    Dated(Date),
    Yearly(i8, i8),
}

fn parse_day(day: &str, ranges: &[[String; 2]]) -> Result<Vec<(u16, u16)>, CalendarError> {
    let mut parsed = Vec::with_capacity(ranges.len());
    for (index, [start, end]) in ranges.iter().enumerate() {
        let bad = |value: &String| CalendarError::BadTime { day: day.to_owned(), index, value: value.clone() };
        let (open, close) = (parse_time(start).ok_or_else(|| bad(start))?, parse_time(end).ok_or_else(|| bad(end))?);
        if open >= close {
            return Err(CalendarError::EmptyRange {
                day: day.to_owned(),
                index,
                start: clock(open),
                end: clock(close),
            });
        }
        parsed.push((open, close, index));
    }
    parsed.sort_unstable();
    for pair in parsed.windows(2) {
        let ((_, previous_end, _), (start, _, index)) = (pair[0], pair[1]);
        if start < previous_end {
            let (start, previous_end) = (clock(start), clock(previous_end));
            return Err(CalendarError::Overlap { day: day.to_owned(), index, start, previous_end });
        }
    }
    Ok(parsed.into_iter().map(|(open, close, _)| (open, close)).collect())
}

/// Minutes after midnight of `"HH:MM"`, from 00:00 to 24:00.
fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let (hours, minutes) = (digits(hours, 2)?, digits(minutes, 2)?);
    match (hours, minutes) {
        (0..=23, 0..=59) | (24, 0) => Some(hours * 60 + minutes),
        _ => None,
    }
}

fn parse_holiday(text: &str) -> Option<Holiday> {
    let parts: Vec<&str> = text.split('-').collect();
    match parts[..] {
        [month, day] => {
            let (month, day) = (digits(month, 2)? as i8, digits(day, 2)? as i8);
            Date::new(2000, month, day).ok().map(|_| Holiday::Yearly(month, day))
        }
        [year, month, day] => {
            Date::new(digits(year, 4)? as i16, digits(month, 2)? as i8, digits(day, 2)? as i8).ok().map(Holiday::Dated)
        }
        _ => None,
    }
}

/// The number written with exactly `len` ASCII digits (`len` at most 4).
fn digits(text: &str, len: usize) -> Option<u16> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// `"HH:MM"` of minutes after midnight.
fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "calendar_props.rs"]
mod props;
