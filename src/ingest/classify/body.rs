//! The readable text of a message, split the way bounce detection needs it: the notice a mail
//! server wrote, and everything else (which may quote the returned message).

use std::sync::LazyLock;

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Message, MessagePart, PartType};
use regex::Regex;

use super::headers;
use super::phrases::compile;

// A notice longer than this is not an NDR notice; it also bounds the regex work per message.
const NOTICE_LIMIT: usize = 20_000;
const FULL_LIMIT: usize = 200_000;

/// Text of the top-level message's own parts (nested messages excluded).
#[derive(Debug, Default)]
pub(super) struct BodyText {
    /// Human-readable parts, cut where a copy of the returned message begins.
    pub notice: String,
    /// Every text part, including `text/rfc822-headers` and quoted copies.
    pub full: String,
}

/// Collects the text of `msg`'s own parts.
pub(super) fn collect(msg: &Message<'_>) -> BodyText {
    let mut readable = String::new();
    let mut full = String::new();
    for part in &msg.parts {
        let Some(text) = part_text(part) else {
            continue;
        };
        if is_readable(part) {
            push_bounded(&mut readable, &text, FULL_LIMIT);
        }
        push_bounded(&mut full, &text, FULL_LIMIT);
    }
    if full.trim().is_empty() {
        full = raw_body(msg);
        readable.clone_from(&full);
    }
    BodyText { notice: cut_notice(&readable), full }
}

fn part_text(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        PartType::Html(html) => Some(html_to_text(html)),
        _ => None,
    }
}

fn is_readable(part: &MessagePart<'_>) -> bool {
    matches!(headers::mime_type(part).as_str(), "text/plain" | "text/html")
}

fn push_bounded(out: &mut String, text: &str, limit: usize) {
    if out.len() >= limit {
        return;
    }
    let room = limit - out.len();
    let end = (0..=room.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    out.push_str(&text[..end]);
    out.push('\n');
}

// When the MIME structure is broken, mail-parser may expose no text part at all.
fn raw_body(msg: &Message<'_>) -> String {
    let Some(root) = headers::root(msg) else {
        return String::new();
    };
    let start = root.offset_body as usize;
    let bytes = msg.raw_message.get(start..).unwrap_or_default();
    let bytes = bytes.get(..FULL_LIMIT.min(bytes.len())).unwrap_or_default();
    String::from_utf8_lossy(bytes).into_owned()
}

/// The notice without the copy of the returned message that many NDRs append inline.
fn cut_notice(text: &str) -> String {
    static COPY_FOLLOWS: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?im)^[ \t>]*(?:[-=_*]{2,}[^\n]{0,40}?(?:copy of|original message|returned message|undelivered message|unsent message|rejected message|message headers|forwarded message)|(?:-+ ?)?below this line is a copy|original message follows|original message headers|(?:the )?original message is attached|message headers follow)",
        )
    });
    static QUOTED_HEADER: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?im)^[ \t>]*(?:received|return-path|message-id|dkim-signature)[ \t]*:"));
    let cut = [&*COPY_FOLLOWS, &*QUOTED_HEADER]
        .iter()
        .filter_map(|pattern| pattern.find(text).map(|m| m.start()))
        .min()
        .unwrap_or(text.len());
    let mut end = cut.min(NOTICE_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
