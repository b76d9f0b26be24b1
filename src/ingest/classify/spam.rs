//! Spam verdicts left by an upstream filter (SpamAssassin-style headers). Block lists are
//! checked elsewhere.

use mail_parser::Message;

use super::headers;

/// Whether an upstream filter flagged `msg`: `X-Spam-Flag: YES` or `X-Spam-Status: Yes, …`.
pub(super) fn is_flagged(msg: &Message<'_>) -> bool {
    let flag = headers::raw_values(msg, "X-Spam-Flag").iter().any(|value| is_yes(value));
    let status = headers::raw_values(msg, "X-Spam-Status")
        .iter()
        .any(|value| is_yes(value.split([',', ';', ' ']).next().unwrap_or_default()));
    flag || status
}

fn is_yes(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("yes")
}
