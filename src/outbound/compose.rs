//! The composer: which mails an event causes, rendered and queued in the caller's transaction.

use super::context::{self, ContextParts, LastCustomerMail};
use super::message::{MailSpec, build};
use super::templates::Templates;
use crate::platform::config::MailboxSettings;
use crate::db::{self, DbError, MailboxRow, TicketRow, UserRow, outbox::NewOutbound};
use crate::domain::{EmailAddress, NamedAddress};
use crate::platform::tokens::Signer;
use serde_json::Value;
use sqlx::AnyConnection;
use std::sync::Arc;

/// Renders and queues outgoing mail; shared by ingest, the API and the dashboard.
#[derive(Clone)]
pub struct Composer {
    /// The compiled e-mail templates; replaced whole by [`Composer::reload`] when an override is saved.
    pub templates: LiveTemplates,
    pub signer: Signer,
    pub public_url: String,
    pub ack_limit_per_hour: u32,
    /// Woken after a commit that queued mail, so the sender does not wait for its next poll.
    pub wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// One mail to queue.
pub struct Draft<'a> {
    pub kind: &'static str,
    pub ticket: &'a TicketRow,
    pub mailbox: &'a MailboxRow,
    pub to: Vec<(String, String)>,
    pub cc: Vec<(String, String)>,
    pub reply_to: Option<String>,
    pub agent: Option<&'a UserRow>,
    pub from_name: String,
    pub message: Value,
    pub auto_submitted: Option<&'static str>,
    pub threading: Option<&'a LastCustomerMail>,
    pub message_row: Option<i64>,
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// The Message-ID to use (a reply stores it on its ticket message first).
    pub message_id: Option<String>,
}

/// The templates in use, replaceable at run time: a saved override applies to the next mail.
#[derive(Debug, Clone)]
pub struct LiveTemplates(Arc<std::sync::RwLock<Arc<Templates>>>);

impl LiveTemplates {
    pub fn new(templates: Templates) -> Self {
        Self(Arc::new(std::sync::RwLock::new(Arc::new(templates))))
    }

    /// The templates in use now.
    pub fn current(&self) -> Arc<Templates> {
        self.0.read().expect("templates lock").clone()
    }

    /// Renders with the templates in use now (see [`Templates::render`]).
    pub fn render(
        &self,
        kind: &str,
        ctx: &Value,
    ) -> Result<super::templates::Rendered, super::templates::TemplateError> {
        self.current().render(kind, ctx)
    }

    fn replace(&self, templates: Templates) {
        *self.0.write().expect("templates lock") = Arc::new(templates);
    }
}

/// Why the templates could not be reloaded; the ones in use stay.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot read the template overrides")]
    Db(#[from] DbError),
    #[error(transparent)]
    Template(#[from] super::templates::TemplateError),
}

impl Composer {
    /// Loads the templates again (built-in, files in `dir`, overrides in the database); the next mail uses them.
    pub async fn reload(&self, db: &crate::db::Db, dir: Option<&std::path::Path>) -> Result<(), ReloadError> {
        let overrides = db.template_overrides().await?;
        let fresh = Templates::load(dir, &overrides)?;
        self.templates.replace(fresh);
        Ok(())
    }

    /// A fresh signed Message-ID for a mail about `ticket` from `mailbox`.
    pub fn new_message_id(&self, ticket: i64, mailbox: &MailboxRow) -> String {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..12];
        let domain = mailbox.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
        self.signer.message_id(ticket, tag, domain)
    }

    /// The mailbox's display name ("Example Support", or its address).
    pub fn team_name(mailbox: &MailboxRow) -> String {
        if mailbox.display_name.trim().is_empty() { mailbox.address.clone() } else { mailbox.display_name.clone() }
    }

    /// Whether mail can leave through this mailbox (it has SMTP settings and is enabled).
    pub fn can_send(mailbox: &MailboxRow) -> bool {
        mailbox.enabled == 1
            && serde_json::from_str::<MailboxSettings>(&mailbox.settings_json).is_ok_and(|s| s.smtp.is_some())
    }

    /// Renders, builds and queues a draft; returns the outbound id, or `None` when it was not sendable
    /// (no recipient left, or a template/build error, which is logged and recorded on the ticket).
    pub async fn enqueue(&self, conn: &mut AnyConnection, d: Draft<'_>, now: i64) -> Result<Option<i64>, DbError> {
        self.enqueue_with(conn, d, serde_json::Map::new(), now).await
    }

    /// Like [`Composer::enqueue`], with extra top-level template variables (e.g. `command`).
    pub async fn enqueue_with(
        &self,
        conn: &mut AnyConnection,
        d: Draft<'_>,
        extra: serde_json::Map<String, Value>,
        now: i64,
    ) -> Result<Option<i64>, DbError> {
        let ours: Vec<EmailAddress> =
            db::mailboxes::addresses(&mut *conn).await?.iter().filter_map(|a| EmailAddress::parse(a).ok()).collect();
        let keep = |list: Vec<(String, String)>| -> Vec<NamedAddress> {
            list.into_iter()
                .filter_map(|(name, addr)| NamedAddress::parse(&addr, &name).ok())
                .filter(|a| !crate::ingest::is_ours(&a.email, &ours))
                .collect()
        };
        let (to, cc) = (keep(d.to), keep(d.cc));
        let mut recipients: Vec<String> = Vec::new();
        for a in to.iter().chain(&cc) {
            if !recipients.iter().any(|r| r == a.email.as_str()) {
                recipients.push(a.email.to_string());
            }
        }
        if recipients.is_empty() {
            return Ok(None);
        }
        let from = match NamedAddress::parse(&d.mailbox.address, &d.from_name) {
            Ok(from) => from,
            Err(e) => return self.not_sent(conn, d.ticket, d.kind, &e, now).await,
        };
        let first = to.first().or(cc.first()).expect("a recipient is left");
        let (recipient_name, recipient_addr) = (first.name.to_string(), first.email.to_string());
        let parts = ContextParts {
            ticket: d.ticket,
            mailbox: d.mailbox,
            public_url: &self.public_url,
            agent: d.agent,
            recipient: (&recipient_name, &recipient_addr),
            message: d.message,
            links: context::links_json(&crate::db::catalog::links(&mut *conn, d.ticket.id).await?),
        };
        let mut ctx = context::build(&parts);
        if let Some(obj) = ctx.as_object_mut() {
            obj.extend(extra);
        }
        let rendered = match self.templates.render(d.kind, &ctx) {
            Ok(r) => r,
            Err(e) => return self.not_sent(conn, d.ticket, d.kind, &e.to_string(), now).await,
        };
        let message_id = d.message_id.unwrap_or_else(|| self.new_message_id(d.ticket.number, d.mailbox));
        let (in_reply_to, references) = match d.threading.and_then(|t| t.message_id.clone().map(|id| (id, t))) {
            Some((id, t)) => {
                let mut refs: Vec<String> = t.refs.split_whitespace().map(str::to_string).collect();
                refs.push(id.clone());
                (Some(id), refs)
            }
            None => (None, Vec::new()),
        };
        let spec = MailSpec {
            from,
            to,
            cc,
            reply_to: d.reply_to.and_then(|a| EmailAddress::parse(&a).ok()),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: message_id.clone(),
            in_reply_to,
            references,
            auto_submitted: d.auto_submitted,
            loop_marker: d.mailbox.address.clone(),
            attachments: d.attachments,
        };
        let raw = match build(&spec) {
            Ok(raw) => raw,
            Err(e) => return self.not_sent(conn, d.ticket, d.kind, &e.to_string(), now).await,
        };
        let new = NewOutbound {
            ticket_id: Some(d.ticket.id),
            message_id: d.message_row,
            mailbox_id: d.mailbox.id,
            kind: d.kind,
            header_message_id: &message_id,
            sender: &d.mailbox.address,
            raw: &raw,
            automatic: d.auto_submitted.is_some(),
        };
        Ok(Some(db::outbox::enqueue(conn, &new, &recipients, now).await?))
    }

    async fn not_sent(
        &self,
        conn: &mut AnyConnection,
        ticket: &TicketRow,
        kind: &str,
        error: &str,
        now: i64,
    ) -> Result<Option<i64>, DbError> {
        tracing::error!(ticket = ticket.number, kind, error, "mail not sent");
        db::messages::insert_event(&mut *conn, ticket.id, "system", "mail_not_sent", &format!("{kind}: {error}"), now)
            .await?;
        Ok(None)
    }

    /// Wakes the sender after a commit.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The newest customer mail of a ticket.
pub async fn last_customer_mail(conn: &mut AnyConnection, ticket_id: i64) -> Result<Option<LastCustomerMail>, DbError> {
    Ok(sqlx::query_as(
        "select message_id, refs, visible_text, from_addr, from_name, reply_to, created_at from messages \
         where ticket_id = $1 and kind = 'customer' order by id desc limit 1",
    )
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The mailbox row of a ticket.
pub async fn mailbox_of(conn: &mut AnyConnection, ticket: &TicketRow) -> Result<MailboxRow, DbError> {
    sqlx::query_as("select id, name, address, display_name, plus_addressing, source, enabled, settings_json from mailboxes where id = $1")
        .bind(ticket.mailbox_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DbError::NotFound)
}
