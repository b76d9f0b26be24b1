//! Bounce detection and report extraction from RFC 3464 delivery-status reports, and the
//! reports that are not failures (success, delay, challenge, ARF).

use super::classify_raw;

const RFC3464_DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.deskmail.example>
To: support@deskmail.example
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"

--B1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.deskmail.example

Final-Recipient: rfc822; gone@customer.example
Original-Recipient: rfc822;gone@customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: Recipient address
    rejected: User unknown

--B1
Content-Type: message/rfc822

From: support@deskmail.example
To: gone@customer.example
Subject: [#1042] Your ticket
Message-ID: <ticket-1042.7@deskmail.example>

Hello.
--B1--
";

#[test]
fn rfc3464_dsn_is_a_bounce_with_all_details() {
    let report = classify_raw(RFC3464_DSN).bounce.expect("bounce");
    assert_eq!(report.original_message_id.as_deref(), Some("ticket-1042.7@deskmail.example"));
    assert_eq!(report.status.as_deref(), Some("5.1.1"));
    assert_eq!(
        report.diagnostic.as_deref(),
        Some("smtp; 550 5.1.1 <gone@customer.example>: Recipient address rejected: User unknown")
    );
    assert_eq!(report.recipients, vec!["gone@customer.example".to_string()]);
    assert_eq!(report.action.as_deref(), Some("failed"));
}

#[test]
fn bounce_with_auto_submitted_header_is_not_an_auto_reply() {
    let classification = classify_raw(RFC3464_DSN);
    assert!(classification.bounce.is_some());
    assert!(!classification.auto_reply);
    assert!(classification.is_automatic());
}

#[test]
fn rfc822_headers_dsn_takes_message_id_from_the_header_part() {
    let raw = "From: postmaster@relay.example
To: support@deskmail.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"

--R
Content-Type: text/plain

Delivery to the following recipients failed.

--R
Content-Type: message/delivery-status

Reporting-MTA: dns;relay.example

Final-Recipient: rfc822;full@customer.example
Action: failed
Status: 5.2.2

--R
Content-Type: text/rfc822-headers

From: support@deskmail.example
Subject: Re: printer
Message-Id: <reply-77@deskmail.example>
--R--
";
    let report = classify_raw(raw).bounce.expect("bounce");
    assert_eq!(report.original_message_id.as_deref(), Some("reply-77@deskmail.example"));
    assert_eq!(report.status.as_deref(), Some("5.2.2"));
    assert_eq!(report.recipients, vec!["full@customer.example".to_string()]);
}

#[test]
fn success_dsn_is_automatic_but_not_a_bounce() {
    let raw = RFC3464_DSN.replace("Action: failed", "Action: delivered").replace("Status: 5.1.1", "Status: 2.0.0");
    let classification = classify_raw(&raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}

#[test]
fn delay_dsn_is_automatic_but_not_a_bounce() {
    let raw = RFC3464_DSN.replace("Action: failed", "Action: delayed").replace("Status: 5.1.1", "Status: 4.4.1");
    let classification = classify_raw(&raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}

#[test]
fn dsn_naming_recipients_without_action_or_status_is_judged_by_its_text() {
    let raw = RFC3464_DSN.replace("Action: failed\n", "").replace("Status: 5.1.1\n", "");
    let report = classify_raw(&raw).bounce.expect("bounce");
    assert_eq!(report.recipients, vec!["gone@customer.example".to_string()]);
    assert_eq!(report.status.as_deref(), Some("5.1.1"));
}

#[test]
fn dsn_with_one_failed_recipient_among_delivered_ones_is_a_bounce() {
    let mixed = RFC3464_DSN.replace(
        "Reporting-MTA: dns; mx.deskmail.example\n",
        "Reporting-MTA: dns; mx.deskmail.example\n\nFinal-Recipient: rfc822; ok@customer.example\nAction: delivered\nStatus: 2.0.0\n",
    );
    let report = classify_raw(&mixed).bounce.expect("bounce");
    assert_eq!(report.recipients, vec!["gone@customer.example".to_string()]);
}

#[test]
fn challenge_response_dsn_is_automatic_but_not_a_bounce() {
    let raw = RFC3464_DSN.replace(
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: Recipient address\n    rejected: User unknown",
        "Diagnostic-Code: X-Boxbe-Notice; Sender not pre-approved.",
    );
    let classification = classify_raw(&raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}

#[test]
fn feedback_report_is_automatic_but_not_a_bounce() {
    let raw = "From: postmaster@isp.example
To: abuse@deskmail.example
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"

--F
Content-Type: text/plain

This is an email abuse report. The message could not be delivered is not the point.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: isp-fbl/1.0
Version: 1

--F--
";
    let classification = classify_raw(raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}

#[test]
fn empty_message_classifies_as_nothing() {
    assert_eq!(super::super::classify(&mail_parser::Message::default()), super::Classification::default());
}
