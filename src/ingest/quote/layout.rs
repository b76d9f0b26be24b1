//! Which lines are the new reply: top-posted, bottom-posted, inline answers, trailing quotes, signatures.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::classify::Kind;
use super::compile;

/// A text line ending in a colon that names a date or address, right above a trailing quote:
/// an attribution in a format we do not know.
static UNKNOWN_ATTRIBUTION: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?:@[\w\-]+\.\w|(?:^|\D)(?:19|20)\d{2}(?:\D|$)|\d{1,2}:\d{2}).*[:：]\s*$"));

/// Which lines to keep as the visible reply.
pub fn visible_lines(lines: &[&str], kinds: &[Kind]) -> Vec<bool> {
    let mut keep = vec![false; kinds.len()];
    let mut end = signature_cut(kinds);
    let Some(start) = reply_start(kinds, end) else {
        return keep;
    };
    let mut dropped: Vec<Range<usize>> = Vec::new();
    let mut pos = start;
    while let Some(header) = (pos..end).find(|&i| kinds[i] == Kind::Header) {
        match quoted_history_after(kinds, header, end) {
            QuotedHistory::Inline { header_end } => {
                dropped.push(header..header_end);
                pos = header_end;
            }
            QuotedHistory::Embedded { quote_end } => {
                dropped.push(header..quote_end);
                pos = quote_end;
            }
            QuotedHistory::ToTheEnd => {
                end = back_over(kinds, start, header, |k| matches!(k, Kind::Blank | Kind::Rule));
                break;
            }
        }
    }
    end = trailing_quote_cut(lines, kinds, start, end);
    keep[start..end].iter_mut().for_each(|k| *k = true);
    for range in dropped {
        keep[range].iter_mut().for_each(|k| *k = false);
    }
    keep
}

/// How the quoted history introduced by a header relates to the text around it.
enum QuotedHistory {
    /// The sender answers between quoted parts: only the header goes, the quotes are context.
    Inline { header_end: usize },
    /// A `>` quote followed by more text from the sender: header and quote go, the text stays.
    Embedded { quote_end: usize },
    /// Everything from the header on is history (unprefixed quote, forward, trailing `>` quote).
    ToTheEnd,
}

/// Classifies the history that starts with the header at `header`.
fn quoted_history_after(kinds: &[Kind], header: usize, end: usize) -> QuotedHistory {
    let header_end = run_end(kinds, header, |k| k == Kind::Header).min(end);
    let quote_start = run_end(kinds, header_end, |k| k == Kind::Blank).min(end);
    if quote_start >= end || kinds[quote_start] != Kind::Quoted {
        return QuotedHistory::ToTheEnd;
    }
    let quote_end = run_end(kinds, quote_start, |k| matches!(k, Kind::Quoted | Kind::Blank | Kind::Rule)).min(end);
    if quote_end >= end || kinds[quote_end] != Kind::Text {
        return QuotedHistory::ToTheEnd;
    }
    let section_end = (quote_end..end).find(|&i| kinds[i] == Kind::Header).unwrap_or(end);
    if (quote_end..section_end).any(|i| kinds[i] == Kind::Quoted) {
        QuotedHistory::Inline { header_end }
    } else {
        QuotedHistory::Embedded { quote_end }
    }
}

/// Index of the first signature delimiter or mobile signature: nothing below it is the reply.
fn signature_cut(kinds: &[Kind]) -> usize {
    kinds.iter().position(|&k| matches!(k, Kind::SignatureDelimiter | Kind::MobileSignature)).unwrap_or(kinds.len())
}

/// Where the reply starts, or `None` when the message holds nothing but quoted history.
/// A reply that opens with an attribution and its quote is bottom-posted: the reply follows it
/// (unless the sender answers between quoted parts, then only the attribution goes).
/// A reply that opens with a bare `>` quote keeps it when text follows (it cites what it answers).
fn reply_start(kinds: &[Kind], end: usize) -> Option<usize> {
    let first = (0..end).find(|&i| kinds[i] != Kind::Blank)?;
    // A rule above the first header is part of that header ("-----\nFrom: …").
    let first_content = run_end(kinds, first, |k| matches!(k, Kind::Blank | Kind::Rule)).min(end);
    let has_text_from = |from: usize| (from..end).any(|i| kinds[i] == Kind::Text);
    match kinds.get(first_content) {
        Some(Kind::Header) => match quoted_history_after(kinds, first_content, end) {
            QuotedHistory::Inline { header_end } => Some(header_end),
            _ => {
                let history = |k| matches!(k, Kind::Header | Kind::Quoted | Kind::Blank | Kind::Rule);
                let after = run_end(kinds, first_content, history);
                has_text_from(after).then_some(after)
            }
        },
        Some(Kind::Quoted) if first_content == first => has_text_from(first).then_some(first),
        _ => Some(first),
    }
}

/// Drops a `>` quote that ends the reply (with blank lines and rules around it), and the
/// unrecognized attribution line right above it, when some text stays.
fn trailing_quote_cut(lines: &[&str], kinds: &[Kind], start: usize, end: usize) -> usize {
    let is_quote_tail = |k: Kind| matches!(k, Kind::Quoted | Kind::Blank | Kind::Rule);
    let cut = back_over(kinds, start, end, is_quote_tail);
    let removes_a_quote = (cut..end).any(|i| kinds[i] == Kind::Quoted);
    if !removes_a_quote || !(start..cut).any(|i| kinds[i] == Kind::Text) {
        return end;
    }
    let above = cut - 1;
    if kinds[above] == Kind::Text && UNKNOWN_ATTRIBUTION.is_match(lines[above]) {
        let with_attribution = back_over(kinds, start, above, |k| k == Kind::Blank);
        if (start..with_attribution).any(|i| kinds[i] == Kind::Text) {
            return with_attribution;
        }
    }
    cut
}

/// Index just past the run of lines from `from` whose kind satisfies `pred`.
fn run_end(kinds: &[Kind], from: usize, pred: impl Fn(Kind) -> bool) -> usize {
    (from..kinds.len()).find(|&i| !pred(kinds[i])).unwrap_or(kinds.len())
}

/// Moves `end` back over lines whose kind satisfies `pred`, never before `start`.
fn back_over(kinds: &[Kind], start: usize, end: usize, pred: impl Fn(Kind) -> bool) -> usize {
    let mut i = end;
    while i > start && pred(kinds[i - 1]) {
        i -= 1;
    }
    i
}
