//! Who sent a message: a mail system (MAILER-DAEMON, postmaster …), a send-only machine
//! mailbox, or possibly a person.

use mail_parser::Message;

use super::{headers, phrases};

/// Whether From or Return-Path names a mail system, or there is no From and a null Return-Path.
pub(super) fn is_daemon_sender(msg: &Message<'_>) -> bool {
    let from = headers::raw_value(msg, "From");
    let return_path = headers::raw_value(msg, "Return-Path");
    let decoded_names = headers::display_names(msg, "From");
    let named_daemon = [&from, &return_path]
        .into_iter()
        .flatten()
        .map(|value| without_domains(value))
        .chain(decoded_names)
        .any(|value| phrases::is_daemon_sender(&value));
    named_daemon || (from.is_none() && return_path.as_deref().is_some_and(is_null_path))
}

// "postmaster@antivirus.example" is a daemon; "sales@mailserver-shop.example" is not.
fn without_domains(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')' | ','))
        .map(|word| word.split('@').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_null_path(value: &str) -> bool {
    value.trim().trim_start_matches('<').trim_end_matches('>').trim().is_empty()
}

/// Whether the subject starts with a reply or forward prefix (Re:, Fwd:, AW:, WG: …).
pub(super) fn is_reply_or_forward(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    ["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "rv:", "sv:", "vs:"].iter().any(|prefix| lower.starts_with(prefix))
}

/// Marks a person's mail client would not add: Auto-Submitted, a null Return-Path, a no-reply
/// sender. Needed before trusting an NDR-looking message from a non-daemon sender.
pub(super) fn has_machine_marker(msg: &Message<'_>) -> bool {
    let auto_submitted =
        headers::raw_value(msg, "Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    let null_return_path = headers::raw_value(msg, "Return-Path").is_some_and(|v| is_null_path(&v));
    let no_reply_sender =
        headers::raw_value(msg, "From").is_some_and(|v| phrases::is_no_reply_sender(&without_domains(&v)));
    auto_submitted || null_return_path || no_reply_sender
}
