//! What one ingest batch reads once at its start and writes once at its end: raw ids, digests, UIDs, references,
//! receipts, and the customer mail it files behind.

use super::lookup::MAX_REFERENCES;
use super::{Source, StoreContext};
use crate::db::{self, DbError, raw::NewReceipt};
use crate::ingest::prepare::{Content, Prepared};
use crate::platform::storage::BlobStore;
use crate::tickets::TicketError;
use crate::tickets::inbound_batch::InboundBatch;
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// What a batch reads once and writes once: raw message ids, the content digests and IMAP UIDs already stored,
/// and the receipts to record at its end (a few queries per batch instead of several per message).
#[derive(Debug, Default)]
pub struct BatchState {
    /// sha256 → (raw id, stored before this batch).
    pub(super) raws: HashMap<String, (i64, bool)>,
    /// Raw messages met earlier in this batch (a second copy is a duplicate of the first).
    pub(super) met: HashSet<String>,
    /// Content digest → ticket number, for every digest of the batch already stored.
    pub(super) digests: HashMap<String, i64>,
    /// Whether `digests` was read for the whole batch (else each digest is looked up).
    pub(super) digests_loaded: bool,
    /// IMAP `(uidvalidity, uid)`s imported before (or earlier in this batch).
    pub(super) seen: HashSet<(i64, i64)>,
    /// Message-ID → ticket id of the stored messages the batch's mail refers to, read at its start (`None`: each
    /// mail looks its references up).
    pub(super) references: Option<HashMap<String, i64>>,
    pub(super) receipts: Vec<NewReceipt>,
    /// The customer mail the batch files, written behind (see [`InboundBatch`]).
    pub(super) inbound: InboundBatch,
}

impl BatchState {
    /// Records the batch's raw messages and reads what is known about its digests and UIDs.
    pub async fn load(
        conn: &mut AnyConnection,
        cx: &StoreContext<'_>,
        items: &[(&Prepared, Source)],
        now: i64,
    ) -> Result<Self, DbError> {
        let paths: Vec<String> = items.iter().map(|(p, _)| BlobStore::relative_path(&p.sha256)).collect();
        let mut blobs: Vec<(&str, i64, &str)> = Vec::new();
        for ((p, _), path) in items.iter().zip(&paths) {
            if !blobs.iter().any(|b| b.0 == p.sha256) {
                blobs.push((&p.sha256, p.size(), path));
            }
        }
        let digests: Vec<&str> = items
            .iter()
            .filter_map(|(p, _)| match &p.content {
                Content::Mail(m) => Some(m.digest.as_str()),
                Content::Quarantine { .. } => None,
            })
            .collect();
        let uids: Vec<(i64, i64)> = items.iter().filter_map(|(_, s)| *s).collect();
        let known_digests = db::messages::tickets_of_digests(conn, &digests).await?;
        let mut referenced: Vec<&str> = items
            .iter()
            .filter_map(|(p, _)| match &p.content {
                Content::Mail(m) => Some(m.facts.referenced_ids.iter().take(MAX_REFERENCES).map(String::as_str)),
                Content::Quarantine { .. } => None,
            })
            .flatten()
            .collect();
        referenced.sort_unstable();
        referenced.dedup();
        let references = db::messages::tickets_of_message_ids(conn, &referenced).await?;
        let people = items.iter().flat_map(|(p, _)| customers_of(cx, p, &known_digests));
        let inbound = InboundBatch::begin(conn, people, now).await?;
        let seen = match uids.is_empty() {
            true => HashSet::new(),
            false => db::raw::receipts_seen(conn, cx.mailbox.id, &uids).await?,
        };
        Ok(Self {
            raws: db::raw::upsert_all(conn, &blobs, now).await?,
            inbound,
            digests: known_digests,
            digests_loaded: true,
            seen,
            references: Some(references),
            ..Self::default()
        })
    }

    /// A batch of one already recorded input (a quarantined mail released): digests are looked up one by one.
    pub fn single(now: i64) -> Self {
        Self { inbound: InboundBatch::empty(now), ..Self::default() }
    }

    /// Writes what the batch filed, queues the mail it causes, and records the receipts; gives `outcomes` (the
    /// batch's, filed with provisional numbers for its new tickets) their tickets' real numbers.
    pub async fn finish(
        mut self,
        conn: &mut AnyConnection,
        cx: &StoreContext<'_>,
        now: i64,
        outcomes: &mut [super::Outcome],
    ) -> Result<(), TicketError> {
        cx.tickets.finish_inbound(conn, &mut self.inbound, cx.mailbox).await?;
        db::raw::insert_receipts(conn, cx.mailbox.id, &self.receipts, now).await?;
        let numbers = self.inbound.into_numbers();
        for o in outcomes {
            o.ticket = o.ticket.map(|n| numbers.real(n));
        }
        Ok(())
    }

    /// The ticket number a mail with this digest went to, if one did.
    pub(super) async fn ticket_of_digest(
        &self,
        conn: &mut AnyConnection,
        digest: &str,
    ) -> Result<Option<i64>, DbError> {
        if let Some(n) = self.digests.get(digest) {
            return Ok(Some(*n));
        }
        if self.digests_loaded {
            return Ok(None);
        }
        Ok(db::messages::tickets_of_digests(conn, &[digest]).await?.remove(digest))
    }
}

/// Who of a prepared input may become a customer in this batch: the sender and the To/Cc people of a mail that is
/// not a bounce nor a second copy, except our mailboxes and staff.
pub(super) fn customers_of<'p>(
    cx: &StoreContext<'_>,
    item: &'p Prepared,
    known_digests: &HashMap<String, i64>,
) -> Vec<&'p crate::domain::NamedAddress> {
    let Content::Mail(m) = &item.content else { return Vec::new() };
    if m.mail.classification.bounce.is_some() || known_digests.contains_key(&m.digest) {
        return Vec::new();
    }
    let mail = &m.mail;
    mail.from
        .iter()
        .chain(mail.to.iter().chain(&mail.cc).take(50))
        .filter(|p| !crate::domain::is_ours(&p.email, cx.our_addresses) && !cx.staff.contains(p.email.as_str()))
        .collect()
}
