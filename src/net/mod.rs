//! Network connections shared by ingest and outbound: TLS settings, a stream that times out when the peer
//! stalls, SMTP sessions with a timeout on every step, and an HTTP client for webhooks.

pub mod http;
pub mod imap;
pub mod smtp;
pub mod stall;
pub mod tls;
