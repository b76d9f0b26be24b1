//! Building the RFC 5322 bytes of an outgoing mail with lettre: identity, threading and loop headers, both parts.

use crate::domain::{EmailAddress, NamedAddress};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};

/// Everything an outgoing mail says. Names and addresses are domain values (clean by construction); the
/// free-text fields are cleaned again by [`build`], so nothing here can break a header.
#[derive(Debug, Clone)]
pub struct MailSpec {
    pub from: NamedAddress,
    pub to: Vec<NamedAddress>,
    pub cc: Vec<NamedAddress>,
    pub reply_to: Option<EmailAddress>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `Auto-Submitted` value for automatic mail (`auto-replied`, `auto-generated`).
    pub auto_submitted: Option<&'static str>,
    /// The `X-Loop` value: our mailbox address (empty: no `X-Loop`, for mail written as a customer).
    pub loop_marker: String,
    /// `(filename, content type, bytes)`.
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

impl MailSpec {
    /// A mail from `from` with nothing else set yet.
    pub fn new(from: NamedAddress) -> Self {
        Self {
            from,
            to: Vec::new(),
            cc: Vec::new(),
            reply_to: None,
            subject: String::new(),
            text: String::new(),
            html: String::new(),
            message_id: String::new(),
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: None,
            loop_marker: String::new(),
            attachments: Vec::new(),
        }
    }
}

/// Why a mail could not be built (an address or value the builder refuses).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the mail: {0}")]
pub struct BuildError(String);

impl From<String> for BuildError {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

/// At most this many References: the first (thread root) and the most recent ones.
const MAX_REFERENCES: usize = 10;

/// Keeps the thread root and the newest references, so headers stay short in long threads.
pub fn trim_references(refs: &[String]) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for r in refs {
        if !unique.contains(r) {
            unique.push(r.clone());
        }
    }
    if unique.len() <= MAX_REFERENCES {
        return unique;
    }
    let mut out = vec![unique[0].clone()];
    out.extend_from_slice(&unique[unique.len() - (MAX_REFERENCES - 1)..]);
    out
}

fn mailbox(who: &NamedAddress) -> Result<Mailbox, BuildError> {
    let address = who.email.as_str().parse().map_err(|e| BuildError(format!("{}: {e}", who.email)))?;
    Ok(Mailbox::new((!who.name.is_empty()).then(|| who.name.to_string()), address))
}

fn header(name: &'static str, value: impl Into<String>) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.into())
}

/// Text for an unstructured header: control characters become spaces (lettre encodes the rest).
fn header_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// A Message-ID fit for a header: printable ASCII without space or brackets, or nothing.
fn header_id(id: &str) -> Option<String> {
    let ok = !id.is_empty() && id.len() <= 250 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    ok.then(|| format!("<{id}>"))
}

/// Formats the mail: multipart/alternative (text + HTML), inside multipart/mixed when there are attachments.
/// Returns an error, never panics: lettre's formatting runs behind a panic guard as a last line of defence.
pub fn build(spec: &MailSpec) -> Result<Vec<u8>, BuildError> {
    match std::panic::catch_unwind(|| build_unguarded(spec)) {
        Ok(result) => result,
        Err(_) => Err(BuildError("the mail builder failed on a value it cannot format".into())),
    }
}

fn build_unguarded(spec: &MailSpec) -> Result<Vec<u8>, BuildError> {
    let message_id = header_id(&spec.message_id).ok_or_else(|| BuildError("no usable Message-ID".into()))?;
    let mut b = lettre::Message::builder()
        .from(mailbox(&spec.from)?)
        .subject(header_text(&spec.subject))
        .message_id(Some(message_id));
    for to in &spec.to {
        b = b.to(mailbox(to)?);
    }
    for cc in &spec.cc {
        b = b.cc(mailbox(cc)?);
    }
    if let Some(reply_to) = &spec.reply_to {
        b = b.reply_to(mailbox(&NamedAddress::new(reply_to.clone(), spec.from.name.clone()))?);
    }
    if let Some(parent) = spec.in_reply_to.as_deref().and_then(header_id) {
        b = b.in_reply_to(parent);
    }
    let refs: Vec<String> = trim_references(&spec.references).iter().filter_map(|r| header_id(r)).collect();
    if !refs.is_empty() {
        b = b.references(refs.join(" "));
    }
    if let Some(kind) = spec.auto_submitted {
        b = b.raw_header(header("Auto-Submitted", kind)).raw_header(header("X-Auto-Response-Suppress", "All"));
    }
    if !spec.loop_marker.trim().is_empty() {
        b = b.raw_header(header("X-Loop", header_text(&spec.loop_marker)));
    }
    let message = if spec.attachments.is_empty() {
        match body(spec) {
            Body::Plain(text) => b.singlepart(text),
            Body::Alternative(parts) => b.multipart(parts),
        }
    } else {
        let mut mixed = match body(spec) {
            Body::Plain(text) => MultiPart::mixed().singlepart(text),
            Body::Alternative(parts) => MultiPart::mixed().multipart(parts),
        };
        for (name, ct, bytes) in &spec.attachments {
            let ct =
                ContentType::parse(ct).unwrap_or(ContentType::parse("application/octet-stream").expect("valid type"));
            mixed = mixed.singlepart(Attachment::new(header_text(name)).body(bytes.clone(), ct));
        }
        b.multipart(mixed)
    }
    .map_err(|e| BuildError(e.to_string()))?;
    Ok(message.formatted())
}

/// The text of a mail: plain text alone (mail a customer writes in the portal) or text and HTML.
enum Body {
    Plain(SinglePart),
    Alternative(MultiPart),
}

fn body(spec: &MailSpec) -> Body {
    if spec.html.is_empty() {
        Body::Plain(SinglePart::plain(spec.text.clone()))
    } else {
        Body::Alternative(MultiPart::alternative_plain_html(spec.text.clone(), spec.html.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: &str, email: &str) -> NamedAddress {
        NamedAddress::parse(email, name).unwrap()
    }

    fn spec() -> MailSpec {
        MailSpec {
            from: addr("Ana (Example Support)", "support@example.test"),
            to: vec![addr("José Pérez", "jose@customer.example")],
            cc: vec![addr("", "ana@customer.example")],
            reply_to: Some(EmailAddress::parse("support+1042-abc@example.test").unwrap()),
            subject: "Re: [#1042] Lampe kaputt 日本語 💡".into(),
            text: "Hola José".into(),
            html: "<p>Hola Jos&eacute;</p>".into(),
            message_id: "dm.1042.x.abc@example.test".into(),
            in_reply_to: Some("c2@customer.example".into()),
            references: vec!["c1@customer.example".into(), "c2@customer.example".into()],
            auto_submitted: Some("auto-replied"),
            loop_marker: "support@example.test".into(),
            attachments: vec![("rechnung.pdf".into(), "application/pdf".into(), b"%PDF-1.4".to_vec())],
        }
    }

    #[test]
    fn the_built_mail_parses_back_with_every_header() {
        let raw = build(&spec()).unwrap();
        let m = crate::ingest::parse::parse(&raw).unwrap();
        assert_eq!(m.subject, "Re: [#1042] Lampe kaputt 日本語 💡");
        assert_eq!(m.from.as_ref().unwrap().name, "Ana (Example Support)");
        assert_eq!(m.from.unwrap().email.as_str(), "support@example.test");
        assert_eq!(m.to[0].name, "José Pérez");
        assert_eq!(m.cc[0].email.as_str(), "ana@customer.example");
        assert_eq!(m.message_id.as_deref(), Some("dm.1042.x.abc@example.test"));
        assert_eq!(m.in_reply_to, vec!["c2@customer.example"]);
        assert_eq!(m.references.last().map(String::as_str), Some("c2@customer.example"));
        assert_eq!(m.reply_to[0].email.as_str(), "support+1042-abc@example.test");
        assert_eq!(m.x_loop, vec!["support@example.test"]);
        assert!(m.body_text.contains("Hola José"));
        assert_eq!(m.attachments[0].filename, "rechnung.pdf");
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("Auto-Submitted: auto-replied") && text.contains("X-Auto-Response-Suppress: All"));
        assert!(m.classification.auto_reply, "our own automatic mail is recognised as automatic");
    }

    #[test]
    fn hostile_values_give_a_clean_mail_or_an_error_never_a_panic() {
        let mut s = spec();
        // Names are cleaned when they become a DisplayName; the other free-text values by the builder.
        s.to = vec![addr("Evil\r\nBcc: x@evil.test", "jose@customer.example")];
        s.subject = "Hi\r\nBcc: y@evil.test".into();
        s.in_reply_to = Some("bad id\r\nBcc: z@evil.test".into());
        s.references = vec!["ok@x".into(), "<bad>".into()];
        s.loop_marker = "support@example.test\r\nBcc: w@evil.test".into();
        let raw = build(&s).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
        let m = crate::ingest::parse::parse(&raw).unwrap();
        assert_eq!(m.to[0].name, "Evil Bcc: x@evil.test");
        assert_eq!(m.references, vec!["ok@x"]);
        s.message_id = "no good".into();
        assert!(build(&s).is_err());
    }

    #[test]
    fn long_reference_chains_keep_the_root_and_the_newest() {
        let refs: Vec<String> = (0..30).map(|i| format!("m{i}@x")).collect();
        let t = trim_references(&refs);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0], "m0@x");
        assert_eq!(t[9], "m29@x");
        assert_eq!(trim_references(&["a@x".into(), "a@x".into()]), vec!["a@x".to_string()]);
    }
}
