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

/// A per-application cache of [`Meta`].
#[derive(Debug, Clone, Default)]
pub struct MetaCache(Arc<Mutex<Option<(Instant, Meta)>>>);

impl MetaCache {
    /// The cached choices, or fresh ones when older than [`TTL`].
    pub async fn get(&self, db: &Db) -> Result<Meta, Error> {
        if let Some((at, meta)) = self.0.lock().expect("meta cache").as_ref()
            && at.elapsed() < TTL
        {
            return Ok(meta.clone());
        }
        let meta = Meta {
            agents: db.users().await?.into_iter().filter(|u| u.active == 1).map(|u| (u.id, u.name)).collect(),
            mailboxes: db.mailboxes().await?.into_iter().map(|m| m.name).collect(),
            tags: db.all_tags().await?,
            types: db.ticket_types().await?.into_iter().map(|t| (t.name, t.title)).collect(),
        };
        *self.0.lock().expect("meta cache") = Some((Instant::now(), meta.clone()));
        Ok(meta)
    }

    /// Drops the cached choices (an admin changed them): the next list reads them afresh.
    pub fn forget(&self) {
        *self.0.lock().expect("meta cache") = None;
    }
}
