//! Mailing-list and bulk-distribution detection from RFC 2369 / RFC 2919 list headers.

use mail_parser::Message;

use super::headers;

/// Whether `msg` came through a mailing list or other bulk distribution.
///
/// `List-Id`, `List-Post`, ezmlm's `Mailing-List`, `X-Mailing-List` and `Precedence: list` mark
/// list traffic. `List-Unsubscribe` alone also counts: it marks newsletters and other bulk mail
/// (large senders must add it), which should not get a ticket acknowledgement either, and a
/// person's mail client never adds it.
pub(super) fn is_list_mail(msg: &Message<'_>) -> bool {
    const LIST_HEADERS: [&str; 5] = ["List-Id", "List-Post", "List-Unsubscribe", "Mailing-List", "X-Mailing-List"];
    LIST_HEADERS.iter().any(|name| headers::has(msg, name)) || has_list_precedence(msg)
}

fn has_list_precedence(msg: &Message<'_>) -> bool {
    headers::raw_values(msg, "Precedence").iter().any(|value| value.trim().eq_ignore_ascii_case("list"))
}
