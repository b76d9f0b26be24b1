//! What a sync asks the server: candidates above the checkpoint (or unseen ones), sizes, bodies, and headers of skipped mail.

use super::sync::{Candidate, SyncContext};
use super::uidset;
use super::{ImapError, ImapNetError};
use crate::ingest::Skipped;
use crate::net::imap::{ImapSession, within};
use crate::platform::config::ImportExisting;
use futures::TryStreamExt;

/// The candidates of a scan (first sync, or re-scan after a UIDVALIDITY change) above `above`, as
/// `import_existing` says. A re-scan imports at least the unseen mail: new mail may have arrived with the change, and
/// mail imported before is recognised by its content.
pub(super) async fn scan_candidates(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    uid_next: u32,
    above: i64,
    rescan: bool,
) -> Result<Vec<Candidate>, ImapError> {
    let mode = match cx.imap.import_existing {
        ImportExisting::None if rescan => ImportExisting::Unseen,
        mode => mode,
    };
    match mode {
        ImportExisting::All => candidates_above(session, cx, above, uid_next).await,
        ImportExisting::None => Ok(Vec::new()),
        ImportExisting::Unseen => {
            let found = within(cx.timeout, "UID SEARCH", session.uid_search("UNSEEN"))
                .await?
                .map_err(ImapNetError::Protocol)?;
            let uids: Vec<u32> = found.into_iter().filter(|u| i64::from(*u) > above).collect();
            if uids.is_empty() {
                return Ok(Vec::new());
            }
            fetch_sizes(session, cx, &uidset::format(&uids), above).await
        }
    }
}

pub(super) async fn candidates_above(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    last_uid: i64,
    uid_next: u32,
) -> Result<Vec<Candidate>, ImapError> {
    if uid_next != 0 && i64::from(uid_next) <= last_uid + 1 {
        return Ok(Vec::new());
    }
    fetch_sizes(session, cx, &format!("{}:*", last_uid + 1), last_uid).await
}

/// Sizes and dates of the messages in `set` with a UID above `above`, in UID order.
pub(super) async fn fetch_sizes(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    set: &str,
    above: i64,
) -> Result<Vec<Candidate>, ImapError> {
    let fetches = within(cx.timeout, "UID FETCH sizes", async {
        session.uid_fetch(set, "(UID RFC822.SIZE INTERNALDATE)").await?.try_collect::<Vec<_>>().await
    })
    .await?
    .map_err(ImapNetError::Protocol)?;
    let mut out: Vec<Candidate> = fetches
        .iter()
        .filter_map(|f| {
            let uid = f.uid?;
            // `N:*` returns the last message even when its UID is below N.
            (i64::from(uid) > above).then(|| Candidate {
                uid,
                size: u64::from(f.size.unwrap_or(0)),
                internal_date: f.internal_date().map(|d| d.timestamp()),
            })
        })
        .collect();
    out.sort_by_key(|c| c.uid);
    out.dedup_by_key(|c| c.uid);
    Ok(out)
}

/// A message deskmail will not fetch: its headers (when the server gives them) go to quarantine.
pub(super) async fn skip(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    validity: i64,
    c: &Candidate,
    reason: String,
) -> Skipped {
    let headers = within(cx.timeout, "UID FETCH header", async {
        let fetches =
            session.uid_fetch(c.uid.to_string(), "(UID BODY.PEEK[HEADER])").await?.try_collect::<Vec<_>>().await?;
        Ok::<_, async_imap::error::Error>(
            fetches.iter().find_map(|f| f.header().map(|h| String::from_utf8_lossy(h).into_owned())),
        )
    })
    .await
    .ok()
    .and_then(Result::ok)
    .flatten()
    .unwrap_or_default();
    tracing::warn!(mailbox = %cx.mailbox.name, uid = c.uid, size = c.size, %reason, "message skipped");
    Skipped {
        uid_validity: validity,
        uid: i64::from(c.uid),
        size: c.size as i64,
        headers: crate::ingest::parse::clean(&headers),
        reason,
    }
}

pub(super) async fn fetch_bodies(
    session: &mut ImapSession,
    cx: &SyncContext<'_>,
    uids: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let fetches = within(cx.timeout, "UID FETCH bodies", async {
        session.uid_fetch(uidset::format(uids), "(UID BODY.PEEK[])").await?.try_collect::<Vec<_>>().await
    })
    .await?
    .map_err(ImapNetError::Protocol)?;
    let mut bodies: Vec<(u32, Vec<u8>)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
        .filter(|(uid, _)| uids.contains(uid))
        .collect();
    bodies.sort_by_key(|(uid, _)| *uid);
    bodies.dedup_by_key(|(uid, _)| *uid);
    if bodies.len() < uids.len() {
        // The caller quarantines what the server did not return, so first make sure the server answered at all:
        // async-imap ends a FETCH's stream without an error when the connection closes between two responses
        // (Dovecot stopping sends BYE and closes), which looks exactly like messages expunged meanwhile.
        confirm_alive(session, cx).await?;
    }
    Ok(bodies)
}

/// Fails with `ConnectionLost` unless the server answers a NOOP: the proof that a command's responses were complete
/// rather than cut off by a closed connection.
pub(super) async fn confirm_alive(session: &mut ImapSession, cx: &SyncContext<'_>) -> Result<(), ImapError> {
    within(cx.timeout, "NOOP", session.noop()).await?.map_err(ImapNetError::Protocol)?;
    Ok(())
}
