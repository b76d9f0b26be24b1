//! The summary from the rows: each ticket's facts put in its group, the figures per group, the backlog. Pure.

use super::backlog::{Backlog, BacklogDay};
use super::period::{GroupBy, Query, date_of, week_key};
use super::stats::{Spread, percent};
use super::ticket::TicketFacts;
use crate::db::reports::{ReportRows, ReportTicketRow};
use crate::db::sla::CalendarRow;
use crate::domain::calendar::{Calendar, CalendarSpec};
use crate::domain::sla::SlaState;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The key of tickets without an assignee.
pub const UNASSIGNED: &str = "unassigned";
/// The key of tickets without a type.
pub const NO_TYPE: &str = "none";

/// The answer of `GET /api/v1/reports/summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub group: GroupBy,
    pub groups: Vec<GroupFigures>,
    pub backlog: Vec<BacklogDay>,
}

/// The figures of one group (see the README, "Reports", for each definition).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    pub key: String,
    /// Tickets created in the period.
    pub created: u64,
    /// Tickets first resolved or closed in the period.
    pub resolved: u64,
    /// Business minutes from creation to the first staff reply, of the tickets created in the period.
    pub first_response_minutes: Spread,
    /// Business minutes from creation to the first resolution, of the tickets resolved in the period.
    pub resolution_minutes: Spread,
    /// Of the tickets created in the period whose clock is final (`met` or `breached`), the share met.
    pub sla_met_pct: Option<f64>,
    /// Of the tickets resolved in the period, the share reopened after that resolution (by now).
    pub reopen_rate_pct: Option<f64>,
    pub satisfaction: Satisfaction,
}

/// The satisfaction answers given in the period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Satisfaction {
    pub count: u64,
    pub good_pct: Option<f64>,
}

#[derive(Debug, Default)]
struct Tally {
    created: u64,
    resolved: u64,
    first: Vec<i64>,
    resolution: Vec<i64>,
    met: u64,
    settled: u64,
    reopened: u64,
    ratings: u64,
    good: u64,
}

/// What a ticket is grouped by.
struct Keys<'a> {
    mailbox: &'a str,
    assignee: Option<&'a str>,
    type_name: Option<&'a str>,
}

impl Keys<'_> {
    /// The key under `group` of something that happened at `at`.
    fn key(&self, group: GroupBy, at: i64) -> String {
        match group {
            GroupBy::Mailbox => self.mailbox.to_string(),
            GroupBy::Agent => self.assignee.unwrap_or(UNASSIGNED).to_string(),
            GroupBy::Type => self.type_name.unwrap_or(NO_TYPE).to_string(),
            GroupBy::Week => week_key(date_of(at)),
        }
    }
}

fn keys(t: &ReportTicketRow) -> Keys<'_> {
    Keys { mailbox: &t.mailbox, assignee: t.assignee.as_deref(), type_name: t.type_name.as_deref() }
}

/// Business minutes in `[from, to)` of `calendar`; wall-clock minutes without one.
pub fn business_minutes(calendar: Option<&Calendar>, from: i64, to: i64) -> i64 {
    match calendar {
        Some(c) => c.minutes_between(from, to),
        None => (to - from).max(0) / 60,
    }
}

/// The stored calendars that parse, by name (a broken one counts as none: wall-clock minutes).
fn calendars(rows: &[CalendarRow]) -> HashMap<&str, Calendar> {
    let parse = |spec: &str| Calendar::parse(&serde_json::from_str::<CalendarSpec>(spec).ok()?).ok();
    rows.iter().filter_map(|c| Some((c.name.as_str(), parse(&c.spec)?))).collect()
}

/// The summary of `q` over `rows` (tickets by id, events by ticket and order, as [`crate::db::Db::report_rows`]
/// reads them).
pub fn summarize(q: &Query, rows: &ReportRows) -> Summary {
    let calendars = calendars(&rows.calendars);
    let (start, end) = (q.start(), q.end());
    let in_period = |at: i64| start <= at && at < end;
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    if q.group == GroupBy::Week {
        tally.extend(q.weeks().into_iter().map(|w| (w, Tally::default())));
    }
    let mut backlog = Backlog::new(start, q.days() as usize);
    let mut chunks = rows.events.chunk_by(|a, b| a.ticket_id == b.ticket_id).peekable();
    for t in &rows.tickets {
        while chunks.next_if(|c| c[0].ticket_id < t.id).is_some() {}
        let events = chunks.next_if(|c| c[0].ticket_id == t.id).unwrap_or_default();
        let f = TicketFacts::of(t, events);
        for (since, until) in &f.open_spans {
            backlog.add(*since, *until);
        }
        let calendar = t.calendar.as_deref().and_then(|name| calendars.get(name));
        let keys = keys(t);
        if in_period(f.created_at) {
            let g = tally.entry(keys.key(q.group, f.created_at)).or_default();
            g.created += 1;
            if let Some(reply) = f.first_reply {
                g.first.push(business_minutes(calendar, f.created_at, reply));
            }
            let state = t.sla_state.as_deref().and_then(SlaState::parse);
            g.met += u64::from(state == Some(SlaState::Met));
            g.settled += u64::from(matches!(state, Some(SlaState::Met | SlaState::Breached)));
        }
        if let Some(at) = f.first_resolution.filter(|at| in_period(*at)) {
            let g = tally.entry(keys.key(q.group, at)).or_default();
            g.resolved += 1;
            g.resolution.push(business_minutes(calendar, f.created_at, at));
            g.reopened += u64::from(f.reopened);
        }
    }
    for r in rows.ratings.iter().filter(|r| in_period(r.created_at)) {
        let keys = Keys { mailbox: &r.mailbox, assignee: r.assignee.as_deref(), type_name: r.type_name.as_deref() };
        let g = tally.entry(keys.key(q.group, r.created_at)).or_default();
        g.ratings += 1;
        g.good += u64::from(r.rating == "good");
    }
    let mut groups: Vec<GroupFigures> = tally.into_iter().map(|(key, t)| figures(key, t)).collect();
    // Tickets without an assignee or type come last, after the named ones.
    let placeholder = |k: &str| matches!(q.group, GroupBy::Agent | GroupBy::Type) && (k == UNASSIGNED || k == NO_TYPE);
    groups.sort_by_key(|g| placeholder(&g.key));
    Summary {
        from: q.from.to_string(),
        to: q.to.to_string(),
        group: q.group,
        groups,
        backlog: backlog.days(q.dates().map(|d| d.to_string())),
    }
}

fn figures(key: String, t: Tally) -> GroupFigures {
    GroupFigures {
        key,
        created: t.created,
        resolved: t.resolved,
        first_response_minutes: Spread::of(t.first),
        resolution_minutes: Spread::of(t.resolution),
        sla_met_pct: percent(t.met, t.settled),
        reopen_rate_pct: percent(t.reopened, t.resolved),
        satisfaction: Satisfaction { count: t.ratings, good_pct: percent(t.good, t.ratings) },
    }
}

#[cfg(test)]
#[path = "compute_tests.rs"]
mod tests;
