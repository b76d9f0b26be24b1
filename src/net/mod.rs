//! Network connections shared by ingest and outbound: TLS settings, a stream that times out when the peer
//! stalls, and SMTP sessions with a timeout on every step.

pub mod imap;
pub mod smtp;
pub mod stall;
pub mod tls;
