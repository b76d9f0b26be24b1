//! The pure half of ingest: raw bytes to a `Prepared` message (parsed, classified, stripped, sanitised) or a quarantine reason.

use super::digest::content_digest;
use super::parse::{ParsedMail, header_block, parse};
use super::quote::split_reply;
use super::sanitize::sanitize_html;
use super::threading::{ThreadFacts, facts};
use crate::domain::EmailAddress;
use crate::domain::NamedAddress;
use crate::platform::storage::sha256_hex;
use crate::platform::tokens::Signer;
use std::time::{Duration, Instant};

/// What preparing needs to know about the installation.
#[derive(Debug, Clone)]
pub struct PrepareContext {
    pub max_message_bytes: u64,
    /// Every mailbox address (loop detection, reply tokens).
    pub our_addresses: Vec<EmailAddress>,
    pub signer: Signer,
    /// Blocked senders: full addresses or `@domain`.
    pub block_list: Vec<String>,
    /// `authserv-id`s whose `Authentication-Results` headers are trusted.
    pub trusted_authserv_ids: Vec<String>,
    /// The most time one message may take (checked between steps); past it the message is quarantined.
    pub time_budget: Duration,
}

/// The time one message has left: checked between the steps of preparing it.
struct Budget {
    started: Instant,
    limit: Duration,
}

impl Budget {
    fn start(limit: Duration) -> Self {
        Self { started: Instant::now(), limit }
    }

    /// `Err` with the quarantine reason when the time is up after `step`.
    fn check(&self, step: &str) -> Result<(), String> {
        let spent = self.started.elapsed();
        if spent <= self.limit {
            return Ok(());
        }
        Err(format!(
            "too complex: {step} took {:.1} s, over the {} s budget of one message",
            spent.as_secs_f64(),
            self.limit.as_secs()
        ))
    }
}

/// One input after the pure steps.
#[derive(Debug)]
pub struct Prepared {
    pub raw: Vec<u8>,
    pub sha256: String,
    pub content: Content,
}

/// The message, or why it goes to quarantine.
#[derive(Debug)]
pub enum Content {
    Mail(Box<PreparedMail>),
    Quarantine { reason: String, headers: String },
}

/// A parsed message ready to be stored.
#[derive(Debug)]
pub struct PreparedMail {
    pub mail: ParsedMail,
    pub facts: ThreadFacts,
    pub visible_text: String,
    pub body_html: Option<String>,
    pub digest: String,
    /// Sha256 of each attachment, in `mail.attachments` order.
    pub attachment_sha256: Vec<String>,
    pub spam: bool,
    /// A trusted `Authentication-Results` failure (DKIM/DMARC/SPF): staff mail with it never acts as the agent.
    pub auth_failure: Option<String>,
}

impl Prepared {
    pub fn size(&self) -> i64 {
        self.raw.len() as i64
    }
}

/// Runs parse, classify, threading facts, quote stripping and sanitising. Never panics, never drops input.
pub fn prepare(raw: Vec<u8>, ctx: &PrepareContext) -> Prepared {
    let sha256 = sha256_hex(&raw);
    let content = if raw.len() as u64 > ctx.max_message_bytes {
        quarantine(&raw, format!("too large: {} bytes (limit {})", raw.len(), ctx.max_message_bytes))
    } else {
        match std::panic::catch_unwind(|| prepare_mail(&raw, ctx)) {
            Ok(content) => content,
            Err(_) => quarantine(&raw, "parser failure (panic while parsing)".into()),
        }
    };
    Prepared { raw, sha256, content }
}

fn quarantine(raw: &[u8], reason: String) -> Content {
    Content::Quarantine { reason, headers: header_block(raw) }
}

fn prepare_mail(raw: &[u8], ctx: &PrepareContext) -> Content {
    let budget = Budget::start(ctx.time_budget);
    let Some(mail) = parse(raw) else {
        return quarantine(raw, "unparseable: empty or not an RFC 5322 message".into());
    };
    if !mail.has_headers {
        return quarantine(raw, "no header block".into());
    }
    if let Some(reason) = loop_reason(&mail, &ctx.our_addresses) {
        return quarantine(raw, reason);
    }
    if mail.from.is_none() && mail.classification.bounce.is_none() {
        return quarantine(raw, "no valid sender address (From)".into());
    }
    match finish(mail, raw, ctx, Some(&budget)) {
        Ok(prepared) => Content::Mail(Box::new(prepared)),
        Err(reason) => quarantine(raw, reason),
    }
}

/// The steps after the checks: threading facts, quote stripping, sanitising, digests; with a budget, each of
/// the costly ones starts only while time is left.
fn finish(mail: ParsedMail, raw: &[u8], ctx: &PrepareContext, budget: Option<&Budget>) -> Result<PreparedMail, String> {
    let check = |step: &str| budget.map_or(Ok(()), |b| b.check(step));
    check("parsing")?;
    let split = split_reply(&mail.body_text);
    check("quote detection")?;
    let body_html = mail.body_html.as_deref().map(sanitize_html);
    check("HTML sanitising")?;
    Ok(PreparedMail {
        facts: facts(&mail, &ctx.our_addresses, &ctx.signer),
        visible_text: split.visible,
        body_html,
        digest: content_digest(raw),
        attachment_sha256: mail.attachments.iter().map(|a| sha256_hex(&a.data)).collect(),
        spam: mail.classification.spam || is_blocked(&mail, &ctx.block_list),
        auth_failure: super::auth_results::trusted_failure(&mail.authentication_results, &ctx.trusted_authserv_ids),
        mail,
    })
}

/// Prepares a held message an admin turns into a ticket: `requester` becomes its sender, and the checks
/// that held it (size, loop, missing sender, bounce) are skipped. Only mail that does not parse stays held.
pub fn prepare_as(raw: Vec<u8>, ctx: &PrepareContext, requester: NamedAddress) -> Prepared {
    let sha256 = sha256_hex(&raw);
    let content = match std::panic::catch_unwind(|| parse(&raw)) {
        Ok(Some(mut mail)) if mail.has_headers => {
            mail.from = Some(requester);
            mail.classification.bounce = None;
            // No time budget: an admin asked for this message, once.
            match std::panic::catch_unwind(|| finish(mail, &raw, ctx, None)) {
                Ok(Ok(prepared)) => Content::Mail(Box::new(prepared)),
                Ok(Err(reason)) => quarantine(&raw, reason),
                Err(_) => quarantine(&raw, "parser failure (panic while preparing)".into()),
            }
        }
        Ok(_) => quarantine(&raw, "unparseable: empty or not an RFC 5322 message".into()),
        Err(_) => quarantine(&raw, "parser failure (panic while parsing)".into()),
    };
    Prepared { raw, sha256, content }
}

/// Mail from one of our own addresses, or carrying our `X-Loop`, would ping-pong forever.
fn loop_reason(mail: &ParsedMail, ours: &[EmailAddress]) -> Option<String> {
    if let Some(from) = &mail.from
        && ours.contains(&from.email)
    {
        return Some(format!("loop: sent from our own address {}", from.email));
    }
    mail.x_loop
        .iter()
        .find(|v| ours.iter().any(|a| v.trim().eq_ignore_ascii_case(a.as_str())))
        .map(|v| format!("loop: carries our X-Loop header ({v})"))
}

fn is_blocked(mail: &ParsedMail, block_list: &[String]) -> bool {
    let Some(from) = &mail.from else { return false };
    block_list.iter().any(|entry| {
        let entry = entry.trim().to_lowercase();
        match entry.strip_prefix('@') {
            Some(domain) => from.email.domain() == domain,
            None => from.email.as_str() == entry,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> PrepareContext {
        PrepareContext {
            max_message_bytes: 10_000,
            our_addresses: vec![EmailAddress::parse("support@example.test").unwrap()],
            signer: Signer::new(b"k"),
            block_list: vec!["@spam.test".into()],
            trusted_authserv_ids: Vec::new(),
            time_budget: Duration::from_secs(10),
        }
    }

    fn reason(p: &Prepared) -> &str {
        match &p.content {
            Content::Quarantine { reason, .. } => reason,
            Content::Mail(_) => "",
        }
    }

    #[test]
    fn an_ordinary_mail_is_prepared() {
        let p = prepare(b"From: a@b.test\nSubject: hi\n\nHello\n\nOn Mon, Bob wrote:\n> old\n".to_vec(), &ctx());
        let Content::Mail(m) = &p.content else { panic!("quarantined: {}", reason(&p)) };
        assert_eq!(m.visible_text, "Hello");
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn bad_input_is_quarantined_with_a_reason() {
        assert!(reason(&prepare(vec![b'x'; 20_000], &ctx())).starts_with("too large"));
        assert!(reason(&prepare(b"".to_vec(), &ctx())).starts_with("unparseable"));
        assert!(reason(&prepare(b"Subject: no sender\n\nbody".to_vec(), &ctx())).contains("no valid sender"));
        assert!(reason(&prepare(b"From: support@example.test\n\nx".to_vec(), &ctx())).starts_with("loop"));
        assert!(
            reason(&prepare(b"From: a@b.test\nX-Loop: support@example.test\n\nx".to_vec(), &ctx())).starts_with("loop")
        );
    }

    #[test]
    fn a_message_over_its_time_budget_is_quarantined_as_too_complex() {
        let c = PrepareContext { time_budget: Duration::ZERO, ..ctx() };
        let p = prepare(b"From: a@b.test\nSubject: hi\n\nHello".to_vec(), &c);
        assert!(reason(&p).starts_with("too complex: parsing took"), "{}", reason(&p));
    }

    #[test]
    fn blocked_senders_are_spam() {
        let p = prepare(b"From: x@spam.test\n\nbuy".to_vec(), &ctx());
        assert!(matches!(&p.content, Content::Mail(m) if m.spam));
    }
}
