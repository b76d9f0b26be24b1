//! The rule form's round trip: rows to a rule, nested groups kept, the advanced box winning when edited, and
//! refusals placed beside their rows.

use super::form::RuleForm;
use crate::automation::validate::check;
use crate::domain::rule::RuleSpec;
use serde_json::json;

fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p = vec![("name", "R"), ("trigger", "manual"), ("enabled", "1"), ("mode", "all")];
    p.extend_from_slice(extra);
    p.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn rows_become_typed_conditions_and_nested_groups_survive_a_save() {
    let spec: RuleSpec = serde_json::from_value(json!({"name": "R", "trigger": "manual",
        "conditions": {"all": [{"field": "ticket.status", "op": "is", "value": "open"},
            {"any": [{"field": "message.auto", "op": "is", "value": true}]}]},
        "actions": [{"type": "add_tag", "value": "x"}]}))
    .unwrap();
    let shown = RuleForm::of(&spec);
    assert!(shown.nested);
    assert_eq!(shown.conds[0].value, "open");
    let orig = shown.conditions_orig.clone();
    let mut f = RuleForm::posted(&pairs(&[
        ("c0_field", "ticket.idle_minutes"),
        ("c0_op", "gt"),
        ("c0_value", "30"),
        ("c1_field", ""),
        ("c1_op", "is"),
        ("c1_value", ""),
        ("conditions_json", &shown.conditions_json),
        ("conditions_orig", &orig),
        ("a0_type", "add_tag"),
        ("a0_text", "late"),
        ("a1_type", ""),
        ("a1_text", ""),
    ]));
    let (saved, rows) = f.spec().expect("valid");
    assert!(!rows.advanced);
    assert_eq!(
        serde_json::to_value(&saved.conditions).unwrap(),
        json!({"all": [
        {"field": "ticket.idle_minutes", "op": "gt", "value": 30},
        {"any": [{"field": "message.auto", "op": "is", "value": true}]}]})
    );
    assert!(check(&saved).is_ok());

    let edited = r#"{"any": [{"field": "customer.blocked", "op": "is", "value": false}]}"#;
    let mut f = RuleForm::posted(&pairs(&[
        ("conditions_json", edited),
        ("conditions_orig", &orig),
        ("a0_type", "add_tag"),
        ("a0_text", "x"),
    ]));
    let (saved, rows) = f.spec().expect("valid");
    assert!(rows.advanced, "the edited box wins");
    assert_eq!(
        serde_json::to_value(&saved.conditions).unwrap(),
        serde_json::from_str::<serde_json::Value>(edited).unwrap()
    );
}

#[test]
fn refusals_are_placed_beside_the_row_they_name() {
    let mut f = RuleForm::posted(&pairs(&[("c0_field", "message.auto"), ("c0_op", "is"), ("c0_value", "maybe")]));
    assert!(f.spec().is_none());
    assert_eq!((f.conds[0].bad.as_str(), f.conds[0].error.as_str()), ("value", "True or false is needed."));

    let mut f = RuleForm::posted(&pairs(&[
        ("a0_type", ""),
        ("a0_text", ""),
        ("a1_type", "add_tag"),
        ("a1_text", "ok"),
        ("a2_type", "webhook"),
        ("a2_to", "ftp://x"),
        ("a2_secret", "0123456789abcdef"),
    ]));
    let (spec, rows) = f.spec().expect("parses");
    let e = check(&spec).unwrap_err();
    assert_eq!(e.path, "actions[1].url");
    f.place(&rows, &e);
    assert_eq!(f.actions[2].bad, "to", "spec action 1 is form row 3 (the empty row is skipped)");
    assert!(f.actions[2].error.starts_with("An http"));
}

#[test]
fn a_notify_sent_any_time_keeps_its_flag_through_the_form() {
    let spec: RuleSpec = serde_json::from_value(json!({"name": "Lead", "trigger": "sla_breached",
        "conditions": {"all": []},
        "actions": [{"type": "notify", "to": "lead@example.test", "body": "late", "any_time": true},
                    {"type": "notify", "to": "agents", "body": "late"}]}))
    .unwrap();
    let shown = RuleForm::of(&spec);
    assert_eq!(shown.actions.iter().take(2).map(|a| a.any_time).collect::<Vec<_>>(), [true, false]);
    let mut f = RuleForm::posted(&pairs(&[
        ("a0_type", "notify"),
        ("a0_to", "lead@example.test"),
        ("a0_text", "late"),
        ("a0_any_time", "1"),
        ("a1_type", "notify"),
        ("a1_to", "agents"),
        ("a1_text", "late"),
    ]));
    let (saved, _) = f.spec().expect("parses");
    assert_eq!(serde_json::to_value(&saved.actions).unwrap(), serde_json::to_value(&spec.actions).unwrap());
}
