//! The sender's loop: one lane (task) per mailbox with due mail, so a server that stalls holds up only its own
//! mailbox's mail; on shutdown, sends still running after a short grace are given back to the queue.

use super::sender::Sender;
use std::collections::HashSet;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long sends may go on after shutdown began before they are abandoned (given back unattempted).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The least time between two outbox scans that wake-ups ask for. Every committed reply wakes the sender, and a
/// burst of them found the same lanes already running; one scan per gap serves them all (running lanes pick up the
/// new mail themselves), at most this much later for a mailbox whose lane is not running.
const WAKE_GAP: Duration = Duration::from_millis(50);

impl Sender {
    /// Runs until `cancel`: starts a lane for every mailbox with due deliveries, on a wake-up or every two seconds.
    pub async fn run(self, cancel: CancellationToken) {
        let abort = self.abort.clone();
        tokio::spawn({
            let cancel = cancel.clone();
            async move {
                cancel.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
                abort.cancel();
            }
        });
        let mut lanes: JoinSet<i64> = JoinSet::new();
        let mut running: HashSet<i64> = HashSet::new();
        let mut failures = 0u32;
        let mut woken = false;
        let mut scanned_at = tokio::time::Instant::now();
        while !cancel.is_cancelled() {
            if std::mem::take(&mut woken) {
                tokio::select! {
                    _ = tokio::time::sleep_until(scanned_at + WAKE_GAP) => {},
                    _ = cancel.cancelled() => break,
                }
            }
            scanned_at = tokio::time::Instant::now();
            while let Some(done) = lanes.try_join_next() {
                running.remove(&done.unwrap_or_default());
            }
            let wait = match self.db.mailboxes_with_due_deliveries(crate::domain::now()).await {
                Ok(due) => {
                    failures = 0;
                    for id in due.into_iter().filter(|id| running.insert(*id)) {
                        lanes.spawn(lane(self.clone(), id, cancel.clone()));
                    }
                    Duration::from_secs(2)
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %crate::platform::telemetry::chain(&e), "sender: cannot read the outbox");
                    Duration::from_secs(u64::from(failures.min(30)))
                }
            };
            tokio::select! {
                _ = self.wake.notified() => woken = true,
                _ = tokio::time::sleep(wait) => {},
                Some(done) = lanes.join_next(), if !lanes.is_empty() => { running.remove(&done.unwrap_or_default()); },
                _ = cancel.cancelled() => {},
            }
        }
        // Lanes see the abort after the grace and give their sends back; a lane stuck elsewhere is stopped.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(3), async {
            while lanes.join_next().await.is_some() {}
        })
        .await;
        lanes.abort_all();
    }
}

/// Sends a mailbox's due mail step by step until none is left (or shutdown); returns the mailbox id.
async fn lane(sender: Sender, mailbox_id: i64, cancel: CancellationToken) -> i64 {
    while !cancel.is_cancelled() {
        match sender.try_send_mailbox(mailbox_id).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(mailbox_id, error = %crate::platform::telemetry::chain(&e), "sender step failed");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {},
                    _ = cancel.cancelled() => {},
                }
                break;
            }
        }
    }
    mailbox_id
}
