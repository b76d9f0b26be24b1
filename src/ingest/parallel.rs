//! The CPU- and file-bound halves of ingest on blocking threads, in parallel chunks: preparing mail and writing blobs.

use super::{Content, Input, Pipeline, Prepared, Source, prepare};
use crate::platform::storage::BlobStore;
use tokio::task::spawn_blocking;

impl Pipeline {
    /// Prepares inputs on blocking threads, in parallel chunks.
    pub async fn prepare_all(&self, inputs: Vec<Input>) -> Vec<(Prepared, Source)> {
        let ctx = self.context();
        let tasks: Vec<_> = chunks(inputs)
            .map(|part| {
                let ctx = ctx.clone();
                spawn_blocking(move || part.into_iter().map(|i| (prepare(i.raw, &ctx), i.source)).collect::<Vec<_>>())
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.extend(task.await.expect("prepare never panics; it catches parser panics"));
        }
        out
    }

    /// Writes every raw message and attachment of the batch and makes them durable (one `syncfs` for the batch), so
    /// a row that names a blob is never committed before the blob is on disk. Off the storing path: the next batch's
    /// blobs are written and synced while the current one is stored. Files are written by parallel chunks: creating
    /// a file costs kernel CPU (much more on ext4 right after many deletions), which one thread alone serialises.
    pub async fn write_blobs(&self, prepared: Vec<(Prepared, Source)>) -> std::io::Result<Vec<(Prepared, Source)>> {
        let tasks: Vec<_> = chunks(prepared)
            .map(|part| {
                let blobs = self.blobs.clone();
                spawn_blocking(move || part.iter().try_for_each(|(p, _)| put_blobs(&blobs, p)).map(|()| part))
            })
            .collect();
        let mut out = Vec::new();
        let mut failed = None;
        // Every task is awaited, also after a failure, so no write is still running when the caller retries.
        for task in tasks {
            match task.await.expect("blob writer does not panic") {
                Ok(part) => out.extend(part),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let blobs = self.blobs.clone();
        spawn_blocking(move || blobs.sync()).await.expect("blob sync does not panic")?;
        Ok(out)
    }
}

/// The raw message and its attachments.
fn put_blobs(blobs: &BlobStore, p: &Prepared) -> std::io::Result<()> {
    blobs.put(&p.sha256, &p.raw)?;
    if let Content::Mail(m) = &p.content {
        for (sha, att) in m.attachment_sha256.iter().zip(&m.mail.attachments) {
            blobs.put(sha, &att.data)?;
        }
    }
    Ok(())
}

/// `items` split in order into one chunk per available core (fewer when there are fewer items).
fn chunks<T>(items: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len().max(1));
    let size = items.len().div_ceil(workers).max(1);
    let mut items = items.into_iter().peekable();
    std::iter::from_fn(move || items.peek().is_some().then(|| items.by_ref().take(size).collect()))
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_keep_order_and_every_item() {
        let all: Vec<u32> = (0..7).collect();
        let parts: Vec<Vec<u32>> = chunks(all.clone()).collect();
        assert!(!parts.is_empty() && parts.iter().all(|p| !p.is_empty()));
        assert_eq!(parts.concat(), all);
        assert_eq!(chunks(Vec::<u32>::new()).count(), 0);
    }
}
