//! Outbound HTTP: a reqwest client with a connect and a total timeout, no redirects followed, rustls on ring; and
//! a capped read of a response body.

use std::time::Duration;

/// A client for calls to other people's servers: every request ends within `timeout` (connecting within
/// `connect_timeout`), redirects are answers rather than followed, HTTP/1.1 over rustls with the ring provider and
/// the webpki roots (as IMAP and SMTP: no dependence on the system's CA bundle).
pub fn client(connect_timeout: Duration, timeout: Duration, user_agent: &str) -> Result<reqwest::Client, String> {
    ensure_crypto_provider();
    let mut tls = super::tls::client_config(None)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .read_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(2)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Installs ring as the process's rustls provider unless one is installed (`main` does it first; tests and other
/// embedders may not): rustls configs and reqwest with `rustls-no-provider` panic without one.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The first `cap` bytes of a response body (fewer when it ends or fails first); the rest is never read.
pub async fn body_prefix(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk[..chunk.len().min(cap - out.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn a_client_builds_without_a_provider_installed_by_the_caller() {
        assert!(super::client(Duration::from_secs(1), Duration::from_secs(2), "deskmail/test").is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
