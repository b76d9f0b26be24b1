//! Line classification: what each line of a reply is (text, quote, attribution, signature …).

use super::{attribution, header_block, signature};

/// What one line of the reply is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Empty, whitespace or invisible characters only.
    Blank,
    /// Ordinary text typed by the sender.
    Text,
    /// A `>` quoted line (or supercite-style `AB>`).
    Quoted,
    /// Introduces quoted or forwarded history: attribution, "Original Message" marker, header block.
    Header,
    /// `-- ` or an underscore rule: signature or footer follows.
    SignatureDelimiter,
    /// "Sent from my iPhone" and the like.
    MobileSignature,
    /// A decorative rule such as "=====".
    Rule,
}

/// Characters some clients leave on otherwise empty lines (tracking pixels' alt text, zero-width marks).
fn is_invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1427}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}')
}

/// True for supercite-style quote prefixes such as "C>" or "JD>" (up to three capitals).
fn is_supercite_quoted(line: &str) -> bool {
    let trimmed = line.trim_start();
    let initials = trimmed.chars().take_while(|c| c.is_ascii_uppercase()).count();
    (1..=3).contains(&initials) && trimmed[initials..].starts_with('>')
}

/// Marks lines inside closed Markdown code fences (fence lines included): code is never a quote,
/// header or signature, whatever it looks like. An unclosed fence marks nothing.
fn code_lines(lines: &[&str]) -> Vec<bool> {
    let mut code = vec![false; lines.len()];
    let mut open: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with("```") {
            continue;
        }
        match open.take() {
            Some(start) => code[start..=i].iter_mut().for_each(|c| *c = true),
            None => open = Some(i),
        }
    }
    code
}

/// Classifies every line. Attributions and header blocks are found first because they may span
/// several lines (and a wrapped "<address\n>:" tail looks like a quote line).
pub fn classify(lines: &[&str]) -> Vec<Kind> {
    let blank: Vec<bool> = lines.iter().map(|l| l.chars().all(is_invisible)).collect();
    let quoted: Vec<bool> = lines.iter().map(|l| attribution::starts_quoted(l) || is_supercite_quoted(l)).collect();
    let next_nonblank = next_nonblank(&blank);
    let next_is_quoted = |i: usize| next_nonblank[i].is_some_and(|j| quoted[j]);
    let attributions = attribution::mark_attributions(lines, next_is_quoted);
    let header_blocks = header_block::mark_header_blocks(lines);
    let code = code_lines(lines);
    let mut kinds: Vec<Kind> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if blank[i] {
                Kind::Blank
            } else if code[i] {
                Kind::Text
            } else if attributions[i] || (!quoted[i] && header_blocks[i]) {
                Kind::Header
            } else if quoted[i] {
                Kind::Quoted
            } else if header_block::is_message_marker(line) || header_block::is_flattened_header_block(line) {
                Kind::Header
            } else if signature::is_signature_delimiter(line) {
                Kind::SignatureDelimiter
            } else if signature::is_mobile_signature(line) {
                Kind::MobileSignature
            } else if signature::is_rule(line) {
                Kind::Rule
            } else {
                Kind::Text
            }
        })
        .collect();
    underscore_rules_before_headers(lines, &mut kinds);
    kinds
}

/// For each line, the index of the next non-blank line after it (one pass from the end, so long runs of
/// blank lines cost nothing extra).
fn next_nonblank(blank: &[bool]) -> Vec<Option<usize>> {
    let mut out = vec![None; blank.len()];
    let mut next = None;
    for i in (0..blank.len()).rev() {
        out[i] = next;
        if !blank[i] {
            next = Some(i);
        }
    }
    out
}

/// An underscore rule right above a header block separates two messages (Outlook); it is not a
/// signature delimiter, so a forward at the top of a message can be skipped as a whole.
fn underscore_rules_before_headers(lines: &[&str], kinds: &mut [Kind]) {
    for i in 0..kinds.len() {
        if kinds[i] != Kind::SignatureDelimiter || !lines[i].trim().starts_with('_') {
            continue;
        }
        let next = (i + 1..kinds.len()).find(|&j| kinds[j] != Kind::Blank);
        if next.is_some_and(|j| kinds[j] == Kind::Header) {
            kinds[i] = Kind::Rule;
        }
    }
}
