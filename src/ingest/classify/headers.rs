//! Header and part look-ups on a parsed message that never panic.
//!
//! mail-parser's own accessors (`Message::header`, `subject`, `message_id` …) index `parts[0]`
//! and panic on an empty `Message::default()`; everything here goes through `parts.first()`.

use mail_parser::{ContentType, Header, HeaderValue, Message, MessagePart, MimeHeaders};

/// The top-level part, which carries the message header.
pub(super) fn root<'a, 'x>(msg: &'a Message<'x>) -> Option<&'a MessagePart<'x>> {
    msg.parts.first()
}

fn named<'a, 'x>(msg: &'a Message<'x>, name: &'a str) -> impl Iterator<Item = &'a Header<'x>> {
    root(msg)
        .map(|part| part.headers.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(move |header| header.name.as_str().eq_ignore_ascii_case(name))
}

/// The raw (undecoded, unfolded, trimmed) values of every header field called `name`.
pub(super) fn raw_values(msg: &Message<'_>, name: &str) -> Vec<String> {
    named(msg, name).map(|header| raw_text(msg, header)).collect()
}

/// The raw value of the first header field called `name`.
pub(super) fn raw_value(msg: &Message<'_>, name: &str) -> Option<String> {
    named(msg, name).next().map(|header| raw_text(msg, header))
}

/// Whether the message has a header field called `name` at all.
pub(super) fn has(msg: &Message<'_>, name: &str) -> bool {
    named(msg, name).next().is_some()
}

/// The decoded (RFC 2047) text of the first header field called `name`, else its raw text.
pub(super) fn text_value(msg: &Message<'_>, name: &str) -> Option<String> {
    let header = named(msg, name).next()?;
    match &header.value {
        HeaderValue::Text(text) => Some(text.trim().to_string()),
        HeaderValue::TextList(list) => Some(list.join(" ")),
        _ => Some(raw_text(msg, header)),
    }
}

/// The decoded display names of the addresses in the first header field called `name`.
pub(super) fn display_names(msg: &Message<'_>, name: &str) -> Vec<String> {
    let Some(HeaderValue::Address(address)) = named(msg, name).next().map(|header| &header.value) else {
        return Vec::new();
    };
    address.iter().filter_map(|addr| addr.name.as_deref()).map(str::to_string).collect()
}

/// The Subject, decoded, or "" when there is none.
pub(super) fn subject(msg: &Message<'_>) -> String {
    text_value(msg, "Subject").unwrap_or_default()
}

/// The Message-ID of a (possibly nested) message, without angle brackets.
pub(super) fn message_id(msg: &Message<'_>) -> Option<String> {
    let header = named(msg, "Message-ID").next()?;
    let id = match &header.value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.first()?.to_string(),
        _ => raw_text(msg, header),
    };
    clean_message_id(&id)
}

/// Strips whitespace and angle brackets; `None` when nothing useful is left.
pub(super) fn clean_message_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= 998 && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

fn raw_text(msg: &Message<'_>, header: &Header<'_>) -> String {
    let range = header.offset_start as usize..header.offset_end as usize;
    let bytes = msg.raw_message.get(range).unwrap_or_default();
    unfold(&String::from_utf8_lossy(bytes))
}

/// Joins folded header lines into one line (RFC 5322 §2.2.3).
pub(super) fn unfold(value: &str) -> String {
    value.split(['\r', '\n']).map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `type/subtype` of a part, lower-cased; `text/plain` when the part declares none.
pub(super) fn mime_type(part: &MessagePart<'_>) -> String {
    part.content_type().map(full_type).unwrap_or_else(|| "text/plain".to_string())
}

/// `type/subtype` of a Content-Type value, lower-cased.
pub(super) fn full_type(content_type: &ContentType<'_>) -> String {
    let subtype = content_type.subtype().unwrap_or_default();
    format!("{}/{}", content_type.ctype(), subtype).to_ascii_lowercase()
}

/// A parameter of the top-level Content-Type (e.g. `report-type`), lower-cased.
pub(super) fn root_content_type_param(msg: &Message<'_>, param: &str) -> Option<String> {
    let content_type = root(msg)?.content_type()?;
    content_type.attribute(param).map(|value| value.trim().to_ascii_lowercase())
}
