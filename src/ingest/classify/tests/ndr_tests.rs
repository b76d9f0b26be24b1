//! Non-standard NDRs (qmail, Exchange, Exim) and look-alikes that must not count as bounces.

use super::{classify_raw, plain_mail};

#[test]
fn qmail_plain_bounce_is_read_from_its_text() {
    let raw = "From: MAILER-DAEMON@mail.customer.example
To: support@deskmail.example
Subject: failure notice

Hi. This is the qmail-send program at mail.customer.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@customer.example>:
192.0.2.7 does not like recipient.
Remote host said: 550 5.1.1 <nobody@customer.example>... User unknown
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

Return-Path: <support@deskmail.example>
From: support@deskmail.example
To: nobody@customer.example
Subject: [#9] Answer
Message-ID: <answer-9@deskmail.example>

Hello.
";
    let report = classify_raw(raw).bounce.expect("bounce");
    assert_eq!(report.recipients, vec!["nobody@customer.example".to_string()]);
    assert_eq!(report.status.as_deref(), Some("5.1.1"));
    assert_eq!(report.original_message_id.as_deref(), Some("answer-9@deskmail.example"));
    assert_eq!(report.action.as_deref(), Some("failed"));
}

#[test]
fn exchange_ndr_without_report_part_is_a_bounce() {
    let raw = "From: System Administrator <postmaster@corp.example>
To: support@deskmail.example
Subject: Undeliverable: [#31] Invoice question
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"X\"

--X
Content-Type: text/plain

Your message did not reach some or all of the intended recipients.

      Subject:  [#31] Invoice question

The following recipient(s) cannot be reached:

      j.doe@corp.example on 3/3/2025 10:02 AM
            The e-mail account does not exist at the organization this message was sent to.
            <mx1.corp.example #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>

--X
Content-Type: message/rfc822

From: support@deskmail.example
To: j.doe@corp.example
Subject: [#31] Invoice question
Message-ID: <t31-2@deskmail.example>

Hi
--X--
";
    let report = classify_raw(raw).bounce.expect("bounce");
    assert_eq!(report.status.as_deref(), Some("5.1.1"));
    assert_eq!(report.original_message_id.as_deref(), Some("t31-2@deskmail.example"));
    assert!(report.recipients.contains(&"j.doe@corp.example".to_string()), "{:?}", report.recipients);
}

#[test]
fn customer_mail_about_a_failed_delivery_is_not_a_bounce() {
    let raw = plain_mail(
        "",
        "Delivery failed for order 5521",
        "Hello, the delivery failed again: the parcel could not be delivered and the\n\
         courier says the address does not exist. Please check.\nAnna",
    );
    let classification = classify_raw(&raw);
    assert_eq!(classification.bounce, None);
    assert!(!classification.is_automatic());
}

#[test]
fn null_return_path_alone_is_not_a_bounce() {
    let raw = plain_mail("Return-Path: <>\n", "Question about my invoice", "Why was I charged twice?");
    assert_eq!(classify_raw(&raw).bounce, None);
}

#[test]
fn exim_failure_with_cr_only_line_endings_is_a_bounce() {
    let raw = "From: Mail Delivery System <Mailer-Daemon@mx.example>\rTo: support@deskmail.example\r\
               Subject: Mail delivery failed: returning message to sender\rX-Failed-Recipients: lost@customer.example\r\r\
               This message was created automatically by mail delivery software.\r\r\
               A message that you sent could not be delivered to one or more of its\r\
               recipients. This is a permanent error. The following address(es) failed:\r\r  lost@customer.example\r";
    let report = classify_raw(raw).bounce.expect("bounce");
    assert_eq!(report.recipients, vec!["lost@customer.example".to_string()]);
}

#[test]
fn encoded_mail_system_name_is_recognised_as_daemon() {
    let raw = "From: =?utf-8?q?Mail_Delivery_System?= <bounces@relay.example>\nTo: support@deskmail.example\n\
               Subject: Notification\n\nYour message could not be delivered to lost@customer.example.\n";
    let report = classify_raw(raw).bounce.expect("bounce");
    assert_eq!(report.recipients, vec!["lost@customer.example".to_string()]);
}
