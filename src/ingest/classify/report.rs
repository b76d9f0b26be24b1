//! Machine-readable reports (RFC 6522 `multipart/report`): which kind a message carries, and the
//! per-recipient fields of its delivery-status part.

use mail_parser::{Message, MessagePart};

use super::dsn::{self, RecipientStatus};
use super::headers;

/// The kind of report a message is, from its report-type or its report part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReportKind {
    /// RFC 3464 delivery-status notification (failure, delay or success).
    DeliveryStatus,
    /// RFC 5965 ARF feedback report (abuse complaint).
    Feedback,
    /// RFC 8098 message disposition notification (read receipt).
    Disposition,
    /// A `multipart/report` of some other type (TLS-RPT …).
    OtherReport,
    /// Not a report.
    None,
}

/// Classifies `msg` by its report-type parameter, else by the type of its report part.
pub(super) fn kind(msg: &Message<'_>) -> ReportKind {
    let declared = headers::root_content_type_param(msg, "report-type").map(|t| kind_of_report_type(&t));
    match declared {
        Some(ReportKind::OtherReport) | None => match msg.parts.iter().find_map(kind_of_part) {
            Some(found) => found,
            None if is_multipart_report(msg) => ReportKind::OtherReport,
            None => ReportKind::None,
        },
        Some(kind) => kind,
    }
}

fn kind_of_report_type(report_type: &str) -> ReportKind {
    if report_type.contains("delivery-status") {
        ReportKind::DeliveryStatus
    } else if report_type.contains("feedback-report") {
        ReportKind::Feedback
    } else if report_type.contains("disposition-notification") {
        ReportKind::Disposition
    } else {
        ReportKind::OtherReport
    }
}

fn kind_of_part(part: &MessagePart<'_>) -> Option<ReportKind> {
    match headers::mime_type(part).as_str() {
        "message/delivery-status" | "message/global-delivery-status" => Some(ReportKind::DeliveryStatus),
        "message/feedback-report" => Some(ReportKind::Feedback),
        "message/disposition-notification" | "message/global-disposition-notification" => Some(ReportKind::Disposition),
        _ => None,
    }
}

fn is_multipart_report(msg: &Message<'_>) -> bool {
    headers::root(msg).is_some_and(|root| headers::mime_type(root) == "multipart/report")
}

/// Whether the message itself is a report (`multipart/report`, or a bare report part), rather
/// than carrying one as an attachment.
pub(super) fn is_report_at_top(msg: &Message<'_>) -> bool {
    is_multipart_report(msg) || headers::root(msg).and_then(kind_of_part).is_some()
}

/// Per-recipient records of every delivery-status part. When there is none (broken MIME, the
/// report pasted inline as text), records are read from `full_text`, keeping only blocks that
/// name a recipient and say what happened to it.
pub(super) fn delivery_status_records(msg: &Message<'_>, full_text: &str) -> Vec<RecipientStatus> {
    let typed: Vec<RecipientStatus> = msg
        .parts
        .iter()
        .filter(|part| kind_of_part(part) == Some(ReportKind::DeliveryStatus))
        .flat_map(|part| dsn::parse(&String::from_utf8_lossy(part.contents())))
        .collect();
    if !typed.is_empty() {
        return typed;
    }
    dsn::parse(full_text)
        .into_iter()
        .filter(|record| record.recipient().is_some() && (record.action.is_some() || record.status.is_some()))
        .collect()
}
