//! Rules as written by admins and agents (design §10 "Rules"): a trigger, conditions over ticket, message and
//! customer fields, and actions; checked when saved, so the engine only ever sees valid rules.

use serde::{Deserialize, Serialize};

/// When a rule is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    TicketCreated,
    MessageReceived,
    ReplySent,
    NoteAdded,
    /// Any change of a ticket's fields (status, priority, assignee, tags, mailbox, links, merge, split).
    TicketUpdated,
    SlaWarning,
    SlaBreached,
    /// Every minute by the scheduler, over all tickets (time rules).
    Schedule,
    /// Run by an agent on one ticket (a macro).
    Manual,
}

impl Trigger {
    /// Every trigger, in the order the form lists them.
    pub const ALL: &'static [Trigger] = &[
        Trigger::TicketCreated,
        Trigger::MessageReceived,
        Trigger::ReplySent,
        Trigger::NoteAdded,
        Trigger::TicketUpdated,
        Trigger::SlaWarning,
        Trigger::SlaBreached,
        Trigger::Schedule,
        Trigger::Manual,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::TicketCreated => "ticket_created",
            Trigger::MessageReceived => "message_received",
            Trigger::ReplySent => "reply_sent",
            Trigger::NoteAdded => "note_added",
            Trigger::TicketUpdated => "ticket_updated",
            Trigger::SlaWarning => "sla_warning",
            Trigger::SlaBreached => "sla_breached",
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

/// A condition group: every (`all`) or at least one (`any`) of its items holds. An empty `all` always holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Conditions {
    All(Vec<ConditionItem>),
    Any(Vec<ConditionItem>),
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions::All(Vec::new())
    }
}

impl Conditions {
    /// The items of the group.
    pub fn items(&self) -> &[ConditionItem] {
        match self {
            Conditions::All(v) | Conditions::Any(v) => v,
        }
    }
}

/// One condition, or a nested group (one level deep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConditionItem {
    Group(Conditions),
    Test(Condition),
}

/// `field op value`, e.g. `ticket.status is open`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Is,
    IsNot,
    Contains,
    NotContains,
    /// A regular expression (case-insensitive, size-limited).
    Matches,
    /// The triggering event changed the field to the value.
    ChangedTo,
    /// The triggering event changed the field from the value.
    ChangedFrom,
    Gt,
    Gte,
    Lt,
    Lte,
    IsEmpty,
}

impl Op {
    /// Every op, in the order the form lists them.
    pub const ALL: &'static [Op] = &[
        Op::Is,
        Op::IsNot,
        Op::Contains,
        Op::NotContains,
        Op::Matches,
        Op::ChangedTo,
        Op::ChangedFrom,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::IsEmpty,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::Matches => "matches",
            Op::ChangedTo => "changed_to",
            Op::ChangedFrom => "changed_from",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::IsEmpty => "is_empty",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|o| o.as_str() == s)
    }
}

/// What a rule does, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    SetStatus {
        value: String,
    },
    SetPriority {
        value: String,
    },
    SetType {
        value: String,
    },
    /// An agent's e-mail, `nobody`, or `round_robin:{team}`.
    Assign {
        value: String,
    },
    AddTag {
        value: String,
    },
    RemoveTag {
        value: String,
    },
    AddNote {
        body: String,
    },
    /// To the customer through the outbox: `body` (a template over the ticket's variables) or a canned response
    /// by title or id.
    Reply {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canned: Option<String>,
    },
    /// `assignee`, `agents` (everyone who can see the ticket) or an e-mail address. On an SLA warning or breach
    /// the notice waits for the policy calendar's next working minute unless `any_time` is set.
    Notify {
        to: String,
        body: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        any_time: bool,
    },
    Webhook {
        url: String,
        secret: String,
    },
}

impl Action {
    /// The stored name of the action's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::SetStatus { .. } => "set_status",
            Action::SetPriority { .. } => "set_priority",
            Action::SetType { .. } => "set_type",
            Action::Assign { .. } => "assign",
            Action::AddTag { .. } => "add_tag",
            Action::RemoveTag { .. } => "remove_tag",
            Action::AddNote { .. } => "add_note",
            Action::Reply { .. } => "reply",
            Action::Notify { .. } => "notify",
            Action::Webhook { .. } => "webhook",
        }
    }

    /// One line for people: the dry run and the ticket history ("priority → urgent").
    pub fn describe(&self) -> String {
        match self {
            Action::SetStatus { value } => format!("status → {value}"),
            Action::SetPriority { value } => format!("priority → {value}"),
            Action::SetType { value } => format!("type → {value}"),
            Action::Assign { value } if value == "nobody" => "unassign".into(),
            Action::Assign { value } => format!("assign → {value}"),
            Action::AddTag { value } => format!("add tag {value}"),
            Action::RemoveTag { value } => format!("remove tag {value}"),
            Action::AddNote { .. } => "add an internal note".into(),
            Action::Reply { canned: Some(c), .. } => format!("reply to the customer with canned response {c}"),
            Action::Reply { .. } => "reply to the customer".into(),
            Action::Notify { to, .. } => format!("notify {to}"),
            Action::Webhook { url, .. } => format!("webhook POST {url}"),
        }
    }
}

/// A rule as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A personal rule's owner (an agent's e-mail); `None` is global.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub stop: bool,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Conditions,
    #[serde(default)]
    pub actions: Vec<Action>,
}

fn yes() -> bool {
    true
}
