//! Parsing of delivery-status fields and status codes.

use super::super::dsn::{self, RecipientStatus};

#[test]
fn splits_recipient_blocks_even_without_blank_lines() {
    let records = dsn::parse(
        "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n\
         Final-Recipient: rfc822; <b@x.example>\nAction: Delayed\nStatus: 4.4.7\n",
    );
    let summary: Vec<(Option<&str>, Option<&str>)> =
        records.iter().map(|r| (r.recipient(), r.action.as_deref())).collect();
    assert_eq!(summary, vec![(Some("a@x.example"), Some("failed")), (Some("b@x.example"), Some("delayed"))]);
}

#[test]
fn blank_lines_inside_a_block_do_not_split_it() {
    let records = dsn::parse("Final-Recipient: rfc822; a@x.example\n\nAction: failed\n\nStatus: 5.0.0\n");
    assert_eq!(records.len(), 1);
    assert!(records[0].is_failure());
}

#[test]
fn unfolds_diagnostic_code() {
    let records = dsn::parse(
        "Final-Recipient: rfc822; a@x.example\nAction: failed\nDiagnostic-Code: smtp; 550 no\n  such user\n",
    );
    assert_eq!(records[0].diagnostic.as_deref(), Some("smtp; 550 no such user"));
}

#[test]
fn non_standard_actions_are_normalised() {
    let action =
        |value: &str| dsn::parse(&format!("Final-Recipient: rfc822; a@x.example\nAction: {value}\n"))[0].action.clone();
    assert_eq!(action("failure").as_deref(), Some("failed"));
    assert_eq!(action("expired").as_deref(), Some("failed"));
    assert_eq!(action("deliverable").as_deref(), Some("delivered"));
    assert_eq!(action("relayed").as_deref(), Some("relayed"));
}

#[test]
fn missing_action_falls_back_to_status_class() {
    let failed = RecipientStatus { status: Some("5.1.1".into()), ..RecipientStatus::default() };
    let delayed = RecipientStatus { status: Some("4.4.1".into()), ..RecipientStatus::default() };
    assert!(failed.is_failure());
    assert!(!delayed.is_failure());
}

#[test]
fn status_code_ignores_version_numbers_and_ip_addresses() {
    assert_eq!(dsn::status_code("Internet Mail Service (5.5.2657.72)"), None);
    assert_eq!(dsn::status_code("host 192.0.2.5 said"), None);
    assert_eq!(dsn::status_code("smtp; 550 5.7.1 denied"), Some("5.7.1".to_string()));
}

#[test]
fn block_without_action_or_status_has_no_outcome() {
    let records = dsn::parse("Final-Recipient: rfc822; a@x.example\nDiagnostic-Code: smtp; 550 gone\n");
    assert!(!records[0].has_outcome());
    assert!(!records[0].is_failure());
}
