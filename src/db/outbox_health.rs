//! How the outbox moves: queue length and age, sends whose lease ran out, per mailbox (for `/healthz` and admins).

use super::{Db, Result};
use serde::Serialize;

/// The outbox of one mailbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MailboxOutbox {
    #[serde(rename = "name")]
    pub mailbox: String,
    /// Deliveries waiting (queued or being sent).
    pub queued: i64,
    /// Of those, how many failed at least once and wait for a retry.
    pub retrying: i64,
    #[serde(skip)]
    pub oldest_queued_at: Option<i64>,
    /// Age of its oldest waiting delivery.
    #[sqlx(skip)]
    pub oldest_queued_secs: Option<i64>,
    /// The error of the most recent failed attempt still waiting.
    pub last_error: Option<String>,
}

/// The whole outbox.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxHealth {
    pub queued: i64,
    /// Age of the oldest waiting delivery.
    pub oldest_queued_secs: Option<i64>,
    /// How long the oldest delivery that is due and not being sent has waited for a sender.
    pub overdue_secs: Option<i64>,
    /// Sends whose lease ran out without a result (a sender stopped or hung).
    pub stuck_sends: i64,
    pub mailboxes: Vec<MailboxOutbox>,
}

impl OutboxHealth {
    /// Whether the outbox does not move: a send stuck, due mail no sender picks up for two minutes, or a delivery
    /// waiting longer than `stalled_after_secs`.
    pub fn stalled(&self, stalled_after_secs: u64) -> bool {
        self.stuck_sends > 0
            || self.overdue_secs.is_some_and(|s| s > 120)
            || self.oldest_queued_secs.is_some_and(|s| s > stalled_after_secs as i64)
    }
}

impl Db {
    /// The outbox as it stands at `now`.
    pub async fn outbox_health(&self, now: i64) -> Result<OutboxHealth> {
        let mut mailboxes: Vec<MailboxOutbox> = sqlx::query_as(
            "select m.name as mailbox, count(*) as queued, \
             sum(case when d.attempts > 0 then 1 else 0 end) as retrying, min(d.queued_at) as oldest_queued_at, \
             (select d2.last_error from deliveries d2 join outbound_mails o2 on o2.id = d2.outbound_id \
              where o2.mailbox_id = m.id and d2.status in ('queued', 'sending') and d2.last_error is not null \
              order by d2.updated_at desc, d2.id desc limit 1) as last_error \
             from deliveries d join outbound_mails o on o.id = d.outbound_id join mailboxes m on m.id = o.mailbox_id \
             where d.status in ('queued', 'sending') group by m.id, m.name order by m.name",
        )
        .fetch_all(self.pool())
        .await?;
        let (overdue_since, stuck): (Option<i64>, i64) = sqlx::query_as(
            "select min(case when d.next_attempt_at <= $1 and (d.lease_until is null or d.lease_until < $1) \
             then d.next_attempt_at end), \
             sum(case when d.status = 'sending' and d.lease_until < $1 then 1 else 0 end) \
             from deliveries d where d.status in ('queued', 'sending')",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map(|(o, s): (Option<i64>, Option<i64>)| (o, s.unwrap_or(0)))?;
        for m in &mut mailboxes {
            m.oldest_queued_secs = m.oldest_queued_at.map(|t| (now - t).max(0));
        }
        let oldest = mailboxes.iter().filter_map(|m| m.oldest_queued_at).min();
        Ok(OutboxHealth {
            queued: mailboxes.iter().map(|m| m.queued).sum(),
            oldest_queued_secs: oldest.map(|t| (now - t).max(0)),
            overdue_secs: overdue_since.map(|t| (now - t).max(0)),
            stuck_sends: stuck,
            mailboxes,
        })
    }
}
