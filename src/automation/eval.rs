//! The rule evaluator (pure): whether a rule's conditions hold for the facts of one ticket at one event.
//! Text compares case-insensitively; `matches` is a size-limited regex compiled when the rule is saved.

use crate::domain::rule::{Condition, ConditionItem, Conditions, Op};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;

/// Compiled regexes of a rule must stay below this size (bytes of the compiled program).
pub const REGEX_SIZE_LIMIT: usize = 64 * 1024;

/// What kind of value a field holds, which decides the ops it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// A set of texts (tags): `contains` is membership.
    Set,
    Number,
    Bool,
}

/// Every field a condition may name, with its kind.
pub const FIELDS: &[(&str, FieldKind)] = &[
    ("ticket.status", FieldKind::Text),
    ("ticket.priority", FieldKind::Text),
    ("ticket.type", FieldKind::Text),
    ("ticket.mailbox", FieldKind::Text),
    ("ticket.assignee", FieldKind::Text),
    ("ticket.tags", FieldKind::Set),
    ("ticket.subject", FieldKind::Text),
    ("ticket.age_minutes", FieldKind::Number),
    ("ticket.idle_minutes", FieldKind::Number),
    ("ticket.pending_minutes", FieldKind::Number),
    ("message.from", FieldKind::Text),
    ("message.subject", FieldKind::Text),
    ("message.body", FieldKind::Text),
    ("message.kind", FieldKind::Text),
    ("message.auto", FieldKind::Bool),
    ("customer.email", FieldKind::Text),
    ("customer.domain", FieldKind::Text),
    ("customer.blocked", FieldKind::Bool),
    ("sla.state", FieldKind::Text),
];

/// The kind of a known field.
pub fn field_kind(field: &str) -> Option<FieldKind> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
}

/// A field's value for one ticket at one event; `Null` when it has none (no message, no assignee).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Set(Vec<String>),
    Number(i64),
    Bool(bool),
    Null,
}

/// The facts a rule is evaluated against: field values, and what the triggering event changed.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub values: HashMap<&'static str, Value>,
    /// `field → (from, to)` for the fields the triggering event changed (for `changed_to` / `changed_from`).
    pub changes: HashMap<&'static str, (Value, Value)>,
}

impl Facts {
    /// Sets a field.
    pub fn set(&mut self, field: &'static str, v: Value) -> &mut Self {
        self.values.insert(field, v);
        self
    }

    /// Records a change of a field by the triggering event.
    pub fn changed(&mut self, field: &'static str, from: Value, to: Value) -> &mut Self {
        self.changes.insert(field, (from, to));
        self
    }

    fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }
}

/// A condition set ready to evaluate: regexes compiled once.
#[derive(Debug, Clone)]
pub struct Compiled {
    conditions: Conditions,
    regexes: HashMap<String, Regex>,
}

/// Why a rule's conditions were refused, with where (e.g. `conditions.all[2].value`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

fn invalid(path: String, message: impl Into<String>) -> Invalid {
    Invalid { path, message: message.into() }
}

/// Checks and compiles conditions: known fields, ops that fit the field, values of the right kind, regexes that
/// compile within the size limit, groups nested one level at most.
pub fn compile(conditions: &Conditions) -> Result<Compiled, Invalid> {
    let mut regexes = HashMap::new();
    check_group(conditions, "conditions", 0, &mut regexes)?;
    Ok(Compiled { conditions: conditions.clone(), regexes })
}

fn check_group(g: &Conditions, path: &str, depth: usize, rx: &mut HashMap<String, Regex>) -> Result<(), Invalid> {
    let name = if matches!(g, Conditions::All(_)) { "all" } else { "any" };
    for (i, item) in g.items().iter().enumerate() {
        let here = format!("{path}.{name}[{i}]");
        match item {
            ConditionItem::Group(_) if depth >= 1 => return Err(invalid(here, "groups nest one level deep at most")),
            ConditionItem::Group(inner) => check_group(inner, &here, depth + 1, rx)?,
            ConditionItem::Test(c) => check_condition(c, &here, rx)?,
        }
    }
    Ok(())
}

fn check_condition(c: &Condition, path: &str, rx: &mut HashMap<String, Regex>) -> Result<(), Invalid> {
    let kind =
        field_kind(&c.field).ok_or_else(|| invalid(format!("{path}.field"), format!("unknown field {:?}", c.field)))?;
    let fits = match c.op {
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => kind == FieldKind::Number,
        Op::Matches => kind == FieldKind::Text,
        Op::Contains | Op::NotContains => matches!(kind, FieldKind::Text | FieldKind::Set),
        _ => true,
    };
    if !fits {
        return Err(invalid(format!("{path}.op"), format!("{} does not apply to {}", c.op.as_str(), c.field)));
    }
    let value = format!("{path}.value");
    match (c.op, kind) {
        (Op::IsEmpty, _) => {}
        (_, FieldKind::Number) => {
            c.value.as_i64().ok_or_else(|| invalid(value, "a whole number is needed"))?;
        }
        (_, FieldKind::Bool) => {
            c.value.as_bool().ok_or_else(|| invalid(value, "true or false is needed"))?;
        }
        (Op::Matches, _) => {
            let pattern = c.value.as_str().ok_or_else(|| invalid(value.clone(), "a regular expression is needed"))?;
            let re = RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| invalid(value, format!("not a usable regular expression: {e}")))?;
            rx.insert(pattern.to_string(), re);
        }
        _ => {
            c.value.as_str().ok_or_else(|| invalid(value, "a text value is needed"))?;
        }
    }
    Ok(())
}

impl Compiled {
    /// Whether the conditions hold for `facts`.
    pub fn holds(&self, facts: &Facts) -> bool {
        self.group(&self.conditions, facts)
    }

    /// The fields the conditions look at.
    pub fn fields(&self) -> Vec<&str> {
        fn collect<'a>(g: &'a Conditions, out: &mut Vec<&'a str>) {
            for i in g.items() {
                match i {
                    ConditionItem::Group(g) => collect(g, out),
                    ConditionItem::Test(c) => out.push(c.field.as_str()),
                }
            }
        }
        let mut out = Vec::new();
        collect(&self.conditions, &mut out);
        out
    }

    /// Whether any condition looks at what the event changed (such a rule only matches at that event).
    pub fn uses_changes(&self) -> bool {
        fn any_change(g: &Conditions) -> bool {
            g.items().iter().any(|i| match i {
                ConditionItem::Group(g) => any_change(g),
                ConditionItem::Test(c) => matches!(c.op, Op::ChangedTo | Op::ChangedFrom),
            })
        }
        any_change(&self.conditions)
    }

    fn group(&self, g: &Conditions, facts: &Facts) -> bool {
        let mut each = g.items().iter().map(|item| match item {
            ConditionItem::Group(inner) => self.group(inner, facts),
            ConditionItem::Test(c) => self.test(c, facts),
        });
        match g {
            Conditions::All(_) => each.all(|b| b),
            Conditions::Any(_) => each.any(|b| b),
        }
    }

    fn test(&self, c: &Condition, facts: &Facts) -> bool {
        let actual = facts.get(&c.field);
        match c.op {
            Op::Is => equals(actual, &c.value),
            Op::IsNot => !equals(actual, &c.value),
            Op::Contains => contains(actual, &c.value),
            Op::NotContains => !contains(actual, &c.value),
            Op::Matches => match (actual, c.value.as_str().and_then(|p| self.regexes.get(p))) {
                (Value::Text(t), Some(re)) => re.is_match(t),
                _ => false,
            },
            Op::ChangedTo => facts.changes.get(c.field.as_str()).is_some_and(|(_, to)| equals(to, &c.value)),
            Op::ChangedFrom => facts.changes.get(c.field.as_str()).is_some_and(|(from, _)| equals(from, &c.value)),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => match (actual, c.value.as_i64()) {
                (Value::Number(a), Some(b)) => match c.op {
                    Op::Gt => *a > b,
                    Op::Gte => *a >= b,
                    Op::Lt => *a < b,
                    _ => *a <= b,
                },
                _ => false,
            },
            Op::IsEmpty => match actual {
                Value::Null => true,
                Value::Text(t) => t.trim().is_empty(),
                Value::Set(s) => s.is_empty(),
                _ => false,
            },
        }
    }
}

/// A rule's state on one ticket: armed until it acts, then disarmed until its conditions stop holding, so it acts
/// at most once per matching episode (and again after the ticket stopped matching and matches anew).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    pub armed: bool,
}

impl Default for Episode {
    fn default() -> Self {
        Episode { armed: true }
    }
}

impl Episode {
    /// Whether the rule acts now that its conditions do (or do not) hold, and its state after.
    pub fn step(self, holds: bool) -> (bool, Episode) {
        match (holds, self.armed) {
            (true, true) => (true, Episode { armed: false }),
            (true, false) => (false, self),
            (false, _) => (false, Episode { armed: true }),
        }
    }
}

fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_lowercase()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn equals(actual: &Value, expected: &serde_json::Value) -> bool {
    match actual {
        Value::Text(t) => text_of(expected).is_some_and(|e| t.trim().to_lowercase() == e),
        Value::Set(s) => text_of(expected).is_some_and(|e| s.iter().any(|x| x.to_lowercase() == e)),
        Value::Number(n) => expected.as_i64() == Some(*n),
        Value::Bool(b) => expected.as_bool() == Some(*b),
        // "assignee is nobody", "type is ''".
        Value::Null => expected.is_null() || text_of(expected).is_some_and(|e| e.is_empty() || e == "nobody"),
    }
}

fn contains(actual: &Value, expected: &serde_json::Value) -> bool {
    let Some(needle) = text_of(expected) else { return false };
    match actual {
        Value::Text(t) => t.to_lowercase().contains(&needle),
        Value::Set(s) => s.iter().any(|x| x.to_lowercase() == needle),
        _ => false,
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
