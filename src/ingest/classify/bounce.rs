//! Deciding whether a message reports a delivery failure, and assembling its [`BounceReport`].
//!
//! Evidence, strongest first: a delivery-status report with a failed recipient; an SES bounce
//! notification; an `X-Failed-Recipients` header; a mail-system sender (MAILER-DAEMON,
//! postmaster, "Mail Delivery System" …) whose notice states a failure; an NDR subject plus
//! failure wording plus a machine marker. A null Return-Path on its own proves nothing.

use mail_parser::Message;

use super::body::BodyText;
use super::dsn::RecipientStatus;
use super::report::{self, ReportKind};
use super::sender::{has_machine_marker, is_daemon_sender, is_reply_or_forward};
use super::ses::{self, SesEvent};
use super::{BounceReport, headers, ndr, original, phrases};

/// The outcome of looking for a delivery failure.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    /// The message reports that delivery failed.
    Failure(BounceReport),
    /// A delivery report that is not a failure (success, delay, challenge-response request).
    NotFailure,
    /// Not a delivery report at all.
    NotReport,
}

/// Looks for a delivery failure in `msg`, whose report kind and text are already known.
pub(super) fn assess(msg: &Message<'_>, kind: ReportKind, body: &BodyText) -> Verdict {
    if let Some(event) = ses::event(&body.notice) {
        return ses_verdict(msg, body, event);
    }
    let from_report = kind == ReportKind::DeliveryStatus && (report::is_report_at_top(msg) || is_daemon_sender(msg));
    if !from_report && !looks_like_ndr(msg, body) {
        return Verdict::NotReport;
    }
    let records = report::delivery_status_records(msg, &body.full);
    if is_challenge(msg, body, &records) {
        return Verdict::NotFailure;
    }
    let failed: Vec<&RecipientStatus> = records.iter().filter(|record| record.is_failure()).collect();
    if !failed.is_empty() {
        return Verdict::Failure(build_report(msg, body, &failed));
    }
    // Blocks that name a recipient but no Action or Status leave the verdict to the text.
    let unknown: Vec<&RecipientStatus> = records.iter().filter(|record| !record.has_outcome()).collect();
    if unknown.len() < records.len() || is_delay_notice(msg, body) {
        return Verdict::NotFailure;
    }
    Verdict::Failure(build_report(msg, body, &unknown))
}

fn ses_verdict(msg: &Message<'_>, body: &BodyText, event: SesEvent) -> Verdict {
    match event {
        SesEvent::Other => Verdict::NotFailure,
        SesEvent::Bounce { records, original_message_id } => {
            let failed: Vec<&RecipientStatus> = records.iter().collect();
            let mut report = build_report(msg, body, &failed);
            report.original_message_id = original_message_id.or(report.original_message_id);
            Verdict::Failure(report)
        }
    }
}

/// Whether a message without a delivery-status part is a non-standard NDR (or delay warning).
fn looks_like_ndr(msg: &Message<'_>, body: &BodyText) -> bool {
    if headers::has(msg, "X-Failed-Recipients") {
        return true;
    }
    let subject = headers::subject(msg);
    let ndr_subject = phrases::is_ndr_subject(&subject) && !is_reply_or_forward(&subject);
    let failure_text = phrases::states_failure(&body.notice);
    if is_daemon_sender(msg) {
        return failure_text || ndr_subject || phrases::states_delay(&format!("{subject}\n{}", body.notice));
    }
    // A parcel carrier's "delivery failed" notice talks about parcels, not mailboxes and SMTP.
    ndr_subject && failure_text && phrases::mentions_mail_transport(&body.notice) && has_machine_marker(msg)
}

fn is_delay_notice(msg: &Message<'_>, body: &BodyText) -> bool {
    let text = format!("{}\n{}", headers::subject(msg), body.notice);
    phrases::states_delay(&text) && !phrases::states_final_failure(&text)
}

fn is_challenge(msg: &Message<'_>, body: &BodyText, records: &[RecipientStatus]) -> bool {
    let diagnostics = records.iter().filter_map(|r| r.diagnostic.as_deref()).collect::<Vec<_>>().join("\n");
    let from = headers::raw_value(msg, "From").unwrap_or_default();
    let text = format!("{from}\n{}\n{diagnostics}\n{}", headers::subject(msg), body.notice);
    phrases::is_challenge(&text)
}

fn build_report(msg: &Message<'_>, body: &BodyText, failed: &[&RecipientStatus]) -> BounceReport {
    let first_with = |field: fn(&RecipientStatus) -> Option<&String>| failed.iter().find_map(|r| field(r).cloned());
    let diagnostic = first_with(|r| r.diagnostic.as_ref()).or_else(|| ndr::diagnostic(&body.notice));
    BounceReport {
        original_message_id: original::message_id(msg, &body.full),
        status: status(first_with(|r| r.status.as_ref()), diagnostic.as_deref(), &body.notice),
        diagnostic,
        recipients: failed_recipients(msg, body, failed),
        action: Some(first_with(|r| r.action.as_ref()).unwrap_or_else(|| "failed".to_string())),
    }
}

// The report's own Status is authoritative; text is searched only when it has none, and a bare
// reply code is the last resort.
fn status(reported: Option<String>, diagnostic: Option<&str>, notice: &str) -> Option<String> {
    match reported {
        Some(reported) => Some(ndr::refine_status(reported, diagnostic)),
        None => diagnostic
            .and_then(ndr::status)
            .or_else(|| ndr::status(notice))
            .or_else(|| diagnostic.and_then(ndr::status_class_of_reply)),
    }
}

fn failed_recipients(msg: &Message<'_>, body: &BodyText, failed: &[&RecipientStatus]) -> Vec<String> {
    let mut recipients: Vec<String> = Vec::new();
    // Both forms: the Final-Recipient may be an alias's rewritten target, the Original-Recipient what we sent to.
    let named = failed.iter().flat_map(|r| [r.final_recipient.as_deref(), r.original_recipient.as_deref()]);
    for address in named.flatten() {
        if !recipients.iter().any(|seen| seen.eq_ignore_ascii_case(address)) {
            recipients.push(address.to_string());
        }
    }
    if recipients.is_empty() {
        recipients = x_failed_recipients(msg);
    }
    if recipients.is_empty() {
        recipients = ndr::recipients(&body.notice, &own_addresses(msg));
    }
    recipients
}

fn x_failed_recipients(msg: &Message<'_>) -> Vec<String> {
    headers::raw_values(msg, "X-Failed-Recipients")
        .iter()
        .flat_map(|value| value.split(','))
        .filter_map(super::dsn::address_of)
        .collect()
}

fn own_addresses(msg: &Message<'_>) -> Vec<String> {
    ["From", "To", "Return-Path", "Delivered-To"]
        .iter()
        .flat_map(|name| headers::raw_values(msg, name))
        .flat_map(|value| ndr::addresses(&value))
        .collect()
}
