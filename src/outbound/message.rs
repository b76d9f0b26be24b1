//! Building the RFC 5322 bytes of an outgoing mail with lettre: identity, threading and loop headers, both parts.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, header::ContentType};

/// Everything an outgoing mail says.
#[derive(Debug, Clone, Default)]
pub struct MailSpec {
    pub from_name: String,
    pub from_addr: String,
    /// `(name, address)` of each To recipient.
    pub to: Vec<(String, String)>,
    pub cc: Vec<(String, String)>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `Auto-Submitted` value for automatic mail (`auto-replied`, `auto-generated`).
    pub auto_submitted: Option<&'static str>,
    /// The `X-Loop` value: our mailbox address.
    pub loop_marker: String,
    /// `(filename, content type, bytes)`.
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// Why a mail could not be built (an address the builder refuses).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the mail: {0}")]
pub struct BuildError(String);

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

fn mailbox(name: &str, addr: &str) -> Result<Mailbox, BuildError> {
    let address = addr.parse().map_err(|e| BuildError(format!("{addr}: {e}")))?;
    Ok(Mailbox::new((!name.trim().is_empty()).then(|| name.trim().to_string()), address))
}

fn header(name: &'static str, value: impl Into<String>) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.into())
}

/// Formats the mail: multipart/alternative (text + HTML), inside multipart/mixed when there are attachments.
pub fn build(spec: &MailSpec) -> Result<Vec<u8>, BuildError> {
    let mut b = lettre::Message::builder()
        .from(mailbox(&spec.from_name, &spec.from_addr)?)
        .subject(spec.subject.clone())
        .message_id(Some(format!("<{}>", spec.message_id)));
    for (name, addr) in &spec.to {
        b = b.to(mailbox(name, addr)?);
    }
    for (name, addr) in &spec.cc {
        b = b.cc(mailbox(name, addr)?);
    }
    if let Some(reply_to) = &spec.reply_to {
        b = b.reply_to(mailbox(&spec.from_name, reply_to)?);
    }
    if let Some(parent) = &spec.in_reply_to {
        b = b.in_reply_to(format!("<{parent}>"));
    }
    let refs = trim_references(&spec.references);
    if !refs.is_empty() {
        b = b.references(refs.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    if let Some(kind) = spec.auto_submitted {
        b = b.raw_header(header("Auto-Submitted", kind)).raw_header(header("X-Auto-Response-Suppress", "All"));
    }
    b = b.raw_header(header("X-Loop", spec.loop_marker.clone()));
    let body = MultiPart::alternative_plain_html(spec.text.clone(), spec.html.clone());
    let message = if spec.attachments.is_empty() {
        b.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for (name, ct, bytes) in &spec.attachments {
            let ct =
                ContentType::parse(ct).unwrap_or(ContentType::parse("application/octet-stream").expect("valid type"));
            mixed = mixed.singlepart(Attachment::new(name.clone()).body(bytes.clone(), ct));
        }
        b.multipart(mixed)
    }
    .map_err(|e| BuildError(e.to_string()))?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MailSpec {
        MailSpec {
            from_name: "Ana (Example Support)".into(),
            from_addr: "support@example.test".into(),
            to: vec![("José Pérez".into(), "jose@customer.example".into())],
            cc: vec![(String::new(), "ana@customer.example".into())],
            reply_to: Some("support+1042-abc@example.test".into()),
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
    fn long_reference_chains_keep_the_root_and_the_newest() {
        let refs: Vec<String> = (0..30).map(|i| format!("m{i}@x")).collect();
        let t = trim_references(&refs);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0], "m0@x");
        assert_eq!(t[9], "m29@x");
        assert_eq!(trim_references(&["a@x".into(), "a@x".into()]), vec!["a@x".to_string()]);
    }
}
