use super::*;
use crate::platform::oauth::StoreError;
use axum::routing::post;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn tokens_are_refreshed_a_minute_early_but_not_before_half_their_life() {
    assert_eq!(refresh_at(1000, 3600), 1000 + 3540);
    assert_eq!(refresh_at(1000, 90), 1000 + 45);
    assert_eq!(refresh_at(1000, 6), 1003);
    assert_eq!(refresh_at(1000, 0), 1001);
}

#[test]
fn failed_refreshes_back_off_longer_when_the_grant_was_refused() {
    assert_eq!([1, 2, 3, 6, 30].map(|n| retry_after(n, false)), [15, 30, 60, 300, 300]);
    assert_eq!([1, 2, 5, 30].map(|n| retry_after(n, true)), [60, 120, 900, 900]);
}

/// A store in memory.
#[derive(Default)]
struct Memory(Mutex<Option<StoredGrant>>);

#[async_trait::async_trait]
impl GrantStore for Memory {
    async fn load(&self, _: i64) -> Result<Option<StoredGrant>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }
    async fn refreshed(&self, _: i64, rotated: Option<(&str, &str)>, exp: i64, now: i64) -> Result<(), StoreError> {
        let mut g = self.0.lock().unwrap();
        let g = g.get_or_insert_with(StoredGrant::default);
        if let Some((sealed, seed)) = rotated {
            g.refresh_token_sealed = Some(sealed.into());
            g.seed_sha256 = seed.into();
        }
        (g.access_expires_at, g.last_refresh_at, g.last_error) = (Some(exp), Some(now), None);
        Ok(())
    }
    async fn failed(&self, _: i64, failure: &GrantFailure, _: i64) -> Result<(), StoreError> {
        self.0.lock().unwrap().get_or_insert_with(StoredGrant::default).last_error = Some(failure.error.clone());
        Ok(())
    }
}

/// A token endpoint that rotates: refresh token `rt{n}` is good until `rt{n+1}` is issued; `revoked` refuses all.
#[derive(Default)]
struct Endpoint {
    issued: AtomicUsize,
    revoked: std::sync::atomic::AtomicBool,
}

async fn token_endpoint(endpoint: Arc<Endpoint>) -> String {
    let app = axum::Router::new().route(
        "/token",
        post(move |body: String| {
            let e = endpoint.clone();
            async move {
                let form: std::collections::HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
                let n = e.issued.load(Ordering::SeqCst);
                let good = form.get("refresh_token").map(String::as_str) == Some(&format!("rt{n}"));
                if e.revoked.load(Ordering::SeqCst) || !good {
                    let body = r#"{"error":"invalid_grant","error_description":"revoked"}"#;
                    return (axum::http::StatusCode::BAD_REQUEST, body.to_string());
                }
                e.issued.store(n + 1, Ordering::SeqCst);
                let body = format!(r#"{{"access_token":"at{n}","expires_in":3600,"refresh_token":"rt{}"}}"#, n + 1);
                (axum::http::StatusCode::OK, body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn source(url: &str, store: Arc<Memory>, health: &Health, seed: &str) -> TokenSource {
    let http =
        crate::net::http::client(std::time::Duration::from_secs(2), std::time::Duration::from_secs(5), "t").unwrap();
    let shared = Arc::new(Shared { http, store, secrets: SecretBox::new(b"k"), health: health.clone() });
    let grant = Grant {
        token_url: url.into(),
        client_id: "cid".into(),
        client_secret: None,
        seed_refresh_token: Some(seed.into()),
        scope: None,
    };
    TokenSource::new(1, "gmail", grant, String::new(), shared)
}

#[tokio::test]
async fn a_cached_token_is_reused_a_rotated_refresh_token_is_sealed_and_a_revoked_one_is_reported() {
    let endpoint = Arc::new(Endpoint::default());
    let url = token_endpoint(endpoint.clone()).await;
    let store = Arc::new(Memory::default());
    let health = Health::default();
    let s = source(&url, store.clone(), &health, "rt0");
    assert_eq!(s.access_token().await.unwrap(), "at0");
    assert_eq!(s.access_token().await.unwrap(), "at0", "cached until its refresh time");
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 1);
    let sealed = store.0.lock().unwrap().clone().unwrap().refresh_token_sealed.unwrap();
    assert!(!sealed.contains("rt1") && SecretBox::new(b"k").open(&sealed).unwrap() == "rt1");

    // A new process (empty memory) prefers the stored, rotated token over the configured one.
    let again = source(&url, store.clone(), &health, "rt0");
    assert_eq!(again.access_token().await.unwrap(), "at1");
    // The first source's memory holds rt1, now replaced by rt2: the store has the newer one, and it is tried too.
    s.refused("at0").await;
    assert_eq!(s.access_token().await.unwrap(), "at2");

    endpoint.revoked.store(true, Ordering::SeqCst);
    s.reset().await;
    let e = s.access_token().await.unwrap_err();
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    assert!(store.0.lock().unwrap().as_ref().unwrap().last_error.as_ref().unwrap().contains("invalid_grant"));
    let h = &health.snapshot()[0];
    assert_eq!(h.state, crate::platform::health::MailboxState::Failing);
    assert!(!s.due(crate::domain::now()), "a refused grant waits before the next try");
}

#[tokio::test]
async fn a_changed_configured_token_wins_over_the_stored_one() {
    let endpoint = Arc::new(Endpoint::default());
    let url = token_endpoint(endpoint.clone()).await;
    let store = Arc::new(Memory::default());
    let s = source(&url, store.clone(), &Health::default(), "rt0");
    s.access_token().await.unwrap();
    // Someone configures rt1 by hand (say, from a new consent): the stored rt1 descends from rt0 and is not used.
    let stored = store.0.lock().unwrap().clone().unwrap();
    let stale = StoredGrant { refresh_token_sealed: Some(SecretBox::new(b"k").seal("stale")), ..stored };
    *store.0.lock().unwrap() = Some(stale);
    let fresh = source(&url, store, &Health::default(), "rt1");
    assert_eq!(fresh.access_token().await.unwrap(), "at1");
}
