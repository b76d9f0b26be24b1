//! Password hashing and verification for the dashboard, on blocking threads and at most [`PERMITS`] at a time:
//! each argon2 run takes ~19 MiB and a core, so a burst of sign-ins must queue rather than exhaust the server.

use crate::web::Error;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// How many hashes or verifications run at once in this process.
pub const PERMITS: usize = 4;

static RUNNING: Semaphore = Semaphore::const_new(PERMITS);

/// An argon2 hash of a random password, verified against when there is no account, so that the time taken does
/// not tell which addresses have one.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| crate::platform::password::hash(&crate::platform::password::random_string(24)));

/// Runs CPU-heavy password work on a blocking thread once a permit is free.
async fn limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    let permit = RUNNING.acquire().await.map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
    // The permit goes with the work: a request dropped midway does not free it while argon2 still runs.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| Error::Internal(anyhow::Error::new(e).context("password hashing")))
}

/// Hashes a new password.
pub async fn hash(password: String) -> Result<String, Error> {
    limited(move || crate::platform::password::hash(&password)).await
}

/// Whether `password` matches `hash`; without a hash (no such account) it is checked against a dummy one and
/// never matches.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, Error> {
    limited(move || match hash {
        Some(hash) => crate::platform::password::verify(&password, &hash),
        None => {
            crate::platform::password::verify(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn verification_waits_for_a_free_permit() {
        let all = RUNNING.acquire_many(PERMITS as u32).await.unwrap();
        // A malformed hash is refused without any argon2 work: unblocked, this would finish at once.
        let check = tokio::spawn(verify("pw".into(), Some("not a hash".into())));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!check.is_finished(), "a verification ran although every permit was taken");
        drop(all);
        assert!(!check.await.unwrap().unwrap());
    }
}
