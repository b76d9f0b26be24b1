//! The transactional half of ingest: one prepared message into tickets, messages, attachments and events.

use super::prepare::{Content, Prepared, PreparedMail};
use super::threading::{Decision, Lookup, TicketRef, decide};
use crate::db::{self, DbError, mailboxes::MailboxRow, quarantine::NewQuarantine};
use crate::domain::{EmailAddress, Status};
use crate::platform::storage::BlobStore;
use crate::platform::tokens::Signer;
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
    pub signer: &'a Signer,
    /// Every mailbox address of the installation.
    pub our_addresses: &'a [EmailAddress],
    /// Queues acknowledgements and notifications in the same transaction.
    pub composer: &'a crate::outbound::Composer,
    /// `authserv-id`s whose `Authentication-Results` are believed (agent mail verification).
    pub trusted_authserv_ids: &'a [String],
    /// The mailbox's `order_pattern` (automatic order links); `None` uses the default.
    pub order_pattern: Option<String>,
    /// Active staff addresses (read once per batch: staff mail is handled apart, and gets no acknowledgement).
    pub staff: std::collections::HashSet<String>,
    /// Whether the mailbox can send (else no acknowledgement or notice is composed at all).
    pub can_send: bool,
}

/// Stores one prepared input inside the caller's transaction.
pub async fn store_one(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    item: &Prepared,
    source: Source,
    now: i64,
) -> Result<Outcome, DbError> {
    if let Some((validity, uid)) = source
        && db::raw::receipt_exists(conn, cx.mailbox.id, validity, uid).await?
    {
        let o = Outcome::new(OutcomeKind::Duplicate, None, Some("this IMAP message was imported before".into()));
        return Ok(Outcome { sha256: item.sha256.clone(), ..o });
    }
    let path = BlobStore::relative_path(&item.sha256);
    let (raw_id, known) = db::raw::upsert(conn, &item.sha256, item.size(), &path, now).await?;
    let outcome = match known {
        true => match db::raw::prior_disposition(conn, raw_id).await? {
            Some((ticket, why)) => Outcome::new(OutcomeKind::Duplicate, ticket, Some(why.into())),
            None => store_content(conn, cx, item, raw_id, source, now).await?,
        },
        false => store_content(conn, cx, item, raw_id, source, now).await?,
    };
    let kind = serde_json::to_value(outcome.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    db::raw::insert_receipt(conn, raw_id, cx.mailbox.id, source, &kind, now).await?;
    Ok(Outcome { sha256: item.sha256.clone(), ..outcome })
}

/// Stores the content of an input whose raw message is recorded as `raw_id` (no receipt, no duplicate check by digest of the raw bytes).
pub(super) async fn store_content(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    item: &Prepared,
    raw_id: i64,
    source: Source,
    now: i64,
) -> Result<Outcome, DbError> {
    match &item.content {
        Content::Quarantine { reason, headers } => {
            let q = NewQuarantine {
                raw_id: Some(raw_id),
                mailbox_id: Some(cx.mailbox.id),
                reason,
                headers,
                size: item.size(),
                uid_validity: source.map(|s| s.0),
                uid: source.map(|s| s.1),
            };
            db::quarantine::insert(conn, &q, now).await?;
            Ok(Outcome::new(OutcomeKind::Quarantined, None, Some(reason.clone())))
        }
        Content::Mail(m) if m.mail.classification.bounce.is_some() => {
            super::store_bounce::store_bounce(conn, cx, m, raw_id, now).await
        }
        Content::Mail(m) => {
            if let Some(ticket_id) = db::messages::ticket_of_digest(conn, &m.digest).await? {
                let number = ticket_number(conn, ticket_id).await?;
                return Ok(Outcome::new(
                    OutcomeKind::Duplicate,
                    Some(number),
                    Some("same mail already received (another mailbox?)".into()),
                ));
            }
            store_mail(conn, cx, m, raw_id, now).await
        }
    }
}

async fn ticket_number(conn: &mut AnyConnection, ticket_id: i64) -> Result<i64, DbError> {
    Ok(db::tickets::by_id(&mut *conn, ticket_id).await?.ok_or(DbError::NotFound)?.number)
}

async fn lookup(conn: &mut AnyConnection, cx: &StoreContext<'_>, m: &PreparedMail) -> Result<Lookup, DbError> {
    let mut out = Lookup::default();
    for number in &m.facts.signed_tickets {
        if let Some(t) = db::tickets::by_number(&mut *conn, *number).await? {
            out.by_signed_id = Some(to_ref(&t));
            break;
        }
    }
    if let Some(token) = m.facts.token {
        out.by_token = db::tickets::by_number(&mut *conn, token.ticket).await?.as_ref().map(to_ref);
    }
    if out.by_signed_id.is_none()
        && out.by_token.is_none()
        && let Some(tid) = db::messages::ticket_of_message_id(conn, &m.facts.referenced_ids).await?
    {
        out.by_reference = db::tickets::by_id(&mut *conn, tid).await?.as_ref().map(to_ref);
    }
    if let Some(number) = m.facts.subject_tag
        && let Some(t) = db::tickets::by_number(&mut *conn, number).await?
    {
        let sender = m.mail.from.as_ref().map(|p| p.email.as_str()).unwrap_or_default();
        let participant = db::customers::is_participant(&mut *conn, t.id, sender).await? || cx.staff.contains(sender);
        out.by_subject_tag = Some((to_ref(&t), participant));
    }
    Ok(out)
}

fn to_ref(t: &db::TicketRow) -> TicketRef {
    TicketRef { id: t.id, number: t.number, status: Status::parse(&t.status).unwrap_or(Status::Open) }
}

async fn store_mail(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    raw_id: i64,
    now: i64,
) -> Result<Outcome, DbError> {
    let automatic = m.mail.classification.is_automatic();
    let decision = decide(&lookup(conn, cx, m).await?, automatic);
    let from = m.mail.from.as_ref().expect("prepare quarantines mail without sender");
    let staff = cx.staff.contains(from.email.as_str());
    let to_agent_address = m.facts.token.is_some_and(|t| t.agent.is_some());
    if (staff || to_agent_address) && !automatic {
        let target = agent_mail_target(conn, m, decision).await?;
        if let Some(outcome) = super::agent_mail::store(conn, cx, m, target, raw_id, now).await? {
            return Ok(outcome);
        }
    }
    let customer_id = db::customers::upsert(conn, from.email.as_str(), &from.name, now).await?;
    let (ticket_id, number, kind) = match decision {
        Decision::Thread { ticket, reopen, rule } => {
            let status = reopen.then_some(Status::Open);
            db::tickets::touch(&mut *conn, ticket.id, status, now).await?;
            if reopen {
                db::messages::insert_event(
                    &mut *conn,
                    ticket.id,
                    from.email.as_str(),
                    "status",
                    "reopened by customer mail",
                    now,
                )
                .await?;
            }
            tracing::debug!(ticket = ticket.number, ?rule, "threaded");
            (ticket.id, ticket.number, OutcomeKind::Threaded)
        }
        Decision::FollowUp { parent, .. } => {
            let (id, number) = super::store_message::new_ticket(conn, cx, m, customer_id, Some(parent.id), now).await?;
            let detail = format!("follow-up ticket #{number} opened by a reply to this closed ticket");
            db::messages::insert_event(&mut *conn, parent.id, "system", "follow_up", &detail, now).await?;
            db::messages::insert_event(
                &mut *conn,
                id,
                "system",
                "follow_up_of",
                &format!("follows up closed ticket #{}", parent.number),
                now,
            )
            .await?;
            (id, number, OutcomeKind::Created)
        }
        Decision::New => {
            let (id, number) = super::store_message::new_ticket(conn, cx, m, customer_id, None, now).await?;
            (id, number, OutcomeKind::Created)
        }
    };
    super::store_message::add_cc_participants(conn, cx, m, ticket_id, customer_id, now).await?;
    super::store_message::insert_message(conn, cx, m, ticket_id, customer_id, raw_id, now).await?;
    if !automatic {
        let text = format!("{}\n{}", m.mail.subject, m.visible_text);
        crate::tickets::links::auto_link(conn, ticket_id, &text, cx.order_pattern.as_deref(), now).await?;
    }
    let c = &m.mail.classification;
    match kind {
        OutcomeKind::Created => {
            // Staff writing to support get no acknowledgement.
            let suppress_ack = automatic || c.mailing_list || m.spam || staff;
            if cx.can_send {
                cx.composer.ticket_created(conn, ticket_id, suppress_ack, now).await?;
            }
        }
        _ if !automatic => cx.composer.customer_replied(conn, ticket_id, now).await?,
        _ => {}
    }
    Ok(Outcome::new(kind, Some(number), None))
}

/// The ticket a staff mail belongs to: the one its agent reply address names, else the threading rules' choice.
async fn agent_mail_target(
    conn: &mut AnyConnection,
    m: &PreparedMail,
    decision: Decision,
) -> Result<Option<db::TicketRow>, DbError> {
    if let Some(t) = m.facts.token.filter(|t| t.agent.is_some()) {
        return db::tickets::by_number(&mut *conn, t.ticket).await;
    }
    match decision {
        Decision::Thread { ticket, .. } | Decision::FollowUp { parent: ticket, .. } => {
            db::tickets::by_id(&mut *conn, ticket.id).await
        }
        Decision::New => Ok(None),
    }
}
