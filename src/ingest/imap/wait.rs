//! How a poller waits for new mail between syncs: IDLE or sleeping, each with the optional quick check (`NOOP`
//! every `check_interval_ms`), renewing its lease every third of the lease period.

use super::poller::{Poller, SessionEnd, sleep_or_cancel};
use super::{ImapError, ImapNetError};
use crate::net::imap::{ImapSession, within};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What ended one stretch of waiting.
#[derive(Debug, PartialEq, Eq)]
enum Woke {
    /// The server announced new mail (or announced it before the wait began).
    Mail,
    /// A quick check is due: ask the server with `NOOP`.
    Check,
    /// The lease needs renewing, and the folder a look.
    Renew,
    /// Shutdown began.
    Stop,
}

/// When the stretch of waiting that starts at `now` ends: at the next quick check, or at the lease renewal.
fn stretch_end(now: Instant, renew_at: Instant, check: Option<Duration>) -> Instant {
    check.map_or(renew_at, |c| (now + c).min(renew_at))
}

/// What a stretch that ran out (no mail, no shutdown) at `now` calls for.
fn ran_out(now: Instant, renew_at: Instant) -> Woke {
    if now >= renew_at { Woke::Renew } else { Woke::Check }
}

impl Poller {
    /// The quick check's interval, when this mailbox has one.
    fn quick_check(&self) -> Option<Duration> {
        self.imap.check_interval().ok().flatten()
    }

    fn renew_every(&self) -> Duration {
        Duration::from_secs(self.lease_secs() / 3).max(Duration::from_secs(1))
    }

    /// When a session that starts now renews its lease first.
    pub(super) fn first_renewal(&self) -> Instant {
        Instant::now() + self.renew_every()
    }

    /// Renews the lease and sets the next renewal; false when it was lost.
    async fn renew(&self, renew_at: &mut Instant) -> Result<bool, ImapError> {
        let kept = self.try_lease().await?;
        *renew_at = Instant::now() + self.renew_every();
        Ok(kept)
    }

    /// Waits in IDLE for new mail, at most until `renew_at` (then it renews the lease and the caller syncs again and
    /// re-enters IDLE). With a quick check, it leaves IDLE every `check_interval_ms` to ask with `NOOP`: Dovecot
    /// tells an IDLE client of new mail only ~500 ms after it sees it, a `NOOP` at once. `renew_at` is the session's
    /// one renewal clock: a wake-up for mail (or for any other announcement) does not put the renewal off.
    pub(super) async fn idle(
        &self,
        mut session: ImapSession,
        renew_at: &mut Instant,
        cancel: &CancellationToken,
        timeout: Duration,
    ) -> Result<(ImapSession, Option<SessionEnd>), ImapError> {
        loop {
            let announced = session.unsolicited_responses.clone();
            let mut handle = session.idle();
            within(timeout, "IDLE", handle.init()).await?.map_err(ImapNetError::Protocol)?;
            let woke = if mail_announced(|| announced.try_recv().ok()) {
                // A mail announced after the sync looked, before the server said "+ idling", never wakes the wait.
                Woke::Mail
            } else {
                let now = Instant::now();
                let (wait, _stop) = handle.wait_with_timeout(stretch_end(now, *renew_at, self.quick_check()) - now);
                tokio::select! {
                    r = wait => match r.map_err(ImapNetError::Protocol)? {
                        IdleResponse::Timeout => ran_out(Instant::now(), *renew_at),
                        _ => Woke::Mail,
                    },
                    _ = cancel.cancelled() => Woke::Stop,
                }
            };
            session = within(timeout, "DONE", handle.done()).await?.map_err(ImapNetError::Protocol)?;
            match woke {
                Woke::Check if !noop_announces_mail(&mut session, timeout).await? => continue,
                Woke::Check | Woke::Mail => return Ok((session, None)),
                Woke::Stop => return Ok((session, Some(SessionEnd::Stopped))),
                // Every third of the lease: renew it and look at the folder again.
                Woke::Renew if !self.renew(renew_at).await? => return Ok((session, Some(SessionEnd::LeaseLost))),
                Woke::Renew => return Ok((session, None)),
            }
        }
    }

    /// Sleeps `poll_interval_secs`, renewing the lease when `renew_at` comes (the session's one renewal clock, so
    /// polls shorter than a third of the lease still renew it); with a quick check, asks with `NOOP` every
    /// `check_interval_ms` and ends the sleep when new mail is there.
    pub(super) async fn poll_wait(
        &self,
        session: &mut ImapSession,
        renew_at: &mut Instant,
        cancel: &CancellationToken,
        timeout: Duration,
    ) -> Result<Option<SessionEnd>, ImapError> {
        let deadline = Instant::now() + Duration::from_secs(self.imap.poll_interval_secs.max(1));
        while Instant::now() < deadline {
            let now = Instant::now();
            let until = stretch_end(now, (*renew_at).min(deadline), self.quick_check());
            if sleep_or_cancel(until - now, cancel).await {
                return Ok(Some(SessionEnd::Stopped));
            }
            if Instant::now() >= *renew_at {
                if !self.renew(renew_at).await? {
                    return Ok(Some(SessionEnd::LeaseLost));
                }
            } else if self.quick_check().is_some() && noop_announces_mail(session, timeout).await? {
                return Ok(None);
            }
        }
        Ok(None)
    }
}

/// The quick check: a `NOOP`, after which the server has announced any new mail.
async fn noop_announces_mail(session: &mut ImapSession, timeout: Duration) -> Result<bool, ImapError> {
    within(timeout, "NOOP", session.noop()).await?.map_err(ImapNetError::Protocol)?;
    let announced = session.unsolicited_responses.clone();
    Ok(mail_announced(|| announced.try_recv().ok()))
}

/// Whether `next` (the session's unsolicited responses since they were last drained) holds a new message's EXISTS
/// or RECENT; reads them all.
fn mail_announced(mut next: impl FnMut() -> Option<UnsolicitedResponse>) -> bool {
    let mut seen = false;
    while let Some(response) = next() {
        seen |= matches!(response, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_new_message_counts_as_announced_and_everything_is_read() {
        let mut queue = vec![UnsolicitedResponse::Expunge(3), UnsolicitedResponse::Exists(7)];
        assert!(mail_announced(|| queue.pop()));
        assert!(queue.is_empty());
        let mut queue = vec![UnsolicitedResponse::Expunge(3)];
        assert!(!mail_announced(|| queue.pop()));
        assert!(!mail_announced(|| None));
    }

    #[test]
    fn a_stretch_ends_at_the_next_check_but_never_after_the_renewal() {
        let now = Instant::now();
        let renew_at = now + Duration::from_secs(10);
        assert_eq!(stretch_end(now, renew_at, None), renew_at);
        assert_eq!(stretch_end(now, renew_at, Some(Duration::from_millis(100))), now + Duration::from_millis(100));
        assert_eq!(stretch_end(now, renew_at, Some(Duration::from_secs(60))), renew_at);
    }

    #[test]
    fn a_stretch_that_ran_out_renews_only_when_the_renewal_is_due() {
        let now = Instant::now();
        assert_eq!(ran_out(now, now + Duration::from_secs(1)), Woke::Check);
        assert_eq!(ran_out(now + Duration::from_secs(1), now + Duration::from_secs(1)), Woke::Renew);
    }
}
