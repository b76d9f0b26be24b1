//! `DisplayName` and `NamedAddress`: the name and address of a sender or recipient, safe in any mail header.

use super::EmailAddress;
use serde::Serialize;

/// Longest display name kept, in characters (RFC 5322 sets no limit; a header line should stay readable).
const MAX_NAME_CHARS: usize = 200;

/// A display name with no control characters (CR, LF, NUL, DEL, C1), no bidirectional overrides and no runs of
/// white space: whatever it came from (a decoded RFC 2047 word, a form, the API), it can never break a header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Cleans `raw`: control and invisible formatting characters become spaces, runs of white space one space,
    /// surrounding space and quotes go, and the result is cut at 200 characters. Never fails.
    pub fn new(raw: &str) -> Self {
        let mut out = String::with_capacity(raw.len().min(MAX_NAME_CHARS * 4));
        let (mut pending_space, mut kept) = (false, 0);
        for c in raw.chars() {
            if c.is_control() || c.is_whitespace() || is_format_control(c) {
                pending_space = !out.is_empty();
                continue;
            }
            if kept >= MAX_NAME_CHARS {
                break;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
            kept += 1;
        }
        let trimmed = out.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
        Self(trimmed.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name, or `fallback` when it is empty.
    pub fn or<'a>(&'a self, fallback: &'a str) -> &'a str {
        if self.0.is_empty() { fallback } else { &self.0 }
    }
}

/// Bidirectional embeddings, overrides and isolates, and the line/paragraph separators: invisible characters
/// that make a name display differently from what it is.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for DisplayName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for DisplayName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for DisplayName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl From<&str> for DisplayName {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for DisplayName {
    fn from(s: String) -> Self {
        Self::new(&s)
    }
}

/// A sender or recipient: a valid address and a clean display name (RFC 5322 `name-addr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NamedAddress {
    pub email: EmailAddress,
    pub name: DisplayName,
}

impl NamedAddress {
    /// An address with the given (cleaned) name.
    pub fn new(email: EmailAddress, name: impl Into<DisplayName>) -> Self {
        Self { email, name: name.into() }
    }

    /// Parses an address and cleans the name; `Err` when the address is not valid.
    pub fn parse(email: &str, name: &str) -> Result<Self, String> {
        Ok(Self { email: EmailAddress::parse(email)?, name: DisplayName::new(name) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_survive() {
        for raw in ["Evil\r\nBcc: x@y", "Evil\rBcc", "Evil\nBcc", "Ev\0il", "E\u{7f}vil", "E\u{85}vil", "Evil\u{2028}x"]
        {
            let name = DisplayName::new(raw);
            assert!(!name.chars().any(|c| c.is_control() || c == '\u{2028}'), "{raw:?} → {name:?}");
        }
        assert_eq!(DisplayName::new("Evil\r\nBcc: x@y").as_str(), "Evil Bcc: x@y");
    }

    #[test]
    fn names_are_trimmed_collapsed_and_bounded() {
        assert_eq!(DisplayName::new("  \"Ana   López\"  ").as_str(), "Ana López");
        assert_eq!(DisplayName::new("\u{202e}gnp.exe").as_str(), "gnp.exe");
        assert_eq!(DisplayName::new(&"x".repeat(1000)).chars().count(), 200);
        assert!(DisplayName::new("\r\n\t").is_empty());
        assert_eq!(DisplayName::new("").or("fallback"), "fallback");
    }

    #[test]
    fn named_addresses_need_a_valid_address() {
        let a = NamedAddress::parse("Ana@Example.TEST", "Ana\nLópez").unwrap();
        assert_eq!((a.email.as_str(), a.name.as_str()), ("ana@example.test", "Ana López"));
        assert!(NamedAddress::parse("not an address", "x").is_err());
    }
}
