//! The client's address: the TCP peer, or — when the peer is a trusted reverse proxy — the address the proxies
//! recorded in `X-Forwarded-For`.

use crate::web::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The address sign-in throttling counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Without connection info (requests built in tests) the peer is unknown: the unspecified address.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(peer, forwarded, &state.settings.server.trusted_proxies)))
    }
}

/// The peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For` entry that is not one (the left
/// part of the header is whatever the client sent, so only the entries our proxies appended are believed).
pub fn client_ip<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Garbage where a proxy should have written an address: stop believing the header.
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_are_looked_through() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        let xff = |v: &'static str| std::iter::once(v);
        assert_eq!(client_ip(ip("203.0.113.9"), xff("198.51.100.7"), &trusted), ip("203.0.113.9"), "not via a proxy");
        assert_eq!(client_ip(proxy, xff("198.51.100.7"), &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(proxy, xff("6.6.6.6, 198.51.100.7"), &trusted), ip("198.51.100.7"), "a forged left part");
        assert_eq!(client_ip(proxy, xff("198.51.100.7, 10.0.0.3"), &trusted), ip("198.51.100.7"), "two proxies");
        assert_eq!(client_ip(proxy, xff("2001:db8::1"), &trusted), ip("2001:db8::1"));
        assert_eq!(client_ip(proxy, xff("not-an-ip"), &trusted), proxy);
        assert_eq!(client_ip(proxy, std::iter::empty(), &trusted), proxy, "no header");
        assert_eq!(client_ip(ip("10.0.0.2"), xff("198.51.100.7"), &[]), ip("10.0.0.2"), "nothing trusted");
    }
}
