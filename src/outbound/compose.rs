//! The composer: a [`MailIntent`] rendered from its templates, built and queued in the caller's transaction.

pub use super::composed::{Composed, Composition};
use super::context::{self, ContextParts};
use super::intent::{FromName, MailIntent, Queued};
use super::message::{MailSpec, build};
use super::templates::Templates;
use crate::db::{self, DbError, MailboxRow, catalog::LinkRow};
use crate::domain::{EmailAddress, NamedAddress, TemplateKind, is_ours};
use crate::platform::tokens::Signer;
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::Arc;

/// Renders and queues outgoing mail; shared by tickets (ticket mail) and the account pages (plain mail).
#[derive(Clone)]
pub struct Composer {
    /// The compiled e-mail templates; replaced whole by [`Composer::reload`] when an override is saved.
    pub templates: LiveTemplates,
    pub signer: Signer,
    pub public_url: String,
    /// Woken after a commit that queued mail, so the sender does not wait for its next poll.
    pub wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer").field("public_url", &self.public_url).finish_non_exhaustive()
    }
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

    /// The signed plus-address customers reply to, when the mailbox enables plus-addressing.
    pub fn customer_reply_to(&self, mailbox: &MailboxRow, ticket: i64) -> Option<String> {
        let address = EmailAddress::parse(&mailbox.address).ok()?;
        (mailbox.plus_addressing == 1).then(|| self.signer.reply_address(&address, ticket))
    }

    /// The plus-address only `agent` may answer (agent mail, design §5), when the mailbox enables plus-addressing.
    pub fn agent_reply_to(&self, mailbox: &MailboxRow, ticket: i64, agent: i64) -> Option<String> {
        let address = EmailAddress::parse(&mailbox.address).ok()?;
        (mailbox.plus_addressing == 1).then(|| self.signer.agent_reply_address(&address, ticket, agent))
    }

    /// Renders, builds and queues an intent. A template or build error queues nothing and says why (the caller
    /// records it on the ticket); only database errors are errors. `shared` is read once per transaction.
    pub async fn queue(
        &self,
        conn: &mut AnyConnection,
        intent: MailIntent,
        shared: &QueueShared,
        now: i64,
    ) -> Result<Queued, DbError> {
        Ok(match self.compose(conn, intent, shared).await? {
            Composition::Mail(m) => Queued::Mail(db::outbox::enqueue(conn, &m.outbound(), &m.recipients, now).await?),
            Composition::NoRecipient => Queued::NoRecipient,
            Composition::NotSent(why) => Queued::NotSent(why),
        })
    }

    /// Renders and builds an intent for the outbox, without queueing it (see [`Composer::queue`]; a caller that
    /// makes many stores them together with [`db::outbox::enqueue_all`]).
    pub async fn compose(
        &self,
        conn: &mut AnyConnection,
        intent: MailIntent,
        shared: &QueueShared,
    ) -> Result<Composition, DbError> {
        let (to, cc) = shared.addressees(&intent);
        let recipients = unique_emails(&to, &cc);
        let Some(first) = to.first().or(cc.first()).cloned() else { return Ok(Composition::NoRecipient) };
        let from_name = match &intent.from {
            FromName::Team => intent.mailbox.team_name(),
            FromName::Agent(name) => format!("{name} ({})", intent.mailbox.team_name()),
        };
        let from = match NamedAddress::parse(&intent.mailbox.address, &from_name) {
            Ok(from) => from,
            Err(e) => return Ok(Composition::NotSent(e)),
        };
        let links = match shared.links.get(&intent.ticket.id) {
            Some(links) => context::links_json(links),
            None => context::links_json(&db::catalog::links(&mut *conn, intent.ticket.id).await?),
        };
        let portal = shared.portal
            && matches!(
                intent.template,
                TemplateKind::Ack | TemplateKind::AgentReply | TemplateKind::RuleReply | TemplateKind::Resolved
            );
        let raw_and_id = self.render_and_build(&intent, from, to, cc, &first, Extras { links, portal });
        let (raw, header_message_id) = match raw_and_id {
            Ok(r) => r,
            Err(e) => return Ok(Composition::NotSent(e)),
        };
        Ok(Composition::Mail(Composed {
            ticket_id: intent.ticket.id,
            message_id: intent.message_row,
            mailbox_id: intent.mailbox.id,
            kind: intent.template,
            header_message_id,
            sender: intent.mailbox.address.clone(),
            raw,
            automatic: intent.automatic.is_some(),
            send_after: intent.send_after,
            recipients,
        }))
    }

    /// The mail's bytes and Message-ID, or why it cannot be made.
    fn render_and_build(
        &self,
        intent: &MailIntent,
        from: NamedAddress,
        to: Vec<NamedAddress>,
        cc: Vec<NamedAddress>,
        first: &NamedAddress,
        extras: Extras,
    ) -> Result<(Vec<u8>, String), String> {
        let (recipient_name, recipient_addr) = (first.name.to_string(), first.email.to_string());
        let parts = ContextParts {
            ticket: &intent.ticket,
            mailbox: &intent.mailbox,
            public_url: &self.public_url,
            agent: intent.agent.as_ref(),
            recipient: (&recipient_name, &recipient_addr),
            message: intent.message.json(),
            links: extras.links,
            command: intent.command.as_ref(),
        };
        let mut ctx = context::build(&parts);
        if let Some(r) = &intent.rule {
            ctx["rule"] = serde_json::json!({ "name": r.name, "body": r.body });
        }
        if extras.portal {
            self.add_portal_links(&mut ctx, intent);
        }
        let rendered = self.templates.render(intent.template.as_str(), &ctx).map_err(|e| e.to_string())?;
        let message_id =
            intent.message_id.clone().unwrap_or_else(|| self.new_message_id(intent.ticket.number, &intent.mailbox));
        let (in_reply_to, references) = match &intent.threading {
            Some(t) => {
                let mut refs: Vec<String> = t.references.split_whitespace().map(str::to_string).collect();
                refs.push(t.message_id.clone());
                (Some(t.message_id.clone()), refs)
            }
            None => (None, Vec::new()),
        };
        let spec = MailSpec {
            from,
            to,
            cc,
            reply_to: intent.reply_to.as_deref().and_then(|a| EmailAddress::parse(a).ok()),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: message_id.clone(),
            in_reply_to,
            references,
            auto_submitted: intent.automatic.map(|a| a.as_str()),
            loop_marker: intent.mailbox.address.clone(),
            attachments: intent
                .attachments
                .iter()
                .map(|f| (f.filename.clone(), f.content_type.clone(), f.data.clone()))
                .collect(),
        };
        let raw = build(&spec).map_err(|e| e.to_string())?;
        Ok((raw, message_id))
    }

    /// The portal link of a ticket: opens that one ticket, read and answer, without signing in.
    pub fn portal_ticket_url(&self, ticket: i64) -> String {
        let token = self.signer.portal_ticket_token(ticket);
        format!("{}/portal/t/{ticket}/{token}", self.public_url.trim_end_matches('/'))
    }

    /// `portal_url` (and on `resolved`, the two satisfaction answers) for a customer's mail.
    fn add_portal_links(&self, ctx: &mut Value, intent: &MailIntent) {
        let url = self.portal_ticket_url(intent.ticket.number);
        if intent.template == TemplateKind::Resolved {
            ctx["rating_good_url"] = Value::from(format!("{url}?rating=good#rate"));
            ctx["rating_bad_url"] = Value::from(format!("{url}?rating=bad#rate"));
        }
        ctx["portal_url"] = Value::from(url);
    }

    /// Wakes the sender after a commit.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Template variables read from the store for one mail: the ticket's links, and whether the portal is on.
struct Extras {
    links: Value,
    portal: bool,
}

/// What every mail queued in one transaction needs from the database, read once for all of them.
#[derive(Debug, Clone)]
pub struct QueueShared {
    /// Every mailbox address of the installation (never a recipient).
    ours: Vec<EmailAddress>,
    /// Whether customers' mail links to the portal.
    portal: bool,
    /// Shop links of tickets read ahead for many mails at once (see [`QueueShared::read_links`]); the mail of
    /// any other ticket reads its own.
    links: HashMap<i64, Vec<LinkRow>>,
}

impl QueueShared {
    /// Reads the mailbox addresses and the portal flag (in the caller's transaction).
    pub async fn read(conn: &mut AnyConnection) -> Result<Self, DbError> {
        let ours =
            db::mailboxes::addresses(&mut *conn).await?.iter().filter_map(|a| EmailAddress::parse(a).ok()).collect();
        Ok(Self { ours, portal: portal_enabled(conn).await?, links: HashMap::new() })
    }

    /// Reads the shop links of `tickets` in one go, for the mail queued about them next. Only for a caller that
    /// adds no link to them before that mail is queued (an ingest batch's notices).
    pub async fn read_links(&mut self, conn: &mut AnyConnection, tickets: &[i64]) -> Result<(), DbError> {
        self.links.extend(db::catalog::links_of(conn, tickets).await?);
        Ok(())
    }

    /// An intent's To and Cc, each parsed, without our own addresses.
    fn addressees(&self, intent: &MailIntent) -> (Vec<NamedAddress>, Vec<NamedAddress>) {
        let keep = |list: &[(String, String)]| -> Vec<NamedAddress> {
            list.iter()
                .filter_map(|(name, addr)| NamedAddress::parse(addr, name).ok())
                .filter(|a| !is_ours(&a.email, &self.ours))
                .collect()
        };
        (keep(&intent.to), keep(&intent.cc))
    }
}

/// Every address of `to` and `cc` once, in order.
fn unique_emails(to: &[NamedAddress], cc: &[NamedAddress]) -> Vec<String> {
    let mut emails: Vec<String> = Vec::new();
    for a in to.iter().chain(cc) {
        if !emails.iter().any(|r| r == a.email.as_str()) {
            emails.push(a.email.to_string());
        }
    }
    emails
}

/// The `settings` key that turns the customer portal off (`false`); on by default.
pub const PORTAL_ENABLED: &str = "portal.enabled";

/// Whether the customer portal is on (customers' mail then links to it).
pub async fn portal_enabled(conn: &mut AnyConnection) -> Result<bool, DbError> {
    Ok(db::portal::setting(conn, PORTAL_ENABLED).await?.as_deref() != Some("false"))
}
