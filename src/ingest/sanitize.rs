//! Allow-list HTML sanitising of inbound bodies (ammonia), done before anything is stored or served.

use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Only http(s), mailto and cid: no javascript:, data: or other schemes.
    b.url_schemes(HashSet::from(["http", "https", "mailto", "cid"]));
    b.link_rel(Some("noopener noreferrer nofollow"));
    b.add_tag_attributes("td", ["colspan", "rowspan", "align", "valign"]);
    b.add_tag_attributes("th", ["colspan", "rowspan", "align", "valign"]);
    b.add_tag_attributes("table", ["border", "cellpadding", "cellspacing"]);
    b.add_tag_attributes("font", ["color"]);
    b.add_tags(["font", "center"]);
    b.strip_comments(true);
    b
});

/// Said at the end of an HTML body cut at [`super::html_limits::MAX_BYTES`].
const TRUNCATED_NOTE: &str = "<p><em>(The rest of this long message is not shown here; it is in the original \
     message, which can be downloaded.)</em></p>";

/// Sanitises inbound HTML: scripts, styles, event handlers, forms, frames and unsafe URLs removed. Nesting past
/// a few hundred levels is flattened and very long HTML cut first, so the work stays linear in the input.
pub fn sanitize_html(html: &str) -> String {
    let bounded = super::html_limits::bound(html);
    let mut clean = CLEANER.clean(&bounded.html).to_string();
    if bounded.truncated {
        clean.push_str(TRUNCATED_NOTE);
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::sanitize_html;

    #[test]
    fn active_content_is_removed() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(2)">l</a>
            <img src=x onerror=alert(3)><svg><script>alert(4)</script></svg><form action="https://evil"><input></form>
            <meta http-equiv="refresh" content="0;url=https://evil"><iframe src="https://evil"></iframe>
            <div style="background:url(javascript:alert(5))">s</div></p>"#;
        let clean = sanitize_html(dirty);
        for bad in ["script", "onclick", "onerror", "javascript:", "<form", "<meta", "<iframe", "style=", "<svg"] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains("Hi"));
    }

    #[test]
    fn ordinary_mail_markup_survives() {
        let clean = sanitize_html(
            r#"<table><tr><td colspan="2"><b>Total</b> <a href="https://shop.test/o/1">order</a></td></tr></table>"#,
        );
        assert!(
            clean.contains("colspan=\"2\"")
                && clean.contains("<b>Total</b>")
                && clean.contains("href=\"https://shop.test/o/1\"")
        );
    }
}
