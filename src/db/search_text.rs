//! PostgreSQL's search document of a message, computed here rather than by the server: the words of the message's
//! indexed text, split and lowercased by the query side's rule, as a `tsvector` literal without positions. (The
//! server's parser splits differently — `4e7b2c` is `4e7` and `b2c` to it —, so queries are `tsquery` literals too,
//! never `to_tsquery`: `ticket_filter::match_expr`.)
//!
//! Searches are prefix matches of every term (`term:*` joined by `&`), so positions are never read; leaving them
//! out, and splitting and lowercasing here with the same rules as the query side (`ticket_filter::search_terms`),
//! takes the regular expression and the text parser off every insert (they cost the server ~0.2 ms per message).

use std::collections::HashSet;

/// How much of a body is indexed, in characters (as SQLite's index trigger and the former generated column).
pub const BODY_INDEXED_CHARS: usize = 262_144;

/// The longest lexeme a `tsvector` holds, in bytes; the server skips longer words too.
const MAX_LEXEME_BYTES: usize = 2047;

/// The words of a message's subject, first [`BODY_INDEXED_CHARS`] of its body, sender address and name: runs of
/// letters and digits, lowercased, each once, as a `tsvector` literal (`'word' 'other'`; empty for no words).
pub fn search_document(subject: &str, body_text: &str, from_addr: &str, from_name: &str) -> String {
    let body = match body_text.char_indices().nth(BODY_INDEXED_CHARS) {
        Some((end, _)) => &body_text[..end],
        None => body_text,
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = String::with_capacity(subject.len() + body.len() / 2 + 64);
    for part in [subject, body, from_addr, from_name] {
        for word in part.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let word = word.to_lowercase();
            if word.len() > MAX_LEXEME_BYTES || seen.contains(&word) {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            // Only letters, digits and (after lowercasing) combining marks: nothing to escape inside the quotes.
            out.push('\'');
            out.push_str(&word);
            out.push('\'');
            seen.insert(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_lowercased_and_kept_once() {
        let doc = search_document(
            "Lampe kaputt!",
            "Die LAMPE ist kaputt, Bestellung #A-1042.",
            "anna@mail.example",
            "Anna Meyer",
        );
        assert_eq!(doc, "'lampe' 'kaputt' 'die' 'ist' 'bestellung' 'a' '1042' 'anna' 'mail' 'example' 'meyer'");
    }

    #[test]
    fn non_ascii_letters_are_words_and_lowercased() {
        assert_eq!(search_document("Größe ÄRGER", "naïve café", "", ""), "'größe' 'ärger' 'naïve' 'café'");
    }

    #[test]
    fn no_words_is_the_empty_document() {
        assert_eq!(search_document("", "--- !!! ...", "", ""), "");
    }

    #[test]
    fn quotes_and_backslashes_never_reach_the_literal() {
        let doc = search_document("it's", "back\\slash 'quoted'", "", "");
        assert_eq!(doc, "'it' 's' 'back' 'slash' 'quoted'");
    }

    #[test]
    fn only_the_first_256_kib_of_the_body_is_indexed() {
        let body = format!("{} tail", "x".repeat(BODY_INDEXED_CHARS - 1));
        assert!(!search_document("", &body, "", "").contains("tail"));
        let body = format!("{} tail", "x".repeat(BODY_INDEXED_CHARS - 6));
        assert!(search_document("", &body, "", "").contains("'tail'"));
    }

    #[test]
    fn overlong_words_are_left_out() {
        let long = "a".repeat(MAX_LEXEME_BYTES + 1);
        assert_eq!(search_document(&long, "short", "", ""), "'short'");
    }
}
