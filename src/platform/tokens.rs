//! HMAC-signed Message-IDs and plus-address reply tokens: generated for outbound mail, checked on inbound.

use crate::domain::EmailAddress;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const MAC_HEX_LEN: usize = 16;

/// What a valid reply address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyToken {
    /// The public ticket number.
    pub ticket: i64,
    /// The agent the address was issued to (agent notifications), if any.
    pub agent: Option<i64>,
}

/// Signs and checks deskmail's Message-IDs and reply addresses with the installation secret.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    /// A signer over the installation secret.
    pub fn new(secret: &[u8]) -> Self {
        Self { key: secret.to_vec() }
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac accepts any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        hex::encode(mac.finalize().into_bytes())[..MAC_HEX_LEN].to_string()
    }

    fn mac_matches(&self, parts: &[&str], given: &str) -> bool {
        let expected = self.mac(parts);
        given.len() == expected.len()
            && expected.bytes().zip(given.to_ascii_lowercase().bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// `dm.{ticket}.{message}.{mac}@{domain}` (no angle brackets); `message` is any `[A-Za-z0-9]` tag.
    pub fn message_id(&self, ticket: i64, message: &str, domain: &str) -> String {
        let ticket = ticket.to_string();
        let mac = self.mac(&["mid", &ticket, message]);
        format!("dm.{ticket}.{message}.{mac}@{domain}")
    }

    /// The ticket number a Message-ID names, when it is ours and its MAC is right.
    pub fn check_message_id(&self, id: &str) -> Option<i64> {
        let id = id.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, _domain) = id.rsplit_once('@')?;
        let rest = local.strip_prefix("dm.")?;
        let (ticket, rest) = rest.split_once('.')?;
        let (message, mac) = rest.rsplit_once('.')?;
        let number: i64 = ticket.parse().ok()?;
        self.mac_matches(&["mid", ticket, message], mac).then_some(number)
    }

    /// `local+{ticket}-{mac}@domain` for a mailbox address.
    pub fn reply_address(&self, mailbox: &EmailAddress, ticket: i64) -> String {
        let t = ticket.to_string();
        let mac = self.mac(&["plus", mailbox.local_part(), &t]);
        format!("{}+{t}-{mac}@{}", mailbox.local_part(), mailbox.domain())
    }

    /// `local+{ticket}-a{agent}-{mac}@domain`: the Reply-To of an agent's notification.
    pub fn agent_reply_address(&self, mailbox: &EmailAddress, ticket: i64, agent: i64) -> String {
        let (t, a) = (ticket.to_string(), agent.to_string());
        let mac = self.mac(&["agent", mailbox.local_part(), &t, &a]);
        format!("{}+{t}-a{a}-{mac}@{}", mailbox.local_part(), mailbox.domain())
    }

    /// The token of a ticket's portal link (`/portal/t/{ticket}/{token}`): it opens that one ticket.
    pub fn portal_ticket_token(&self, ticket: i64) -> String {
        self.mac(&["portal", &ticket.to_string()])
    }

    /// Whether `token` is the portal link token of `ticket`.
    pub fn check_portal_ticket_token(&self, ticket: i64, token: &str) -> bool {
        self.mac_matches(&["portal", &ticket.to_string()], token)
    }

    /// The token in `address` when it is a correctly signed plus-address of `mailbox`.
    pub fn check_reply_address(&self, mailbox: &EmailAddress, address: &EmailAddress) -> Option<ReplyToken> {
        if address.domain() != mailbox.domain() {
            return None;
        }
        let tag = address.local_part().strip_prefix(mailbox.local_part())?.strip_prefix('+')?;
        let (body, mac) = tag.rsplit_once('-')?;
        match body.split_once("-a") {
            Some((t, a)) => {
                let token = ReplyToken { ticket: t.parse().ok()?, agent: Some(a.parse().ok()?) };
                self.mac_matches(&["agent", mailbox.local_part(), t, a], mac).then_some(token)
            }
            None => {
                let token = ReplyToken { ticket: body.parse().ok()?, agent: None };
                self.mac_matches(&["plus", mailbox.local_part(), body], mac).then_some(token)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(b"test secret")
    }

    #[test]
    fn generated_message_ids_check_out() {
        let id = signer().message_id(1042, "7", "example.com");
        assert!(id.starts_with("dm.1042.7.") && id.ends_with("@example.com"));
        assert_eq!(signer().check_message_id(&format!("<{id}>")), Some(1042));
    }

    #[test]
    fn forged_or_foreign_message_ids_do_not() {
        let id = signer().message_id(1042, "7", "example.com");
        assert_eq!(signer().check_message_id(&id.replace("dm.1042", "dm.1043")), None);
        assert_eq!(Signer::new(b"other secret").check_message_id(&id), None);
        assert_eq!(signer().check_message_id("dm.1042.7.0000000000000000@example.com"), None);
        assert_eq!(signer().check_message_id("CAF=abc@mail.gmail.com"), None);
        assert_eq!(signer().check_message_id("dm..@"), None);
    }

    #[test]
    fn plus_addresses_carry_ticket_and_agent() {
        let mb = EmailAddress::parse("support@example.com").unwrap();
        let s = signer();
        let plain = EmailAddress::parse(&s.reply_address(&mb, 1001)).unwrap();
        assert_eq!(s.check_reply_address(&mb, &plain), Some(ReplyToken { ticket: 1001, agent: None }));
        let agent = EmailAddress::parse(&s.agent_reply_address(&mb, 1001, 5)).unwrap();
        assert_eq!(s.check_reply_address(&mb, &agent), Some(ReplyToken { ticket: 1001, agent: Some(5) }));
    }

    #[test]
    fn portal_ticket_tokens_open_only_their_ticket() {
        let s = signer();
        let token = s.portal_ticket_token(1042);
        assert!(s.check_portal_ticket_token(1042, &token));
        assert!(!s.check_portal_ticket_token(1043, &token));
        assert!(!Signer::new(b"other secret").check_portal_ticket_token(1042, &token));
        assert!(!s.check_portal_ticket_token(1042, ""));
        assert_ne!(token, s.mac(&["mid", "1042", ""]));
    }

    #[test]
    fn tampered_plus_addresses_are_refused() {
        let mb = EmailAddress::parse("support@example.com").unwrap();
        let s = signer();
        let agent = s.agent_reply_address(&mb, 1001, 5);
        let other_agent = EmailAddress::parse(&agent.replace("-a5-", "-a6-")).unwrap();
        assert_eq!(s.check_reply_address(&mb, &other_agent), None);
        let no_mac = EmailAddress::parse("support+1001@example.com").unwrap();
        assert_eq!(s.check_reply_address(&mb, &no_mac), None);
        let other_box = EmailAddress::parse("sales@example.com").unwrap();
        let plain = EmailAddress::parse(&s.reply_address(&mb, 1001)).unwrap();
        assert_eq!(s.check_reply_address(&other_box, &plain), None);
    }
}
