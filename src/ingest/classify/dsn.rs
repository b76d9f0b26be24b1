//! Parsing of `message/delivery-status` bodies (RFC 3464 §2) into per-recipient records.
//!
//! Real MTAs bend the format (blank lines inside a recipient block, missing blank lines between
//! blocks, non-standard Action values), so records are split on repeated fields, not on blank lines.

use std::sync::LazyLock;

use regex::Regex;

use super::phrases::compile;

/// What one per-recipient block of a delivery-status report says.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct RecipientStatus {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    /// Normalised to failed | delayed | delivered | relayed | expanded when recognisable.
    pub action: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

impl RecipientStatus {
    /// The address this block is about, preferring Final-Recipient.
    pub fn recipient(&self) -> Option<&str> {
        self.final_recipient.as_deref().or(self.original_recipient.as_deref())
    }

    /// Whether this block reports a failure, judged by Action, else by the status class.
    pub fn is_failure(&self) -> bool {
        match self.action.as_deref() {
            Some(action) => action == "failed",
            None => self.status.as_deref().is_some_and(|status| status.starts_with('5')),
        }
    }

    /// Whether the block says what happened at all (an Action or a Status).
    pub fn has_outcome(&self) -> bool {
        self.action.is_some() || self.status.is_some()
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Splits a delivery-status body into per-recipient records; per-message fields are ignored.
pub(super) fn parse(text: &str) -> Vec<RecipientStatus> {
    let mut records = Vec::new();
    let mut current = RecipientStatus::default();
    for (name, value) in fields(text) {
        if starts_new_record(&current, &name) {
            records.push(std::mem::take(&mut current));
        }
        store(&mut current, &name, &value);
    }
    records.push(current);
    records.retain(|record| !record.is_empty());
    records
}

fn starts_new_record(current: &RecipientStatus, name: &str) -> bool {
    match name {
        "original-recipient" => current.original_recipient.is_some() || current.final_recipient.is_some(),
        "final-recipient" => current.final_recipient.is_some(),
        "action" => current.action.is_some(),
        "status" => current.status.is_some(),
        _ => false,
    }
}

fn store(record: &mut RecipientStatus, name: &str, value: &str) {
    match name {
        "final-recipient" => record.final_recipient = address_of(value),
        "original-recipient" => record.original_recipient = address_of(value),
        "action" => record.action = normalise_action(value),
        "status" => record.status = status_code(value),
        "diagnostic-code" if !value.is_empty() => record.diagnostic = Some(value.to_string()),
        _ => {}
    }
}

/// `(lower-case name, unfolded value)` for every header-style field line.
fn fields(text: &str) -> Vec<(String, String)> {
    static FIELD: LazyLock<Regex> = LazyLock::new(|| compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$"));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some(caps) = FIELD.captures(line) {
            fields.push((caps[1].to_ascii_lowercase(), caps[2].trim().to_string()));
        }
    }
    fields
}

/// `rfc822; <user@example.com>` → `user@example.com`.
pub(super) fn address_of(value: &str) -> Option<String> {
    let address = value.split_once(';').map_or(value, |(_, address)| address);
    let address = address.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!address.is_empty() && address.contains('@')).then(|| address.to_string())
}

fn normalise_action(value: &str) -> Option<String> {
    let word = value.split(|c: char| !c.is_ascii_alphabetic()).find(|w| !w.is_empty())?;
    let action = match word.to_ascii_lowercase().as_str() {
        "failed" | "failure" | "fail" | "expired" | "bounced" | "undeliverable" | "rejected" | "error" => "failed",
        "delayed" | "delay" | "deferred" | "retry" | "warning" | "transient" => "delayed",
        "delivered" | "deliverable" | "success" | "sent" => "delivered",
        "relayed" => "relayed",
        "expanded" => "expanded",
        _ => return None,
    };
    Some(action.to_string())
}

/// The first enhanced status code (RFC 3463, `class.subject.detail`) in `text`.
pub(super) fn status_code(text: &str) -> Option<String> {
    static CODE: LazyLock<Regex> = LazyLock::new(|| compile(r"(^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})($|[^0-9])"));
    CODE.captures_iter(text)
        .filter(|caps| !followed_by_dot_digit(text, caps.get(3).map_or(text.len(), |m| m.start())))
        .map(|caps| caps[2].to_string())
        .next()
}

// "5.5.2657.72" is an Exchange version, not a status code.
fn followed_by_dot_digit(text: &str, at: usize) -> bool {
    let rest = text.as_bytes().get(at..).unwrap_or_default();
    rest.first() == Some(&b'.') && rest.get(1).is_some_and(u8::is_ascii_digit)
}
