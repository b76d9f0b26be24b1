//! One batch of a sync in two stages, so consecutive batches overlap: *fetch* (bodies over the session, then parsed
//! and their blobs written off the async threads) and *store* (one transaction with the checkpoint, no IMAP).
//! While batch N is stored, batch N+1 is fetched and prepared.

use super::sync::{Candidate, FetchFailures, SyncContext, SyncReport};
use super::{ImapError, uidset};
use crate::db::{self, SyncState};
use crate::ingest::{Checkpoint, Input, OutcomeKind, Prepared, Skipped, Source};
use crate::net::imap::ImapSession;

/// Attempts before a message that cannot be fetched is skipped (and quarantined with what is known).
const MAX_FETCH_ATTEMPTS: u32 = 3;

/// A batch fetched and prepared, blobs durable, waiting to be stored.
pub(super) struct Fetched {
    prepared: Vec<(Prepared, Source)>,
    /// The UIDs whose bodies arrived (the after-import action applies to them once stored).
    held: Vec<u32>,
    skipped: Vec<Skipped>,
    /// The highest UID of the batch, fetched or skipped: the checkpoint once stored.
    last_uid: i64,
}

/// Fetches a batch's bodies (skipping what is too large or failed too often), parses them and writes their blobs.
/// The caller renews the lease first unless a store running beside this fetch renews it in its commit.
pub(super) async fn fetch(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    validity: i64,
    batch: &[Candidate],
    failures: &mut FetchFailures,
) -> Result<Fetched, ImapError> {
    let started = std::time::Instant::now();
    let mut skipped = Vec::new();
    let mut wanted = Vec::new();
    for c in batch {
        if c.size > cx.max_message_bytes {
            let reason =
                format!("too large to fetch: {} bytes (limit {}); left on the server", c.size, cx.max_message_bytes);
            skipped.push(super::fetch::skip(session, cx, validity, c, reason).await);
        } else if failures.get(&c.uid).is_some_and(|n| *n >= MAX_FETCH_ATTEMPTS) {
            let reason = format!("fetching failed {MAX_FETCH_ATTEMPTS} times; left on the server");
            skipped.push(Skipped {
                uid_validity: validity,
                uid: i64::from(c.uid),
                size: c.size as i64,
                headers: String::new(),
                reason,
            });
            failures.remove(&c.uid);
        } else {
            wanted.push(c.uid);
        }
    }
    let bodies = match super::fetch::fetch_bodies(session, cx, &wanted).await {
        Ok(b) => b,
        Err(e) => {
            for uid in &wanted {
                *failures.entry(*uid).or_default() += 1;
            }
            return Err(e);
        }
    };
    for uid in &wanted {
        failures.remove(uid);
    }
    let held: Vec<u32> = bodies.iter().map(|(uid, _)| *uid).collect();
    skipped.extend(missing(validity, batch, &wanted, &held));
    let inputs: Vec<Input> =
        bodies.into_iter().map(|(uid, raw)| Input { raw, source: Some((validity, i64::from(uid))) }).collect();
    let received = started.elapsed();
    let prepared = cx.pipeline.prepare_all(inputs).await;
    let parsed = started.elapsed();
    let prepared = cx.pipeline.write_blobs(prepared).await.map_err(crate::ingest::IngestError::Storage)?;
    tracing::debug!(mailbox = %cx.mailbox.name, messages = held.len(), received_ms = received.as_millis() as u64,
        prepared_ms = (parsed - received).as_millis() as u64, blobs_ms = (started.elapsed() - parsed).as_millis() as u64,
        "batch fetched");
    let last_uid = batch.iter().map(|c| i64::from(c.uid)).max().unwrap_or(0);
    Ok(Fetched { prepared, held, skipped, last_uid })
}

/// Stores a fetched batch with the checkpoint that moves past it (its UIDs recorded as pending their after-import
/// action, which the caller applies next; a crash in between leaves it to the next sync).
pub(super) async fn store(
    cx: &SyncContext<'_>,
    state: &mut SyncState,
    fetched: Fetched,
    report: &mut SyncReport,
) -> Result<Vec<u32>, ImapError> {
    state.last_uid = state.last_uid.max(fetched.last_uid);
    state.pending = uidset::format(&fetched.held);
    state.last_sync_at = Some(crate::domain::now());
    let checkpoint = checkpoint(cx, state, fetched.skipped);
    report.skipped += checkpoint.skipped.len();
    let outcomes = cx.pipeline.store_prepared(cx.mailbox, fetched.prepared, Some(checkpoint)).await?;
    report.fetched += outcomes.len();
    report.created += outcomes.iter().filter(|o| o.kind == OutcomeKind::Created).count();
    Ok(fetched.held)
}

/// Wanted messages the server returned no body for (expunged meanwhile, or a server fault): recorded in quarantine
/// (without raw) rather than passed over in silence, since the checkpoint moves past them.
fn missing(validity: i64, batch: &[Candidate], wanted: &[u32], held: &[u32]) -> Vec<Skipped> {
    let gone = wanted.iter().filter(|uid| !held.contains(uid));
    gone.filter_map(|uid| batch.iter().find(|c| c.uid == *uid))
        .map(|c| Skipped {
            uid_validity: validity,
            uid: i64::from(c.uid),
            size: c.size as i64,
            headers: String::new(),
            reason: "the server returned no body for this message (expunged meanwhile?)".into(),
        })
        .collect()
}

/// Renews the poller lease before a fetch, so a long batch does not outlive it; fails when another instance has it.
pub(super) async fn renew_lease(cx: &SyncContext<'_>) -> Result<(), ImapError> {
    let Some((owner, secs)) = &cx.lease else { return Ok(()) };
    let now = crate::domain::now();
    if db::mailboxes::acquire_lease(&mut *cx.db.writer().await?, cx.mailbox.id, owner, now, now + *secs as i64).await? {
        Ok(())
    } else {
        Err(db::DbError::LeaseLost.into())
    }
}

pub(super) fn checkpoint(cx: &SyncContext<'_>, state: &SyncState, skipped: Vec<Skipped>) -> Checkpoint {
    let lease = cx.lease.as_ref().map(|(owner, secs)| (owner.clone(), crate::domain::now() + *secs as i64));
    Checkpoint { folder: cx.imap.folder.clone(), state: state.clone(), skipped, lease }
}
