//! One sync of a mailbox folder: new UIDs above the checkpoint fetched in batches, committed with the checkpoint, then `after_import`.

use super::ImapNetError;
use super::after_import::{self, Caps};
use super::batch::{self, Fetched};
use super::{ImapError, uidset};
use crate::db::{self, Db, MailboxRow, SyncState};
use crate::ingest::{Pipeline, Skipped};
use crate::net::imap::{ImapSession, within};
use crate::platform::config::ImapSettings;
use std::collections::HashMap;
use std::time::Duration;

/// Raw bytes fetched per round trip, at most (a batch holds at least one message).
const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Messages in a sync's first batch; each later batch doubles up to `[imap] fetch_batch`.
const FIRST_BATCH: usize = 50;

/// What one sync needs.
pub struct SyncContext<'a> {
    pub pipeline: &'a Pipeline,
    pub db: &'a Db,
    pub mailbox: &'a MailboxRow,
    pub imap: &'a ImapSettings,
    pub caps: Caps,
    pub max_message_bytes: u64,
    pub batch: usize,
    pub timeout: Duration,
    /// `(owner, lease seconds)` when the poller holds a lease that every commit re-checks.
    pub lease: Option<(String, u64)>,
}

/// UIDs whose fetch failed, with their attempt counts (kept across reconnects by the poller).
pub type FetchFailures = HashMap<u32, u32>;

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub fetched: usize,
    pub created: usize,
    pub skipped: usize,
}

/// A message on the server not yet imported.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub(super) uid: u32,
    pub(super) size: u64,
    pub(super) internal_date: Option<i64>,
}

/// Runs one sync. On error nothing after the last committed batch is lost; the next sync resumes there.
pub async fn sync_once(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    failures: &mut FetchFailures,
) -> Result<SyncReport, ImapError> {
    let folder = cx.imap.folder.as_str();
    let selected = within(cx.timeout, "SELECT", session.select(folder)).await?.map_err(ImapNetError::Protocol)?;
    let validity = i64::from(selected.uid_validity.ok_or(ImapError::NoUidValidity)?);
    let mut state = cx.db.sync_state(cx.mailbox.id, folder).await?;
    settle_pending(session, cx, &mut state, validity).await?;
    let rescan = state.uid_validity.is_some_and(|v| v != validity);
    if rescan {
        tracing::warn!(mailbox = %cx.mailbox.name, folder, old = ?state.uid_validity, new = validity, "UIDVALIDITY changed; re-scanning the folder");
        state.last_uid = 0;
    }
    // A scan (first sync or re-scan) stays one until it completes, so a sync resumed after a crash or outage keeps
    // choosing by `import_existing` above the last committed UID instead of importing all old mail.
    let scanning = state.uid_validity.is_none() || rescan || state.scanning != 0;
    state.uid_validity = Some(validity);
    state.scanning = i64::from(scanning);
    let uid_next = selected.uid_next.unwrap_or(0);
    let candidates = if scanning {
        super::fetch::scan_candidates(session, cx, uid_next, state.last_uid, rescan).await?
    } else {
        super::fetch::candidates_above(session, cx, state.last_uid, uid_next).await?
    };
    tracing::debug!(mailbox = %cx.mailbox.name, candidates = candidates.len(), scanning, "candidates listed");
    let mut report = SyncReport::default();
    let mut rest: &[Candidate] = &candidates;
    // Batch N is stored while batch N+1 is fetched and prepared; its after-import action follows its commit.
    let mut storing: Option<Fetched> = None;
    // Slow start: a small first batch shows the first tickets early and starts the pipeline sooner; large later
    // batches share one commit and one blob sync among many messages.
    let mut limits = batch_limits(cx.batch);
    while !rest.is_empty() || storing.is_some() {
        set_oldest_gauge(cx, rest);
        let limit = limits.next().unwrap_or(cx.batch);
        let take = if rest.is_empty() { 0 } else { batch_len(rest, limit, failures) };
        let (next, tail) = rest.split_at(take);
        let store_running = storing.is_some();
        let fetch_next = async {
            if next.is_empty() {
                return Ok(None);
            }
            // A store running beside this fetch renews the lease in its commit; renewing here as well would wait
            // for that transaction's write lock (SQLite) and serialise the pipeline.
            if !store_running {
                batch::renew_lease(cx).await?;
            }
            batch::fetch(session, cx, validity, next, failures).await.map(Some)
        };
        let store_previous = async {
            match storing.take() {
                Some(f) => batch::store(cx, &mut state, f, &mut report).await.map(Some),
                None => Ok(None),
            }
        };
        let (fetched, stored) = tokio::join!(fetch_next, store_previous);
        if let Some(held) = stored? {
            after_import::apply(session, &cx.imap.after_import, &held, cx.caps, cx.timeout).await?;
        }
        storing = fetched?;
        rest = tail;
    }
    if !state.pending.is_empty() {
        // Each batch's checkpoint replaced the pending UIDs of the one before (applied by then); the last batch's
        // are cleared here.
        db::mailboxes::clear_pending(&mut *cx.db.writer().await?, cx.mailbox.id, &cx.imap.folder).await?;
        state.pending.clear();
    }
    set_oldest_gauge(cx, &[]);
    // A scan (even one importing nothing) ends by recording the folder's UIDVALIDITY and end.
    if scanning {
        // The scan's candidate list may have been cut short by a closed connection; moving the checkpoint to the
        // folder's end would then pass over mail never imported.
        super::fetch::confirm_alive(session, cx).await?;
        state.last_uid = state.last_uid.max(i64::from(uid_next.saturating_sub(1)));
        state.scanning = 0;
        commit_state(cx, &state, Vec::new()).await?;
    }
    Ok(report)
}

/// Applies the `after_import` owed from a batch committed just before a crash or disconnect.
async fn settle_pending(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    state: &mut SyncState,
    validity: i64,
) -> Result<(), ImapError> {
    if state.pending.is_empty() {
        return Ok(());
    }
    if state.uid_validity == Some(validity) {
        after_import::apply(session, &cx.imap.after_import, &uidset::parse(&state.pending), cx.caps, cx.timeout)
            .await?;
    }
    db::mailboxes::clear_pending(&mut *cx.db.writer().await?, cx.mailbox.id, &cx.imap.folder).await?;
    state.pending.clear();
    Ok(())
}

/// The most messages of each batch in turn: `FIRST_BATCH`, doubling up to `max`.
fn batch_limits(max: usize) -> impl Iterator<Item = usize> {
    std::iter::successors(Some(FIRST_BATCH.min(max)), move |&n| Some((n * 2).min(max)))
}

/// How many candidates go into the next batch: by count and bytes; a message that failed before goes alone.
fn batch_len(rest: &[Candidate], max: usize, failures: &FetchFailures) -> usize {
    if failures.contains_key(&rest[0].uid) {
        return 1;
    }
    let mut bytes = 0;
    let mut n = 0;
    for c in rest.iter().take(max.max(1)) {
        if n > 0 && (bytes + c.size > BATCH_BYTES || failures.contains_key(&c.uid)) {
            break;
        }
        bytes += c.size;
        n += 1;
    }
    n.max(1)
}

async fn commit_state(cx: &SyncContext<'_>, state: &SyncState, skipped: Vec<Skipped>) -> Result<(), ImapError> {
    cx.pipeline.commit_checkpoint(cx.mailbox, &batch::checkpoint(cx, state, skipped)).await?;
    Ok(())
}

fn set_oldest_gauge(cx: &SyncContext<'_>, rest: &[Candidate]) {
    let oldest = rest.iter().filter_map(|c| c.internal_date).min();
    let age = oldest.map(|t| (crate::domain::now() - t).max(0) as f64).unwrap_or(0.0);
    metrics::gauge!("deskmail_imap_oldest_unimported_seconds", "mailbox" => cx.mailbox.name.clone()).set(age);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(uid: u32, size: u64) -> Candidate {
        Candidate { uid, size, internal_date: None }
    }

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let none = FetchFailures::new();
        assert_eq!(batch_len(&[c(1, 10), c(2, 10), c(3, 10)], 2, &none), 2);
        assert_eq!(batch_len(&[c(1, BATCH_BYTES), c(2, 10)], 100, &none), 1);
        assert_eq!(batch_len(&[c(1, BATCH_BYTES * 2)], 100, &none), 1);
    }

    #[test]
    fn batches_start_small_and_double_up_to_the_limit() {
        assert_eq!(batch_limits(500).take(6).collect::<Vec<_>>(), [50, 100, 200, 400, 500, 500]);
        assert_eq!(batch_limits(7).take(2).collect::<Vec<_>>(), [7, 7]);
    }

    #[test]
    fn a_message_that_failed_before_is_fetched_alone() {
        let failed = FetchFailures::from([(2, 1)]);
        assert_eq!(batch_len(&[c(1, 10), c(2, 10), c(3, 10)], 100, &failed), 1);
        assert_eq!(batch_len(&[c(2, 10), c(3, 10)], 100, &failed), 1);
    }
}
