//! Threading rules (design §2), pure: which ticket a message belongs to, given what the store knows.

use super::parse::ParsedMail;
use crate::domain::{EmailAddress, Status};
use crate::platform::tokens::{ReplyToken, Signer};
use crate::tickets::inbound::Placement;
use regex::Regex;
use std::sync::LazyLock;

/// What a message says about the ticket it answers, before any lookup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadFacts {
    /// Ticket numbers named by correctly signed deskmail Message-IDs, nearest ancestor first (rule 1).
    pub signed_tickets: Vec<i64>,
    /// Those signed Message-IDs themselves, nearest ancestor first: a message split off into another ticket is
    /// found there by its id before its ticket number is believed.
    pub signed_ids: Vec<String>,
    /// A correctly signed plus-address among the recipients (rule 2).
    pub token: Option<ReplyToken>,
    /// Other referenced Message-IDs, nearest ancestor first (rule 3).
    pub referenced_ids: Vec<String>,
    /// `[#1234]` in the subject (rule 4).
    pub subject_tag: Option<i64>,
}

pub use crate::tickets::inbound::TicketRef;

/// The store's answers to the facts, each `None` when nothing matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    pub by_signed_id: Option<TicketRef>,
    pub by_token: Option<TicketRef>,
    pub by_reference: Option<TicketRef>,
    /// The tagged ticket, and whether the sender is one of its participants (requester, Cc, staff).
    pub by_subject_tag: Option<(TicketRef, bool)>,
}

/// Which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    SignedMessageId,
    PlusAddress,
    Reference,
    SubjectTag,
}

/// Where the message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Append to this ticket; `reopen` when its status goes back to `open`.
    Thread { ticket: TicketRef, rule: Rule, reopen: bool },
    /// The ticket it answers is closed: open a new ticket linked to it.
    FollowUp { parent: TicketRef, rule: Rule },
    /// No rule matched.
    New,
}

impl Decision {
    /// Where the ticket layer files the mail.
    pub fn placement(self) -> Placement {
        match self {
            Decision::Thread { ticket, reopen, .. } => Placement::Thread { ticket, reopen },
            Decision::FollowUp { parent, .. } => Placement::FollowUp { parent },
            Decision::New => Placement::New,
        }
    }
}

static SUBJECT_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[#(\d{1,12})\]").expect("valid regex"));

/// Reads the threading facts of `mail` addressed to any of `mailboxes`.
pub fn facts(mail: &ParsedMail, mailboxes: &[EmailAddress], signer: &Signer) -> ThreadFacts {
    let ancestors: Vec<&String> = mail.in_reply_to.iter().chain(mail.references.iter().rev()).collect();
    let mut signed_tickets = Vec::new();
    let mut signed_ids = Vec::new();
    let mut referenced_ids = Vec::new();
    for id in ancestors {
        match signer.check_message_id(id) {
            Some(n) => {
                if !signed_tickets.contains(&n) {
                    signed_tickets.push(n);
                }
                if !signed_ids.contains(id) {
                    signed_ids.push(id.clone());
                }
            }
            None if !referenced_ids.contains(id) => referenced_ids.push(id.clone()),
            None => {}
        }
    }
    ThreadFacts {
        signed_tickets,
        signed_ids,
        token: reply_token(mail, mailboxes, signer),
        referenced_ids,
        subject_tag: subject_tag(&mail.subject),
    }
}

fn reply_token(mail: &ParsedMail, mailboxes: &[EmailAddress], signer: &Signer) -> Option<ReplyToken> {
    let recipients = mail.to.iter().chain(&mail.cc).map(|p| &p.email).chain(&mail.envelope_to);
    recipients.flat_map(|rcpt| mailboxes.iter().filter_map(move |mb| signer.check_reply_address(mb, rcpt))).next()
}

/// The ticket number in a `[#1234]` subject tag.
pub fn subject_tag(subject: &str) -> Option<i64> {
    SUBJECT_TAG.captures(subject)?.get(1)?.as_str().parse().ok()
}

/// Applies the rules in order. Automatic mail never reopens a ticket nor opens a follow-up.
pub fn decide(lookup: &Lookup, automatic: bool) -> Decision {
    let matched = lookup
        .by_signed_id
        .map(|t| (t, Rule::SignedMessageId))
        .or(lookup.by_token.map(|t| (t, Rule::PlusAddress)))
        .or(lookup.by_reference.map(|t| (t, Rule::Reference)))
        .or(lookup.by_subject_tag.filter(|(_, participant)| *participant).map(|(t, _)| (t, Rule::SubjectTag)));
    match matched {
        None => Decision::New,
        Some((ticket, rule)) if automatic => Decision::Thread { ticket, rule, reopen: false },
        Some((parent, rule)) if parent.status == Status::Closed => Decision::FollowUp { parent, rule },
        Some((ticket, rule)) => Decision::Thread { ticket, rule, reopen: ticket.status.reopens_on_customer_mail() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DisplayName, NamedAddress};

    fn t(number: i64, status: Status) -> TicketRef {
        TicketRef { id: number - 999, number, status }
    }

    fn mailbox() -> EmailAddress {
        EmailAddress::parse("support@example.com").unwrap()
    }

    #[test]
    fn signed_ids_in_references_alone_are_found() {
        let signer = Signer::new(b"k");
        let ours = signer.message_id(1001, "3", "example.com");
        let mail = ParsedMail { references: vec!["x@y".into(), ours], ..Default::default() };
        let f = facts(&mail, &[mailbox()], &signer);
        assert_eq!(f.signed_tickets, vec![1001]);
        assert_eq!(f.referenced_ids, vec!["x@y".to_string()]);
    }

    #[test]
    fn a_forged_message_id_is_only_a_plain_reference() {
        let signer = Signer::new(b"k");
        let forged = Signer::new(b"attacker").message_id(1001, "3", "example.com");
        let mail = ParsedMail { in_reply_to: vec![forged.clone()], ..Default::default() };
        let f = facts(&mail, &[mailbox()], &signer);
        assert!(f.signed_tickets.is_empty());
        assert_eq!(f.referenced_ids, vec![forged]);
    }

    #[test]
    fn plus_address_tokens_are_read_from_recipients() {
        let signer = Signer::new(b"k");
        let addr = EmailAddress::parse(&signer.reply_address(&mailbox(), 1005)).unwrap();
        let mail =
            ParsedMail { to: vec![NamedAddress { email: addr, name: DisplayName::default() }], ..Default::default() };
        assert_eq!(facts(&mail, &[mailbox()], &signer).token, Some(ReplyToken { ticket: 1005, agent: None }));
    }

    #[test]
    fn subject_tags_are_read() {
        assert_eq!(subject_tag("Re: [#1042] Broken lamp"), Some(1042));
        assert_eq!(subject_tag("Order #1042"), None);
    }

    #[test]
    fn rules_apply_in_order() {
        let lookup = Lookup {
            by_token: Some(t(1002, Status::Open)),
            by_reference: Some(t(1003, Status::Open)),
            ..Default::default()
        };
        assert!(
            matches!(decide(&lookup, false), Decision::Thread { ticket, rule: Rule::PlusAddress, .. } if ticket.number == 1002)
        );
        let lookup = Lookup { by_signed_id: Some(t(1001, Status::New)), ..lookup };
        assert!(matches!(decide(&lookup, false), Decision::Thread { rule: Rule::SignedMessageId, reopen: false, .. }));
    }

    #[test]
    fn a_stranger_copying_a_tag_gets_a_new_ticket() {
        let stranger = Lookup { by_subject_tag: Some((t(1001, Status::Open), false)), ..Default::default() };
        assert_eq!(decide(&stranger, false), Decision::New);
        let participant = Lookup { by_subject_tag: Some((t(1001, Status::Open), true)), ..Default::default() };
        assert!(matches!(decide(&participant, false), Decision::Thread { rule: Rule::SubjectTag, .. }));
    }

    #[test]
    fn closed_tickets_get_a_follow_up_and_pending_ones_reopen() {
        let closed = Lookup { by_reference: Some(t(1001, Status::Closed)), ..Default::default() };
        assert!(matches!(decide(&closed, false), Decision::FollowUp { .. }));
        let pending = Lookup { by_reference: Some(t(1001, Status::Pending)), ..Default::default() };
        assert!(matches!(decide(&pending, false), Decision::Thread { reopen: true, .. }));
    }

    #[test]
    fn automatic_mail_changes_nothing() {
        let closed = Lookup { by_reference: Some(t(1001, Status::Closed)), ..Default::default() };
        assert!(matches!(decide(&closed, true), Decision::Thread { reopen: false, .. }));
        let resolved = Lookup { by_reference: Some(t(1001, Status::Resolved)), ..Default::default() };
        assert!(matches!(decide(&resolved, true), Decision::Thread { reopen: false, .. }));
    }
}
