//! Files staff attach to replies and notes (cleaned like inbound attachments, stored before the transaction that
//! names them), and idempotency keys of repeated submissions.

use super::TicketError;
use crate::db::{self, messages::NewAttachment};
use crate::platform::storage::sha256_hex;
use sqlx::AnyConnection;

/// An uploaded file, its name and type cleaned like an inbound attachment's (see [`NewFile::new`]).
#[derive(Debug, Clone)]
pub struct NewFile {
    filename: String,
    content_type: String,
    data: Vec<u8>,
}

impl NewFile {
    /// A file as the `index`-th upload: the name loses paths and control characters (a fallback name when nothing
    /// is left); `Err` when the content type is not a MIME type.
    pub fn new(filename: &str, content_type: &str, index: usize, data: Vec<u8>) -> Result<Self, String> {
        let content_type = crate::domain::file_name::content_type(content_type)?;
        let filename = crate::domain::file_name::file_name(filename, &content_type, index);
        Ok(Self { filename, content_type, data })
    }

    /// Like [`NewFile::new`], but a content type that is not a MIME type becomes `application/octet-stream`
    /// (browsers and mail clients send what the file's extension suggests; the file is worth keeping).
    pub fn lenient(filename: &str, content_type: &str, index: usize, data: Vec<u8>) -> Self {
        let content_type = crate::domain::file_name::content_type(content_type)
            .unwrap_or_else(|_| mime::APPLICATION_OCTET_STREAM.to_string());
        let filename = crate::domain::file_name::file_name(filename, &content_type, index);
        Self { filename, content_type, data }
    }

    pub fn filename(&self) -> &str {
        &self.filename
    }

    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Writes uploaded files to the blob store and syncs them before the transaction that names them.
pub(crate) async fn store_files(
    blobs: &crate::platform::storage::BlobStore,
    files: &[NewFile],
) -> Result<(), TicketError> {
    if files.is_empty() {
        return Ok(());
    }
    let blobs = blobs.clone();
    let files: Vec<(String, Vec<u8>)> = files.iter().map(|f| (sha256_hex(&f.data), f.data.clone())).collect();
    tokio::task::spawn_blocking(move || {
        for (sha, data) in &files {
            blobs.put(sha, data)?;
        }
        blobs.sync()
    })
    .await
    .map_err(|e| TicketError::Storage(std::io::Error::other(e)))??;
    Ok(())
}

pub(crate) async fn insert_files(
    conn: &mut AnyConnection,
    message_id: i64,
    files: &[NewFile],
    now: i64,
) -> Result<(), TicketError> {
    for f in files {
        let sha = sha256_hex(&f.data);
        let a = NewAttachment {
            filename: &f.filename,
            content_type: &f.content_type,
            size: f.data.len() as i64,
            sha256: &sha,
            content_id: None,
            inline: false,
        };
        db::messages::insert_attachment(conn, message_id, &a, now).await?;
    }
    Ok(())
}

pub(crate) async fn claim_key(
    conn: &mut AnyConnection,
    key: &Option<(i64, String)>,
    now: i64,
) -> Result<(), TicketError> {
    if let Some((user, key)) = key
        && !db::idempotency::claim_idempotency_key(conn, *user, key, now).await?
    {
        let prior = db::idempotency::idempotent_response(conn, *user, key).await?;
        return Err(TicketError::Duplicate(prior.parse().unwrap_or(0)));
    }
    Ok(())
}

pub(crate) async fn finish_key(
    conn: &mut AnyConnection,
    key: &Option<(i64, String)>,
    message_id: i64,
) -> Result<(), TicketError> {
    if let Some((user, key)) = key {
        db::idempotency::store_idempotent_response(conn, *user, key, &message_id.to_string()).await?;
    }
    Ok(())
}
