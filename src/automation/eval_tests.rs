use super::*;
use crate::domain::rule::{Condition, ConditionItem, Conditions, Op};
use serde_json::json;

fn cond(field: &str, op: Op, value: serde_json::Value) -> ConditionItem {
    ConditionItem::Test(Condition { field: field.into(), op, value })
}

fn all(items: Vec<ConditionItem>) -> Conditions {
    Conditions::All(items)
}

fn facts() -> Facts {
    let mut f = Facts::default();
    f.set("ticket.status", Value::Text("open".into()))
        .set("ticket.priority", Value::Text("normal".into()))
        .set("ticket.type", Value::Null)
        .set("ticket.mailbox", Value::Text("Support".into()))
        .set("ticket.assignee", Value::Null)
        .set("ticket.tags", Value::Set(vec!["vip".into(), "Refund".into()]))
        .set("ticket.subject", Value::Text("Refund for order 1234".into()))
        .set("ticket.age_minutes", Value::Number(90))
        .set("ticket.idle_minutes", Value::Number(30))
        .set("ticket.pending_minutes", Value::Number(0))
        .set("message.from", Value::Text("Ana@Example.COM".into()))
        .set("message.subject", Value::Text("Refund for order 1234".into()))
        .set("message.body", Value::Text("Please REFUND me".into()))
        .set("message.kind", Value::Text("customer".into()))
        .set("message.auto", Value::Bool(false))
        .set("customer.email", Value::Text("ana@example.com".into()))
        .set("customer.domain", Value::Text("example.com".into()))
        .set("customer.blocked", Value::Bool(false))
        .set("sla.state", Value::Null);
    f
}

fn holds(c: Conditions, f: &Facts) -> bool {
    compile(&c).expect("valid").holds(f)
}

#[test]
fn text_ops_are_case_insensitive() {
    let f = facts();
    assert!(holds(all(vec![cond("ticket.mailbox", Op::Is, json!("support"))]), &f));
    assert!(!holds(all(vec![cond("ticket.mailbox", Op::IsNot, json!("SUPPORT"))]), &f));
    assert!(holds(all(vec![cond("message.body", Op::Contains, json!("refund"))]), &f));
    assert!(!holds(all(vec![cond("message.body", Op::NotContains, json!("Refund"))]), &f));
    assert!(holds(all(vec![cond("message.from", Op::Is, json!("ana@example.com"))]), &f));
    assert!(holds(all(vec![cond("message.subject", Op::Matches, json!(r"order\s+\d{4}"))]), &f));
    assert!(!holds(all(vec![cond("message.subject", Op::Matches, json!(r"^order"))]), &f));
}

#[test]
fn sets_contain_members_not_substrings() {
    let f = facts();
    assert!(holds(all(vec![cond("ticket.tags", Op::Contains, json!("refund"))]), &f));
    assert!(!holds(all(vec![cond("ticket.tags", Op::Contains, json!("ref"))]), &f));
    assert!(holds(all(vec![cond("ticket.tags", Op::NotContains, json!("spam"))]), &f));
    assert!(holds(all(vec![cond("ticket.tags", Op::Is, json!("VIP"))]), &f));
    assert!(!holds(all(vec![cond("ticket.tags", Op::IsEmpty, json!(null))]), &f));
}

#[test]
fn numbers_compare() {
    let f = facts();
    for (op, v, want) in [
        (Op::Gt, 89, true),
        (Op::Gt, 90, false),
        (Op::Gte, 90, true),
        (Op::Lt, 91, true),
        (Op::Lt, 90, false),
        (Op::Lte, 90, true),
        (Op::Is, 90, true),
        (Op::IsNot, 90, false),
    ] {
        assert_eq!(holds(all(vec![cond("ticket.age_minutes", op, json!(v))]), &f), want, "{op:?} {v}");
    }
}

#[test]
fn bools_and_empties() {
    let f = facts();
    assert!(holds(all(vec![cond("message.auto", Op::Is, json!(false))]), &f));
    assert!(!holds(all(vec![cond("customer.blocked", Op::Is, json!(true))]), &f));
    assert!(holds(all(vec![cond("ticket.assignee", Op::IsEmpty, json!(null))]), &f));
    assert!(holds(all(vec![cond("ticket.assignee", Op::Is, json!("nobody"))]), &f));
    assert!(holds(all(vec![cond("ticket.type", Op::IsEmpty, json!(null))]), &f));
    assert!(!holds(all(vec![cond("ticket.subject", Op::IsEmpty, json!(null))]), &f));
    let mut blank = facts();
    blank.set("ticket.subject", Value::Text("  ".into()));
    assert!(holds(all(vec![cond("ticket.subject", Op::IsEmpty, json!(null))]), &blank));
}

#[test]
fn changed_to_and_from_need_the_event_to_change_the_field() {
    let mut f = facts();
    let rule = all(vec![cond("ticket.status", Op::ChangedTo, json!("open"))]);
    assert!(!holds(rule.clone(), &f), "status is open, but this event did not change it");
    f.changed("ticket.status", Value::Text("pending".into()), Value::Text("open".into()));
    assert!(holds(rule, &f));
    assert!(holds(all(vec![cond("ticket.status", Op::ChangedFrom, json!("pending"))]), &f));
    assert!(!holds(all(vec![cond("ticket.status", Op::ChangedFrom, json!("open"))]), &f));
    let c = compile(&all(vec![cond("ticket.status", Op::ChangedTo, json!("open"))])).unwrap();
    assert!(c.uses_changes());
    assert!(!compile(&all(vec![cond("ticket.status", Op::Is, json!("open"))])).unwrap().uses_changes());
}

#[test]
fn groups_nest_one_level() {
    let f = facts();
    let any = Conditions::Any(vec![
        cond("ticket.priority", Op::Is, json!("urgent")),
        cond("customer.domain", Op::Is, json!("example.com")),
    ]);
    assert!(holds(any.clone(), &f));
    assert!(holds(all(vec![cond("ticket.status", Op::Is, json!("open")), ConditionItem::Group(any.clone())]), &f));
    let none = Conditions::Any(vec![cond("ticket.priority", Op::Is, json!("urgent"))]);
    assert!(!holds(all(vec![cond("ticket.status", Op::Is, json!("open")), ConditionItem::Group(none)]), &f));
    assert!(holds(Conditions::All(vec![]), &f), "an empty all holds");
    assert!(!holds(Conditions::Any(vec![]), &f), "an empty any does not");
    let deep = all(vec![ConditionItem::Group(all(vec![ConditionItem::Group(any)]))]);
    let e = compile(&deep).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].all[0]");
}

#[test]
fn bad_conditions_are_refused_with_their_place() {
    let e = compile(&all(vec![cond("ticket.colour", Op::Is, json!("red"))])).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].field");
    let e = compile(&all(vec![cond("ticket.status", Op::Gt, json!(3))])).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].op");
    let e = compile(&all(vec![cond("ticket.age_minutes", Op::Gt, json!("soon"))])).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].value");
    let e = compile(&all(vec![cond("message.auto", Op::Is, json!("yes"))])).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].value");
    let e = compile(&all(vec![cond("message.body", Op::Matches, json!("(unclosed"))])).unwrap_err();
    assert!(e.message.contains("regular expression"), "{e}");
    let e = compile(&all(vec![cond("ticket.tags", Op::Matches, json!("x"))])).unwrap_err();
    assert_eq!(e.path, "conditions.all[0].op");
}

#[test]
fn huge_regexes_are_refused() {
    let e = compile(&all(vec![cond("message.body", Op::Matches, json!(r"\w{1000}\w{1000}\w{1000}"))])).unwrap_err();
    assert!(e.message.contains("regular expression"), "{e}");
}

#[test]
fn episodes_act_once_and_rearm_after_a_miss() {
    let e = Episode::default();
    let (act, e) = e.step(true);
    assert!(act, "first match acts");
    let (act, e) = e.step(true);
    assert!(!act, "still matching: same episode");
    let (act, e) = e.step(false);
    assert!(!act);
    assert!(e.armed, "a miss re-arms");
    let (act, e) = e.step(true);
    assert!(act, "a new episode acts again");
    assert!(!e.armed);
}

#[test]
fn conditions_read_from_contract_json() {
    let c: Conditions = serde_json::from_value(json!({"all": [
        {"field": "message.subject", "op": "contains", "value": "refund"},
        {"any": [{"field": "ticket.priority", "op": "is", "value": "low"}, {"field": "ticket.tags", "op": "is_empty"}]}
    ]}))
    .unwrap();
    assert_eq!(c.items().len(), 2);
    assert!(matches!(c.items()[1], ConditionItem::Group(Conditions::Any(_))));
    assert!(serde_json::from_value::<Conditions>(json!({"every": []})).is_err());
}
