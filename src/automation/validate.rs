//! Checks a rule before it is saved (pure): its name, trigger, conditions and every action's values, each refusal
//! naming its place (`actions[1].value`), so the engine only ever sees rules that can run.

use super::eval::{Compiled, Invalid, compile};
use crate::domain::rule::{Action, RuleSpec};
use crate::domain::{Priority, Status};

/// The rule, checked, with its conditions compiled.
pub fn check(spec: &RuleSpec) -> Result<Compiled, Invalid> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid("name", "1 to 120 characters"));
    }
    let compiled = compile(&spec.conditions)?;
    if spec.actions.is_empty() {
        return Err(invalid("actions", "a rule needs at least one action"));
    }
    if spec.actions.len() > 20 {
        return Err(invalid("actions", "at most 20 actions"));
    }
    for (i, a) in spec.actions.iter().enumerate() {
        check_action(a).map_err(|(field, message)| invalid(&format!("actions[{i}].{field}"), &message))?;
    }
    Ok(compiled)
}

fn invalid(path: &str, message: &str) -> Invalid {
    Invalid { path: path.to_string(), message: message.to_string() }
}

fn check_action(a: &Action) -> Result<(), (&'static str, String)> {
    let nonempty = |field: &'static str, v: &str| {
        if v.trim().is_empty() { Err((field, "must not be empty".to_string())) } else { Ok(()) }
    };
    match a {
        Action::SetStatus { value } => match Status::parse(value) {
            Ok(Status::Merged) => Err(("value", "merged is set by merging, not by rules".into())),
            Ok(_) => Ok(()),
            Err(e) => Err(("value", e)),
        },
        Action::SetPriority { value } => Priority::parse(value).map(|_| ()).map_err(|e| ("value", e)),
        Action::SetType { value } => {
            crate::tickets::types::type_name(value).map(|_| ()).map_err(|e| ("value", e.to_string()))
        }
        Action::Assign { value } => {
            let v = value.trim();
            match v.strip_prefix("round_robin:") {
                Some(team) => nonempty("value", team),
                None if v.eq_ignore_ascii_case("nobody") || v.contains('@') => Ok(()),
                None => Err(("value", "an agent's e-mail, nobody, or round_robin:{team}".into())),
            }
        }
        Action::AddTag { value } | Action::RemoveTag { value } => {
            crate::tickets::tags::clean(value).map(|_| ()).map_err(|e| ("value", e.to_string()))
        }
        Action::AddNote { body } => nonempty("body", body),
        Action::Reply { body, canned } => match (body.as_deref().map(str::trim), canned.as_deref().map(str::trim)) {
            (Some(b), None) if !b.is_empty() => Ok(()),
            (None, Some(c)) if !c.is_empty() => Ok(()),
            _ => Err(("body", "either a body or a canned response".into())),
        },
        Action::Notify { to, body, .. } => {
            let to = to.trim();
            if !(to == "assignee" || to == "agents" || to.contains('@')) {
                return Err(("to", "assignee, agents, or an agent's e-mail".into()));
            }
            nonempty("body", body)
        }
        Action::Webhook { url, secret } => {
            let ok = url.parse::<axum::http::Uri>().is_ok_and(|u| {
                matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
            });
            if !ok {
                return Err(("url", "an http:// or https:// address".into()));
            }
            if secret.len() < 16 {
                return Err(("secret", "at least 16 characters".into()));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> RuleSpec {
        serde_json::from_value(v).expect("parses")
    }

    #[test]
    fn a_good_rule_passes_and_bad_actions_are_refused_with_their_place() {
        let good = spec(json!({"name": "Refunds", "trigger": "ticket_created",
            "conditions": {"all": [{"field": "message.subject", "op": "contains", "value": "refund"}]},
            "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tag", "value": "refund"}]}));
        assert!(check(&good).is_ok());
        for (action, path) in [
            (json!({"type": "set_priority", "value": "asap"}), "actions[0].value"),
            (json!({"type": "set_status", "value": "merged"}), "actions[0].value"),
            (json!({"type": "assign", "value": "bob"}), "actions[0].value"),
            (json!({"type": "reply"}), "actions[0].body"),
            (json!({"type": "notify", "to": "everyone", "body": "x"}), "actions[0].to"),
            (json!({"type": "webhook", "url": "ftp://x", "secret": "0123456789abcdef"}), "actions[0].url"),
            (json!({"type": "webhook", "url": "https://hooks.example/x", "secret": "short"}), "actions[0].secret"),
            (json!({"type": "add_tag", "value": "!!!"}), "actions[0].value"),
        ] {
            let s = spec(json!({"name": "x", "trigger": "manual", "actions": [action]}));
            assert_eq!(check(&s).unwrap_err().path, path, "{action}");
        }
        assert_eq!(check(&spec(json!({"name": " ", "trigger": "manual", "actions": []}))).unwrap_err().path, "name");
        assert_eq!(check(&spec(json!({"name": "x", "trigger": "manual", "actions": []}))).unwrap_err().path, "actions");
    }

    #[test]
    fn unknown_triggers_and_action_types_do_not_parse() {
        assert!(serde_json::from_value::<RuleSpec>(json!({"name": "x", "trigger": "hourly"})).is_err());
        let bad = json!({"name": "x", "trigger": "manual", "actions": [{"type": "delete_ticket"}]});
        assert!(serde_json::from_value::<RuleSpec>(bad).is_err());
    }
}
