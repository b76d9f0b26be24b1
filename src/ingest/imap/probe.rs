//! `deskmail mailbox test`: log in, read capabilities and counts, and say what the next sync would import.

use super::{ImapError, ImapNetError};
use crate::db::SyncState;
use crate::net::imap::{connect_with, within};
use crate::net::oauth::TokenSource;
use crate::platform::config::{ImapSettings, ImportExisting};
use std::time::Duration;

/// What the probe found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeReport {
    pub capabilities: Vec<String>,
    pub folder: String,
    pub exists: u32,
    pub unseen: usize,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<u32>,
    /// Messages the next sync would import.
    pub would_import: usize,
    pub explanation: String,
}

/// Connects read-only (EXAMINE) and reports; never changes the mailbox. `tokens`: for an OAuth2 mailbox.
pub async fn probe(
    imap: &ImapSettings,
    tokens: Option<&TokenSource>,
    state: &SyncState,
    timeout: Duration,
) -> Result<ProbeReport, ImapError> {
    let mut session = connect_with(imap, timeout, tokens).await?;
    let caps = within(timeout, "CAPABILITY", session.capabilities()).await?.map_err(ImapNetError::Protocol)?;
    let mut capabilities: Vec<String> = caps.iter().map(|c| format!("{c:?}")).collect();
    capabilities.sort();
    let mb = within(timeout, "EXAMINE", session.examine(&imap.folder)).await?.map_err(ImapNetError::Protocol)?;
    let unseen =
        within(timeout, "UID SEARCH", session.uid_search("UNSEEN")).await?.map_err(ImapNetError::Protocol)?.len();
    let (would_import, explanation) = match (state.uid_validity, mb.uid_validity) {
        (Some(old), Some(new)) if i64::from(new) == old => {
            let newer = within(timeout, "UID SEARCH", session.uid_search(format!("UID {}:*", state.last_uid + 1)))
                .await?
                .map_err(ImapNetError::Protocol)?;
            let n = newer.into_iter().filter(|u| i64::from(*u) > state.last_uid).count();
            (n, format!("messages above the checkpoint (UID {})", state.last_uid))
        }
        (Some(_), _) => (
            mb.exists as usize,
            "UIDVALIDITY changed: the whole folder is re-scanned (duplicates are recognised)".into(),
        ),
        (None, _) => match imap.import_existing {
            ImportExisting::All => (mb.exists as usize, "first sync, import_existing = all".into()),
            ImportExisting::Unseen => (unseen, "first sync, import_existing = unseen".into()),
            ImportExisting::None => (0, "first sync, import_existing = none: only mail arriving from now on".into()),
        },
    };
    let _ = within(timeout, "LOGOUT", session.logout()).await;
    Ok(ProbeReport {
        capabilities,
        folder: imap.folder.clone(),
        exists: mb.exists,
        unseen,
        uid_validity: mb.uid_validity,
        uid_next: mb.uid_next,
        would_import,
        explanation,
    })
}
