//! Network connections shared by ingest and outbound: TLS settings, a stream that times out when the peer
//! stalls, SMTP sessions with a timeout on every step, an HTTP client for webhooks, and OAuth2 access tokens.

pub mod http;
pub mod imap;
pub mod oauth;
pub mod smtp;
mod smtp_oauth;
pub mod stall;
pub mod tls;
