//! The SASL messages that carry an access token: XOAUTH2 (Google, Microsoft) and OAUTHBEARER (RFC 7628), and the
//! IMAP `AUTHENTICATE` exchange around them.

use crate::platform::config::MailboxAuth;
use base64::Engine;

/// The client's XOAUTH2 message: `user=…^Aauth=Bearer …^A^A`.
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// The client's OAUTHBEARER message (RFC 7628 §3.1): a GS2 header naming the user, then host, port and token.
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &str) -> String {
    format!("n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01", saslname(user))
}

/// The first client message of `mechanism` (an empty string for password sign-in, which sends none).
pub fn initial(mechanism: MailboxAuth, user: &str, host: &str, port: u16, token: &str) -> String {
    match mechanism {
        MailboxAuth::Xoauth2 => xoauth2(user, token),
        MailboxAuth::Oauthbearer => oauthbearer(user, host, port, token),
        MailboxAuth::Password => String::new(),
    }
}

/// What the client answers to an error challenge so the server can end the exchange with its failure: nothing for
/// XOAUTH2, a single %x01 for OAUTHBEARER (RFC 7628 §3.2.3).
pub fn after_error(mechanism: MailboxAuth) -> &'static str {
    if mechanism == MailboxAuth::Oauthbearer { "\x01" } else { "" }
}

/// The SASL mechanism name.
pub fn mechanism_name(mechanism: MailboxAuth) -> &'static str {
    match mechanism {
        MailboxAuth::Oauthbearer => "OAUTHBEARER",
        MailboxAuth::Xoauth2 | MailboxAuth::Password => "XOAUTH2",
    }
}

/// Base64 as SASL carries it.
pub fn encode(message: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(message)
}

/// RFC 5801 saslname: `,` and `=` escaped.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// The IMAP side of the exchange: the token message first, the error acknowledgement after any challenge.
pub struct BearerAuthenticator {
    mechanism: MailboxAuth,
    first: Option<String>,
}

impl BearerAuthenticator {
    /// An authenticator sending `initial(…)` once.
    pub fn new(mechanism: MailboxAuth, user: &str, host: &str, port: u16, token: &str) -> Self {
        Self { mechanism, first: Some(initial(mechanism, user, host, port, token)) }
    }
}

impl async_imap::Authenticator for BearerAuthenticator {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.first.take().unwrap_or_else(|| after_error(self.mechanism).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator;

    #[test]
    fn xoauth2_is_user_and_bearer_separated_by_ctrl_a() {
        let m = xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
        assert_eq!(m, "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
        // Google's documented example of the encoded form.
        assert_eq!(
            encode(&m),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRH\
             RXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn oauthbearer_has_a_gs2_header_host_and_port() {
        let m =
            oauthbearer("user@example.com", "server.example.com", 143, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        assert_eq!(
            m,
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer \
             vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert!(oauthbearer("a,b=c@x", "h", 1, "t").starts_with("n,a=a=2Cb=3Dc@x,\x01"));
    }

    #[test]
    fn the_authenticator_answers_an_error_challenge_with_the_dummy_response() {
        let mut a = BearerAuthenticator::new(MailboxAuth::Oauthbearer, "u", "h", 993, "t");
        assert!(a.process(b"").starts_with("n,a=u,"));
        assert_eq!(a.process(br#"{"status":"invalid_token"}"#), "\x01");
        let mut x = BearerAuthenticator::new(MailboxAuth::Xoauth2, "u", "h", 993, "t");
        assert_eq!(x.process(b""), xoauth2("u", "t"));
        assert_eq!(x.process(b"{}"), "");
        assert_eq!(
            (mechanism_name(MailboxAuth::Xoauth2), mechanism_name(MailboxAuth::Oauthbearer)),
            ("XOAUTH2", "OAUTHBEARER")
        );
    }
}
