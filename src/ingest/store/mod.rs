//! The transactional half of ingest: one prepared input recorded (raw message, receipt, duplicates, quarantine),
//! its threading decided from what the store knows, and the mail handed to `tickets` to file.

mod batch;
mod lookup;

pub use batch::BatchState;

use super::prepare::{Content, Prepared, PreparedMail};
use super::threading::decide;
use crate::db::{self, DbError, mailboxes::MailboxRow, quarantine::NewQuarantine, raw::NewReceipt};
use crate::domain::EmailAddress;
use crate::tickets::bounce::Bounce;
use crate::tickets::inbound::{Filed, InboundContext, InboundFile, InboundMail};
use crate::tickets::{TicketError, Tickets};
use lookup::lookup;
use sqlx::AnyConnection;

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    Created,
    Threaded,
    Duplicate,
    Bounce,
    Quarantined,
}

impl OutcomeKind {
    /// The name in `ingest --json`, receipts and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Created => "created",
            OutcomeKind::Threaded => "threaded",
            OutcomeKind::Duplicate => "duplicate",
            OutcomeKind::Bounce => "bounce",
            OutcomeKind::Quarantined => "quarantined",
        }
    }
}

/// The result of storing one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// Sha256 of the input's raw bytes.
    pub sha256: String,
    /// The public ticket number, when the input belongs to a ticket.
    pub ticket: Option<i64>,
    pub reason: Option<String>,
}

impl Outcome {
    pub(super) fn new(kind: OutcomeKind, ticket: Option<i64>, reason: Option<String>) -> Self {
        Self { kind, sha256: String::new(), ticket, reason }
    }
}

/// Where an input came from: an IMAP `(uidvalidity, uid)` or a direct ingest.
pub type Source = Option<(i64, i64)>;

/// What the store step needs besides the transaction.
#[derive(Debug, Clone)]
pub struct StoreContext<'a> {
    /// The mailbox the input arrived at.
    pub mailbox: &'a MailboxRow,
    /// Every mailbox address of the installation.
    pub our_addresses: &'a [EmailAddress],
    /// Files mail onto tickets (and queues what it causes) in the same transaction.
    pub tickets: &'a Tickets,
    /// The mailbox's `order_pattern` (automatic order links); `None` uses the default.
    pub order_pattern: Option<String>,
    /// Active staff addresses (read once per batch: staff mail is handled apart, and gets no acknowledgement).
    pub staff: std::collections::HashSet<String>,
    /// Whether the mailbox can send (else no acknowledgement or notice is composed at all).
    pub can_send: bool,
    /// Whether the catalog holds any order (else automatic order links look up nothing).
    pub orders_in_catalog: bool,
    /// The block list (addresses and `@domain`s), read once per batch.
    pub blocked: Vec<String>,
}

/// Stores one prepared input of a batch inside the caller's transaction.
pub async fn store_one(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    batch: &mut BatchState,
    item: &Prepared,
    source: Source,
    now: i64,
) -> Result<Outcome, TicketError> {
    if let Some(uid) = source
        && !batch.seen.insert(uid)
    {
        let o = Outcome::new(OutcomeKind::Duplicate, None, Some("this IMAP message was imported before".into()));
        return Ok(Outcome { sha256: item.sha256.clone(), ..o });
    }
    let (raw_id, stored_before) = *batch.raws.get(&item.sha256).ok_or(DbError::NotFound)?;
    let known = stored_before || !batch.met.insert(item.sha256.clone());
    let prior = match known {
        true => {
            batch.inbound.flush(conn).await?;
            db::raw::prior_disposition(conn, raw_id).await?
        }
        false => None,
    };
    let outcome = match prior {
        Some((ticket, why)) => Outcome::new(OutcomeKind::Duplicate, ticket, Some(why.into())),
        None => store_content(conn, cx, batch, item, raw_id, source, now).await?,
    };
    batch.receipts.push(NewReceipt { raw_id, uid: source, outcome: outcome.kind.as_str() });
    Ok(Outcome { sha256: item.sha256.clone(), ..outcome })
}

/// Stores the content of an input whose raw message is recorded as `raw_id` (no receipt, no duplicate check by
/// digest of the raw bytes).
pub(super) async fn store_content(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    batch: &mut BatchState,
    item: &Prepared,
    raw_id: i64,
    source: Source,
    now: i64,
) -> Result<Outcome, TicketError> {
    let hold = |reason: String, headers: String| ToHold { reason, headers, raw_id, source, size: item.size() };
    match &item.content {
        Content::Quarantine { reason, headers } => hold(reason.clone(), headers.clone()).store(conn, cx, now).await,
        Content::Mail(m) if m.mail.classification.bounce.is_none() && blocked(cx, m).is_some() => {
            let reason = db::blocks::held_reason(blocked(cx, m).unwrap_or_default());
            hold(reason, crate::ingest::parse::header_block(&item.raw)).store(conn, cx, now).await
        }
        Content::Mail(m) => match &m.mail.classification.bounce {
            Some(report) => {
                batch.inbound.flush(conn).await?;
                let bounce = Bounce {
                    raw_id,
                    original_message_id: report.original_message_id.as_deref(),
                    status: report.status.as_deref(),
                    diagnostic: report.diagnostic.as_deref(),
                    recipients: &report.recipients,
                };
                let ticket = cx.tickets.record_bounce(conn, cx.mailbox, &bounce, now).await?;
                let reason = ticket.is_none().then(|| "bounce names no message of ours; kept in the bounce log".into());
                Ok(Outcome::new(OutcomeKind::Bounce, ticket.map(|t| t.number), reason))
            }
            None => store_mail(conn, cx, batch, m, raw_id, now).await,
        },
    }
}

/// The block list entry the sender of `m` matches.
fn blocked<'c>(cx: &'c StoreContext<'_>, m: &PreparedMail) -> Option<&'c str> {
    let from = m.mail.from.as_ref()?;
    db::blocks::matching(from.email.as_str(), &cx.blocked).map(String::as_str)
}

/// A message to hold in the quarantine, raw kept.
struct ToHold {
    reason: String,
    headers: String,
    raw_id: i64,
    source: Source,
    size: i64,
}

impl ToHold {
    async fn store(self, conn: &mut AnyConnection, cx: &StoreContext<'_>, now: i64) -> Result<Outcome, TicketError> {
        let q = NewQuarantine {
            raw_id: Some(self.raw_id),
            mailbox_id: Some(cx.mailbox.id),
            reason: &self.reason,
            headers: &self.headers,
            size: self.size,
            uid_validity: self.source.map(|s| s.0),
            uid: self.source.map(|s| s.1),
        };
        db::quarantine::insert(conn, &q, now).await?;
        Ok(Outcome::new(OutcomeKind::Quarantined, None, Some(self.reason)))
    }
}

async fn store_mail(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    batch: &mut BatchState,
    m: &PreparedMail,
    raw_id: i64,
    now: i64,
) -> Result<Outcome, TicketError> {
    if let Some(number) = batch.ticket_of_digest(conn, &m.digest).await? {
        let why = "same mail already received (another mailbox?)".to_string();
        return Ok(Outcome::new(OutcomeKind::Duplicate, Some(number), Some(why)));
    }
    let decision = decide(&lookup(conn, cx, batch, m).await?, m.mail.classification.is_automatic());
    tracing::debug!(?decision, "threading");
    let inbound = inbound_mail(m, raw_id).ok_or_else(|| TicketError::Invalid("a mail without sender".into()))?;
    let tcx = InboundContext {
        mailbox: cx.mailbox,
        our_addresses: cx.our_addresses,
        staff: &cx.staff,
        can_send: cx.can_send,
        order_pattern: cx.order_pattern.as_deref(),
        orders_in_catalog: cx.orders_in_catalog,
    };
    let filed = cx.tickets.file_inbound(conn, &tcx, &mut batch.inbound, &inbound, decision.placement(), now).await?;
    let (kind, number) = match filed {
        Filed::Created(n) => (OutcomeKind::Created, n),
        Filed::Threaded(n) => (OutcomeKind::Threaded, n),
    };
    batch.digests.insert(m.digest.clone(), number);
    Ok(Outcome::new(kind, Some(number), None))
}

/// The mail as the ticket layer takes it (`None` without a sender, which prepare quarantines).
fn inbound_mail(m: &PreparedMail, raw_id: i64) -> Option<InboundMail<'_>> {
    let mail = &m.mail;
    let c = &mail.classification;
    let files = mail
        .attachments
        .iter()
        .zip(&m.attachment_sha256)
        .map(|(a, sha)| InboundFile {
            filename: &a.filename,
            content_type: &a.content_type,
            content_id: a.content_id.as_deref(),
            inline: a.inline,
            sha256: sha,
            data: &a.data,
        })
        .collect();
    Some(InboundMail {
        raw_id,
        from: mail.from.as_ref()?,
        to: &mail.to,
        cc: &mail.cc,
        reply_to: mail.reply_to.first().map(|p| &p.email),
        subject: &mail.subject,
        message_id: mail.message_id.as_deref(),
        in_reply_to: mail.in_reply_to.first().map(String::as_str),
        references: &mail.references,
        visible_text: &m.visible_text,
        body_text: &mail.body_text,
        body_html: m.body_html.as_deref(),
        date: mail.date,
        digest: &m.digest,
        auto_reply: c.is_automatic(),
        mailing_list: c.mailing_list,
        spam: m.spam,
        files,
        agent_token: m.facts.token.and_then(|t| t.agent.map(|a| (t.ticket, a))),
        auth_failure: m.auth_failure.clone(),
    })
}
