//! `EmailAddress`: a syntactically valid, lower-cased address.

use serde::Serialize;

/// A validated e-mail address, stored lower-cased so lookups are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses and normalises an address (`<…>`, surrounding space and case removed).
    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim().trim_start_matches('<').trim_end_matches('>').trim();
        if trimmed.len() > 254 || !email_address::EmailAddress::is_valid(trimmed) {
            return Err(format!("{s:?} is not a valid e-mail address"));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or(&self.0)
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn addresses_are_normalised() {
        let a = EmailAddress::parse(" <Ana.Lopez@Example.COM> ").unwrap();
        assert_eq!(a.as_str(), "ana.lopez@example.com");
        assert_eq!(a.local_part(), "ana.lopez");
        assert_eq!(a.domain(), "example.com");
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["", "no-at-sign", "a@", "@b.com", "a b@c.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
