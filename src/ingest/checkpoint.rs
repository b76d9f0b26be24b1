//! The IMAP checkpoint that commits with each batch: UIDVALIDITY/UID state, skipped messages, the poller lease.

use super::Pipeline;
use crate::db::{self, DbError, MailboxRow, SyncState};

/// The IMAP checkpoint committed with a batch.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub folder: String,
    pub state: SyncState,
    /// Messages left on the server unfetched (too large, or fetching kept failing): quarantined with headers only.
    pub skipped: Vec<Skipped>,
    /// The poller lease `(owner, expires_at)` that must still be ours when the batch commits.
    pub lease: Option<(String, i64)>,
}

/// A server message deskmail does not hold: recorded in quarantine with its headers, untouched on the server.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub uid_validity: i64,
    pub uid: i64,
    pub size: i64,
    pub headers: String,
    pub reason: String,
}

/// Saves the checkpoint and its skipped messages in the batch's transaction, if the poller lease is still ours.
pub(super) async fn save_checkpoint(
    conn: &mut sqlx::AnyConnection,
    mailbox_id: i64,
    cp: &Checkpoint,
    now: i64,
) -> Result<(), DbError> {
    if let Some((owner, expires_at)) = &cp.lease
        && !db::mailboxes::acquire_lease(&mut *conn, mailbox_id, owner, now, *expires_at).await?
    {
        return Err(DbError::LeaseLost);
    }
    for s in &cp.skipped {
        let q = db::quarantine::NewQuarantine {
            raw_id: None,
            mailbox_id: Some(mailbox_id),
            reason: &s.reason,
            headers: &s.headers,
            size: s.size,
            uid_validity: Some(s.uid_validity),
            uid: Some(s.uid),
        };
        db::quarantine::insert(conn, &q, now).await?;
    }
    db::mailboxes::save_checkpoint(conn, mailbox_id, &cp.folder, &cp.state).await
}

impl Pipeline {
    /// Records a checkpoint alone (skipped messages, a first sync that imports nothing).
    pub async fn commit_checkpoint(&self, mailbox: &MailboxRow, checkpoint: &Checkpoint) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        save_checkpoint(&mut tx, mailbox.id, checkpoint, crate::domain::now()).await?;
        Ok(tx.commit().await?)
    }
}
