//! Sessions in the database (tower-sessions over our `Db`), so every instance sees every session.

use crate::db::Db;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session store: one row per session, the record as JSON, expired rows dropped on delete.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    pub db: Db,
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new random id until it is free (collisions are astronomically rare, but never overwrite).
        loop {
            let data = encode(record)?;
            if self
                .db
                .session_create(&record.id.to_string(), &data, record.expiry_date.unix_timestamp())
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.db
            .session_save(&record.id.to_string(), &encode(record)?, record.expiry_date.unix_timestamp())
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data = self.db.session_load(&id.to_string(), crate::domain::now()).await.map_err(backend)?;
        data.map(|d| serde_json::from_str(&d).map_err(|e| session_store::Error::Decode(e.to_string()))).transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db.session_delete(&id.to_string(), crate::domain::now()).await.map_err(backend)
    }
}
