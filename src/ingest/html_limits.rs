//! Bounds on inbound HTML before sanitising: the HTML parser's cost grows with nesting depth times size, so
//! deep nesting is flattened and very long documents are cut, in one linear pass.

use std::borrow::Cow;

/// Elements nested deeper than this lose their tags (their text stays). Real mail rarely nests past 60.
pub const MAX_DEPTH: usize = 256;
/// HTML beyond this many bytes is not sanitised for display (the raw message keeps all of it).
pub const MAX_BYTES: usize = 1024 * 1024;

/// HTML made cheap to sanitise, and what was changed to get there.
#[derive(Debug, PartialEq, Eq)]
pub struct Bounded<'a> {
    pub html: Cow<'a, str>,
    /// Tags deeper than [`MAX_DEPTH`] were dropped.
    pub flattened: bool,
    /// The document was cut at [`MAX_BYTES`].
    pub truncated: bool,
}

/// Cuts `html` at `MAX_BYTES` (before a tag, on a character boundary) and drops tags nested past `MAX_DEPTH`.
pub fn bound(html: &str) -> Bounded<'_> {
    bound_with(html, MAX_DEPTH, MAX_BYTES)
}

fn bound_with(html: &str, max_depth: usize, max_bytes: usize) -> Bounded<'_> {
    let (head, truncated) = cut(html, max_bytes);
    match flatten(head, max_depth) {
        Some(flat) => Bounded { html: Cow::Owned(flat), flattened: true, truncated },
        None => Bounded { html: Cow::Borrowed(head), flattened: false, truncated },
    }
}

fn cut(html: &str, max_bytes: usize) -> (&str, bool) {
    if html.len() <= max_bytes {
        return (html, false);
    }
    let mut end = max_bytes;
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    // Prefer to stop before a tag rather than inside one.
    let end = html[..end].rfind('<').filter(|&i| i > end / 2).unwrap_or(end);
    (&html[..end], true)
}

/// Elements that never have content, and those a following sibling closes implicitly (they do not nest).
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
    "rp", "rt",
];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp", "noembed", "noframes", "iframe"];

/// `None` when no tag nests deeper than `max_depth`; otherwise the HTML without the tags beyond it.
fn flatten(html: &str, max_depth: usize) -> Option<String> {
    let bytes = html.as_bytes();
    let (mut depth, mut i, mut copied) = (0usize, 0usize, 0usize);
    let mut out: Option<String> = None;
    while let Some(rel) = memchr(b'<', &bytes[i..]) {
        let start = i + rel;
        let Some(tag) = Tag::read(html, start) else {
            i = start + 1;
            continue;
        };
        let drop = match tag.kind {
            TagKind::Start if !tag.counts() => false,
            TagKind::Start => {
                depth += 1;
                depth > max_depth
            }
            TagKind::End if !tag.counts() => false,
            TagKind::End => {
                let deep = depth > max_depth;
                depth = depth.saturating_sub(1);
                deep
            }
            TagKind::Other => false,
        };
        if drop {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..start]);
            copied = tag.end;
        }
        i = match tag.kind {
            TagKind::Start if RAW_TEXT.contains(&tag.name.as_str()) => raw_text_end(html, tag.end, &tag.name),
            _ => tag.end,
        };
    }
    out.map(|mut o| {
        o.push_str(&html[copied..]);
        o
    })
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Where the text of a raw-text element ends: at its end tag (or the end of the document).
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    let close = format!("</{name}");
    let mut i = from;
    while let Some(rel) = html[i..].find("</") {
        let at = i + rel;
        // Compared as bytes: the text after `</` may end inside a character (`</titlü` against `</title`).
        if html.as_bytes().get(at..at + close.len()).is_some_and(|b| b.eq_ignore_ascii_case(close.as_bytes())) {
            return at;
        }
        i = at + 2;
    }
    html.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Start,
    End,
    /// Comments, doctype, processing instructions, self-closing tags.
    Other,
}

struct Tag {
    kind: TagKind,
    name: String,
    /// Byte offset just past the tag.
    end: usize,
}

impl Tag {
    /// Reads the tag starting at `start` (a `<`); `None` when the `<` starts no tag (it is text).
    fn read(html: &str, start: usize) -> Option<Tag> {
        let rest = &html[start..];
        if let Some(body) = rest.strip_prefix("<!--") {
            let end = body.find("-->").map(|i| start + 4 + i + 3).unwrap_or(html.len());
            return Some(Tag { kind: TagKind::Other, name: String::new(), end });
        }
        let b = rest.as_bytes();
        let (kind, name_at) = match b.get(1) {
            Some(b'/') => (TagKind::End, 2),
            Some(b'!' | b'?') => (TagKind::Other, 1),
            Some(c) if c.is_ascii_alphabetic() => (TagKind::Start, 1),
            _ => return None,
        };
        let name: String = rest[name_at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let end = start + tag_end(&b[name_at..]).map(|i| name_at + i + 1).unwrap_or(b.len());
        let self_closing = html[..end].ends_with("/>");
        let kind = if kind == TagKind::Start && self_closing { TagKind::Other } else { kind };
        Some(Tag { kind, name, end })
    }

    /// Whether this element nests (takes part in the depth count).
    fn counts(&self) -> bool {
        !self.name.is_empty() && !VOID.contains(&self.name.as_str())
    }
}

/// Index of the `>` ending a tag, skipping quoted attribute values.
fn tag_end(b: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_html_is_left_alone() {
        let html = r#"<html><body><table><tr><td><p>Hi <b title="a>b">there</b><br></td></tr></table><!-- <div> --></body></html>"#;
        let b = bound(html);
        assert_eq!(b, Bounded { html: Cow::Borrowed(html), flattened: false, truncated: false });
    }

    #[test]
    fn nesting_past_the_limit_loses_its_tags_but_keeps_its_text() {
        let html = format!("{}deep text{}", "<div>".repeat(10), "</div>".repeat(10));
        let b = bound_with(&html, 3, MAX_BYTES);
        assert!(b.flattened);
        assert_eq!(b.html, format!("{}deep text{}", "<div>".repeat(3), "</div>".repeat(3)));
    }

    #[test]
    fn unclosed_tags_count_and_siblings_do_not() {
        let unclosed = "<b>".repeat(10) + "x";
        assert_eq!(bound_with(&unclosed, 2, MAX_BYTES).html, "<b><b>x");
        let siblings = "<p>para".repeat(1000) + &"<li>item".repeat(1000) + &"<br>".repeat(1000);
        assert!(!bound_with(&siblings, 2, MAX_BYTES).flattened);
    }

    #[test]
    fn script_text_is_not_read_as_tags() {
        let html = format!("<div><script>{}</script></div>", "<div>".repeat(100));
        assert!(!bound_with(&html, 3, MAX_BYTES).flattened);
    }

    #[test]
    fn an_end_tag_cut_inside_a_character_is_text() {
        // Found by scripts/fuzz: `</titlü` was sliced at the length of `</title`, inside the `ü`.
        for html in ["<title>x</titlü</title><div>y</div>", "<title>x</titlü", "<STYLE>a</STYLü</Style>b"] {
            assert!(!bound_with(html, 3, MAX_BYTES).flattened, "{html}");
        }
        let deep = format!("<title>x</titlü</title>{}y", "<div>".repeat(5));
        assert_eq!(bound_with(&deep, 3, MAX_BYTES).html, format!("<title>x</titlü</title>{}y", "<div>".repeat(3)));
    }

    #[test]
    fn long_documents_are_cut_before_a_tag_on_a_char_boundary() {
        let html = "<p>ä</p>".repeat(1000);
        let b = bound_with(&html, MAX_DEPTH, 100);
        assert!(b.truncated && b.html.len() <= 100 && b.html.ends_with("</p>"));
    }

    #[test]
    fn two_hundred_thousand_levels_keep_only_the_allowed_depth() {
        let html = "<div>".repeat(200_000) + "x" + &"</div>".repeat(200_000);
        let b = bound_with(&html, MAX_DEPTH, usize::MAX);
        assert!(b.flattened && b.html.matches("<div>").count() == MAX_DEPTH);
        assert_eq!(b.html.matches("</div>").count(), MAX_DEPTH);
    }
}
