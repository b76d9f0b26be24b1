//! Threading lookups of one mail: signed ids, reply tokens, references and subject tags, answered from the batch
//! first and the store second.

use super::BatchState;
use super::StoreContext;
use crate::db::{self, DbError};
use crate::ingest::prepare::PreparedMail;
use crate::ingest::threading::Lookup;
use crate::tickets::inbound::TicketRef;
use sqlx::AnyConnection;

/// The threading facts of one mail, looked up in the store and in what its batch filed so far.
pub(super) async fn lookup(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    batch: &mut BatchState,
    m: &PreparedMail,
) -> Result<Lookup, DbError> {
    let mut out = Lookup::default();
    if !m.facts.signed_ids.is_empty() {
        // A signed id of a message that was split off names the ticket it lives on now.
        let ids: Vec<&str> = m.facts.signed_ids.iter().take(MAX_REFERENCES).map(String::as_str).collect();
        let stored = db::messages::tickets_of_message_ids(conn, &ids).await?;
        if let Some(ticket_id) = ids.iter().find_map(|id| stored.get(*id)) {
            out.by_signed_id = live_ticket(conn, batch, *ticket_id).await?;
        }
    }
    for number in &m.facts.signed_tickets {
        if out.by_signed_id.is_some() {
            break;
        }
        out.by_signed_id = live_by_number(conn, *number).await?;
    }
    if let Some(token) = m.facts.token {
        out.by_token = live_by_number(conn, token.ticket).await?;
    }
    if out.by_signed_id.is_none() && out.by_token.is_none() && !m.facts.referenced_ids.is_empty() {
        out.by_reference = by_reference(conn, batch, &m.facts.referenced_ids).await?;
    }
    if let Some(number) = m.facts.subject_tag
        && let Some(t) = live_by_number(conn, number).await?
    {
        batch.inbound.flush(conn).await?;
        let sender = m.mail.from.as_ref().map(|p| p.email.as_str()).unwrap_or_default();
        let participant = db::customers::is_participant(&mut *conn, t.id, sender).await? || cx.staff.contains(sender);
        out.by_subject_tag = Some((t, participant));
    }
    Ok(out)
}

/// How many of a mail's references are looked at (the nearest first).
pub(super) const MAX_REFERENCES: usize = 20;

/// The ticket of the nearest referenced mail (first listed), of this batch or stored before it (a mail of this
/// batch is the newest with its Message-ID).
async fn by_reference(
    conn: &mut AnyConnection,
    batch: &BatchState,
    ids: &[String],
) -> Result<Option<TicketRef>, DbError> {
    let looked_up;
    let stored = match &batch.references {
        Some(read_at_start) => read_at_start,
        None => {
            let ids: Vec<&str> = ids.iter().take(MAX_REFERENCES).map(String::as_str).collect();
            looked_up = db::messages::tickets_of_message_ids(conn, &ids).await?;
            &looked_up
        }
    };
    let found =
        ids.iter().take(MAX_REFERENCES).find_map(|id| batch.inbound.pending_ticket_of(id).or(stored.get(id).copied()));
    match found {
        Some(ticket_id) => live_ticket(conn, batch, ticket_id).await,
        None => Ok(None),
    }
}

/// The ticket with this id, or the one it was merged into. A ticket the batch created is still `new`, and only the
/// batch knows it until it is flushed.
async fn live_ticket(
    conn: &mut AnyConnection,
    batch: &BatchState,
    ticket_id: i64,
) -> Result<Option<TicketRef>, DbError> {
    if let Some(t) = batch.inbound.pending_ticket(ticket_id) {
        return Ok(Some(t));
    }
    Ok(match db::tickets::by_id(&mut *conn, ticket_id).await? {
        Some(t) => Some(TicketRef::from(&db::tickets::live(conn, t).await?)),
        None => None,
    })
}

/// [`live_ticket`] by public number. No ticket the batch has pending can be named by number: their numbers are
/// provisional until written (see `tickets::inbound_numbers`), and no one outside the batch has seen them.
async fn live_by_number(conn: &mut AnyConnection, number: i64) -> Result<Option<TicketRef>, DbError> {
    Ok(db::tickets::live_by_number(conn, number).await?.as_ref().map(TicketRef::from))
}
