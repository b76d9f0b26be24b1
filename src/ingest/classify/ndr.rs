//! Facts pulled from the free text of a non-delivery report (qmail, Exim, old sendmail, Exchange,
//! Domino, Yahoo …) when no machine-readable delivery-status part carries them.

use std::sync::LazyLock;

use regex::Regex;

use super::dsn;
use super::phrases::compile;

const MAX_RECIPIENTS: usize = 50;

/// Failed recipients named in the notice, excluding addresses in `ignore` (the bounce's own
/// sender and addressee) and mail-system mailboxes.
pub(super) fn recipients(notice: &str, ignore: &[String]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for address in leading_addresses(notice).chain(addresses_in_failure_lines(notice)) {
        let keep = !is_system_mailbox(&address)
            && !ignore.iter().any(|other| other.eq_ignore_ascii_case(&address))
            && !found.iter().any(|seen| seen.eq_ignore_ascii_case(&address));
        if keep && found.len() < MAX_RECIPIENTS {
            found.push(address);
        }
    }
    found
}

// qmail "<a@b>:", Postfix "<a@b>: host … said", sendmail / Exim / Exchange lists: an address
// opening a line is nearly always a failed recipient.
fn leading_addresses(notice: &str) -> impl Iterator<Item = String> + '_ {
    static LEADING: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r#"(?m)^[ \t]*(?:(?:to|recipient|original-recipient|rcpt to)[ \t]*:?[ \t]*)?["<]?([A-Za-z0-9._%+=/'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})[">]?(?:[ \t:,;.(]|$)"#,
        )
    });
    LEADING.captures_iter(notice).map(|caps| caps[1].to_string())
}

fn addresses_in_failure_lines(notice: &str) -> impl Iterator<Item = String> + '_ {
    static FAILURE_LINE: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)unknown|not exist|no such|rejected|failed|undeliverable|not (?:be )?delivered|invalid|disabled|full|quota|\b5[0-9][0-9]\b",
        )
    });
    notice.lines().filter(|line| FAILURE_LINE.is_match(line)).flat_map(addresses)
}

/// Every e-mail address in `text`, in order.
pub(super) fn addresses(text: &str) -> Vec<String> {
    static ADDRESS: LazyLock<Regex> = LazyLock::new(|| compile(r"([A-Za-z0-9._%+=/'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"));
    ADDRESS.captures_iter(text).map(|caps| caps[1].to_string()).collect()
}

fn is_system_mailbox(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_ascii_lowercase();
    matches!(local.as_str(), "postmaster" | "mailer-daemon" | "mailer_daemon" | "abuse" | "root" | "hostmaster")
}

/// The enhanced status code the notice gives for the failure, preferring one attached to an
/// SMTP reply (`550 5.1.1`, `550-5.1.1`, `550: 5.1.1`, Exchange `#5.1.1`), then a labelled one,
/// then any 4.x.x / 5.x.x code in the notice.
pub(super) fn status(notice: &str) -> Option<String> {
    static WITH_REPLY: LazyLock<Regex> =
        LazyLock::new(|| compile(r"\b[45][0-9][0-9][ :-]+#?([45]\.[0-9]{1,3}\.[0-9]{1,3})\b"));
    static EXCHANGE: LazyLock<Regex> = LazyLock::new(|| compile(r"#([45]\.[0-9]{1,3}\.[0-9]{1,3})\b"));
    static LABELLED: LazyLock<Regex> = LazyLock::new(|| {
        compile(r"(?i)\b(?:status|error[ _]?code)(?: code)?[ \t]*[:=]?[ \t]*([245]\.[0-9]{1,3}\.[0-9]{1,3})\b")
    });
    [&*WITH_REPLY, &*EXCHANGE, &*LABELLED]
        .iter()
        .find_map(|pattern| pattern.captures(notice).map(|caps| caps[1].to_string()))
        .filter(|code| dsn::status_code(code).is_some())
        .or_else(|| dsn::status_code(notice).filter(|code| code.starts_with(['4', '5'])))
}

/// `5.0.0` / `4.0.0` from a bare SMTP reply code (`550 …`) when no enhanced code is given
/// (RFC 3463: `X.0.0` is "other or undefined status" of that class).
pub(super) fn status_class_of_reply(diagnostic: &str) -> Option<String> {
    static REPLY: LazyLock<Regex> = LazyLock::new(|| compile(r"\b([45])[0-9][0-9]\b"));
    REPLY.captures(diagnostic).map(|caps| format!("{}.0.0", &caps[1]))
}

/// The more specific of a report's Status and a code quoted in its diagnostic: `5.0.0` with
/// `550 5.7.1 …` gives `5.7.1`.
pub(super) fn refine_status(reported: String, diagnostic: Option<&str>) -> String {
    match diagnostic.and_then(status) {
        Some(quoted) if reported.ends_with(".0.0") && quoted.get(..1) == reported.get(..1) => quoted,
        _ => reported,
    }
}

/// The line that carries the remote server's error, e.g. `550 5.1.1 <x@y>: Recipient address
/// rejected`, continued over indented lines.
pub(super) fn diagnostic(notice: &str) -> Option<String> {
    static REPLY_WITH_STATUS: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?m)^.*\b[45][0-9]{2}[ -]#?[45]\.[0-9]{1,3}\.[0-9]{1,3}.*$"));
    static REPLY_WITH_TEXT: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?m)^.*\b(?:5[0-5][0-9]|4[2-5][0-9])[ -]+[A-Za-z<(].*$"));
    let found = REPLY_WITH_STATUS.find(notice).or_else(|| REPLY_WITH_TEXT.find(notice))?;
    let continuation = notice[found.end()..]
        .lines()
        .skip(1)
        .take_while(|line| line.starts_with([' ', '\t']) && !line.trim().is_empty())
        .map(str::trim);
    let joined = std::iter::once(found.as_str().trim()).chain(continuation).collect::<Vec<_>>().join(" ");
    Some(truncate(&joined, 500))
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}
