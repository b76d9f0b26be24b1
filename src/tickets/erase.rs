//! Erasing (issue 17): a customer's data on request, and a ticket's content when retention says so. One
//! transaction writes the shells (messages blanked, attachments and unused raw mail gone, search rows out, subject
//! `[erased]`) with an `erased` event per ticket; blob files go after commit, only when no row refers to them.

use super::erase_scrub::{Scrub, replace_address, scrub_event, without_address};
use super::{TicketError, Tickets, record};
use crate::db::erase::{self as store, Messages};
use crate::db::{DbError, Tx, erase_customer as people};
use crate::domain::{Actor, ErasedBy, TicketEvent};
use std::collections::BTreeSet;

/// What an erasure did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    /// Tickets whose content was erased (or that lost the customer's messages).
    pub tickets: usize,
    /// Messages blanked.
    pub messages: u64,
    /// Attachment rows removed.
    pub attachments: usize,
    /// Blob files deleted (raw mail and attachments no row refers to any more).
    pub blobs_deleted: usize,
    /// Customers anonymised.
    pub customers: usize,
}

impl Erased {
    pub(super) fn add(&mut self, o: &Erased) {
        self.tickets += o.tickets;
        self.messages += o.messages;
        self.attachments += o.attachments;
        self.blobs_deleted += o.blobs_deleted;
        self.customers += o.customers;
    }
}

/// Raw messages and blobs that may have become unused in a transaction.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    raws: BTreeSet<i64>,
    blobs: BTreeSet<String>,
}

impl Leftovers {
    /// The blobs that may have become unused, to check after commit.
    pub(super) fn take_blobs(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.blobs)
    }
}

impl Tickets {
    /// Erases the customer with address `email` (any case) by `actor`: their messages' content, attachments, raw
    /// mail (unless a message that stays shares it), search rows, participant entries, portal sign-ins, queued mail
    /// to them, and their name and address. Their tickets stay as shells with an `erased` event; mail from the
    /// address afterwards makes a new customer. [`TicketError::NotFound`] for an unknown address.
    #[tracing::instrument(skip_all, fields(actor = %actor))]
    pub async fn erase_customer(&self, email: &str, actor: &Actor) -> Result<Erased, TicketError> {
        let email = email.trim().to_lowercase();
        let now = crate::domain::now();
        let (mut out, mut left) = (Erased::default(), Leftovers::default());
        let mut tx = self.db.begin().await?;
        let id = people::customer_id(&mut tx, &email).await?.ok_or(TicketError::NotFound)?;
        customer_in_tx(&mut tx, id, &email, actor, now, &mut out, &mut left).await?;
        drop_unused_raws(&mut tx, &mut left).await?;
        tx.commit().await?;
        out.blobs_deleted = self.delete_unused_blobs(left.take_blobs()).await?;
        tracing::info!(
            customer = id,
            tickets = out.tickets,
            messages = out.messages,
            blobs = out.blobs_deleted,
            "customer erased"
        );
        Ok(out)
    }

    /// Deletes the files of `blobs` that no row refers to (checked after commit); returns how many went.
    pub(super) async fn delete_unused_blobs(&self, blobs: BTreeSet<String>) -> Result<usize, TicketError> {
        let mut unused = Vec::new();
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        for sha in blobs {
            if !store::blob_in_use(&mut conn, &sha).await? {
                unused.push(sha);
            }
        }
        let blobs = self.blobs.clone();
        let deleted = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
            let mut n = 0;
            for sha in &unused {
                n += usize::from(blobs.delete(sha)?);
            }
            blobs.sync()?;
            Ok(n)
        })
        .await
        .map_err(|e| TicketError::Storage(std::io::Error::other(e)))??;
        Ok(deleted)
    }
}

/// Erases a whole ticket's content in the caller's transaction: messages blanked, attachments, outbound mail,
/// webhook bodies, bounce reports and satisfaction comments gone, subject `[erased]`, an `erased` event by `actor`.
pub(super) async fn shell(
    tx: &mut Tx,
    ticket_id: i64,
    by: ErasedBy,
    actor: &Actor,
    now: i64,
    out: &mut Erased,
    left: &mut Leftovers,
) -> Result<(), DbError> {
    let backend = tx.backend();
    let shas = store::drop_attachments(tx, Messages::OfTicket(ticket_id)).await?;
    let (messages, raws) = store::blank_messages(tx, backend, Messages::OfTicket(ticket_id)).await?;
    store::shell_ticket(tx, ticket_id, now).await?;
    store::blank_satisfaction(tx, ticket_id).await?;
    store::silence_outbox(tx, ticket_id, now).await?;
    store::silence_webhooks(tx, ticket_id).await?;
    left.raws.extend(store::drop_bounces(tx, ticket_id).await?);
    left.raws.extend(raws);
    scrub_history(tx, ticket_id, Scrub { address: None, drop_comments: true }).await?;
    let event = TicketEvent::Erased { by, messages: messages as i64, attachments: shas.len() as i64 };
    record(tx, ticket_id, actor, &event, now).await?;
    out.tickets += 1;
    out.messages += messages;
    out.attachments += shas.len();
    left.blobs.extend(shas);
    Ok(())
}

/// Erases customer `id` (address `email`) in the caller's transaction; see [`Tickets::erase_customer`].
pub(super) async fn customer_in_tx(
    tx: &mut Tx,
    id: i64,
    email: &str,
    actor: &Actor,
    now: i64,
    out: &mut Erased,
    left: &mut Leftovers,
) -> Result<(), DbError> {
    // First: the row lock orders this against mail from them being stored right now.
    let anon = people::anonymise(tx, id).await?;
    out.customers += 1;
    let requested = people::requested_tickets(tx, id).await?;
    for (ticket, erased) in &requested {
        if !erased {
            shell(tx, *ticket, ErasedBy::Customer, actor, now, out, left).await?;
        }
    }
    let mut named: BTreeSet<i64> = requested.iter().map(|(t, _)| *t).collect();
    for (ticket, erased) in people::touched_tickets(tx, id).await? {
        if !erased && !named.contains(&ticket) {
            their_messages_on(tx, ticket, id, actor, now, out, left).await?;
        }
        named.insert(ticket);
    }
    people::drop_participation(tx, id).await?;
    named.extend(people::silence_mail_to(tx, email, &anon, now).await?);
    people::forget_portal(tx, email).await?;
    people::anonymise_orders(tx, email, &anon).await?;
    people::drop_block(tx, email).await?;
    left.raws.extend(people::drop_mentions(tx, email).await?);
    for ticket in named {
        forget_address_on(tx, ticket, email, &anon).await?;
    }
    Ok(())
}

/// On a ticket that is not theirs: the customer's messages are blanked (their attachments go), with an `erased`
/// event when there were any.
async fn their_messages_on(
    tx: &mut Tx,
    ticket: i64,
    customer: i64,
    actor: &Actor,
    now: i64,
    out: &mut Erased,
    left: &mut Leftovers,
) -> Result<(), DbError> {
    let backend = tx.backend();
    let m = Messages::ByCustomerOn { customer, ticket };
    let shas = store::drop_attachments(tx, m).await?;
    let (messages, raws) = store::blank_messages(tx, backend, m).await?;
    if messages > 0 {
        let event =
            TicketEvent::Erased { by: ErasedBy::Customer, messages: messages as i64, attachments: shas.len() as i64 };
        record(tx, ticket, actor, &event, now).await?;
        out.tickets += 1;
        out.messages += messages;
        out.attachments += shas.len();
    }
    left.raws.extend(raws);
    left.blobs.extend(shas);
    Ok(())
}

/// Takes `email` out of what stays on a ticket: recipient lists, the history, the rules' run records.
async fn forget_address_on(tx: &mut Tx, ticket: i64, email: &str, anon: &str) -> Result<(), DbError> {
    for (message, to, cc) in people::addressed_to(tx, ticket, email).await? {
        people::set_recipients(tx, message, &without_address(&to, email), &without_address(&cc, email)).await?;
    }
    scrub_history(tx, ticket, Scrub { address: Some((email, anon)), drop_comments: false }).await?;
    for (run, actions) in store::rule_runs_of(tx, ticket).await? {
        let scrubbed = replace_address(&actions, email, anon);
        if scrubbed != actions {
            store::set_rule_run_actions(tx, run, &scrubbed).await?;
        }
    }
    Ok(())
}

/// Rewrites the events of a ticket that hold what `scrub` takes out.
async fn scrub_history(tx: &mut Tx, ticket: i64, scrub: Scrub<'_>) -> Result<(), DbError> {
    for e in crate::db::events::of_ticket(&mut **tx, ticket).await? {
        if let Some((actor, detail, data)) = scrub_event(&e, scrub) {
            store::rewrite_event(tx, e.id, &actor, &detail, &data).await?;
        }
    }
    Ok(())
}

/// Deletes the raw messages of `left` nothing refers to any more; their blobs join the candidates.
pub(super) async fn drop_unused_raws(tx: &mut Tx, left: &mut Leftovers) -> Result<(), DbError> {
    for raw in std::mem::take(&mut left.raws) {
        if let Some(sha) = store::drop_raw_if_unused(tx, raw).await? {
            left.blobs.insert(sha);
        }
    }
    Ok(())
}
