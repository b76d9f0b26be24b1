//! The rows of the rule form (pure): one condition or action as shown and posted, read into the rule's types
//! with values typed by the field's kind, and the choices of the form's selects.

use crate::automation::eval::{FIELDS, FieldKind, field_kind};
use crate::domain::rule::{Action, Condition, Op, Trigger};
use serde::Serialize;
use serde_json::Value as Json;

/// One condition row: `field op value`, and the error beside it (`bad` names the field: field, op or value).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CondRow {
    pub field: String,
    pub op: String,
    pub value: String,
    pub error: String,
    pub bad: String,
}

/// One action row: its type, its value or text, `to` (notify) or URL (webhook), the webhook secret, a canned
/// response (reply), and the error beside it (`bad`: type, text, to, secret).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ActRow {
    pub kind: String,
    pub text: String,
    pub to: String,
    pub secret: String,
    pub canned: String,
    /// `notify` on an SLA event: send at once, not at the calendar's next working minute.
    pub any_time: bool,
    pub error: String,
    pub bad: String,
}

/// The choices of the form's selects.
pub fn choices() -> minijinja::Value {
    let fields: Vec<_> = FIELDS.iter().map(|(f, k)| (f.to_string(), kind_hint(*k))).collect();
    minijinja::context! {
        triggers => Trigger::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        fields => fields,
        ops => Op::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        action_types => ACTION_TYPES.to_vec(),
    }
}

/// The action types the form offers.
const ACTION_TYPES: &[&str] = &[
    "set_status",
    "set_priority",
    "set_type",
    "assign",
    "add_tag",
    "remove_tag",
    "add_note",
    "reply",
    "notify",
    "webhook",
];

fn kind_hint(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "text",
        FieldKind::Set => "tags",
        FieldKind::Number => "number",
        FieldKind::Bool => "true/false",
    }
}

pub(super) fn shown(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn condition_of(row: &CondRow) -> Result<Condition, (&'static str, String)> {
    let field = row.field.trim().to_string();
    let op = Op::parse(&row.op).ok_or(("op", "Choose an operator.".to_string()))?;
    let raw = row.value.trim();
    let value = match (op, field_kind(&field)) {
        (Op::IsEmpty, _) => Json::Null,
        (_, Some(FieldKind::Number)) => {
            Json::from(raw.parse::<i64>().map_err(|_| ("value", "A whole number is needed.".to_string()))?)
        }
        (_, Some(FieldKind::Bool)) => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Json::Bool(true),
            "false" | "no" | "0" => Json::Bool(false),
            _ => return Err(("value", "True or false is needed.".into())),
        },
        _ => Json::String(row.value.clone()),
    };
    Ok(Condition { field, op, value })
}

pub(super) fn action_of(row: &ActRow) -> Result<Option<Action>, String> {
    let value = row.text.trim().to_string();
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    Ok(Some(match row.kind.as_str() {
        "" => return Ok(None),
        "set_status" => Action::SetStatus { value },
        "set_priority" => Action::SetPriority { value },
        "assign" => Action::Assign { value },
        "add_tag" => Action::AddTag { value },
        "remove_tag" => Action::RemoveTag { value },
        "add_note" => Action::AddNote { body: row.text.clone() },
        "reply" => Action::Reply { body: opt(&row.text).map(|_| row.text.clone()), canned: opt(&row.canned) },
        "notify" => Action::Notify { to: row.to.trim().to_string(), body: row.text.clone(), any_time: row.any_time },
        "webhook" => Action::Webhook { url: row.to.trim().to_string(), secret: row.secret.clone() },
        other => return Err(format!("Unknown action type {other:?}.")),
    }))
}

pub(super) fn act_row(a: &Action) -> ActRow {
    let mut row = ActRow { kind: a.type_name().to_string(), ..Default::default() };
    match a {
        Action::SetStatus { value }
        | Action::SetPriority { value }
        | Action::SetType { value }
        | Action::Assign { value }
        | Action::AddTag { value }
        | Action::RemoveTag { value } => row.text = value.clone(),
        Action::AddNote { body } => row.text = body.clone(),
        Action::Reply { body, canned } => {
            (row.text, row.canned) = (body.clone().unwrap_or_default(), canned.clone().unwrap_or_default())
        }
        Action::Notify { to, body, any_time } => {
            (row.to, row.text, row.any_time) = (to.clone(), body.clone(), *any_time)
        }
        Action::Webhook { url, secret } => (row.to, row.secret) = (url.clone(), secret.clone()),
    }
    row
}
