//! Checking an SLA policy as an admin wrote it: conditions only over what a ticket is (not how it changed, not
//! how old it is), at least one target, minutes in range. Pure.

use crate::automation::eval::{Compiled, Invalid, compile};
use crate::domain::sla::PolicySpec;

/// The fields a policy's conditions may name: what a ticket is now, so the same ticket always gets the same policy.
pub const POLICY_FIELDS: &[&str] = &[
    "ticket.status",
    "ticket.priority",
    "ticket.type",
    "ticket.mailbox",
    "ticket.assignee",
    "ticket.tags",
    "ticket.subject",
    "customer.email",
    "customer.domain",
];

/// A year of minutes: the longest target (and warning lead) a policy may set.
const MAX_MINUTES: i64 = 366 * 24 * 60;

/// Checks `spec` and compiles its conditions; the error names the place (`conditions.all[0].field`, …).
pub fn check(spec: &PolicySpec) -> Result<Compiled, Invalid> {
    let compiled = compile(&spec.conditions)?;
    if let Some(f) = compiled.fields().into_iter().find(|f| !POLICY_FIELDS.contains(f)) {
        let allowed = POLICY_FIELDS.join(", ");
        return Err(bad("conditions", format!("{f} cannot choose a policy; use one of {allowed}")));
    }
    if compiled.uses_changes() {
        return Err(bad("conditions", "changed_to and changed_from look at a change; a policy looks at the ticket"));
    }
    let targets = [
        ("first_response_minutes", spec.first_response_minutes),
        ("next_response_minutes", spec.next_response_minutes),
        ("resolution_minutes", spec.resolution_minutes),
    ];
    for (name, minutes) in targets {
        if minutes.is_some_and(|m| !(1..=MAX_MINUTES).contains(&m)) {
            return Err(bad(name, format!("from 1 to {MAX_MINUTES} business minutes, or null")));
        }
    }
    if targets.iter().all(|(_, m)| m.is_none()) {
        return Err(bad("first_response_minutes", "a policy needs at least one target"));
    }
    if !(0..=MAX_MINUTES).contains(&spec.warn_before_minutes) {
        return Err(bad("warn_before_minutes", format!("from 0 to {MAX_MINUTES}")));
    }
    if spec.position.is_some_and(|p| !(0..=1_000_000).contains(&p)) {
        return Err(bad("position", "from 0 to 1000000"));
    }
    Ok(compiled)
}

fn bad(path: &str, message: impl Into<String>) -> Invalid {
    Invalid { path: path.to_string(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> PolicySpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_policy_over_ticket_fields_with_a_target_is_accepted() {
        let s = spec(json!({"conditions": {"all": [{"field": "ticket.type", "op": "is", "value": "refund"}]},
            "first_response_minutes": 60, "warn_before_minutes": 15}));
        assert!(check(&s).is_ok());
        assert!(check(&spec(json!({"resolution_minutes": 480}))).is_ok(), "no conditions: every ticket");
    }

    #[test]
    fn time_message_and_change_conditions_and_missing_targets_are_refused_with_their_place() {
        let age = spec(json!({"conditions": {"all": [{"field": "ticket.age_minutes", "op": "gt", "value": 5}]},
            "first_response_minutes": 60}));
        assert_eq!(check(&age).unwrap_err().path, "conditions");
        let change = spec(json!({"conditions": {"all": [{"field": "ticket.status", "op": "changed_to",
            "value": "open"}]}, "first_response_minutes": 60}));
        assert!(check(&change).unwrap_err().message.contains("changed_to"));
        assert_eq!(check(&spec(json!({}))).unwrap_err().path, "first_response_minutes");
        assert_eq!(check(&spec(json!({"resolution_minutes": 0}))).unwrap_err().path, "resolution_minutes");
        let warn = spec(json!({"resolution_minutes": 60, "warn_before_minutes": -1}));
        assert_eq!(check(&warn).unwrap_err().path, "warn_before_minutes");
    }
}
