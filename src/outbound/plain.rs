//! Mail that concerns no ticket (invitations, password resets): rendered from a kind's templates and queued.

use super::compose::Composer;
use super::message::{BuildError, MailSpec, build};
use crate::db::{self, DbError, MailboxRow, outbox::NewOutbound};
use crate::domain::NamedAddress;
use serde_json::{Value, json};
use sqlx::AnyConnection;

/// One mail to one staff user, about no ticket.
pub struct PlainDraft<'a> {
    /// An account-mail kind (`user_invite`, `password_reset`).
    pub kind: crate::domain::TemplateKind,
    pub mailbox: &'a MailboxRow,
    /// `(name, address)` of the recipient.
    pub to: (String, String),
    /// The template context; `mailbox` is filled in from the mailbox.
    pub context: Value,
}

impl Composer {
    /// Renders, builds and queues a mail outside any ticket; returns the outbound id, or `None` when
    /// it could not be rendered or built (logged).
    pub async fn enqueue_plain(
        &self,
        conn: &mut AnyConnection,
        d: PlainDraft<'_>,
        now: i64,
    ) -> Result<Option<i64>, DbError> {
        let mut ctx = d.context;
        ctx["mailbox"] = json!({
            "name": d.mailbox.name, "address": d.mailbox.address, "display_name": d.mailbox.team_name(),
        });
        let rendered = match self.templates.render(d.kind.as_str(), &ctx) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(kind = %d.kind, error = %e, "mail not sent");
                return Ok(None);
            }
        };
        let domain = d.mailbox.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
        // Not a signed ticket Message-ID: an answer to this mail is a new ticket, not a thread.
        let message_id = format!("dm-{}@{domain}", uuid::Uuid::new_v4().simple());
        let addresses = NamedAddress::parse(&d.mailbox.address, &d.mailbox.team_name())
            .and_then(|from| Ok((from, NamedAddress::parse(&d.to.1, &d.to.0)?)));
        let raw = match addresses.map_err(BuildError::from).and_then(|(from, to)| {
            build(&MailSpec {
                to: vec![to],
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                message_id: message_id.clone(),
                auto_submitted: Some("auto-generated"),
                loop_marker: d.mailbox.address.clone(),
                ..MailSpec::new(from)
            })
        }) {
            Ok(raw) => raw,
            Err(e) => {
                tracing::error!(kind = %d.kind, error = %e, "mail not sent");
                return Ok(None);
            }
        };
        let new = NewOutbound {
            ticket_id: None,
            message_id: None,
            mailbox_id: d.mailbox.id,
            kind: d.kind,
            header_message_id: &message_id,
            sender: &d.mailbox.address,
            raw: &raw,
            automatic: true,
            send_after: None,
        };
        Ok(Some(db::outbox::enqueue(conn, &new, &[d.to.1.to_lowercase()], now).await?))
    }
}

/// The first enabled mailbox (oldest) that can send mail, if any.
pub fn first_sending(mailboxes: Vec<MailboxRow>) -> Option<MailboxRow> {
    mailboxes.into_iter().filter(MailboxRow::can_send).min_by_key(|m| m.id)
}
