//! Unit tests of the classifier, on small fixtures written for them.

mod auto_reply_tests;
mod bounce_tests;
mod dsn_tests;
mod list_spam_tests;
mod ndr_tests;
mod pattern_tests;

use mail_parser::MessageParser;

use super::{Classification, classify};

/// Parses `raw` and classifies it; panics only if the fixture itself does not parse.
fn classify_raw(raw: &str) -> Classification {
    let msg = MessageParser::default().parse(raw.as_bytes()).expect("fixture parses");
    classify(&msg)
}

/// An ordinary person-to-person message with the given extra header lines, subject and body.
fn plain_mail(extra_headers: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Anna Kunde <anna@kunde.example>\nTo: support@deskmail.example\nSubject: {subject}\n\
         Date: Mon, 3 Mar 2025 10:00:00 +0100\nMessage-ID: <c1@kunde.example>\n{extra_headers}\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}
