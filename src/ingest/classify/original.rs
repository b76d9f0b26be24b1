//! Finding the Message-ID of the message a report is about: from an attached `message/rfc822`
//! (or `message/global`) part, a `text/rfc822-headers` part, a body part whose MIME header is
//! really the returned message's header, or a quoted header block in the text.

use std::sync::LazyLock;

use mail_parser::{HeaderValue, Message, MessagePart, PartType};
use regex::Regex;

use super::headers;
use super::phrases::compile;

/// The returned message's Message-ID, without angle brackets.
pub(super) fn message_id(msg: &Message<'_>, full_text: &str) -> Option<String> {
    let own_parts = msg.parts.iter().skip(1);
    msg.parts
        .iter()
        .find_map(attached_message_id)
        .or_else(|| {
            msg.parts.iter().filter(is_header_part).find_map(|part| quoted_message_id(header_block(&part_text(part))))
        })
        .or_else(|| own_parts.clone().find_map(part_header_message_id))
        .or_else(|| quoted_message_id(full_text))
        .or_else(|| own_parts.filter(|part| is_report_part(part)).find_map(|part| quoted_message_id(&part_text(part))))
}

// A returned message pasted without a blank line after the boundary gets its header parsed as
// the MIME header of a body part.
fn part_header_message_id(part: &MessagePart<'_>) -> Option<String> {
    let header = part.headers.iter().find(|h| h.name.as_str().eq_ignore_ascii_case("Message-ID"))?;
    match &header.value {
        HeaderValue::Text(id) => headers::clean_message_id(id),
        HeaderValue::TextList(ids) => ids.first().and_then(|id| headers::clean_message_id(id)),
        _ => None,
    }
}

// Some MTAs paste the returned header block into the delivery-status part itself.
fn is_report_part(part: &MessagePart<'_>) -> bool {
    headers::mime_type(part).starts_with("message/")
}

fn attached_message_id(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Message(nested) => headers::message_id(nested).or_else(|| nested_text_id(nested)),
        _ => None,
    }
}

// A nested message that mail-parser could not split into headers still has its raw bytes.
fn nested_text_id(nested: &Message<'_>) -> Option<String> {
    quoted_message_id(header_block(&String::from_utf8_lossy(nested.raw_message.as_ref())))
}

// The header block of a message's text: a Message-ID further down belongs to something it quotes.
fn header_block(text: &str) -> &str {
    let text = text.trim_start_matches(['\r', '\n']);
    let end = ["\r\n\r\n", "\n\n"].iter().filter_map(|blank| text.find(blank)).min().unwrap_or(text.len());
    &text[..end]
}

fn is_header_part(part: &&MessagePart<'_>) -> bool {
    let mime = headers::mime_type(part);
    mime.ends_with("rfc822-headers") || mime == "message/rfc822" || mime == "message/global"
}

fn part_text(part: &MessagePart<'_>) -> String {
    String::from_utf8_lossy(part.contents()).into_owned()
}

/// The first `Message-ID:` header line quoted in `text` (possibly indented or `>`-quoted).
pub(super) fn quoted_message_id(text: &str) -> Option<String> {
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
        compile(r"(?im)^[ \t>]*message-id[ \t]*:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>|[^<>\s]+@[^<>\s]+)")
    });
    QUOTED.captures_iter(text).find_map(|caps| headers::clean_message_id(&caps[1]))
}
