//! The content digest: sha256 of a message without the trace headers each delivery adds.

use sha2::{Digest, Sha256};

/// Headers a receiving server adds or changes per delivery; they differ between two copies of one mail.
const TRACE_HEADERS: &[&str] = &[
    "received",
    "x-received",
    "delivered-to",
    "return-path",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
    "authentication-results",
    "arc-authentication-results",
    "arc-message-signature",
    "arc-seal",
    "received-spf",
    "x-spam-status",
    "x-spam-flag",
    "x-spam-score",
    "x-spam-level",
    "x-spam-checker-version",
    "x-virus-scanned",
    "x-rspamd-queue-id",
    "x-rspamd-server",
    "x-rspamd-action",
    "status",
    "x-status",
    "x-uid",
    "x-keywords",
];

/// Sha256 hex of the message with trace headers removed and line endings normalised.
pub fn content_digest(raw: &[u8]) -> String {
    let (headers, body) = split_header(raw);
    let mut hasher = Sha256::new();
    for field in header_fields(headers) {
        if !is_trace(field) {
            hash_normalised(&mut hasher, field);
            hasher.update(b"\n");
        }
    }
    hasher.update(b"\n");
    hash_normalised(&mut hasher, body);
    hex::encode(hasher.finalize())
}

fn split_header(raw: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < raw.len() {
        let line_end = raw[i..].iter().position(|&b| b == b'\n').map(|p| i + p + 1).unwrap_or(raw.len());
        let line = &raw[i..line_end];
        if line == b"\n" || line == b"\r\n" {
            return (&raw[..i], &raw[line_end..]);
        }
        i = line_end;
    }
    (raw, &[])
}

/// Header fields with their continuation lines.
fn header_fields(headers: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < headers.len() {
        let line_end = headers[i..].iter().position(|&b| b == b'\n').map(|p| i + p + 1).unwrap_or(headers.len());
        let continues = headers.get(line_end).is_some_and(|&b| b == b' ' || b == b'\t');
        if !continues {
            fields.push(&headers[start..line_end]);
            start = line_end;
        }
        i = line_end;
    }
    fields
}

fn is_trace(field: &[u8]) -> bool {
    let name_end = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let name = String::from_utf8_lossy(&field[..name_end]).trim().to_ascii_lowercase();
    TRACE_HEADERS.contains(&name.as_str()) || name.starts_with("x-spam-")
}

fn hash_normalised(hasher: &mut Sha256, bytes: &[u8]) {
    for chunk in bytes.split(|&b| b == b'\r') {
        hasher.update(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::content_digest;

    #[test]
    fn two_deliveries_of_one_mail_share_a_digest() {
        let a = b"Received: from x by mx1\r\n\tid 1\r\nDelivered-To: support@a.test\r\nMessage-ID: <m@x>\r\nSubject: hi\r\n\r\nbody\r\n";
        let b = b"Return-Path: <c@x>\nReceived: from x by mx2\nX-Original-To: sales@a.test\nMessage-ID: <m@x>\nSubject: hi\n\nbody\n";
        assert_eq!(content_digest(a), content_digest(b));
    }

    #[test]
    fn different_mails_with_one_message_id_differ() {
        let a = b"Message-ID: <m@x>\nSubject: hi\n\nbody one\n";
        let b = b"Message-ID: <m@x>\nSubject: hi\n\nbody two\n";
        assert_ne!(content_digest(a), content_digest(b));
    }

    #[test]
    fn headerless_input_still_has_a_digest() {
        assert_eq!(content_digest(b"").len(), 64);
        assert_ne!(content_digest(b"just text"), content_digest(b"other text"));
    }
}
