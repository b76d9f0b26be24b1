//! Template filters for mail: `linebreaks` (text to escaped HTML paragraphs) and `quote` (text quoting).

use minijinja::{HtmlEscape, Value};

/// Plain text to HTML: escapes it (unless already marked safe), blank-line-separated paragraphs
/// become `<p>`, single newlines `<br>`. The result is marked safe.
pub(super) fn linebreaks(value: &Value) -> Value {
    let text = normalized(value);
    let html = if value.is_safe() { text } else { HtmlEscape(&text).to_string() };
    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in html.lines() {
        if line.trim().is_empty() {
            paragraphs.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
        } else {
            current.push(line);
        }
    }
    paragraphs.extend((!current.is_empty()).then_some(current));
    let out: Vec<String> = paragraphs.iter().map(|lines| format!("<p>{}</p>", lines.join("<br>\n"))).collect();
    Value::from_safe_string(out.join("\n"))
}

/// Prefixes each line with "> " (a line already quoted gets ">", an empty line ">"), as mail clients quote.
pub(super) fn quote(value: &Value) -> String {
    let text = normalized(value);
    let quoted: Vec<String> = text
        .trim_end_matches('\n')
        .lines()
        .map(|line| match line {
            "" => ">".to_owned(),
            l if l.starts_with('>') => format!(">{l}"),
            l => format!("> {l}"),
        })
        .collect();
    quoted.join("\n")
}

/// The value as text with `\n` line ends; absent or none is empty.
fn normalized(value: &Value) -> String {
    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None if value.is_undefined() || value.is_none() => String::new(),
        None => value.to_string(),
    };
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(text: &str) -> String {
        linebreaks(&Value::from(text)).to_string()
    }

    #[test]
    fn linebreaks_makes_paragraphs_and_breaks() {
        assert_eq!(
            lb("Hi,\r\n\r\nline one\nline two\n\n\n  \nbye\n"),
            "<p>Hi,</p>\n<p>line one<br>\nline two</p>\n<p>bye</p>"
        );
    }

    #[test]
    fn linebreaks_escapes_markup_and_marks_the_result_safe() {
        let out = linebreaks(&Value::from("<script>alert(1)</script> & \"x\""));
        assert!(out.is_safe());
        let out = out.to_string();
        assert!(out.starts_with("<p>&lt;script&gt;alert(1)&lt;"), "{out}");
        assert!(out.ends_with("script&gt; &amp; &quot;x&quot;</p>"), "{out}");
    }

    #[test]
    fn linebreaks_does_not_escape_twice_what_is_already_safe() {
        assert_eq!(linebreaks(&Value::from_safe_string("a &amp; b".into())).to_string(), "<p>a &amp; b</p>");
    }

    #[test]
    fn linebreaks_of_nothing_is_empty() {
        assert_eq!(linebreaks(&Value::UNDEFINED).to_string(), "");
        assert_eq!(lb("\n \n"), "");
    }

    #[test]
    fn quote_prefixes_every_line() {
        let quoted = quote(&Value::from("Hello\r\n\n> earlier\nbye\n"));
        assert_eq!(quoted, "> Hello\n>\n>> earlier\n> bye");
    }
}
