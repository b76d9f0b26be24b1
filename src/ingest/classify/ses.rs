//! Amazon SES event notifications delivered by mail (SNS JSON: Bounce, Complaint, Delivery),
//! either bare or wrapped as an escaped string in an SNS envelope.

use std::sync::LazyLock;

use regex::Regex;

use super::dsn::RecipientStatus;
use super::headers;
use super::phrases::compile;

/// What an SES notification reports.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SesEvent {
    /// A bounce, with one record per bounced recipient and the original Message-ID if given.
    Bounce { records: Vec<RecipientStatus>, original_message_id: Option<String> },
    /// A complaint or delivery notice: automatic, not a failure.
    Other,
}

/// Reads an SES notification from the message text, if it is one.
pub(super) fn event(text: &str) -> Option<SesEvent> {
    static TYPE: LazyLock<Regex> = LazyLock::new(|| {
        compile(r#"\\?"(?:notificationType|eventType)\\?"\s*:\s*\\?"(Bounce|Complaint|Delivery)\\?""#)
    });
    let kind = TYPE.captures(text)?;
    if &kind[1] != "Bounce" {
        return Some(SesEvent::Other);
    }
    Some(SesEvent::Bounce { records: bounced_recipients(text), original_message_id: original_message_id(text) })
}

fn bounced_recipients(text: &str) -> Vec<RecipientStatus> {
    static RECIPIENT: LazyLock<Regex> =
        LazyLock::new(|| compile(r#"\{[^{}]*\\?"emailAddress\\?"\s*:\s*\\?"([^"\\]+)\\?"[^{}]*\}"#));
    static ACTION: LazyLock<Regex> = LazyLock::new(|| compile(r#"\\?"action\\?"\s*:\s*\\?"([^"\\]+)\\?""#));
    static STATUS: LazyLock<Regex> =
        LazyLock::new(|| compile(r#"\\?"status\\?"\s*:\s*\\?"([245]\.[0-9]{1,3}\.[0-9]{1,3})\\?""#));
    static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| compile(r#"\\?"diagnosticCode\\?"\s*:\s*\\?"([^"\\]*)\\?""#));
    let capture = |re: &Regex, hay: &str| re.captures(hay).map(|caps| caps[1].to_string());
    RECIPIENT
        .captures_iter(text)
        .map(|caps| {
            let block = caps.get(0).map_or("", |m| m.as_str());
            RecipientStatus {
                final_recipient: Some(caps[1].to_string()),
                original_recipient: None,
                action: Some(capture(&ACTION, block).map_or("failed".to_string(), |a| a.to_ascii_lowercase())),
                status: capture(&STATUS, block),
                diagnostic: capture(&DIAGNOSTIC, block),
            }
        })
        .collect()
}

fn original_message_id(text: &str) -> Option<String> {
    static HEADER: LazyLock<Regex> = LazyLock::new(|| {
        compile(r#"(?i)\\?"name\\?"\s*:\s*\\?"Message-ID\\?"\s*,\s*\\?"value\\?"\s*:\s*\\?"([^"\\]+)\\?""#)
    });
    HEADER.captures(text).and_then(|caps| headers::clean_message_id(&caps[1]))
}
