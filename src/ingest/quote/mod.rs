//! Reply quote stripping: the new part of a reply, apart from quoted history and signature.
//!
//! The text is split into lines, each line is classified (`classify`), and `layout` decides which
//! lines the sender actually typed for this reply. Everything else is handed back as `quoted`, so
//! the full message is never lost. Rules lean towards keeping text: a line is only dropped on a
//! strong signal (an attribution, a header block, a signature delimiter, a trailing quote).

mod attribution;
mod classify;
mod header_block;
mod layout;
mod signature;

#[cfg(test)]
mod tests;

/// A reply split into what the sender wrote now and what was removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplySplit {
    /// The new, visible part of the reply, trimmed.
    pub visible: String,
    /// Everything removed (quoted history, attribution lines, signature), trimmed;
    /// `None` when nothing but whitespace was removed.
    pub quoted: Option<String>,
}

/// Splits a plain-text reply into its new part and the removed quote/signature part.
/// Accepts any line endings (CRLF, CR, LF); never panics.
pub fn split_reply(text: &str) -> ReplySplit {
    let normalized = normalize_line_endings(text);
    let lines: Vec<&str> = normalized.split('\n').collect();
    let kinds = classify::classify(&lines);
    let keep = layout::visible_lines(&lines, &kinds);
    // Lines holding only invisible characters are output empty so trimming removes them.
    let lines: Vec<&str> =
        lines.iter().zip(&kinds).map(|(l, k)| if *k == classify::Kind::Blank { "" } else { l }).collect();
    let visible = join_where(&lines, &keep, true);
    let removed = join_where(&lines, &keep, false);
    ReplySplit { visible, quoted: (!removed.is_empty()).then_some(removed) }
}

/// The new, visible part of a plain-text reply (`split_reply(text).visible`).
pub fn visible_text(text: &str) -> String {
    split_reply(text).visible
}

/// Compiles one of this module's patterns. They are big case-insensitive Unicode alternations, so
/// the lazy DFA gets a larger cache than the default: with the default it gives up on them and
/// matching falls back to much slower engines. Patterns are constants, so failure is a bug.
fn compile(pattern: &str) -> regex::Regex {
    regex::RegexBuilder::new(pattern)
        .dfa_size_limit(4 << 20)
        .build()
        .unwrap_or_else(|e| panic!("invalid built-in quote pattern: {e}"))
}

/// Turns CRLF and lone CR into LF and drops a leading byte-order mark.
fn normalize_line_endings(text: &str) -> String {
    text.trim_start_matches('\u{feff}').replace("\r\n", "\n").replace('\r', "\n")
}

/// Joins the lines whose `keep` flag equals `wanted`, trimmed as a whole.
fn join_where(lines: &[&str], keep: &[bool], wanted: bool) -> String {
    let picked: Vec<&str> = lines.iter().zip(keep).filter(|&(_, &k)| k == wanted).map(|(line, _)| *line).collect();
    picked.join("\n").trim().to_owned()
}
