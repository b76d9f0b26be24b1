//! The SLA policy form (pure): a policy as text fields (conditions as JSON, like the rules form's advanced box;
//! targets in business minutes) read back into a [`PolicySpec`], with each refusal of the policy check beside the
//! field it names. The form's field names are the API's keys, so a check's path is its field.

use crate::automation::sla::check::check;
use crate::db::sla::PolicyRow;
use crate::domain::rule::Conditions;
use crate::domain::sla::PolicySpec;
use serde::Serialize;
use std::collections::BTreeMap;

/// The minute fields: targets (empty: none) and the warning lead (empty: 0).
pub const MINUTES: [&str; 4] =
    ["first_response_minutes", "next_response_minutes", "resolution_minutes", "warn_before_minutes"];

/// The form's values as shown and posted, with errors by field name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyForm {
    pub name: String,
    /// Empty: after the last policy (a new one) or where it is (a changed one).
    pub position: String,
    /// A calendar's name; empty counts around the clock.
    pub calendar: String,
    pub conditions: String,
    /// By field name in [`MINUTES`].
    pub minutes: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
}

impl PolicyForm {
    /// A new policy: every ticket, no targets filled in yet.
    pub fn blank() -> Self {
        let spec: PolicySpec = serde_json::from_str("{}").expect("an empty policy reads");
        Self::of_spec("", &spec)
    }

    /// The form showing a stored policy.
    pub fn of(row: &PolicyRow) -> Self {
        let conditions = serde_json::from_str(&row.conditions).unwrap_or_default();
        let spec = PolicySpec {
            calendar: row.calendar.clone(),
            position: Some(row.position),
            conditions,
            first_response_minutes: row.first_response_minutes,
            next_response_minutes: row.next_response_minutes,
            resolution_minutes: row.resolution_minutes,
            warn_before_minutes: row.warn_before_minutes,
        };
        Self::of_spec(&row.name, &spec)
    }

    fn of_spec(name: &str, spec: &PolicySpec) -> Self {
        let shown = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
        let values = [
            shown(spec.first_response_minutes),
            shown(spec.next_response_minutes),
            shown(spec.resolution_minutes),
            spec.warn_before_minutes.to_string(),
        ];
        Self {
            name: name.into(),
            position: shown(spec.position),
            calendar: spec.calendar.clone().unwrap_or_default(),
            conditions: serde_json::to_string_pretty(&spec.conditions).unwrap_or_default(),
            minutes: MINUTES.iter().map(|k| k.to_string()).zip(values).collect(),
            errors: BTreeMap::new(),
        }
    }

    /// The form as posted; `name` is the policy's when it is edited, else the posted one.
    pub fn posted(pairs: &[(String, String)], name: Option<&str>) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
        Self {
            name: name.map_or_else(|| get("name"), str::to_string),
            position: get("position"),
            calendar: get("calendar"),
            conditions: get("conditions"),
            minutes: MINUTES.iter().map(|k| (k.to_string(), get(k))).collect(),
            errors: BTreeMap::new(),
        }
    }

    /// The policy the form describes, checked, or `None` with the errors beside their fields.
    pub fn spec(&mut self) -> Option<PolicySpec> {
        let mut number = |field: &str, text: &str| -> Option<i64> {
            match text.trim() {
                "" => None,
                t => t.parse().map_err(|_| self.errors.insert(field.into(), "Enter a whole number.".into())).ok(),
            }
        };
        let position = number("position", &self.position.clone());
        let mut minutes = MINUTES.map(|k| number(k, &self.minutes.get(k).cloned().unwrap_or_default()));
        let conditions = match self.conditions.trim() {
            "" => Some(Conditions::default()),
            text => serde_json::from_str::<Conditions>(text)
                .map_err(|e| self.errors.insert("conditions".into(), format!("Not valid conditions JSON: {e}.")))
                .ok(),
        };
        if !self.errors.is_empty() {
            return None;
        }
        let spec = PolicySpec {
            calendar: Some(self.calendar.clone()).filter(|c| !c.is_empty()),
            position,
            conditions: conditions?,
            first_response_minutes: minutes[0].take(),
            next_response_minutes: minutes[1].take(),
            resolution_minutes: minutes[2].take(),
            warn_before_minutes: minutes[3].unwrap_or(0),
        };
        match check(&spec) {
            Ok(_) => Some(spec),
            Err(e) => {
                let field = if e.path.starts_with("conditions") { "conditions" } else { e.path.as_str() };
                let text = if field == "conditions" { format!("{}: {}", e.path, e.message) } else { e.message };
                let text = text.replace(", or null", ", or leave it empty");
                self.errors.insert(field.to_string(), super::capitalise(&text) + ".");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(v: &[(&str, &str)]) -> PolicyForm {
        let pairs: Vec<(String, String)> = v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        PolicyForm::posted(&pairs, None)
    }

    #[test]
    fn a_posted_policy_reads_and_round_trips() {
        let mut form = posted(&[
            ("name", "refunds"),
            ("calendar", "office"),
            ("conditions", r#"{"all": [{"field": "ticket.type", "op": "is", "value": "refund"}]}"#),
            ("first_response_minutes", "60"),
            ("resolution_minutes", " 480 "),
            ("warn_before_minutes", "15"),
        ]);
        let spec = form.spec().expect("valid");
        assert_eq!(spec.calendar.as_deref(), Some("office"));
        assert_eq!((spec.first_response_minutes, spec.next_response_minutes), (Some(60), None));
        assert_eq!((spec.resolution_minutes, spec.warn_before_minutes, spec.position), (Some(480), 15, None));
        let row = PolicyRow {
            name: "refunds".into(),
            position: 2,
            calendar: spec.calendar.clone(),
            conditions: serde_json::to_string(&spec.conditions).unwrap(),
            first_response_minutes: Some(60),
            next_response_minutes: None,
            resolution_minutes: Some(480),
            warn_before_minutes: 15,
            updated_at: 0,
        };
        let shown = PolicyForm::of(&row);
        assert_eq!((shown.position.as_str(), shown.minutes["next_response_minutes"].as_str()), ("2", ""));
        assert!(shown.conditions.contains("ticket.type"));
    }

    #[test]
    fn refusals_land_beside_their_fields() {
        let mut form = posted(&[("first_response_minutes", "an hour"), ("conditions", "{all: []}")]);
        assert!(form.spec().is_none());
        assert_eq!(form.errors["first_response_minutes"], "Enter a whole number.");
        assert!(form.errors["conditions"].starts_with("Not valid conditions JSON"), "{:?}", form.errors);

        let mut form = posted(&[("warn_before_minutes", "10")]);
        assert!(form.spec().is_none());
        assert_eq!(form.errors["first_response_minutes"], "A policy needs at least one target.");

        let mut form = posted(&[("resolution_minutes", "0")]);
        assert!(form.spec().is_none());
        assert!(form.errors["resolution_minutes"].ends_with("or leave it empty."), "{:?}", form.errors);

        let age = r#"{"all": [{"field": "ticket.age_minutes", "op": "gt", "value": 5}]}"#;
        let mut form = posted(&[("conditions", age), ("first_response_minutes", "60")]);
        assert!(form.spec().is_none());
        assert!(form.errors["conditions"].contains("cannot choose a policy"), "{:?}", form.errors);
    }

    #[test]
    fn a_blank_form_shows_a_condition_for_every_ticket() {
        let form = PolicyForm::blank();
        assert_eq!(serde_json::from_str::<Conditions>(&form.conditions).unwrap(), Conditions::default());
        assert_eq!(form.minutes["warn_before_minutes"], "0");
    }
}
