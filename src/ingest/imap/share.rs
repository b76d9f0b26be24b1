//! Fair shares of the mailbox leases between live instances: the arithmetic, the state a process's pollers share,
//! and the heartbeat that tells the other instances this one is alive.

use crate::db::{Db, DbError, mailboxes};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The leases as one instance sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Enabled IMAP mailboxes.
    pub mailboxes: usize,
    /// Unexpired leases this instance holds.
    pub mine: usize,
    /// Unexpired leases held by each other live instance.
    pub others: Vec<usize>,
}

impl Split {
    /// Each live instance's share: the mailboxes over the live instances, rounded up.
    pub fn share(&self) -> usize {
        self.mailboxes.div_ceil(self.others.len() + 1)
    }

    fn someone_short(&self) -> bool {
        let share = self.share();
        self.others.iter().any(|&n| n < share)
    }

    /// Whether this instance may take a free lease: below its share, or no other instance is short of its own.
    pub fn may_take(&self) -> bool {
        self.mine < self.share() || !self.someone_short()
    }

    /// Whether this instance should give one lease up: above its share while another instance is short.
    pub fn should_hand_back(&self) -> bool {
        self.mine > self.share() && self.someone_short()
    }
}

/// What the pollers of one process share: the lease identity, the mailbox count and the hand-back pace.
#[derive(Clone)]
pub struct LeaseShare {
    inner: Arc<Inner>,
}

struct Inner {
    owner: String,
    lease: Duration,
    mailboxes: AtomicUsize,
    /// The earliest moment a poller looks at the split again (once a second; a lease period after a hand-back).
    next_check: Mutex<Instant>,
}

impl LeaseShare {
    /// The share of process `owner`, whose leases last `lease`.
    pub fn new(owner: String, lease: Duration) -> Self {
        let next_check = Mutex::new(Instant::now());
        Self { inner: Arc::new(Inner { owner, lease, mailboxes: AtomicUsize::new(0), next_check }) }
    }

    /// This process's lease identity.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Records how many enabled IMAP mailboxes there are.
    pub fn set_mailboxes(&self, n: usize) {
        self.inner.mailboxes.store(n, Ordering::Relaxed);
    }

    fn lease_secs(&self) -> i64 {
        self.inner.lease.as_secs() as i64
    }

    /// The leases now, counting as live the instances heard from within two lease periods.
    pub async fn split(&self, db: &Db, now: i64) -> Result<Split, DbError> {
        let live = db.live_instances(now - 2 * self.lease_secs()).await?;
        let held: HashMap<String, i64> = mailboxes::lease_holders(db.pool(), now).await?.into_iter().collect();
        let count = |owner: &str| held.get(owner).copied().unwrap_or(0) as usize;
        Ok(Split {
            mailboxes: self.inner.mailboxes.load(Ordering::Relaxed),
            mine: count(self.owner()),
            others: live.iter().filter(|o| o.as_str() != self.owner()).map(|o| count(o)).collect(),
        })
    }

    /// Whether one of this process's leases should go back now. True at most once a lease period, so a process
    /// never sheds several leases before the others have picked the first one up.
    pub async fn hand_back_due(&self, db: &Db, now: i64) -> Result<bool, DbError> {
        {
            let mut next = self.inner.next_check.lock().unwrap_or_else(|e| e.into_inner());
            if Instant::now() < *next {
                return Ok(false);
            }
            *next = Instant::now() + Duration::from_secs(1);
        }
        let due = self.split(db, now).await?.should_hand_back();
        if due {
            *self.inner.next_check.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + self.inner.lease;
        }
        Ok(due)
    }
}

/// Keeps this process's heartbeat fresh while it runs.
pub struct Heartbeat {
    pub db: Db,
    pub share: LeaseShare,
}

impl Heartbeat {
    /// Renews the heartbeat once (and forgets instances silent for ten lease periods).
    pub async fn try_beat(&self) -> Result<(), DbError> {
        let now = crate::domain::now();
        self.db.beat(self.share.owner(), now, now - 10 * self.share.lease_secs()).await
    }

    /// Beats every third of the lease until `cancel`, then removes the heartbeat.
    pub async fn run(self, cancel: CancellationToken) {
        let every = (self.share.inner.lease / 3).max(Duration::from_secs(1));
        while !cancel.is_cancelled() {
            if let Err(e) = self.try_beat().await {
                tracing::warn!(error = &e as &dyn std::error::Error, "cannot renew this instance's heartbeat");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = cancel.cancelled() => {},
            }
        }
        if let Err(e) = self.db.forget_instance(self.share.owner()).await {
            tracing::warn!(error = &e as &dyn std::error::Error, "cannot remove this instance's heartbeat");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Split;

    fn split(mailboxes: usize, mine: usize, others: &[usize]) -> Split {
        Split { mailboxes, mine, others: others.to_vec() }
    }

    #[test]
    fn the_share_is_the_mailboxes_over_the_live_instances_rounded_up() {
        assert_eq!(split(4, 0, &[]).share(), 4);
        assert_eq!(split(4, 0, &[0]).share(), 2);
        assert_eq!(split(5, 0, &[0]).share(), 3);
        assert_eq!(split(4, 0, &[0, 0]).share(), 2);
        assert_eq!(split(0, 0, &[0]).share(), 0);
    }

    #[test]
    fn a_single_instance_takes_and_keeps_every_mailbox() {
        for mine in 0..=4 {
            assert!(split(4, mine, &[]).may_take());
            assert!(!split(4, mine, &[]).should_hand_back());
        }
    }

    #[test]
    fn a_full_share_leaves_free_leases_to_a_short_instance() {
        assert!(split(4, 1, &[0]).may_take());
        assert!(!split(4, 2, &[0]).may_take());
        assert!(!split(4, 3, &[1]).may_take());
        // Nobody is short: a free lease is anyone's.
        assert!(split(4, 2, &[2]).may_take());
        assert!(split(5, 3, &[3]).may_take());
    }

    #[test]
    fn only_a_process_above_its_share_hands_back_and_only_to_a_short_one() {
        assert!(split(4, 4, &[0]).should_hand_back());
        assert!(split(4, 3, &[1]).should_hand_back());
        assert!(!split(4, 2, &[2]).should_hand_back());
        assert!(!split(4, 2, &[0]).should_hand_back());
        assert!(!split(5, 3, &[2]).should_hand_back());
        assert!(split(5, 4, &[1]).should_hand_back());
        // Three instances: 2 + 1 + 1 and 2 + 2 + 0 are both settled (nobody above the share of 2).
        assert!(!split(4, 2, &[1, 1]).should_hand_back());
        assert!(!split(4, 2, &[2, 0]).should_hand_back());
        assert!(split(4, 3, &[1, 0]).should_hand_back());
    }

    #[test]
    fn shares_settle_from_all_on_one_instance() {
        // Hand one back, the short instance takes it; repeat until neither side wants to move.
        let (mut a, mut b) = (4, 0);
        while split(4, a, &[b]).should_hand_back() {
            a -= 1;
            assert!(split(4, b, &[a]).may_take());
            assert!(!split(4, a, &[b]).may_take(), "the freed lease waits for the short instance");
            b += 1;
        }
        assert_eq!((a, b), (2, 2));
    }
}
