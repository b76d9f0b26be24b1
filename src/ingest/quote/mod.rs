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

/// Lines looked at: the new part of a reply is at its top, and the work per line is bounded, so a huge body
/// costs no more than this many lines. Lines past it follow the last line looked at (kept or removed).
const MAX_LINES: usize = 20_000;
/// Bytes of the body looked at, for the same reason.
const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Only the start of a long line is classified (a quote marker, an attribution or a signature is short).
const MAX_LINE_BYTES: usize = 1000;

/// Splits a plain-text reply into its new part and the removed quote/signature part.
/// Accepts any line endings (CRLF, CR, LF); never panics; work is bounded whatever the size.
pub fn split_reply(text: &str) -> ReplySplit {
    let normalized = normalize_line_endings(text);
    let lines: Vec<&str> = normalized.split('\n').collect();
    let looked_at = lines_within_limits(&lines);
    let heads: Vec<&str> = lines[..looked_at].iter().map(|l| line_start(l)).collect();
    let mut kinds = classify::classify(&heads);
    let mut keep = layout::visible_lines(&heads, &kinds);
    let last_kept = keep.last().copied().unwrap_or(true);
    kinds.resize(lines.len(), classify::Kind::Text);
    keep.resize(lines.len(), last_kept);
    // Lines holding only invisible characters are output empty so trimming removes them.
    let lines: Vec<&str> =
        lines.iter().zip(&kinds).map(|(l, k)| if *k == classify::Kind::Blank { "" } else { l }).collect();
    let visible = join_where(&lines, &keep, true);
    let removed = join_where(&lines, &keep, false);
    ReplySplit { visible, quoted: (!removed.is_empty()).then_some(removed) }
}

/// How many leading lines fit in [`MAX_LINES`] and [`MAX_BYTES`] (at least one).
fn lines_within_limits(lines: &[&str]) -> usize {
    let mut bytes = 0;
    for (i, line) in lines.iter().enumerate().take(MAX_LINES) {
        bytes += line.len() + 1;
        if bytes > MAX_BYTES {
            return i.max(1);
        }
    }
    lines.len().min(MAX_LINES)
}

/// The first [`MAX_LINE_BYTES`] of a line, cut on a character boundary.
fn line_start(line: &str) -> &str {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
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
