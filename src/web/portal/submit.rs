//! A customer's portal message as the mail they could have written: built as RFC 5322 (from them to the mailbox,
//! answering the ticket's thread) and handed to the ingest pipeline, so it is stored exactly as a mail is — raw
//! kept, an event, reopening, follow-ups of closed tickets, agent notices and the acknowledgement rules.

use super::upload::File;
use crate::db::MailboxRow;
use crate::domain::NamedAddress;
use crate::ingest::{Input, Outcome, OutcomeKind};
use crate::outbound::message::{MailSpec, build};
use crate::web::{AppState, Error};

/// What the customer wrote.
pub struct Written<'a> {
    pub email: &'a str,
    /// The customer's name as deskmail knows it (may be empty).
    pub name: &'a str,
    pub mailbox: &'a MailboxRow,
    pub subject: &'a str,
    pub body: &'a str,
    pub files: Vec<File>,
    /// The ticket answered, if any (its thread is continued through a signed Message-ID).
    pub ticket: Option<i64>,
}

/// Stores the message; the ticket it landed on. A message that could not be stored on a ticket (quarantined,
/// which a well-formed portal mail never is) is an internal error with the reason logged.
pub async fn submit(state: &AppState, w: Written<'_>) -> Result<i64, Error> {
    let raw = raw_mail(state, &w)?;
    let input = Input { raw, source: None };
    let mut outcomes =
        state.pipeline.ingest(w.mailbox, vec![input], None).await.map_err(|e| Error::Internal(e.into()))?;
    let outcome: Outcome = outcomes.pop().ok_or_else(|| Error::Internal(anyhow::anyhow!("ingest returned nothing")))?;
    match (outcome.kind, outcome.ticket) {
        (OutcomeKind::Created | OutcomeKind::Threaded | OutcomeKind::Duplicate, Some(n)) => Ok(n),
        (kind, _) => Err(Error::Internal(anyhow::anyhow!(
            "a portal message was {} ({})",
            kind.as_str(),
            outcome.reason.unwrap_or_default()
        ))),
    }
}

fn raw_mail(state: &AppState, w: &Written<'_>) -> Result<Vec<u8>, Error> {
    let from = NamedAddress::parse(w.email, w.name).map_err(|e| Error::Unprocessable(format!("e-mail: {e}")))?;
    let to = NamedAddress::parse(&w.mailbox.address, &w.mailbox.team_name())
        .map_err(|e| Error::Internal(anyhow::anyhow!("mailbox address: {e}")))?;
    let host = portal_host(&state.settings.server.public_url);
    let composer = &state.tickets.composer;
    // A signed Message-ID of the ticket: threading finds the ticket by it whatever the subject says.
    let parent = w.ticket.map(|n| composer.signer.message_id(n, "portal", domain_of(&w.mailbox.address)));
    let spec = MailSpec {
        to: vec![to],
        subject: w.subject.to_string(),
        text: w.body.to_string(),
        message_id: format!("portal.{}@{host}", uuid::Uuid::new_v4().simple()),
        in_reply_to: parent.clone(),
        references: parent.into_iter().collect(),
        attachments: w.files.iter().map(|f| (f.name.clone(), f.content_type.clone(), f.data.clone())).collect(),
        ..MailSpec::new(from)
    };
    build(&spec).map_err(|e| Error::Unprocessable(e.to_string()))
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
}

/// The host of the public URL, for the Message-IDs of portal messages.
fn portal_host(public_url: &str) -> String {
    let rest = public_url.split_once("://").map(|(_, r)| r).unwrap_or(public_url);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    if host.is_empty() { "localhost".into() } else { host.to_ascii_lowercase() }
}
