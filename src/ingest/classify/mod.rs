//! Classification of inbound mail: bounce, auto-reply, mailing list, spam.
//!
//! [`classify`] looks at one parsed message and says whether it reports a delivery failure (with
//! the details a ticket needs to find the message that bounced), whether it is some other
//! automatic mail that must never get an acknowledgement, whether it came through a list, and
//! whether an upstream filter flagged it as spam. It never panics, whatever the input.
//!
//! - Bounce: a delivery-status report with a failed recipient, or a non-standard NDR (a mail
//!   system sender such as MAILER-DAEMON or postmaster whose notice states a failure); see
//!   `bounce`. Reports of success or delay, ARF complaints and read receipts are automatic mail,
//!   not bounces. A null Return-Path alone proves nothing.
//! - Auto-reply: RFC 3834 `Auto-Submitted`, vendor headers, `Precedence`, out-of-office subjects
//!   in common languages, challenge-response requests; see `auto_reply`.
//! - Mailing list: list headers, including `List-Unsubscribe`; see `mailing_list`.

mod auto_reply;
mod body;
mod bounce;
mod dsn;
mod headers;
mod mailing_list;
mod ndr;
mod original;
mod phrases;
mod report;
mod sender;
mod ses;
mod spam;
#[cfg(test)]
mod tests;

use mail_parser::{Message, MessageParser};

use self::bounce::Verdict;
use self::report::ReportKind;

/// What kind of inbound mail a message is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification {
    /// Set when the message reports that delivery of an earlier message failed.
    pub bounce: Option<BounceReport>,
    /// Automatic mail that is not a failure report: RFC 3834 and vendor auto-replies,
    /// out-of-office, challenge-response, read receipts (MDN), abuse reports (ARF), and
    /// delivery reports of success or delay.
    pub auto_reply: bool,
    /// Sent through a mailing list or other bulk distribution (`List-Id`, `List-Unsubscribe` …).
    pub mailing_list: bool,
    /// Flagged by an upstream spam filter (`X-Spam-Flag: YES`, `X-Spam-Status: Yes`).
    pub spam: bool,
}

/// The details of a delivery failure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BounceReport {
    /// Message-ID (without `<>`) of the message that bounced, from the attached copy or its
    /// headers, or from a `Message-ID:` line quoted in the text.
    pub original_message_id: Option<String>,
    /// RFC 3463 enhanced status code, e.g. `5.1.1`.
    pub status: Option<String>,
    /// The remote server's diagnostic, e.g. `smtp; 550 5.1.1 <x@y>: Recipient address rejected`.
    pub diagnostic: Option<String>,
    /// Recipients whose delivery failed.
    pub recipients: Vec<String>,
    /// `failed` for failures found in free text; otherwise the report's Action value.
    pub action: Option<String>,
}

impl Classification {
    /// Whether the message was sent by a machine and must not be answered automatically.
    pub fn is_automatic(&self) -> bool {
        self.bounce.is_some() || self.auto_reply
    }
}

/// Classifies one inbound message.
pub fn classify(msg: &Message<'_>) -> Classification {
    let repaired = repaired_raw(msg);
    let reparsed = repaired.as_deref().and_then(|raw| MessageParser::default().parse(raw));
    classify_parsed(reparsed.as_ref().unwrap_or(msg))
}

fn classify_parsed(msg: &Message<'_>) -> Classification {
    if headers::root(msg).is_none() {
        return Classification::default();
    }
    let kind = report::kind(msg);
    let verdict = match kind {
        ReportKind::Feedback | ReportKind::Disposition => Verdict::NotFailure,
        _ => bounce::assess(msg, kind, &body::collect(msg)),
    };
    let automatic_report = verdict == Verdict::NotFailure || kind != ReportKind::None;
    let bounce = match verdict {
        Verdict::Failure(report) => Some(report),
        Verdict::NotFailure | Verdict::NotReport => None,
    };
    Classification {
        auto_reply: bounce.is_none() && (automatic_report || auto_reply::is_auto_reply(msg)),
        bounce,
        mailing_list: mailing_list::is_list_mail(msg),
        spam: spam::is_flagged(msg),
    }
}

// Two damages hide the whole header from mail-parser: CR-only (old Mac) line endings, which it
// does not treat as line breaks, and blank lines before the first header field. Such messages
// are re-parsed from repaired bytes.
fn repaired_raw(msg: &Message<'_>) -> Option<Vec<u8>> {
    let raw: &[u8] = msg.raw_message.as_ref();
    let head = raw.get(..raw.len().min(4096)).unwrap_or_default();
    if head.contains(&b'\r') && !head.contains(&b'\n') {
        return Some(raw.iter().map(|&byte| if byte == b'\r' { b'\n' } else { byte }).collect());
    }
    let header_missing = headers::root(msg).is_none_or(|root| root.headers.is_empty());
    let leading_blank = raw.first().is_some_and(u8::is_ascii_whitespace);
    (header_missing && leading_blank).then(|| raw.trim_ascii_start().to_vec())
}
