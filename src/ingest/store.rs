//! The transactional half of ingest: one prepared message into tickets, messages, attachments and events.

use super::prepare::{Content, Prepared, PreparedMail};
use super::threading::{Decision, Lookup, TicketRef, decide};
use crate::db::{self, DbError, mailboxes::MailboxRow, messages::NewMessage, quarantine::NewQuarantine};
use crate::domain::{EmailAddress, Status};
use crate::storage::BlobStore;
use crate::tokens::Signer;
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
    fn new(kind: OutcomeKind, ticket: Option<i64>, reason: Option<String>) -> Self {
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
        Content::Mail(m) if m.mail.classification.bounce.is_some() => store_bounce(conn, cx, m, raw_id, now).await,
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

async fn store_bounce(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    raw_id: i64,
    now: i64,
) -> Result<Outcome, DbError> {
    let report = m.mail.classification.bounce.as_ref().expect("checked by caller");
    let original = report.original_message_id.as_deref();
    let error =
        format!("bounced: {} {}", report.status.as_deref().unwrap_or(""), report.diagnostic.as_deref().unwrap_or(""))
            .trim()
            .to_string();
    let from_outbox = match original {
        Some(id) => db::outbox::bounce_failed(conn, id, &report.recipients, &error, now).await?,
        None => None,
    };
    let ticket = match (from_outbox, original) {
        (Some(tid), _) => db::tickets::by_id(&mut *conn, tid).await?,
        (None, Some(id)) => match cx.signer.check_message_id(id) {
            Some(number) => db::tickets::by_number(&mut *conn, number).await?,
            None => match db::messages::ticket_of_message_id(conn, &[id.to_string()]).await? {
                Some(tid) => db::tickets::by_id(&mut *conn, tid).await?,
                None => None,
            },
        },
        (None, None) => None,
    };
    let recipients = report.recipients.join(", ");
    let bounce = db::raw::NewBounce {
        raw_id,
        mailbox_id: cx.mailbox.id,
        ticket_id: ticket.as_ref().map(|t| t.id),
        original_message_id: original,
        status: report.status.as_deref(),
        diagnostic: report.diagnostic.as_deref(),
        recipients: &recipients,
    };
    db::raw::insert_bounce(conn, &bounce, now).await?;
    if let Some(t) = &ticket {
        let detail = format!(
            "delivery to {} failed: {} {}",
            recipients,
            report.status.as_deref().unwrap_or(""),
            report.diagnostic.as_deref().unwrap_or("")
        );
        db::messages::insert_event(&mut *conn, t.id, "system", "bounce", detail.trim(), now).await?;
    }
    let reason = ticket.is_none().then(|| "bounce names no message of ours; kept in the bounce log".to_string());
    Ok(Outcome::new(OutcomeKind::Bounce, ticket.map(|t| t.number), reason))
}

async fn lookup(conn: &mut AnyConnection, m: &PreparedMail) -> Result<Lookup, DbError> {
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
        let participant = db::customers::is_participant(&mut *conn, t.id, sender).await?
            || db::users::active_by_email(&mut *conn, sender).await?.is_some();
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
    let decision = decide(&lookup(conn, m).await?, automatic);
    let from = m.mail.from.as_ref().expect("prepare quarantines mail without sender");
    let staff = db::users::active_by_email(&mut *conn, from.email.as_str()).await?.is_some();
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
            let (id, number) = new_ticket(conn, cx, m, customer_id, Some(parent.id), now).await?;
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
            let (id, number) = new_ticket(conn, cx, m, customer_id, None, now).await?;
            (id, number, OutcomeKind::Created)
        }
    };
    add_cc_participants(conn, cx, m, ticket_id, customer_id, now).await?;
    insert_message(conn, cx, m, ticket_id, customer_id, raw_id, now).await?;
    if !automatic {
        let text = format!("{}\n{}", m.mail.subject, m.visible_text);
        crate::actions::links::auto_link(conn, ticket_id, &text, cx.order_pattern.as_deref(), now).await?;
    }
    let c = &m.mail.classification;
    match kind {
        OutcomeKind::Created => {
            // Staff writing to support get no acknowledgement.
            let suppress_ack = automatic || c.mailing_list || m.spam || staff;
            cx.composer.ticket_created(conn, ticket_id, suppress_ack, now).await?;
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

async fn new_ticket(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    customer_id: i64,
    parent: Option<i64>,
    now: i64,
) -> Result<(i64, i64), DbError> {
    let subject = if m.mail.subject.is_empty() { "(no subject)" } else { m.mail.subject.as_str() };
    let new = db::tickets::NewTicket {
        mailbox_id: cx.mailbox.id,
        subject,
        requester_id: customer_id,
        parent_ticket_id: parent,
        now,
    };
    let (id, number) = db::tickets::insert(conn, &new).await?;
    db::customers::add_participant(&mut *conn, id, customer_id, "requester").await?;
    let actor = m.mail.from.as_ref().map(|p| p.email.as_str()).unwrap_or("system");
    db::messages::insert_event(&mut *conn, id, actor, "created", &format!("by e-mail to {}", cx.mailbox.address), now)
        .await?;
    Ok((id, number))
}

async fn add_cc_participants(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket_id: i64,
    requester: i64,
    now: i64,
) -> Result<(), DbError> {
    for person in m.mail.to.iter().chain(&m.mail.cc).take(50) {
        if is_ours(&person.email, cx.our_addresses)
            || db::users::active_by_email(&mut *conn, person.email.as_str()).await?.is_some()
        {
            continue;
        }
        let id = db::customers::upsert(conn, person.email.as_str(), &person.name, now).await?;
        if id != requester {
            db::customers::add_participant(&mut *conn, ticket_id, id, "cc").await?;
        }
    }
    Ok(())
}

async fn insert_message(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket_id: i64,
    customer_id: i64,
    raw_id: i64,
    now: i64,
) -> Result<(), DbError> {
    let mail = &m.mail;
    let from = mail.from.as_ref().expect("checked");
    let emails = |people: &[super::parse::Person]| {
        serde_json::to_string(&people.iter().map(|p| p.email.as_str()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let mut flags = Vec::new();
    let c = &mail.classification;
    for (on, name) in [(c.auto_reply, "auto_reply"), (c.mailing_list, "list"), (m.spam, "spam")] {
        if on {
            flags.push(name);
        }
    }
    let new = NewMessage {
        ticket_id,
        kind: "customer",
        mailbox_id: Some(cx.mailbox.id),
        raw_id: Some(raw_id),
        customer_id: Some(customer_id),
        from_addr: from.email.to_string(),
        from_name: from.name.clone(),
        to_json: emails(&mail.to),
        cc_json: emails(&mail.cc),
        reply_to: mail.reply_to.first().map(|p| p.email.to_string()).unwrap_or_default(),
        subject: mail.subject.clone(),
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.first().cloned(),
        refs: mail.references.join(" "),
        visible_text: m.visible_text.clone(),
        body_text: mail.body_text.clone(),
        body_html: m.body_html.clone(),
        auto: c.is_automatic(),
        flags: flags.join(" "),
        content_digest: Some(m.digest.clone()),
        sent_at: mail.date,
        created_at: now,
        ..Default::default()
    };
    let message_id = db::messages::insert(conn, &new).await?;
    for (att, sha) in mail.attachments.iter().zip(&m.attachment_sha256) {
        let a = db::messages::NewAttachment {
            filename: &att.filename,
            content_type: &att.content_type,
            size: att.data.len() as i64,
            sha256: sha,
            content_id: att.content_id.as_deref(),
            inline: att.inline,
        };
        db::messages::insert_attachment(conn, message_id, &a, now).await?;
    }
    Ok(())
}

/// Whether an address is one of our mailboxes, or a plus-address of one.
pub fn is_ours(addr: &EmailAddress, ours: &[EmailAddress]) -> bool {
    let base = match addr.local_part().split_once('+') {
        Some((local, _)) => format!("{local}@{}", addr.domain()),
        None => addr.to_string(),
    };
    ours.iter().any(|o| o.as_str() == base)
}
