//! When an edited mailbox keeps its stored passwords: only for the very server and account they were entered for.

use crate::platform::config::{ImapSettings, PasswordSource, SmtpSettings, TlsMode};

/// The server and account a password is sent to.
#[derive(Debug, PartialEq, Eq)]
pub struct Destination {
    host: String,
    port: u16,
    tls: TlsMode,
    username: Option<String>,
}

impl Destination {
    /// A destination as typed or stored (host names compare without case).
    pub fn new(host: &str, port: u16, tls: TlsMode, username: Option<&str>) -> Self {
        Self { host: host.trim().to_ascii_lowercase(), port, tls, username: username.map(|u| u.trim().to_string()) }
    }

    /// Where stored IMAP settings send their password.
    pub fn of_imap(s: &ImapSettings) -> Self {
        Self::new(&s.host, s.port, s.tls, Some(&s.username))
    }

    /// Where stored SMTP settings send their password.
    pub fn of_smtp(s: &SmtpSettings) -> Self {
        Self::new(&s.host, s.port, s.tls, s.username.as_deref())
    }
}

/// A typed password replaces the stored source. An empty field keeps it only for the same server, port, TLS and
/// username (else an admin could send it to a server of their own with "test connection"). Also says whether a
/// stored password was dropped that way.
pub fn kept_or_typed(
    typed: &str,
    stored: Option<(Destination, &PasswordSource)>,
    now: Option<Destination>,
) -> (Option<PasswordSource>, bool) {
    if !typed.is_empty() {
        return (Some(PasswordSource { password: Some(typed.to_string()), ..Default::default() }), false);
    }
    match stored.filter(|(_, p)| has_password(p)) {
        Some((dest, p)) if now.as_ref() == Some(&dest) => (Some(p.clone()), false),
        Some(_) => (None, true),
        None => (None, false),
    }
}

/// The error beside an empty password field whose stored password was not kept.
pub fn enter_again(server: &str) -> String {
    format!("Enter the {server} password again: it is kept only while server, port, TLS and username stay the same.")
}

/// Whether any password source is set.
pub fn has_password(s: &PasswordSource) -> bool {
    s.password.is_some() || s.password_encrypted.is_some() || s.password_env.is_some() || s.password_file.is_some()
}
