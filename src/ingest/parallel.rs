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

/// A customer's reply with quoted history, a signature and an HTML part, for [`Pipeline::warm_up`].
const WARM_UP_REPLY: &[u8] = b"From: Kim Doe <kim@customer.invalid>\r\nTo: support@deskmail.invalid\r\n\
Subject: Re: [#1] Where is my order?\r\nMessage-ID: <warm-up-1@customer.invalid>\r\n\
In-Reply-To: <warm-up-0@deskmail.invalid>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Thanks, it arrived.\r\n\r\n-- \r\nKim\r\n\r\nOn Mon, 7 Dec 2026 at 09:00, Support <support@deskmail.invalid> wrote:\r\n\
> Your order ships today.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Thanks, it <b>arrived</b>.</p><blockquote>Your order ships today.</blockquote>\r\n--b--\r\n";

/// A non-delivery report in prose, for [`Pipeline::warm_up`].
const WARM_UP_BOUNCE: &[u8] = b"From: Mail Delivery System <MAILER-DAEMON@mx.invalid>\r\n\
To: support@deskmail.invalid\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <warm-up-2@mx.invalid>\r\nAuto-Submitted: auto-replied\r\n\r\n\
I'm sorry to have to inform you that your message could not be delivered to one or more recipients.\r\n\r\n\
<nobody@customer.invalid>: host mx.customer.invalid said: 550 5.1.1 User unknown\r\n";

impl Pipeline {
    /// Prepares two built-in mails (a quoted text+HTML reply and a bounce) on a blocking thread and drops them. The
    /// parser's, classifiers' and quote stripper's patterns are compiled once per process, on first use; without
    /// this the first batch after start pays for that (~50 ms) while its mail waits.
    pub fn warm_up(&self) -> tokio::task::JoinHandle<()> {
        let ctx = self.context();
        spawn_blocking(move || {
            for raw in [WARM_UP_REPLY, WARM_UP_BOUNCE] {
                drop(prepare(raw.to_vec(), &ctx));
            }
        })
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
    use crate::ingest::{Content, PrepareContext, prepare};

    /// The warm-up mails take the paths they are there to warm: quote and signature stripping, HTML, bounces.
    #[test]
    fn warm_up_mails_are_a_quoted_reply_and_a_bounce() {
        let ctx = PrepareContext {
            max_message_bytes: 100_000,
            our_addresses: Vec::new(),
            signer: crate::platform::tokens::Signer::new(b"k"),
            block_list: Vec::new(),
            trusted_authserv_ids: Vec::new(),
            time_budget: std::time::Duration::from_secs(10),
        };
        let Content::Mail(reply) = prepare(super::WARM_UP_REPLY.to_vec(), &ctx).content else { panic!("quarantined") };
        assert_eq!(reply.visible_text, "Thanks, it arrived.");
        assert!(reply.body_html.as_deref().is_some_and(|h| h.contains("<b>arrived</b>")), "{:?}", reply.body_html);
        assert_eq!(reply.facts.subject_tag, Some(1));
        let Content::Mail(bounce) = prepare(super::WARM_UP_BOUNCE.to_vec(), &ctx).content else {
            panic!("quarantined")
        };
        let report = bounce.mail.classification.bounce.as_ref().expect("classified as a bounce");
        assert_eq!(report.recipients, vec!["nobody@customer.invalid".to_string()]);
    }

    #[test]
    fn chunks_keep_order_and_every_item() {
        let all: Vec<u32> = (0..7).collect();
        let parts: Vec<Vec<u32>> = chunks(all.clone()).collect();
        assert!(!parts.is_empty() && parts.iter().all(|p| !p.is_empty()));
        assert_eq!(parts.concat(), all);
        assert_eq!(chunks(Vec::<u32>::new()).count(), 0);
    }
}
