//! Subjects of outgoing mail: reply prefixes and ticket tags stripped, so `Re: [#N]` never stacks.

use regex::Regex;
use std::sync::LazyLock;

static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:re|aw|sv|vs|fw|fwd|wg|tr|rv|antw|odp|res|ynt|r)\s*(?:\[\d+\])?\s*[:：]|\[#\d+\])\s*")
        .expect("valid regex")
});

/// The subject without leading `Re:`/`Fwd:`/`AW:`… prefixes and `[#N]` tags; `(no subject)` when empty.
pub fn clean_subject(subject: &str) -> String {
    let mut s = subject.trim();
    while let Some(m) = PREFIX.find(s) {
        if m.end() == 0 {
            break;
        }
        s = s[m.end()..].trim_start();
    }
    if s.is_empty() { "(no subject)".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::clean_subject;

    #[test]
    fn prefixes_and_tags_do_not_stack() {
        assert_eq!(clean_subject("Re: RE: [#1042] Fwd: AW: Lamp broken"), "Lamp broken");
        assert_eq!(clean_subject("Re[2]: Lamp"), "Lamp");
        assert_eq!(clean_subject("Retour: colis"), "Retour: colis");
        assert_eq!(clean_subject("  "), "(no subject)");
        assert_eq!(clean_subject("Réclamation 日本語"), "Réclamation 日本語");
    }
}
