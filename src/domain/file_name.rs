//! Attachment file names and content types as deskmail stores them, wherever the file came from.

/// A file name safe to store, show and send: no control characters, no path separators, at most 200 characters,
/// never `.` or `..`; when nothing usable is left, `attachment-{n}.{ext}` after the content type.
pub fn file_name(given: &str, content_type: &str, index: usize) -> String {
    let name: String = given
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .collect::<String>()
        .trim()
        .chars()
        .take(200)
        .collect();
    if !name.is_empty() && name != "." && name != ".." {
        return name;
    }
    let ext = match content_type {
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        ct => ct.rsplit('/').next().filter(|s| s.len() <= 5 && s.chars().all(char::is_alphanumeric)).unwrap_or("bin"),
    };
    format!("attachment-{}.{ext}", index + 1)
}

/// A content type as stored: a valid MIME type (`type/subtype`, parameters kept), lower-cased; `Err` otherwise.
pub fn content_type(given: &str) -> Result<String, String> {
    let parsed: mime::Mime =
        given.trim().parse().map_err(|_| format!("content_type: {given:?} is not a MIME type (like text/plain)"))?;
    if parsed.type_() == mime::STAR || parsed.subtype() == mime::STAR {
        return Err(format!("content_type: {given:?} is a pattern, not the type of a file"));
    }
    Ok(parsed.to_string().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(file_name("../../etc/passwd", "text/plain", 0), "....etcpasswd");
        assert_eq!(file_name("a\0b\r\nc.pdf", "application/pdf", 0), "abc.pdf");
        assert_eq!(file_name("..", "application/pdf", 2), "attachment-3.pdf");
        assert_eq!(file_name("", "message/rfc822", 0), "attachment-1.eml");
        assert_eq!(file_name(&"x".repeat(300), "text/plain", 0).len(), 200);
    }

    #[test]
    fn content_types_must_be_mime_types() {
        assert_eq!(content_type("Text/Plain; charset=UTF-8").unwrap(), "text/plain; charset=utf-8");
        for bad in ["", "pdf", "text/plain\r\nX-Evil: 1", "*/*", "a b/c"] {
            assert!(content_type(bad).is_err(), "{bad:?} accepted");
        }
    }
}
