//! What the reports need of one ticket, read off its replies and status changes: the first agent reply, the
//! first resolution, a reopening after it, and the spans in which it was not done (for the backlog).

use crate::db::reports::{ReportEventRow, ReportTicketRow};
use crate::domain::{Actor, EventKind, Status};
use serde::Deserialize;

/// One ticket's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    pub created_at: i64,
    /// The first `reply_sent` by a staff user (not a rule, not the system: acknowledgements and auto-replies).
    pub first_reply: Option<i64>,
    /// The first change to `resolved` or `closed`.
    pub first_resolution: Option<i64>,
    /// Whether a change from `resolved`/`closed` back to `new`/`open`/`pending` followed the first resolution.
    pub reopened: bool,
    /// When it was not done (`resolved`, `closed`, `merged`): `(since, until)`, not done at the instants `t`
    /// with `since < t <= until` (a change takes effect just after its instant), `until` open-ended.
    pub open_spans: Vec<(i64, Option<i64>)>,
}

/// The `status_changed` data as the tickets layer writes it (`TicketEvent::StatusChanged`); read directly, not
/// through `TicketEvent::from_stored`, which goes through a `serde_json::Value` per row.
#[derive(Debug, Deserialize)]
struct Change {
    from: Status,
    to: Status,
}

/// Whether a status takes a ticket out of the backlog.
pub fn is_done(s: Status) -> bool {
    matches!(s, Status::Resolved | Status::Closed | Status::Merged)
}

fn is_resolution(s: Status) -> bool {
    matches!(s, Status::Resolved | Status::Closed)
}

impl TicketFacts {
    /// The facts of `ticket` from its events (replies and status changes, in order).
    pub fn of(ticket: &ReportTicketRow, events: &[ReportEventRow]) -> TicketFacts {
        let reply = EventKind::ReplySent.as_str();
        let first_reply =
            events.iter().find(|e| e.kind == reply && matches!(Actor::parse(&e.actor), Actor::User(_))).map(|e| e.at);
        let status = EventKind::StatusChanged.as_str();
        let changes: Vec<(i64, Change)> = events
            .iter()
            .filter(|e| e.kind == status)
            .filter_map(|e| Some((e.at, serde_json::from_str::<Change>(&e.data).ok()?)))
            .collect();
        let mut facts = TicketFacts {
            created_at: ticket.created_at,
            first_reply,
            first_resolution: None,
            reopened: false,
            open_spans: Vec::new(),
        };
        // Before its first change a ticket had that change's `from`; without changes, its current status.
        let initial = match changes.first() {
            Some((_, c)) => c.from,
            None => Status::parse(&ticket.status).unwrap_or(Status::Open),
        };
        let mut since = (!is_done(initial)).then_some(ticket.created_at);
        for (at, c) in &changes {
            if facts.first_resolution.is_none() && is_resolution(c.to) {
                facts.first_resolution = Some(*at);
            } else if facts.first_resolution.is_some() && is_resolution(c.from) && !is_done(c.to) {
                facts.reopened = true;
            }
            match (since, is_done(c.to)) {
                (Some(s), true) => {
                    facts.open_spans.push((s, Some(*at)));
                    since = None;
                }
                (None, false) => since = Some(*at),
                _ => {}
            }
        }
        if let Some(s) = since {
            facts.open_spans.push((s, None));
        }
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TicketEvent;

    fn ticket(status: &str) -> ReportTicketRow {
        ReportTicketRow {
            id: 1,
            created_at: 100,
            status: status.into(),
            mailbox: "support".into(),
            assignee: None,
            type_name: None,
            sla_state: None,
            calendar: None,
        }
    }

    fn ev(at: i64, actor: &str, e: TicketEvent) -> ReportEventRow {
        let (kind, data) = (e.kind().as_str().to_string(), e.data().to_string());
        ReportEventRow { ticket_id: 1, at, actor: actor.into(), kind, data }
    }

    fn change(at: i64, from: Status, to: Status) -> ReportEventRow {
        ev(at, "ana@example.test", TicketEvent::StatusChanged { from, to })
    }

    fn reply(at: i64, actor: &str) -> ReportEventRow {
        ev(at, actor, TicketEvent::ReplySent { message: at, to: vec!["c@example.test".into()], cc: vec![] })
    }

    #[test]
    fn only_a_staff_users_reply_is_a_first_response() {
        let events = [reply(110, "system"), reply(120, "rule:3"), reply(130, "ana@example.test"), reply(140, "b@x")];
        assert_eq!(TicketFacts::of(&ticket("open"), &events).first_reply, Some(130));
        assert_eq!(TicketFacts::of(&ticket("open"), &events[..2]).first_reply, None);
    }

    #[test]
    fn the_first_resolution_counts_and_a_reopening_after_it_is_seen() {
        use Status::*;
        let events = [
            change(200, New, Open),
            change(300, Open, Resolved),
            change(400, Resolved, Open),
            change(500, Open, Closed),
        ];
        let f = TicketFacts::of(&ticket("closed"), &events);
        assert_eq!((f.first_resolution, f.reopened), (Some(300), true));
        assert_eq!(f.open_spans, [(100, Some(300)), (400, Some(500))]);
        let f = TicketFacts::of(&ticket("closed"), &[change(300, Open, Resolved), change(350, Resolved, Closed)]);
        assert_eq!((f.first_resolution, f.reopened), (Some(300), false), "resolved → closed is no reopening");
        assert_eq!(f.open_spans, [(100, Some(300))]);
    }

    #[test]
    fn without_changes_the_current_status_holds_since_creation() {
        assert_eq!(TicketFacts::of(&ticket("new"), &[]).open_spans, [(100, None)]);
        assert_eq!(TicketFacts::of(&ticket("closed"), &[]).open_spans, []);
        let merged = TicketFacts::of(&ticket("merged"), &[change(150, Status::Open, Status::Merged)]);
        assert_eq!((merged.open_spans, merged.first_resolution), (vec![(100, Some(150))], None));
    }

    #[test]
    fn rows_without_typed_data_are_skipped() {
        let old = ReportEventRow {
            ticket_id: 1,
            at: 150,
            actor: "system".into(),
            kind: "status_changed".into(),
            data: "{}".into(),
        };
        assert_eq!(TicketFacts::of(&ticket("pending"), &[old]).open_spans, [(100, None)]);
    }
}
