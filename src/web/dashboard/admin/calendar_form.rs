//! The calendar form (pure): a calendar as text fields — the time zone, each weekday's ranges written
//! `09:00-12:30, 13:30-17:00`, holidays one per line — read back into a [`CalendarSpec`], with every refusal of
//! [`Calendar::parse`] beside the field it concerns (all fields are checked, not only the first bad one).

use crate::domain::calendar::{Calendar, CalendarError, CalendarSpec, WEEKDAYS};
use serde::Serialize;
use std::collections::BTreeMap;

/// Weekday labels in the order of [`WEEKDAYS`].
const LABELS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// One weekday's field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DayField {
    /// `mon` … `sun`; the field is `hours_{key}`.
    pub key: String,
    pub label: String,
    /// Ranges as written, e.g. `09:00-12:30, 13:30-17:00`; empty is closed.
    pub text: String,
}

/// The form's values as shown and posted, with errors by field name (`name`, `time_zone`, `hours_mon`, `holidays`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CalendarForm {
    pub name: String,
    pub time_zone: String,
    pub days: Vec<DayField>,
    /// One date per line.
    pub holidays: String,
    pub errors: BTreeMap<String, String>,
}

impl CalendarForm {
    /// A new calendar: Monday to Friday 09:00–17:00 in UTC.
    pub fn blank() -> Self {
        let office = vec![["09:00".to_string(), "17:00".to_string()]];
        let hours = WEEKDAYS[..5].iter().map(|d| (d.to_string(), office.clone())).collect();
        Self::of("", &CalendarSpec { time_zone: "UTC".into(), hours, holidays: Vec::new() })
    }

    /// The form showing a stored calendar.
    pub fn of(name: &str, spec: &CalendarSpec) -> Self {
        let days = WEEKDAYS
            .iter()
            .zip(LABELS)
            .map(|(key, label)| {
                let ranges = spec.hours.get(*key).map(Vec::as_slice).unwrap_or_default();
                let text = ranges.iter().map(|[a, b]| format!("{a}-{b}")).collect::<Vec<_>>().join(", ");
                DayField { key: key.to_string(), label: label.into(), text }
            })
            .collect();
        let holidays = spec.holidays.join("\n");
        Self { name: name.into(), time_zone: spec.time_zone.clone(), days, holidays, errors: BTreeMap::new() }
    }

    /// The form as posted (name/value pairs); `name` is the calendar's when it is edited, else the posted one.
    pub fn posted(pairs: &[(String, String)], name: Option<&str>) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut form = Self::of(
            name.map_or_else(|| get("name"), str::to_string).trim(),
            &CalendarSpec {
                time_zone: get("time_zone").trim().to_string(),
                hours: BTreeMap::new(),
                holidays: Vec::new(),
            },
        );
        for d in &mut form.days {
            d.text = get(&format!("hours_{}", d.key));
        }
        form.holidays = get("holidays");
        form
    }

    /// The calendar the form describes, or `None` with the errors beside their fields.
    pub fn spec(&mut self) -> Option<CalendarSpec> {
        let utc = |hours, holidays| CalendarSpec { time_zone: "UTC".into(), hours, holidays };
        let zone = CalendarSpec { time_zone: self.time_zone.clone(), ..utc(BTreeMap::new(), Vec::new()) };
        if let Err(e) = Calendar::parse(&zone) {
            self.refuse(e);
        }
        let mut hours = BTreeMap::new();
        for d in &self.days {
            match ranges(&d.text) {
                Ok(r) => {
                    if let Err(e) = Calendar::parse(&utc(BTreeMap::from([(d.key.clone(), r.clone())]), Vec::new())) {
                        self.errors.insert(field_of(&e), message(&e));
                    }
                    hours.insert(d.key.clone(), r);
                }
                Err(msg) => {
                    self.errors.insert(format!("hours_{}", d.key), msg);
                }
            }
        }
        let holidays: Vec<String> =
            self.holidays.split(['\n', ',']).map(str::trim).filter(|h| !h.is_empty()).map(str::to_string).collect();
        if let Err(e) = Calendar::parse(&utc(BTreeMap::new(), holidays.clone())) {
            self.refuse(e);
        }
        if !self.errors.is_empty() {
            return None;
        }
        let spec = CalendarSpec { time_zone: self.time_zone.clone(), hours, holidays };
        // Each part passed on its own; the whole is checked again all the same.
        match Calendar::parse(&spec) {
            Ok(_) => Some(spec),
            Err(e) => {
                self.refuse(e);
                None
            }
        }
    }

    /// Puts a refusal of the calendar check beside its field.
    pub fn refuse(&mut self, e: CalendarError) {
        self.errors.insert(field_of(&e), message(&e));
    }
}

/// `09:00-12:30, 13:30-17:00` as ranges (also `;` or new lines between them, an en dash inside).
fn ranges(text: &str) -> Result<Vec<[String; 2]>, String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| match r.split_once(['-', '–']) {
            Some((a, b)) => Ok([a.trim().to_string(), b.trim().to_string()]),
            None => Err(format!("“{r}” is not a range: write them like 09:00-12:30, 13:30-17:00.")),
        })
        .collect()
}

/// The form field a refusal concerns.
fn field_of(e: &CalendarError) -> String {
    match e {
        CalendarError::UnknownTimeZone(_) => "time_zone".into(),
        CalendarError::UnknownWeekday(day)
        | CalendarError::BadTime { day, .. }
        | CalendarError::EmptyRange { day, .. }
        | CalendarError::Overlap { day, .. } => format!("hours_{day}"),
        CalendarError::BadHoliday { .. } => "holidays".into(),
    }
}

/// A refusal in the form's words (ranges counted from 1).
fn message(e: &CalendarError) -> String {
    match e {
        CalendarError::UnknownTimeZone(z) => format!("Unknown time zone “{z}”: use an IANA name like Europe/Berlin."),
        CalendarError::UnknownWeekday(d) => format!("{d} is not a weekday."),
        CalendarError::BadTime { index, value, .. } => {
            format!("Range {}: “{value}” is not a time (HH:MM from 00:00 to 24:00).", index + 1)
        }
        CalendarError::EmptyRange { index, start, end, .. } => {
            format!("Range {}: {start} does not start before its end {end}.", index + 1)
        }
        CalendarError::Overlap { index, start, previous_end, .. } => {
            format!("Range {}: {start} starts before the previous range ends ({previous_end}).", index + 1)
        }
        CalendarError::BadHoliday { value, .. } => format!("“{value}” is not a date (YYYY-MM-DD or MM-DD)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_stored_calendar_round_trips_through_the_form() {
        let spec = CalendarSpec {
            time_zone: "Europe/Berlin".into(),
            hours: BTreeMap::from([
                ("mon".into(), vec![["09:00".into(), "12:30".into()], ["13:30".into(), "17:00".into()]]),
                ("sat".into(), vec![["00:00".into(), "24:00".into()]]),
            ]),
            holidays: vec!["2026-12-24".into(), "01-01".into()],
        };
        let form = CalendarForm::of("office", &spec);
        assert_eq!(form.days[0].text, "09:00-12:30, 13:30-17:00");
        assert_eq!(form.days[1].text, "");
        let mut fields = vec![("time_zone", "Europe/Berlin"), ("holidays", "2026-12-24\n01-01\n")];
        let texts: Vec<(String, String)> =
            form.days.iter().map(|d| (format!("hours_{}", d.key), d.text.clone())).collect();
        fields.extend(texts.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut back = CalendarForm::posted(&pairs(&fields), Some("office"));
        let mut expected = spec.clone();
        for d in WEEKDAYS.iter().filter(|d| !spec.hours.contains_key(**d)) {
            expected.hours.insert(d.to_string(), Vec::new());
        }
        assert_eq!(back.spec(), Some(expected));
        assert_eq!(back.name, "office");
    }

    #[test]
    fn every_bad_field_gets_its_own_error() {
        let fields = pairs(&[
            ("name", "office"),
            ("time_zone", "Mars/Olympus"),
            ("hours_mon", "09:00-12:30, 12:00-17:00"),
            ("hours_tue", "9 to 5"),
            ("hours_wed", "09:00-25:00"),
            ("hours_thu", "17:00–09:00"),
            ("hours_fri", "09:00 - 17:00"),
            ("holidays", "2026-12-24\nchristmas"),
        ]);
        let mut form = CalendarForm::posted(&fields, None);
        assert_eq!(form.spec(), None);
        let e = |k: &str| form.errors.get(k).cloned().unwrap_or_default();
        assert_eq!(e("time_zone"), "Unknown time zone “Mars/Olympus”: use an IANA name like Europe/Berlin.");
        assert_eq!(e("hours_mon"), "Range 2: 12:00 starts before the previous range ends (12:30).");
        assert_eq!(e("hours_tue"), "“9 to 5” is not a range: write them like 09:00-12:30, 13:30-17:00.");
        assert_eq!(e("hours_wed"), "Range 1: “25:00” is not a time (HH:MM from 00:00 to 24:00).");
        assert_eq!(e("hours_thu"), "Range 1: 17:00 does not start before its end 09:00.");
        assert_eq!(e("holidays"), "“christmas” is not a date (YYYY-MM-DD or MM-DD).");
        assert!(!form.errors.contains_key("hours_fri"), "spaces around the dash are fine");
        assert_eq!(form.days[1].text, "9 to 5", "the input is kept");
    }

    #[test]
    fn a_blank_form_is_office_hours_and_valid() {
        let mut form = CalendarForm::blank();
        assert_eq!(form.days[4].text, "09:00-17:00");
        assert_eq!(form.days[5].text, "");
        assert!(form.spec().is_some());
    }
}
