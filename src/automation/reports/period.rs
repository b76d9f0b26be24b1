//! What a report is asked for: a period of UTC dates (`to` inclusive, the last 28 days by default) and a grouping,
//! parsed from the query string once; plus the day and ISO-week arithmetic on unix seconds.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Days of the default period, today included.
pub const DEFAULT_DAYS: i64 = 28;
/// The longest period asked for (two years), so a report stays cheap.
pub const MAX_DAYS: i64 = 731;
const DAY: i64 = 86_400;

/// What the figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// The ticket's mailbox.
    Mailbox,
    /// The ticket's assignee (e-mail), `unassigned` without one.
    Agent,
    /// The ticket's type, `none` without one.
    Type,
    /// The ISO week (`2026-W49`) of what is counted: creation, first resolution or answer.
    Week,
}

impl GroupBy {
    /// Every grouping, in the order the form offers them.
    pub const ALL: [GroupBy; 4] = [GroupBy::Mailbox, GroupBy::Agent, GroupBy::Type, GroupBy::Week];

    /// The name in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Mailbox => "mailbox",
            GroupBy::Agent => "agent",
            GroupBy::Type => "type",
            GroupBy::Week => "week",
        }
    }
}

/// Why a report request is refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{0}: {1:?} is not a date (YYYY-MM-DD)")]
    BadDate(&'static str, String),
    #[error("group: {0:?} is not one of mailbox, agent, type, week")]
    BadGroup(String),
    #[error("from ({0}) is after to ({1})")]
    Reversed(String, String),
    #[error("the period is longer than {MAX_DAYS} days")]
    TooLong,
}

/// The query string as sent: `from`, `to` (`YYYY-MM-DD`) and `group`, each optional (empty is absent).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Params {
    pub from: Option<String>,
    pub to: Option<String>,
    pub group: Option<String>,
}

/// A checked report request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The first day, UTC.
    pub from: Date,
    /// The last day, UTC, included.
    pub to: Date,
    pub group: GroupBy,
}

impl Params {
    /// Checks the parameters; `today` (UTC) ends the default period, which `from` alone starts.
    pub fn parse(&self, today: Date) -> Result<Query, ReportError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let date = |name, v: &Option<String>| match given(v) {
            Some(text) => parse_date(&text).map(Some).ok_or(ReportError::BadDate(name, text)),
            None => Ok(None),
        };
        let group = match given(&self.group) {
            None => GroupBy::Mailbox,
            Some(g) => *GroupBy::ALL.iter().find(|x| x.as_str() == g).ok_or(ReportError::BadGroup(g))?,
        };
        let (from, to) = match (date("from", &self.from)?, date("to", &self.to)?) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, shift(f, DEFAULT_DAYS - 1).min(today).max(f)),
            (None, Some(t)) => (shift(t, 1 - DEFAULT_DAYS), t),
            (None, None) => (shift(today, 1 - DEFAULT_DAYS), today),
        };
        if from > to {
            return Err(ReportError::Reversed(from.to_string(), to.to_string()));
        }
        let q = Query { from, to, group };
        if q.days() > MAX_DAYS {
            return Err(ReportError::TooLong);
        }
        Ok(q)
    }
}

impl Query {
    /// The period's first instant (midnight UTC of `from`).
    pub fn start(&self) -> i64 {
        midnight(self.from)
    }

    /// The instant after the period (midnight UTC after `to`).
    pub fn end(&self) -> i64 {
        midnight(self.to) + DAY
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        (self.end() - self.start()) / DAY
    }

    /// Every date of the period, in order.
    pub fn dates(&self) -> impl Iterator<Item = Date> + use<> {
        let to = self.to;
        std::iter::successors(Some(self.from), move |d| d.tomorrow().ok().filter(|n| *n <= to))
    }

    /// The ISO weeks the period touches, in order.
    pub fn weeks(&self) -> Vec<String> {
        let mut weeks: Vec<String> = Vec::new();
        for date in self.dates() {
            let key = week_key(date);
            if weeks.last() != Some(&key) {
                weeks.push(key);
            }
        }
        weeks
    }
}

/// A strict `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    let digits = |r: std::ops::Range<usize>| text.get(r.clone()).filter(|s| s.bytes().all(|c| c.is_ascii_digit()));
    if !shape {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

/// The UTC date holding `at`.
pub fn date_of(at: i64) -> Date {
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    TimeZone::UTC.to_datetime(ts).date()
}

/// The ISO week key (`2026-W07`) of a date.
pub fn week_key(date: Date) -> String {
    let w = date.iso_week_date();
    format!("{:04}-W{:02}", w.year(), w.week())
}

fn midnight(date: Date) -> i64 {
    date.to_zoned_datetime(TimeZone::UTC).map(|z| z.timestamp().as_second()).unwrap_or(0)
}

fn shift(date: Date, days: i64) -> Date {
    date_of(midnight(date) + days * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(from: &str, to: &str, group: &str) -> Params {
        let some = |s: &str| Some(s.to_string());
        Params { from: some(from), to: some(to), group: some(group) }
    }

    fn d(text: &str) -> Date {
        parse_date(text).unwrap()
    }

    #[test]
    fn the_default_is_the_last_28_days_by_mailbox() {
        let q = Params::default().parse(d("2026-03-10")).unwrap();
        assert_eq!((q.from, q.to, q.group), (d("2026-02-11"), d("2026-03-10"), GroupBy::Mailbox));
        assert_eq!(q.days(), 28);
        let q = p("2026-03-01", "", "week").parse(d("2026-03-10")).unwrap();
        assert_eq!((q.from, q.to), (d("2026-03-01"), d("2026-03-10")), "from alone runs to today at most");
        let q = p("", "2026-01-28", "agent").parse(d("2026-03-10")).unwrap();
        assert_eq!((q.from, q.to), (d("2026-01-01"), d("2026-01-28")));
    }

    #[test]
    fn bad_dates_groups_and_periods_are_refused() {
        let today = d("2026-03-10");
        for bad in ["2026-2-01", "2026-02-30", "20260201", "2026-02-01T00:00", "x"] {
            assert!(matches!(p(bad, "2026-03-01", "").parse(today), Err(ReportError::BadDate("from", _))), "{bad}");
        }
        assert_eq!(p("", "", "team").parse(today), Err(ReportError::BadGroup("team".into())));
        assert!(matches!(p("2026-03-02", "2026-03-01", "").parse(today), Err(ReportError::Reversed(..))));
        assert_eq!(p("2024-01-01", "2026-01-01", "").parse(today), Err(ReportError::TooLong));
        assert!(p("2024-01-01", "2025-12-31", "").parse(today).is_ok(), "731 days are allowed");
    }

    #[test]
    fn the_period_runs_from_midnight_to_midnight_utc_with_its_iso_weeks() {
        let q = p("2026-02-02", "2026-02-15", "week").parse(d("2026-03-10")).unwrap();
        assert_eq!(q.start(), 1_769_990_400, "2026-02-02T00:00:00Z");
        assert_eq!(q.end() - q.start(), 14 * DAY);
        assert_eq!(q.dates().count(), 14);
        assert_eq!(q.weeks(), ["2026-W06", "2026-W07"]);
        assert_eq!(week_key(d("2027-01-01")), "2026-W53", "ISO years differ from calendar years");
        assert_eq!(date_of(q.end() - 1), d("2026-02-15"));
    }
}
