//! Every regex is built lazily; these tests build each one so a typo fails here, not in
//! production (where `classify` must never panic). They also pin the SES notification reader.

use super::super::{auto_reply, ndr, phrases, ses};
use super::classify_raw;

#[test]
fn every_phrase_pattern_compiles_and_matches_its_example() {
    assert!(phrases::is_daemon_sender("Mail Delivery Subsystem MAILER-DAEMON"));
    assert!(phrases::is_no_reply_sender("no-reply"));
    assert!(phrases::mentions_mail_transport("550 mailbox unavailable"));
    assert!(phrases::is_ndr_subject("Undeliverable: hello"));
    assert!(phrases::states_failure("This is a permanent error."));
    assert!(phrases::states_delay("THIS IS A WARNING MESSAGE ONLY."));
    assert!(phrases::states_final_failure("I gave up."));
    assert!(phrases::is_challenge("Sender not pre-approved"));
    assert!(auto_reply::is_out_of_office_subject("Out of Office: hello"));
}

#[test]
fn every_ndr_pattern_compiles_and_matches_its_example() {
    let notice = "<a@x.example>:\nRemote host said: 550 5.1.1 unknown user\n    (in reply to RCPT TO)\n";
    assert_eq!(ndr::recipients(notice, &[]), vec!["a@x.example".to_string()]);
    assert_eq!(ndr::status(notice).as_deref(), Some("5.1.1"));
    assert_eq!(
        ndr::diagnostic(notice).as_deref(),
        Some("Remote host said: 550 5.1.1 unknown user (in reply to RCPT TO)")
    );
    assert_eq!(ndr::status_class_of_reply("554 denied").as_deref(), Some("5.0.0"));
}

const SES_BOUNCE: &str = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"gone@customer.example","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"headers":[{"name":"Message-ID","value":"<t7@deskmail.example>"}]}}"#;

#[test]
fn ses_bounce_notification_is_read_including_escaped_sns_envelopes() {
    for body in [SES_BOUNCE.to_string(), format!("{{\"Message\" : \"{}\"}}", SES_BOUNCE.replace('"', "\\\""))] {
        let raw = format!("From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n{body}\n");
        let report = classify_raw(&raw).bounce.expect("bounce");
        assert_eq!(report.recipients, vec!["gone@customer.example".to_string()]);
        assert_eq!(report.status.as_deref(), Some("5.1.1"));
        assert_eq!(report.diagnostic.as_deref(), Some("smtp; 550 5.1.1 user unknown"));
        assert_eq!(report.original_message_id.as_deref(), Some("t7@deskmail.example"));
    }
}

#[test]
fn ses_complaint_notification_is_automatic_but_not_a_bounce() {
    let raw =
        "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n{\"notificationType\":\"Complaint\"}\n";
    assert!(matches!(ses::event("{\"notificationType\":\"Complaint\"}"), Some(ses::SesEvent::Other)));
    let classification = classify_raw(raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}
