//! A small OAuth2 provider for the OAuth2 tests, on 127.0.0.1 port 0: a token endpoint (refresh-token and
//! authorization-code grants with PKCE, rotating refresh tokens, short-lived access tokens) and an introspection
//! endpoint for Dovecot's `oauth2` passdb; revocation and the consent step are driven by the test.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "deskmail-test-client";
pub const CLIENT_SECRET: &str = "deskmail-test-secret";

/// What the provider knows.
#[derive(Default)]
struct Inner {
    /// Valid refresh tokens and their user; a rotated or revoked one is removed.
    refresh: HashMap<String, String>,
    /// Access tokens: user and expiry.
    access: HashMap<String, (String, Instant)>,
    /// Authorization codes: user, PKCE challenge, redirect URI.
    codes: HashMap<String, (String, String, String)>,
    /// Every refresh token presented to the token endpoint, in order.
    presented: Vec<String>,
    /// Access tokens Dovecot asked about and found active.
    introspected: Vec<String>,
    /// Refresh tokens issued for an authorization code.
    code_grants: Vec<String>,
    lifetime: Duration,
    rotate: bool,
}

/// A running provider.
#[derive(Clone)]
pub struct Provider {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Provider {
    /// Starts a provider issuing access tokens valid for `lifetime`, rotating refresh tokens when `rotate`.
    pub async fn start(lifetime: Duration, rotate: bool) -> Self {
        let inner = Arc::new(Mutex::new(Inner { lifetime, rotate, ..Default::default() }));
        let app =
            Router::new().route("/token", post(token)).route("/introspect", post(introspect)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inner }
    }

    /// A new refresh token for `user` (the grant a person gave once).
    pub fn grant(&self, user: &str) -> String {
        let token = format!("rt-{}", uuid::Uuid::new_v4().simple());
        self.inner.lock().unwrap().refresh.insert(token.clone(), user.to_lowercase());
        token
    }

    /// Revokes every refresh and access token of `user`.
    pub fn revoke(&self, user: &str) {
        let mut i = self.inner.lock().unwrap();
        let user = user.to_lowercase();
        i.refresh.retain(|_, u| *u != user);
        i.access.retain(|_, (u, _)| *u != user);
    }

    /// Invalidates the access tokens of `user` only (its refresh tokens stay good).
    pub fn drop_access_tokens(&self, user: &str) {
        let user = user.to_lowercase();
        self.inner.lock().unwrap().access.retain(|_, (u, _)| *u != user);
    }

    /// The valid refresh tokens of `user`.
    pub fn refresh_tokens(&self, user: &str) -> Vec<String> {
        let i = self.inner.lock().unwrap();
        i.refresh.iter().filter(|(_, u)| **u == user.to_lowercase()).map(|(t, _)| t.clone()).collect()
    }

    /// Every refresh token presented so far.
    pub fn presented(&self) -> Vec<String> {
        self.inner.lock().unwrap().presented.clone()
    }

    /// Refresh tokens issued for authorization codes so far.
    pub fn code_grants(&self) -> Vec<String> {
        self.inner.lock().unwrap().code_grants.clone()
    }

    /// Access tokens found active by introspection so far.
    pub fn introspected(&self) -> Vec<String> {
        self.inner.lock().unwrap().introspected.clone()
    }

    /// The consent step: `user` agrees to the authorization request `url`; returns `(redirect_uri, code, state)`.
    pub fn consent(&self, url: &str, user: &str) -> (String, String, String) {
        let query = url.split_once('?').expect("a query").1;
        let q: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        let entry = (user.to_lowercase(), q["code_challenge"].clone(), q["redirect_uri"].clone());
        self.inner.lock().unwrap().codes.insert(code.clone(), entry);
        (q["redirect_uri"].clone(), code, q["state"].clone())
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn refused(error: &str) -> (StatusCode, Json<Value>) {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "error_description": format!("test provider: {error}") })))
}

async fn token(State(inner): Shared, Form(f): Form<HashMap<String, String>>) -> (StatusCode, Json<Value>) {
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" })));
    }
    let mut i = inner.lock().unwrap();
    let (user, old) = match f.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            let presented = f.get("refresh_token").cloned().unwrap_or_default();
            i.presented.push(presented.clone());
            match i.refresh.get(&presented) {
                Some(user) => (user.clone(), Some(presented)),
                None => return refused("invalid_grant"),
            }
        }
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            let Some((user, challenge, redirect)) = i.codes.remove(&code) else { return refused("invalid_grant") };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed != challenge || f.get("redirect_uri") != Some(&redirect) {
                return refused("invalid_grant");
            }
            (user, None)
        }
        _ => return refused("unsupported_grant_type"),
    };
    let access = format!("at-{}", uuid::Uuid::new_v4().simple());
    let lifetime = i.lifetime;
    i.access.insert(access.clone(), (user.clone(), Instant::now() + lifetime));
    let mut body = json!({ "access_token": access, "token_type": "Bearer", "expires_in": lifetime.as_secs() });
    if i.rotate || old.is_none() {
        if let Some(old) = &old {
            i.refresh.remove(old);
        }
        let new = format!("rt-{}", uuid::Uuid::new_v4().simple());
        if old.is_none() {
            i.code_grants.push(new.clone());
        }
        i.refresh.insert(new.clone(), user);
        body["refresh_token"] = json!(new);
    }
    (StatusCode::OK, Json(body))
}

async fn introspect(State(inner): Shared, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let token = f.get("token").cloned().unwrap_or_default();
    let mut i = inner.lock().unwrap();
    match i.access.get(&token).cloned() {
        Some((user, until)) if Instant::now() < until => {
            i.introspected.push(token);
            Json(json!({ "active": true, "username": user }))
        }
        _ => Json(json!({ "active": false })),
    }
}
