//! What happens on the server once messages are committed: flag `\Seen`, move, or delete.

use super::ImapNetError;
use super::{ImapError, uidset};
use crate::net::imap::{ImapSession, within};
use crate::platform::config::AfterImport;
use futures::TryStreamExt;
use std::time::Duration;

/// Server capabilities that change how `after_import` is applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub idle: bool,
    pub move_: bool,
    pub uidplus: bool,
}

impl Caps {
    /// Reads the capabilities of a logged-in session.
    pub async fn read(session: &mut ImapSession, timeout: Duration) -> Result<Self, ImapError> {
        let caps = within(timeout, "CAPABILITY", session.capabilities()).await?.map_err(ImapNetError::Protocol)?;
        Ok(Self { idle: caps.has_str("IDLE"), move_: caps.has_str("MOVE"), uidplus: caps.has_str("UIDPLUS") })
    }
}

/// Applies `action` to `uids` (already committed). Never called for messages deskmail does not hold.
pub async fn apply(
    session: &mut ImapSession,
    action: &AfterImport,
    uids: &[u32],
    caps: Caps,
    timeout: Duration,
) -> Result<(), ImapError> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uidset::format(uids);
    match action {
        AfterImport::Seen => store_flag(session, &set, "\\Seen", timeout).await,
        AfterImport::Delete => {
            store_flag(session, &set, "\\Deleted", timeout).await?;
            expunge(session, &set, caps, timeout).await
        }
        AfterImport::Move(folder) => match move_to(session, &set, folder, caps, timeout).await {
            // The target folder may not exist yet: create it once and retry.
            Err(ImapError::Net(ImapNetError::Protocol(async_imap::error::Error::No(_)))) => {
                let _ = within(timeout, "CREATE", session.create(folder)).await?;
                move_to(session, &set, folder, caps, timeout).await
            }
            other => other,
        },
    }
}

async fn move_to(
    session: &mut ImapSession,
    set: &str,
    folder: &str,
    caps: Caps,
    timeout: Duration,
) -> Result<(), ImapError> {
    if caps.move_ {
        return Ok(within(timeout, "UID MOVE", session.uid_mv(set, folder)).await?.map_err(ImapNetError::Protocol)?);
    }
    within(timeout, "UID COPY", session.uid_copy(set, folder)).await?.map_err(ImapNetError::Protocol)?;
    store_flag(session, set, "\\Deleted", timeout).await?;
    expunge(session, set, caps, timeout).await
}

async fn store_flag(session: &mut ImapSession, set: &str, flag: &str, timeout: Duration) -> Result<(), ImapError> {
    let query = format!("+FLAGS.SILENT ({flag})");
    within(timeout, "UID STORE", async {
        let stream = session.uid_store(set, &query).await?;
        stream.try_collect::<Vec<_>>().await.map(|_| ())
    })
    .await?
    .map_err(|e| ImapNetError::Protocol(e).into())
}

async fn expunge(session: &mut ImapSession, set: &str, caps: Caps, timeout: Duration) -> Result<(), ImapError> {
    within(timeout, "EXPUNGE", async {
        if caps.uidplus {
            session.uid_expunge(set).await?.try_collect::<Vec<_>>().await.map(|_| ())
        } else {
            // A plain EXPUNGE would also remove messages others flagged \Deleted (and that deskmail may not hold):
            // ours stay flagged until the server or a mail client expunges them.
            tracing::debug!(set, "no UIDPLUS: messages left flagged \\Deleted, not expunged");
            Ok(())
        }
    })
    .await?
    .map_err(|e| ImapNetError::Protocol(e).into())
}
