//! The rule form (pure): a rule shown as rows of conditions and actions, the posted rows read back into a
//! `RuleSpec`, and a refusal of the validator (`actions[1].value`) put beside the row and field it names.

pub use super::rows::{ActRow, CondRow, choices};
use super::rows::{act_row, action_of, condition_of, shown};
use crate::automation::eval::Invalid;
use crate::domain::rule::{ConditionItem, Conditions, RuleSpec, Trigger};
use serde::Serialize;
use serde_json::Value as Json;

/// Empty condition rows offered beyond a rule's own (at least this many rows in all).
const CONDITION_ROWS: usize = 5;
/// Action rows offered (at least this many rows in all).
const ACTION_ROWS: usize = 4;
/// Rows read back from a post, at most.
const MAX_ROWS: usize = 40;

/// The form's values as shown and as posted, with errors beside their fields (`errors.name`, `errors.owner`,
/// `errors.conditions` beside the JSON, `errors.actions` above the action rows).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleForm {
    pub name: String,
    pub trigger: String,
    pub stop: bool,
    pub enabled: bool,
    /// An owner's e-mail; empty is a global rule.
    pub owner: String,
    /// `all` or `any`.
    pub mode: String,
    pub conds: Vec<CondRow>,
    pub actions: Vec<ActRow>,
    /// The conditions as JSON (the "advanced" box); when edited it wins over the rows.
    pub conditions_json: String,
    /// The conditions the form was shown with, to tell whether the box was edited.
    pub conditions_orig: String,
    /// The conditions have nested groups (the rows show only the top-level tests; the groups are kept).
    pub nested: bool,
    pub errors: std::collections::BTreeMap<String, String>,
}

impl RuleForm {
    /// A form for a new rule.
    pub fn blank(owner: &str) -> Self {
        let spec = RuleSpec {
            name: String::new(),
            enabled: true,
            owner: (!owner.is_empty()).then(|| owner.to_string()),
            stop: false,
            trigger: Trigger::TicketCreated,
            conditions: Conditions::default(),
            actions: Vec::new(),
        };
        Self::of(&spec)
    }

    /// The form showing a rule.
    pub fn of(spec: &RuleSpec) -> Self {
        let conds = spec.conditions.items().iter().filter_map(|i| match i {
            ConditionItem::Test(c) => Some(CondRow {
                field: c.field.clone(),
                op: c.op.as_str().to_string(),
                value: shown(&c.value),
                ..Default::default()
            }),
            ConditionItem::Group(_) => None,
        });
        let mut form = Self {
            name: spec.name.clone(),
            trigger: spec.trigger.as_str().to_string(),
            stop: spec.stop,
            enabled: spec.enabled,
            owner: spec.owner.clone().unwrap_or_default(),
            mode: if matches!(spec.conditions, Conditions::Any(_)) { "any" } else { "all" }.into(),
            conds: conds.collect(),
            actions: spec.actions.iter().map(act_row).collect(),
            conditions_json: serde_json::to_string_pretty(&spec.conditions).unwrap_or_default(),
            conditions_orig: serde_json::to_string(&spec.conditions).unwrap_or_default(),
            nested: spec.conditions.items().iter().any(|i| matches!(i, ConditionItem::Group(_))),
            errors: Default::default(),
        };
        form.pad();
        form
    }

    /// Adds empty rows so there are a few to fill in.
    pub fn pad(&mut self) {
        let want = (self.conds.iter().filter(|c| !c.field.is_empty()).count() + 2).max(CONDITION_ROWS);
        self.conds.resize_with(want.max(self.conds.len()), Default::default);
        let want = (self.actions.iter().filter(|a| !a.kind.is_empty()).count() + 1).max(ACTION_ROWS);
        self.actions.resize_with(want.max(self.actions.len()), Default::default);
    }

    /// The form as posted (name/value pairs).
    pub fn posted(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
        let mut form = Self {
            name: get("name"),
            trigger: get("trigger"),
            stop: has("stop"),
            enabled: has("enabled"),
            owner: get("owner").trim().to_string(),
            mode: if get("mode") == "any" { "any" } else { "all" }.into(),
            conditions_json: get("conditions_json"),
            conditions_orig: get("conditions_orig"),
            ..Default::default()
        };
        for i in 0..MAX_ROWS {
            let k = |f: &str| format!("c{i}_{f}");
            if has(&k("field")) {
                form.conds.push(CondRow {
                    field: get(&k("field")),
                    op: get(&k("op")),
                    value: get(&k("value")),
                    ..Default::default()
                });
            }
            let k = |f: &str| format!("a{i}_{f}");
            if has(&k("type")) {
                form.actions.push(ActRow {
                    kind: get(&k("type")),
                    text: get(&k("text")),
                    to: get(&k("to")),
                    secret: get(&k("secret")),
                    canned: get(&k("canned")),
                    any_time: get(&k("any_time")) == "1",
                    ..Default::default()
                });
            }
        }
        form.nested = serde_json::from_str::<Conditions>(&form.conditions_orig)
            .is_ok_and(|c| c.items().iter().any(|i| matches!(i, ConditionItem::Group(_))));
        form
    }

    /// The rule the form describes, or the form with its errors. `owner` is the resolved owner's e-mail.
    pub fn spec(&mut self) -> Option<(RuleSpec, Rows)> {
        let trigger = Trigger::parse(&self.trigger);
        if trigger.is_none() {
            self.errors.insert("trigger".into(), "Choose a trigger.".into());
        }
        let (conditions, cond_rows) = self.conditions()?;
        let mut act_rows = Vec::new();
        let mut actions = Vec::new();
        for (i, row) in self.actions.iter_mut().enumerate() {
            match action_of(row) {
                Ok(Some(a)) => {
                    actions.push(a);
                    act_rows.push(i);
                }
                Ok(None) => {}
                Err(e) => (row.bad, row.error) = ("type".into(), e),
            }
        }
        if !self.errors.is_empty() || self.actions.iter().any(|a| !a.error.is_empty()) {
            return None;
        }
        let owner = (!self.owner.is_empty()).then(|| self.owner.clone());
        let spec = RuleSpec {
            name: self.name.trim().to_string(),
            enabled: self.enabled,
            owner,
            stop: self.stop,
            trigger: trigger?,
            conditions,
            actions,
        };
        Some((spec, Rows { conds: cond_rows, actions: act_rows, advanced: self.advanced() }))
    }

    /// Whether the advanced box was edited (it then wins over the rows).
    fn advanced(&self) -> bool {
        let edited = serde_json::from_str::<Json>(&self.conditions_json).ok();
        let orig = serde_json::from_str::<Json>(&self.conditions_orig).ok();
        !self.conditions_json.trim().is_empty() && (edited.is_none() || edited != orig)
    }

    fn conditions(&mut self) -> Option<(Conditions, Vec<usize>)> {
        if self.advanced() {
            return match serde_json::from_str::<Conditions>(&self.conditions_json) {
                Ok(c) => Some((c, Vec::new())),
                Err(e) => {
                    self.errors.insert("conditions".into(), format!("Not valid conditions JSON: {e}"));
                    None
                }
            };
        }
        let mut items = Vec::new();
        let mut rows = Vec::new();
        for (i, row) in self.conds.iter_mut().enumerate().filter(|(_, r)| !r.field.trim().is_empty()) {
            match condition_of(row) {
                Ok(c) => {
                    items.push(ConditionItem::Test(c));
                    rows.push(i);
                }
                Err((bad, e)) => (row.bad, row.error) = (bad.into(), e),
            }
        }
        if self.conds.iter().any(|r| !r.error.is_empty()) {
            return None;
        }
        // Nested groups are not rows: they are kept as they were.
        if let Ok(orig) = serde_json::from_str::<Conditions>(&self.conditions_orig) {
            items.extend(orig.items().iter().filter(|i| matches!(i, ConditionItem::Group(_))).cloned());
        }
        Some((if self.mode == "any" { Conditions::Any(items) } else { Conditions::All(items) }, rows))
    }

    /// Puts a refusal beside the field it names.
    pub fn place(&mut self, rows: &Rows, e: &Invalid) {
        let msg = capitalise(&e.message);
        let indexed = |prefix: &str| -> Option<(usize, String)> {
            let rest = e.path.strip_prefix(prefix)?;
            let (i, rest) = rest.split_once(']')?;
            Some((i.parse().ok()?, rest.trim_start_matches('.').to_string()))
        };
        let cond = indexed("conditions.all[").or_else(|| indexed("conditions.any["));
        if let Some((i, field)) = indexed("actions[")
            && let Some(row) = rows.actions.get(i).and_then(|r| self.actions.get_mut(*r))
        {
            row.bad = match field.as_str() {
                "to" | "url" => "to",
                "secret" => "secret",
                "type" => "type",
                _ => "text",
            }
            .into();
            row.error = msg;
        } else if let Some((i, field)) =
            cond.filter(|(_, f)| !rows.advanced && ["field", "op", "value"].contains(&f.as_str()))
            && let Some(row) = rows.conds.get(i).and_then(|r| self.conds.get_mut(*r))
        {
            (row.bad, row.error) = (field, msg);
        } else if e.path.starts_with("conditions") {
            self.errors.insert("conditions".into(), format!("{}: {msg}", e.path));
        } else {
            let key = if ["name", "actions", "owner"].contains(&e.path.as_str()) { e.path.as_str() } else { "actions" };
            self.errors.insert(key.into(), msg);
        }
    }
}

/// Where the spec's conditions and actions came from: the form row of each (by index in the spec).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub conds: Vec<usize>,
    pub actions: Vec<usize>,
    pub advanced: bool,
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    let first = c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
    if first.ends_with('.') { first } else { first + "." }
}
