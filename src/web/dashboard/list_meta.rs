//! The ticket list's slow-changing choices (agents, mailboxes, tags, ticket types), cached for a few seconds per app.

use crate::db::Db;
use crate::web::Error;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the choices are reused: a new agent or tag shows up within this time.
const TTL: Duration = Duration::from_secs(10);

/// The filter choices of the list page.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// `(id, name)` of active users.
    pub agents: Vec<(i64, String)>,
    pub mailboxes: Vec<String>,
    pub tags: Vec<String>,
    /// `(name, title)` of the ticket types.
    pub types: Vec<(String, String)>,
}

impl Meta {
    /// A type's title (its name when the type is unknown here, e.g. added since the choices were read).
    pub fn type_title(&self, name: &str) -> String {
        self.types.iter().find(|(n, _)| n == name).map_or_else(|| name.to_string(), |(_, t)| t.clone())
    }
}

/// A per-application cache of [`Meta`]; one request at a time reads them afresh, the others meanwhile get the
/// previous choices (when there are some) rather than all reading them at once.
#[derive(Debug, Clone, Default)]
pub struct MetaCache {
    cached: Arc<Mutex<Option<(Instant, Meta)>>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl MetaCache {
    /// The cached choices, or fresh ones when older than [`TTL`].
    pub async fn get(&self, db: &Db) -> Result<Meta, Error> {
        let stale = match self.cached() {
            Ok(meta) => return Ok(meta),
            Err(stale) => stale,
        };
        let _refreshing = match (self.refreshing.try_lock(), stale) {
            (Ok(guard), _) => guard,
            (Err(_), Some(stale)) => return Ok(stale),
            (Err(_), None) => self.refreshing.lock().await,
        };
        if let Ok(meta) = self.cached() {
            return Ok(meta);
        }
        let meta = Meta {
            agents: db.users().await?.into_iter().filter(|u| u.active == 1).map(|u| (u.id, u.name)).collect(),
            mailboxes: db.mailboxes().await?.into_iter().map(|m| m.name).collect(),
            tags: db.all_tags().await?,
            types: db.ticket_types().await?.into_iter().map(|t| (t.name, t.title)).collect(),
        };
        *self.cached.lock().expect("meta cache") = Some((Instant::now(), meta.clone()));
        Ok(meta)
    }

    /// The choices when fresh; else the stale ones, if any.
    fn cached(&self) -> Result<Meta, Option<Meta>> {
        match self.cached.lock().expect("meta cache").as_ref() {
            Some((at, meta)) if at.elapsed() < TTL => Ok(meta.clone()),
            other => Err(other.map(|(_, meta)| meta.clone())),
        }
    }

    /// Drops the cached choices (an admin changed them): the next list reads them afresh.
    pub fn forget(&self) {
        *self.cached.lock().expect("meta cache") = None;
    }
}
