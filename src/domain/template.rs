//! The kinds of outbound mail; each has a subject, a text and an HTML template named after it.

use serde::{Deserialize, Serialize};

macro_rules! template_kinds {
    ($($(#[$doc:meta])* $variant:ident => $text:literal),+ $(,)?) => {
        /// A kind of outbound mail (`templates/email/{kind}.subject.txt`, `.txt`, `.html`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum TemplateKind { $($(#[$doc])* $variant),+ }

        impl TemplateKind {
            /// Every kind, in the order the admin pages list them.
            pub const ALL: &'static [TemplateKind] = &[$(TemplateKind::$variant),+];

            /// The name of its template files and of `outbound_mails.kind`.
            pub fn as_str(self) -> &'static str {
                match self { $(TemplateKind::$variant => $text),+ }
            }

            /// Parses a name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(TemplateKind::$variant),)+ _ => None }
            }
        }
    };
}

template_kinds! {
    /// A new ticket acknowledged to the customer.
    Ack => "ack",
    /// An agent's reply (also the customer's alert of a new reply).
    AgentReply => "agent_reply",
    /// The ticket was resolved.
    Resolved => "resolved",
    NotifyNewTicket => "notify_new_ticket",
    NotifyCustomerReplied => "notify_customer_replied",
    NotifyAssigned => "notify_assigned",
    /// What an agent's mail did, told to that agent.
    AgentCommandResult => "agent_command_result",
    /// Account mail (no ticket): an invitation.
    UserInvite => "user_invite",
    /// Account mail (no ticket): a password reset link.
    PasswordReset => "password_reset",
    /// Mail to a customer (no ticket): a single-use sign-in link to the portal.
    PortalLogin => "portal_login",
    /// A rule's reply to the customer.
    RuleReply => "rule_reply",
    /// A rule's notice to agents.
    RuleNotice => "rule_notice",
    /// Mail to admins (no ticket): a mailbox's OAuth2 grant cannot be refreshed.
    MailboxAlert => "mailbox_alert",
}

impl TemplateKind {
    /// Whether the mail concerns no ticket (account mail to staff, a customer's portal sign-in link).
    pub fn is_account_mail(self) -> bool {
        matches!(
            self,
            TemplateKind::UserInvite
                | TemplateKind::PasswordReset
                | TemplateKind::PortalLogin
                | TemplateKind::MailboxAlert
        )
    }
}

impl std::fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::TemplateKind;

    #[test]
    fn names_round_trip() {
        for k in TemplateKind::ALL {
            assert_eq!(TemplateKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(TemplateKind::parse("nope"), None);
    }
}
