//! Ticket events: what changed (a typed [`TicketEvent`]), its stable [`EventKind`] name and who did it ([`Actor`]).

use super::{Priority, Status, TemplateKind};
use serde::{Deserialize, Serialize};

/// Who made a change: `customer`, a staff user's e-mail, `system` or `rule:{id}` (design §10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    Customer,
    /// A staff user, by e-mail address.
    User(String),
    System,
    Rule(i64),
}

impl Actor {
    /// The stored and shown name.
    pub fn name(&self) -> String {
        match self {
            Actor::Customer => "customer".into(),
            Actor::User(email) => email.clone(),
            Actor::System => "system".into(),
            Actor::Rule(id) => format!("rule:{id}"),
        }
    }

    /// Reads a stored name; anything that is not a keyword is a user's e-mail.
    pub fn parse(s: &str) -> Self {
        match s {
            "customer" => Actor::Customer,
            "system" => Actor::System,
            _ => match s.strip_prefix("rule:").and_then(|id| id.parse().ok()) {
                Some(id) => Actor::Rule(id),
                None => Actor::User(s.to_string()),
            },
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// How a ticket came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A customer's mail.
    Mail,
    /// An agent opened it to a customer (dashboard or API).
    Agent,
    /// An agent split messages off another ticket into it.
    Split,
}

/// Why a ticket's content was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasedBy {
    /// The customer's data was erased (an admin, on their request).
    Customer,
    /// The ticket was closed longer than `retention.closed_ticket_days`.
    Retention,
}

/// One change of a ticket, with its typed detail. Stored as its [`EventKind`] name plus the fields as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TicketEvent {
    TicketCreated {
        channel: Channel,
        mailbox: String,
        requester: String,
    },
    /// A customer's message (mail) was added; `reopened` when it set a pending/resolved ticket back to open.
    MessageReceived {
        message: i64,
        from: String,
        auto: bool,
    },
    ReplySent {
        message: i64,
        to: Vec<String>,
        cc: Vec<String>,
    },
    NoteAdded {
        message: i64,
        verified: Option<bool>,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    /// Ticket types by name; `None` is no type.
    TypeChanged {
        from: Option<String>,
        to: Option<String>,
    },
    /// Assignees by e-mail; `None` is nobody.
    AssigneeChanged {
        from: Option<String>,
        to: Option<String>,
    },
    TagsChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
    LinkAdded {
        link: String,
        reference: String,
        automatic: bool,
    },
    LinkRemoved {
        link: String,
        reference: String,
    },
    /// This closed ticket got a follow-up ticket (by a customer's reply).
    FollowUp {
        ticket: i64,
    },
    /// This ticket follows up a closed one.
    FollowUpOf {
        ticket: i64,
    },
    /// A delivery of our mail bounced.
    Bounce {
        recipients: Vec<String>,
        status: Option<String>,
        diagnostic: Option<String>,
    },
    /// A mail could not be rendered or built, so it was not queued.
    MailNotSent {
        template: TemplateKind,
        error: String,
    },
    /// The acknowledgement was held back by the per-recipient limit.
    AckSuppressed {
        recipient: String,
        recent: i64,
    },
    /// A mail from staff that could not act as the agent (kept as a note, sent to nobody).
    UnverifiedMail {
        sender: String,
        reason: String,
    },
    /// The ticket moved to another mailbox (by name).
    MailboxChanged {
        from: String,
        to: String,
    },
    /// Ticket `source` was merged into ticket `target` (recorded on both).
    Merged {
        source: i64,
        target: i64,
        messages: i64,
    },
    /// Messages of ticket `source` were split off into the new ticket `target` (recorded on both).
    Split {
        source: i64,
        target: i64,
        messages: Vec<i64>,
    },
    /// Rule `rule` did `action` where no other event says so (a notice, a webhook, a reply it held back).
    RuleApplied {
        rule: i64,
        name: String,
        action: String,
    },
    /// Changes made by rules triggered other rules `depth` deep; the chain stopped here.
    RuleChainStopped {
        rule: i64,
        name: String,
        depth: u32,
    },
    /// Rule `rule` acted `runs` times on this ticket within an hour and was switched off.
    RuleDisabled {
        rule: i64,
        name: String,
        runs: i64,
    },
    /// An SLA target (`first_response`, `next_response`, `resolution`) is close to its due time (`due`, unix
    /// seconds) under `policy`.
    SlaWarning {
        policy: String,
        target: String,
        due: i64,
    },
    /// An SLA target passed its due time unanswered.
    SlaBreached {
        policy: String,
        target: String,
        due: i64,
    },
    /// The customer answered "How did we do?" about the resolution recorded by event `resolution`.
    SatisfactionRated {
        rating: String,
        comment: String,
        resolution: i64,
    },
    /// Content was erased: `messages` blanked, `attachments` removed; the ticket stays for reports.
    Erased {
        by: ErasedBy,
        messages: i64,
        attachments: i64,
    },
}

macro_rules! event_kinds {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// The stable snake_case name of an event (design §10), stored in `ticket_events.kind`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventKind { $($variant),+ }

        impl EventKind {
            /// Every kind.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $text),+ }
            }

            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(EventKind::$variant),)+ _ => None }
            }
        }

        impl TicketEvent {
            /// This event's kind.
            pub fn kind(&self) -> EventKind {
                match self { $(TicketEvent::$variant { .. } => EventKind::$variant),+ }
            }
        }
    };
}

event_kinds! {
    TicketCreated => "ticket_created",
    MessageReceived => "message_received",
    ReplySent => "reply_sent",
    NoteAdded => "note_added",
    StatusChanged => "status_changed",
    PriorityChanged => "priority_changed",
    TypeChanged => "type_changed",
    AssigneeChanged => "assignee_changed",
    TagsChanged => "tags_changed",
    LinkAdded => "link_added",
    LinkRemoved => "link_removed",
    FollowUp => "follow_up",
    FollowUpOf => "follow_up_of",
    Bounce => "bounce",
    MailNotSent => "mail_not_sent",
    AckSuppressed => "ack_suppressed",
    UnverifiedMail => "unverified_mail",
    SatisfactionRated => "satisfaction_rated",
    MailboxChanged => "mailbox_changed",
    Merged => "merged",
    Split => "split",
    RuleApplied => "rule_applied",
    RuleChainStopped => "rule_chain_stopped",
    RuleDisabled => "rule_disabled",
    SlaWarning => "sla_warning",
    SlaBreached => "sla_breached",
    Erased => "erased",
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TicketEvent {
    /// The fields without the kind, as stored in `ticket_events.data`.
    pub fn data(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("kind");
        }
        v
    }

    /// Reads a stored event back (`None` for rows written before events were typed).
    pub fn from_stored(kind: &str, data: &str) -> Option<Self> {
        let mut v: serde_json::Value = serde_json::from_str(data).ok()?;
        v.as_object_mut()?.insert("kind".into(), kind.into());
        serde_json::from_value(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_names() {
        for a in [Actor::Customer, Actor::System, Actor::Rule(7), Actor::User("ana@example.test".into())] {
            assert_eq!(Actor::parse(&a.name()), a);
        }
        assert_eq!(Actor::Rule(12).name(), "rule:12");
        assert_eq!(Actor::parse("rule:x"), Actor::User("rule:x".into()));
    }

    #[test]
    fn events_are_stored_as_kind_plus_data_and_read_back() {
        let e = TicketEvent::StatusChanged { from: Status::Resolved, to: Status::Open };
        assert_eq!(e.kind().as_str(), "status_changed");
        assert_eq!(e.data(), serde_json::json!({"from": "resolved", "to": "open"}));
        assert_eq!(TicketEvent::from_stored("status_changed", &e.data().to_string()), Some(e.clone()));
        assert_eq!(e.describe(), "resolved → open");
        assert_eq!(TicketEvent::from_stored("status", "{}"), None, "old rows stay text only");
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let names: std::collections::HashSet<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len());
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
