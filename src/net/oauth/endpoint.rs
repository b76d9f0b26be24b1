//! The token endpoint (RFC 6749): a refresh-token grant and an authorization-code grant with PKCE, each one form
//! POST with a timeout, and what its answer means.

use crate::platform::config::Grant;
use serde::Deserialize;

/// Bytes of a token endpoint's answer that are read (the rest is not).
const MAX_ANSWER: usize = 64 * 1024;

/// Lifetime assumed when the endpoint does not say (RFC 6749 makes `expires_in` optional).
const DEFAULT_LIFETIME: i64 = 3600;

/// What the token endpoint granted.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds the access token is valid from now.
    pub expires_in: i64,
    /// A new refresh token (rotation), when the provider sent one.
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// Why no token was granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The provider refused the grant or the client (`invalid_grant`: revoked or expired refresh token;
    /// `invalid_client`: wrong client id or secret): retrying will not help until a person acts.
    #[error("{code}{}", if .description.is_empty() { String::new() } else { format!(": {}", .description) })]
    Refused { code: String, description: String },
    /// The endpoint could not be reached, timed out, failed (5xx, 429) or answered nonsense: try again later.
    #[error("{0}")]
    Unavailable(String),
}

impl TokenError {
    /// Whether only a person can fix it (a new refresh token, another client secret).
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Exchanges a refresh token for an access token (`grant_type=refresh_token`).
pub async fn refresh(http: &reqwest::Client, grant: &Grant, refresh_token: &str) -> Result<Tokens, TokenError> {
    let mut form =
        vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", &grant.client_id)];
    if let Some(secret) = &grant.client_secret {
        form.push(("client_secret", secret));
    }
    if let Some(scope) = &grant.scope {
        form.push(("scope", scope));
    }
    post(http, &grant.token_url, &form).await
}

/// An authorization code and what it is exchanged with.
pub struct CodeExchange<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub code: &'a str,
    pub redirect_uri: &'a str,
    /// The PKCE code verifier whose challenge went with the authorization request.
    pub verifier: &'a str,
}

/// Exchanges an authorization code for tokens (`grant_type=authorization_code`, PKCE).
pub async fn exchange_code(http: &reqwest::Client, x: &CodeExchange<'_>) -> Result<Tokens, TokenError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", x.code),
        ("redirect_uri", x.redirect_uri),
        ("client_id", x.client_id),
        ("code_verifier", x.verifier),
    ];
    if let Some(secret) = x.client_secret {
        form.push(("client_secret", secret));
    }
    post(http, x.token_url, &form).await
}

#[tracing::instrument(skip_all, fields(url = %token_url))]
async fn post(http: &reqwest::Client, token_url: &str, form: &[(&str, &str)]) -> Result<Tokens, TokenError> {
    let body = serde_urlencoded::to_string(form).map_err(|e| TokenError::Unavailable(e.to_string()))?;
    let response = http
        .post(token_url)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            TokenError::Unavailable(format!("token endpoint {token_url}: {}", crate::platform::telemetry::chain(&e)))
        })?;
    let status = response.status().as_u16();
    let answer = super::super::http::body_prefix(response, MAX_ANSWER).await;
    parse(status, &answer)
}

/// Reads a token endpoint's answer.
pub fn parse(status: u16, body: &[u8]) -> Result<Tokens, TokenError> {
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    if let Some(code) = answer.as_ref().and_then(|a| a.error.clone()) {
        let description = answer.and_then(|a| a.error_description).unwrap_or_default();
        // RFC 6749 §5.2: these need a person; temporarily_unavailable, server_error and unknown codes do not.
        let permanent = [
            "invalid_grant",
            "invalid_client",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "invalid_request",
        ];
        if permanent.contains(&code.as_str()) && (400..500).contains(&status) {
            return Err(TokenError::Refused { code, description });
        }
        return Err(TokenError::Unavailable(format!("token endpoint answered {status} {code}: {description}")));
    }
    let answer = match answer {
        Some(a) if (200..300).contains(&status) => a,
        _ => return Err(TokenError::Unavailable(format!("token endpoint answered {status} without a token"))),
    };
    let access_token = answer.access_token.filter(|t| !t.is_empty());
    let access_token =
        access_token.ok_or_else(|| TokenError::Unavailable("token endpoint sent no access_token".into()))?;
    // Some endpoints send the lifetime as a string.
    let expires_in = match answer.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Tokens {
        access_token,
        expires_in: expires_in.unwrap_or(DEFAULT_LIFETIME).max(0),
        refresh_token: answer.refresh_token.filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_with_rotation_and_one_without() {
        let t = parse(200, br#"{"access_token":"at","expires_in":3599,"refresh_token":"rt2","token_type":"Bearer"}"#);
        let t = t.unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_in, t.refresh_token.as_deref()), ("at", 3599, Some("rt2")));
        let t = parse(200, br#"{"access_token":"at","expires_in":"60"}"#).unwrap();
        assert_eq!((t.expires_in, t.refresh_token), (60, None));
        assert_eq!(parse(200, br#"{"access_token":"at"}"#).unwrap().expires_in, 3600);
    }

    #[test]
    fn a_revoked_grant_is_permanent_and_an_outage_is_not() {
        let e = parse(400, br#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#);
        let e = e.unwrap_err();
        assert!(e.is_permanent());
        assert_eq!(e.to_string(), "invalid_grant: Token has been expired or revoked.");
        assert!(!parse(503, b"<html>busy</html>").unwrap_err().is_permanent());
        assert!(!parse(400, br#"{"error":"temporarily_unavailable"}"#).unwrap_err().is_permanent());
        assert!(!parse(500, br#"{"error":"invalid_grant"}"#).unwrap_err().is_permanent());
        assert!(!parse(200, br#"{"token_type":"Bearer"}"#).unwrap_err().is_permanent());
    }
}
