//! The authorization-code flow's request (RFC 6749 §4.1 with PKCE, RFC 7636 S256): verifier, challenge, state
//! and the URL the browser is sent to.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random URL-safe string of `bytes` random bytes (43 characters for 32 bytes).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A new PKCE code verifier (64 characters of the unreserved set).
pub fn verifier() -> String {
    random_token(48)
}

/// The S256 challenge of a verifier: base64url(sha256(verifier)) without padding.
pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the authorization request carries.
pub struct AuthorizeRequest<'a> {
    pub auth_url: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub state: &'a str,
    pub challenge: &'a str,
    /// The account to suggest (the mailbox's address).
    pub login_hint: Option<&'a str>,
    /// Provider-specific parameters (Google: `access_type=offline`, `prompt=consent`).
    pub extra: &'a [(&'a str, &'a str)],
}

/// The URL of the provider's consent page for this request.
pub fn authorize_url(r: &AuthorizeRequest<'_>) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", r.client_id),
        ("redirect_uri", r.redirect_uri),
        ("scope", r.scopes),
        ("state", r.state),
        ("code_challenge", r.challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(hint) = r.login_hint {
        params.push(("login_hint", hint));
    }
    params.extend_from_slice(r.extra);
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let joiner = if r.auth_url.contains('?') { '&' } else { '?' };
    format!("{}{joiner}{query}", r.auth_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_example() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = verifier();
        assert_eq!(v.len(), 64);
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(v, verifier());
    }

    #[test]
    fn the_authorization_url_carries_pkce_state_and_the_provider_extras() {
        let url = authorize_url(&AuthorizeRequest {
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
            client_id: "cid",
            redirect_uri: "https://desk.example/admin/oauth/callback",
            scopes: "https://mail.google.com/",
            state: "st",
            challenge: "ch",
            login_hint: Some("support@example.com"),
            extra: &[("access_type", "offline"), ("prompt", "consent")],
        });
        assert!(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=cid&"));
        for part in [
            "redirect_uri=https%3A%2F%2Fdesk.example%2Fadmin%2Foauth%2Fcallback",
            "scope=https%3A%2F%2Fmail.google.com%2F",
            "code_challenge=ch&code_challenge_method=S256",
            "login_hint=support%40example.com",
            "access_type=offline&prompt=consent",
        ] {
            assert!(url.contains(part), "{part} missing in {url}");
        }
        let tenant = authorize_url(&AuthorizeRequest { auth_url: "http://127.0.0.1:1/authorize?tenant=x", ..sample() });
        assert!(tenant.starts_with("http://127.0.0.1:1/authorize?tenant=x&response_type=code"));
    }

    fn sample() -> AuthorizeRequest<'static> {
        AuthorizeRequest {
            auth_url: "",
            client_id: "c",
            redirect_uri: "r",
            scopes: "s",
            state: "t",
            challenge: "x",
            login_hint: None,
            extra: &[],
        }
    }
}
