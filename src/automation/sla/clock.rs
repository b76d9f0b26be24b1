//! The SLA clock, pure: from a ticket's timeline (customer mail, agents' replies, status changes), its policy's
//! targets and calendar, and the time now, the due times, the state, and the alerts (warnings and breaches) with
//! the instant each is due. Everything is recomputed from the original start, so a policy chosen anew or a
//! calendar changed gives the due times it would have given from the beginning.

use crate::domain::Status;
use crate::domain::calendar::Calendar;
use crate::domain::sla::{SlaState, SlaTarget};

/// A policy's targets in business minutes (`None`: no such target) and the warning lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
    pub warn_before: i64,
}

/// What happened on a ticket that a clock counts, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A customer's (not automatic) message.
    Customer(i64),
    /// An agent's reply to the customer (not a note, an acknowledgement or a rule's mail).
    Answer(i64),
    /// The status became this.
    Status(i64, Status),
}

/// A warning or breach to raise once, at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Unique per ticket: the kind, the target and (for next response) the customer message it runs from.
    pub key: String,
    pub breach: bool,
    pub target: SlaTarget,
    pub due: i64,
    pub at: i64,
}

/// A ticket's clock now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clock {
    pub state: Option<SlaState>,
    pub first_response_due: Option<i64>,
    pub first_response_at: Option<i64>,
    pub next_response_due: Option<i64>,
    /// `None` while paused or when there is no resolution target.
    pub resolution_due: Option<i64>,
    pub resolved_at: Option<i64>,
    /// Business minutes the resolution clock stood still (pending, or resolved and reopened).
    pub paused_minutes: i64,
    /// The nearest due time of a running target.
    pub due_at: Option<i64>,
    /// The running targets' warnings and breaches (raised or not yet).
    pub alerts: Vec<Alert>,
}

/// A target that is running now: its due time, and the start and length its warning is counted from.
struct Running {
    target: SlaTarget,
    start: i64,
    minutes: i64,
    due: i64,
    key_suffix: String,
}

fn is_running(s: Status) -> bool {
    matches!(s, Status::New | Status::Open)
}

fn is_done(s: Status) -> bool {
    matches!(s, Status::Resolved | Status::Closed | Status::Merged)
}

/// The walk over the timeline: where each clock stands after the last mark.
#[derive(Default)]
struct Walk {
    status: Option<Status>,
    stopped_since: Option<i64>,
    paused_secs: i64,
    first_answer: Option<i64>,
    /// Customer messages that followed an agent reply, with the reply that answered them.
    cycles: Vec<(i64, Option<i64>)>,
}

impl Walk {
    fn of(cal: &Calendar, created: i64, marks: &[Mark]) -> Walk {
        let mut w = Walk { status: Some(Status::New), ..Walk::default() };
        for m in marks {
            match *m {
                Mark::Customer(at) => {
                    let open_cycle = w.cycles.last().is_some_and(|c| c.1.is_none());
                    if w.first_answer.is_some() && !open_cycle {
                        w.cycles.push((at, None));
                    }
                }
                Mark::Answer(at) => {
                    w.first_answer.get_or_insert(at);
                    if let Some(c) = w.cycles.last_mut().filter(|c| c.1.is_none()) {
                        c.1 = Some(at);
                    }
                }
                Mark::Status(at, s) => {
                    let was = w.status.is_some_and(is_running);
                    if was && !is_running(s) {
                        w.stopped_since = Some(at.max(created));
                    } else if !was
                        && is_running(s)
                        && let Some(since) = w.stopped_since.take()
                    {
                        w.paused_secs += cal.seconds_between(since, at);
                    }
                    w.status = Some(s);
                }
            }
        }
        w
    }
}

/// The clock of a ticket created at `created` under `targets` and `cal`, at `now`.
pub fn compute(targets: &Targets, cal: &Calendar, created: i64, marks: &[Mark], now: i64) -> Clock {
    let w = Walk::of(cal, created, marks);
    let status = w.status.unwrap_or(Status::New);
    let done = is_done(status);
    let add = |start: i64, minutes: i64| cal.add_minutes(start, minutes.max(0));
    let mut clock = Clock { first_response_at: w.first_answer, ..Clock::default() };
    let mut running: Vec<Running> = Vec::new();
    let mut late = false;

    if let Some(m) = targets.first_response {
        let due = add(created, m);
        clock.first_response_due = due;
        let end = w.first_answer.or(if done { w.stopped_since } else { None });
        match (due, end) {
            (Some(d), Some(e)) => late |= e > d,
            (Some(d), None) => {
                late |= now >= d;
                running.push(Running {
                    target: SlaTarget::FirstResponse,
                    start: created,
                    minutes: m,
                    due: d,
                    key_suffix: String::new(),
                });
            }
            (None, _) => {}
        }
    }
    if let Some(m) = targets.next_response {
        for (i, (start, answered)) in w.cycles.iter().enumerate() {
            let Some(due) = add(*start, m) else { continue };
            match answered {
                Some(a) => late |= *a > due,
                None if done => late |= w.stopped_since.is_some_and(|s| s > due),
                None => {
                    late |= now >= due;
                    let last = i + 1 == w.cycles.len();
                    if last {
                        clock.next_response_due = Some(due);
                        running.push(Running {
                            target: SlaTarget::NextResponse,
                            start: *start,
                            minutes: m,
                            due,
                            key_suffix: format!(":{start}"),
                        });
                    }
                }
            }
        }
    }
    let stopped_now = w.stopped_since.map_or(0, |since| cal.seconds_between(since, now));
    clock.paused_minutes = (w.paused_secs + if done { 0 } else { stopped_now }) / 60;
    if let Some(m) = targets.resolution {
        let total = m + w.paused_secs / 60;
        let due = add(created, total);
        if done {
            clock.resolved_at = w.stopped_since;
            late |= matches!((due, w.stopped_since), (Some(d), Some(r)) if r > d);
        } else if status == Status::Pending {
            // Paused: late only if it was overdue when it stopped.
            late |= matches!((due, w.stopped_since), (Some(d), Some(s)) if s > d);
        } else if let Some(d) = due {
            clock.resolution_due = Some(d);
            late |= now >= d;
            running.push(Running {
                target: SlaTarget::Resolution,
                start: created,
                minutes: total,
                due: d,
                key_suffix: String::new(),
            });
        }
    }

    clock.due_at = running.iter().map(|r| r.due).min();
    let warning = running.iter().any(|r| warn_at(cal, r, targets.warn_before).is_some_and(|w| now >= w));
    clock.state = Some(if late {
        SlaState::Breached
    } else if done {
        SlaState::Met
    } else if warning {
        SlaState::Warning
    } else if status == Status::Pending {
        SlaState::Paused
    } else {
        SlaState::Ok
    });
    clock.alerts = running.iter().flat_map(|r| alerts_of(cal, r, targets.warn_before)).collect();
    clock
}

/// When a running target's warning is due: `warn_before` business minutes before its due time.
fn warn_at(cal: &Calendar, r: &Running, warn_before: i64) -> Option<i64> {
    if warn_before <= 0 || warn_before >= r.minutes {
        return None;
    }
    cal.add_minutes(r.start, r.minutes - warn_before)
}

fn alerts_of(cal: &Calendar, r: &Running, warn_before: i64) -> Vec<Alert> {
    let key = |kind: &str| format!("{kind}:{}{}", r.target.as_str(), r.key_suffix);
    let mut out = Vec::new();
    if let Some(at) = warn_at(cal, r, warn_before) {
        out.push(Alert { key: key("warning"), breach: false, target: r.target, due: r.due, at });
    }
    out.push(Alert { key: key("breached"), breach: true, target: r.target, due: r.due, at: r.due });
    out
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
