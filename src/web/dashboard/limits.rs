//! Keyed rate limits of the sign-in and password forms, which forget idle keys now and then so that a stream of
//! new keys (addresses, e-mail addresses) cannot make them grow without bound.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::Digest;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The body limit of the sign-in and password forms (the default of 2 MB would let one e-mail field be huge).
pub const SMALL_FORM: usize = 16 * 1024;

/// Keys are pruned after this many checks, so a limiter holds at most the keys still being limited plus this many.
pub const PRUNE_EVERY: u32 = 1024;

/// A keyed rate limiter that drops the keys it no longer limits every [`PRUNE_EVERY`] checks.
pub struct Limiter<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    inner: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    checks: AtomicU32,
}

/// `n` requests a minute, all of them at once if need be.
pub fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter on the system clock.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Limiter<K, C> {
    /// A limiter on the given clock (tests use a fake one).
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        Self { inner: RateLimiter::dashmap_with_clock(quota, clock), checks: AtomicU32::new(0) }
    }

    /// Charges one request to `key`; false when it is over its quota.
    pub fn check(&self, key: &K) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        self.inner.check_key(key).is_ok()
    }

    /// Forgets every key whose quota is full again (as good as never seen) and returns the memory.
    pub fn prune(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// The longest e-mail address an account can have (the limit of a forward path, RFC 5321).
pub const MAX_EMAIL_BYTES: usize = 254;

/// What the throttle says about a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go on and check the password.
    Allowed,
    /// Too many attempts from this client address or on this account.
    Throttled,
    /// No account can have this address: a failed sign-in, without a password check or a key to remember.
    Impossible,
}

/// Password checks allowed: 5 a minute per account, 20 a minute per client address.
#[derive(Clone)]
pub struct Throttle<C: Clock = DefaultClock> {
    per_account: Arc<Limiter<[u8; 32], C>>,
    per_ip: Arc<Limiter<IpAddr, C>>,
    /// Portal sign-in link requests per client.
    portal_per_ip: Arc<Limiter<IpAddr, C>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl<C: Clock + Clone> Throttle<C> {
    /// A throttle on the given clock (tests use a fake one).
    pub fn with_clock(clock: C) -> Self {
        Self {
            per_account: Arc::new(Limiter::with_clock(per_minute(5), clock.clone())),
            per_ip: Arc::new(Limiter::with_clock(per_minute(20), clock.clone())),
            portal_per_ip: Arc::new(Limiter::with_clock(per_minute(10), clock)),
        }
    }

    /// Charges a sign-in attempt: first to the client address (while that is throttled, nothing else is charged
    /// or remembered), then to the account.
    pub fn sign_in(&self, email: &str, ip: IpAddr) -> Attempt {
        if !self.per_ip.check(&ip) {
            return Attempt::Throttled;
        }
        if email.trim().len() > MAX_EMAIL_BYTES {
            return Attempt::Impossible;
        }
        if self.account(email) { Attempt::Allowed } else { Attempt::Throttled }
    }

    /// Charges a password check to an account (signing in, or confirming the current password); false when the
    /// account has had too many.
    /// Charges one portal sign-in link request to the client `ip` (a burst of 10, then one every 6 seconds);
    /// false when it is over its quota.
    pub fn portal_request(&self, ip: IpAddr) -> bool {
        self.portal_per_ip.check(&ip)
    }

    pub fn account(&self, email: &str) -> bool {
        self.per_account.check(&account_key(email))
    }

    /// How many accounts and client addresses are remembered.
    pub fn keys(&self) -> (usize, usize) {
        (self.per_account.len(), self.per_ip.len())
    }
}

/// An account's key: a fixed-size hash of its normalised address, however long the typed one was.
fn account_key(email: &str) -> [u8; 32] {
    sha2::Sha256::digest(email.trim().to_lowercase().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    #[test]
    fn idle_keys_are_forgotten_after_enough_checks() {
        let clock = FakeRelativeClock::default();
        let limiter = Limiter::with_clock(per_minute(5), clock.clone());
        for key in 0..500u32 {
            assert!(limiter.check(&key));
        }
        assert_eq!(limiter.len(), 500);
        clock.advance(Duration::from_secs(60));
        // Key 7 is busy again; the others have waited out their quota.
        for _ in 0..PRUNE_EVERY {
            limiter.check(&7);
        }
        assert!(limiter.len() <= 1, "{} keys kept", limiter.len());
    }

    #[test]
    fn limited_keys_are_kept() {
        let limiter = Limiter::with_clock(per_minute(2), FakeRelativeClock::default());
        assert!(limiter.check(&"a") && limiter.check(&"a") && !limiter.check(&"a"));
        limiter.prune();
        assert!(!limiter.check(&"a"), "pruning forgot a key that is still limited");
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_throttled_address_charges_no_account() {
        let t = Throttle::with_clock(FakeRelativeClock::default());
        for n in 0..20 {
            assert_eq!(t.sign_in(&format!("user{n}@example.test"), ip(1)), Attempt::Allowed);
        }
        assert_eq!(t.sign_in("victim@example.test", ip(1)), Attempt::Throttled);
        assert_eq!(t.keys(), (20, 1), "the refused attempt was charged to the account");
        for _ in 0..5 {
            assert_eq!(t.sign_in("victim@example.test", ip(2)), Attempt::Allowed);
        }
    }

    #[test]
    fn accounts_are_keyed_by_their_normalised_address() {
        let t = Throttle::with_clock(FakeRelativeClock::default());
        for (n, typed) in ["Ana@Example.test", " ana@example.test", "ANA@EXAMPLE.TEST\n"].iter().enumerate() {
            assert_eq!(t.sign_in(typed, ip(n as u8)), Attempt::Allowed);
        }
        assert!(t.account("ana@example.test") && t.account("ana@example.test"));
        assert!(!t.account("Ana@example.test"), "the sixth check of one account passed");
        assert_eq!(t.keys().0, 1);
    }

    #[test]
    fn overlong_addresses_fail_without_being_remembered() {
        let t = Throttle::with_clock(FakeRelativeClock::default());
        let long = format!("{}@example.test", "a".repeat(MAX_EMAIL_BYTES));
        for _ in 0..10 {
            assert_eq!(t.sign_in(&long, ip(1)), Attempt::Impossible);
        }
        assert_eq!(t.keys(), (0, 1));
    }
}
