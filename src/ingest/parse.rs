//! MIME parsing with mail-parser into an owned `ParsedMail` (the only module that knows mail-parser's API besides the classifier).

use super::classify::{Classification, classify};
use crate::domain::{DisplayName, EmailAddress, NamedAddress};
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// One attachment or inline part, decoded.
#[derive(Debug, Clone)]
pub struct ParsedAttachment {
    pub filename: String,
    pub content_type: String,
    pub content_id: Option<String>,
    pub inline: bool,
    pub data: Vec<u8>,
}

/// Everything the pipeline needs from a message, owned and free of NUL bytes.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    pub from: Option<NamedAddress>,
    pub sender_header: Option<NamedAddress>,
    pub to: Vec<NamedAddress>,
    pub cc: Vec<NamedAddress>,
    pub reply_to: Vec<NamedAddress>,
    /// Envelope recipients left by the delivering server (Delivered-To, X-Original-To, Envelope-To).
    pub envelope_to: Vec<EmailAddress>,
    pub subject: String,
    pub date: Option<i64>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachments: Vec<ParsedAttachment>,
    pub x_loop: Vec<String>,
    pub authentication_results: Vec<String>,
    pub has_headers: bool,
    pub classification: Classification,
}

/// Parses raw RFC 5322 bytes. Never panics; a message mail-parser cannot read at all yields `None`.
pub fn parse(raw: &[u8]) -> Option<ParsedMail> {
    match repaired(raw) {
        Some(fixed) => parse_bytes(&fixed),
        None => parse_bytes(raw),
    }
}

/// Bytes with two damages undone that hide every header from mail-parser: CR-only (old Mac) line
/// endings and blank lines before the first header field. The stored raw message stays untouched.
fn repaired(raw: &[u8]) -> Option<Vec<u8>> {
    let head = &raw[..raw.len().min(4096)];
    if head.contains(&b'\r') && !head.contains(&b'\n') {
        return Some(raw.iter().map(|&b| if b == b'\r' { b'\n' } else { b }).collect());
    }
    let trimmed = raw.trim_ascii_start();
    let looks_like_header = trimmed
        .iter()
        .take(80)
        .position(|&b| b == b':')
        .is_some_and(|i| i > 0 && trimmed[..i].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'));
    (trimmed.len() < raw.len() && looks_like_header).then(|| trimmed.to_vec())
}

fn parse_bytes(raw: &[u8]) -> Option<ParsedMail> {
    let msg = MessageParser::default().parse(raw)?;
    let classification = classify(&msg);
    let from = first_person(msg.from())
        .or_else(|| first_person(msg.sender()))
        .or_else(|| first_person(msg.reply_to()))
        .or_else(|| return_path(&msg));
    let stray = stray_text(&msg);
    Some(ParsedMail {
        from,
        sender_header: first_person(msg.sender()),
        to: people(msg.to()),
        cc: people(msg.cc()),
        reply_to: people(msg.reply_to()),
        envelope_to: envelope_recipients(&msg),
        subject: clean(msg.subject().unwrap_or_default()).trim().to_string(),
        date: msg.date().map(|d| d.to_timestamp()),
        message_id: msg.message_id().and_then(clean_id),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        body_text: bounded_text(match msg.body_text(0) {
            Some(text) => clean(&text),
            None => stray.as_ref().map(|(_, text)| clean(text)).unwrap_or_default(),
        }),
        body_html: html_body(&msg),
        attachments: attachments(&msg, stray.map(|(i, _)| i)),
        x_loop: raw_values(&msg, "X-Loop"),
        authentication_results: raw_values(&msg, "Authentication-Results"),
        has_headers: !msg.headers().is_empty(),
        classification,
    })
}

/// Text kept of a body: a megabyte is far more than anyone reads in a ticket, and a huge body would slow every
/// page showing it. The raw message keeps all of it.
const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// Said where a body was cut at [`MAX_TEXT_BYTES`].
const TEXT_CUT_NOTE: &str = "\n\n[… the rest of this long message is in the original message, which can be downloaded]";

/// The body text, cut at [`MAX_TEXT_BYTES`] on a character boundary, with a note.
fn bounded_text(mut text: String) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(TEXT_CUT_NOTE);
    text
}

/// Removes NUL bytes, which PostgreSQL text cannot hold.
pub fn clean(s: &str) -> String {
    if s.contains('\0') { s.replace('\0', "") } else { s.to_string() }
}

/// A Message-ID without brackets and space; `None` when nothing is left.
pub fn clean_id(id: &str) -> Option<String> {
    let id = clean(id.trim().trim_start_matches('<').trim_end_matches('>').trim());
    (!id.is_empty() && id.len() <= 998 && !id.contains(char::is_whitespace)).then_some(id)
}

fn people(addr: Option<&Address<'_>>) -> Vec<NamedAddress> {
    let Some(addr) = addr else { return Vec::new() };
    addr.iter()
        .filter_map(|a| {
            let email = EmailAddress::parse(a.address()?).ok()?;
            Some(NamedAddress { email, name: DisplayName::new(a.name().unwrap_or_default()) })
        })
        .collect()
}

fn first_person(addr: Option<&Address<'_>>) -> Option<NamedAddress> {
    people(addr).into_iter().next()
}

/// The envelope sender, when From, Sender and Reply-To give no usable address.
fn return_path(msg: &Message<'_>) -> Option<NamedAddress> {
    let value = raw_values(msg, "Return-Path").into_iter().next()?;
    Some(NamedAddress { email: EmailAddress::parse(&value).ok()?, name: DisplayName::default() })
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    ids.into_iter().filter_map(clean_id).take(100).collect()
}

fn raw_values(msg: &Message<'_>, name: &str) -> Vec<String> {
    msg.headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| clean(&v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

fn envelope_recipients(msg: &Message<'_>) -> Vec<EmailAddress> {
    ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"]
        .iter()
        .flat_map(|name| raw_values(msg, name))
        .flat_map(|v| v.split([',', ' ']).map(str::to_string).collect::<Vec<_>>())
        .filter_map(|v| EmailAddress::parse(&v).ok())
        .collect()
}

fn html_body(msg: &Message<'_>) -> Option<String> {
    let id = *msg.html_body.first()?;
    let part = msg.parts.get(id as usize)?;
    match &part.body {
        PartType::Html(html) => Some(clean(html)),
        _ => None,
    }
}

/// A message without a text or HTML body whose text mail-parser filed as an attachment (a multipart whose closing
/// boundary is missing): its position among the attachments and its text, which becomes the body.
fn stray_text<'a>(msg: &'a Message<'_>) -> Option<(usize, &'a str)> {
    if !msg.text_body.is_empty() || !msg.html_body.is_empty() {
        return None;
    }
    msg.attachments().enumerate().find_map(|(i, part)| {
        let attached = part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
        match &part.body {
            PartType::Text(text) if part.attachment_name().is_none() && !attached => Some((i, text.as_ref())),
            _ => None,
        }
    })
}

fn attachments(msg: &Message<'_>, body_part: Option<usize>) -> Vec<ParsedAttachment> {
    msg.attachments()
        .enumerate()
        .filter(|(i, _)| Some(*i) != body_part)
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let data = match &part.body {
                PartType::Message(inner) => inner.raw_message().to_vec(),
                _ => part.contents().to_vec(),
            };
            ParsedAttachment {
                filename: attachment_name(part.attachment_name(), &content_type, i),
                inline: part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline")),
                content_id: part.content_id().and_then(clean_id),
                content_type,
                data,
            }
        })
        .collect()
}

fn attachment_name(given: Option<&str>, content_type: &str, index: usize) -> String {
    crate::domain::file_name::file_name(&clean(given.unwrap_or_default()), content_type, index)
}

/// The raw header block (up to the first empty line), for quarantine display; at most 64 KiB.
pub fn header_block(raw: &[u8]) -> String {
    let end = find_subslice(raw, b"\r\n\r\n").or_else(|| find_subslice(raw, b"\n\n")).unwrap_or(raw.len());
    let end = end.min(64 * 1024);
    clean(&String::from_utf8_lossy(&raw[..end]))
}

fn find_subslice(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
