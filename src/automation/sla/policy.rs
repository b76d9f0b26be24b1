//! The SLA setup as the clocks use it: calendars checked, policies compiled in position order, and the choice of
//! the first policy whose conditions hold for a ticket.

use super::clock::{Mark, Targets};
use crate::automation::eval::{Compiled, Facts, compile};
use crate::automation::facts::Needs;
use crate::db::sla::{CalendarRow, PolicyRow, TimelineRow};
use crate::domain::calendar::{Calendar, CalendarSpec};
use crate::domain::rule::Conditions;
use crate::domain::{Actor, TicketEvent};
use std::collections::HashMap;

/// A policy ready to apply.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub compiled: Compiled,
    pub targets: Targets,
    pub calendar: Calendar,
}

/// Every policy, in order, with the facts their conditions look at.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub policies: Vec<Policy>,
    pub needs: Option<Needs>,
}

impl Setup {
    /// Compiles the stored setup; a policy whose conditions or calendar no longer parse is skipped and logged.
    pub fn build(calendars: &[CalendarRow], policies: &[PolicyRow]) -> Setup {
        let mut cals: HashMap<&str, Calendar> = HashMap::new();
        for c in calendars {
            match serde_json::from_str::<CalendarSpec>(&c.spec)
                .map_err(|e| e.to_string())
                .and_then(|s| Calendar::parse(&s).map_err(|e| e.to_string()))
            {
                Ok(cal) => {
                    cals.insert(&c.name, cal);
                }
                Err(e) => tracing::error!(calendar = c.name, error = e, "stored calendar does not parse; skipped"),
            }
        }
        let mut out = Setup::default();
        let mut fields: Vec<String> = Vec::new();
        for p in policies {
            let calendar = match &p.calendar {
                None => Calendar::always(),
                Some(name) => match cals.get(name.as_str()) {
                    Some(c) => c.clone(),
                    None => {
                        tracing::error!(policy = p.name, calendar = name, "policy's calendar is missing; skipped");
                        continue;
                    }
                },
            };
            let compiled = match serde_json::from_str::<Conditions>(&p.conditions)
                .map_err(|e| e.to_string())
                .and_then(|c| compile(&c).map_err(|e| e.to_string()))
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(policy = p.name, error = e, "policy's conditions do not compile; skipped");
                    continue;
                }
            };
            fields.extend(compiled.fields().into_iter().map(str::to_string));
            let targets = Targets {
                first_response: p.first_response_minutes,
                next_response: p.next_response_minutes,
                resolution: p.resolution_minutes,
                warn_before: p.warn_before_minutes,
            };
            out.policies.push(Policy { name: p.name.clone(), compiled, targets, calendar });
        }
        out.needs = Some(Needs::of(fields.iter().map(String::as_str)));
        out
    }

    /// The first policy whose conditions hold.
    pub fn choose(&self, facts: &Facts) -> Option<&Policy> {
        self.policies.iter().find(|p| p.compiled.holds(facts))
    }
}

/// The marks a clock counts, from the ticket's events: customer mail that is not automatic, replies by staff users
/// (not rules, not the system), and status changes.
pub fn marks_of(rows: &[TimelineRow]) -> Vec<Mark> {
    rows.iter()
        .filter_map(|(at, actor, kind, data)| match TicketEvent::from_stored(kind, data)? {
            TicketEvent::MessageReceived { auto: false, .. } => Some(Mark::Customer(*at)),
            TicketEvent::ReplySent { .. } if matches!(Actor::parse(actor), Actor::User(_)) => Some(Mark::Answer(*at)),
            TicketEvent::StatusChanged { to, .. } => Some(Mark::Status(*at, to)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    fn row(at: i64, actor: &str, e: TicketEvent) -> TimelineRow {
        (at, actor.to_string(), e.kind().as_str().to_string(), e.data().to_string())
    }

    #[test]
    fn only_staff_replies_answer_and_automatic_mail_is_no_customer_message() {
        let reply = |m| TicketEvent::ReplySent { message: m, to: vec!["c@x.example".into()], cc: vec![] };
        let rows = [
            row(1, "customer", TicketEvent::MessageReceived { message: 1, from: "c@x.example".into(), auto: false }),
            row(2, "rule:4", reply(2)),
            row(3, "system", reply(3)),
            row(4, "customer", TicketEvent::MessageReceived { message: 4, from: "c@x.example".into(), auto: true }),
            row(5, "ana@example.test", reply(5)),
            row(6, "ana@example.test", TicketEvent::NoteAdded { message: 6, verified: None }),
            row(7, "ana@example.test", TicketEvent::StatusChanged { from: Status::Open, to: Status::Pending }),
        ];
        assert_eq!(marks_of(&rows), [Mark::Customer(1), Mark::Answer(5), Mark::Status(7, Status::Pending)]);
    }
}
