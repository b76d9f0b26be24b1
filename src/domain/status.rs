//! Ticket status, priority, message kind and user role, with their stored names.

use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored name.
            pub fn parse(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($name), " {:?}; expected one of: "), other)
                        + &[$($text),+].join(", ")),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Where a ticket stands; see the README for the life-cycle.
    Status {
        New => "new", Open => "open", Pending => "pending", Resolved => "resolved", Closed => "closed",
        Merged => "merged",
    }
);
named_enum!(
    /// How urgent a ticket is.
    Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);
named_enum!(
    /// Who or what wrote a message of a ticket.
    MessageKind { Customer => "customer", Agent => "agent", Note => "note", System => "system" }
);
named_enum!(
    /// What a staff user may do.
    Role { Admin => "admin", Agent => "agent" }
);

impl Default for MessageKind {
    /// A message from the customer (what most messages are).
    fn default() -> Self {
        MessageKind::Customer
    }
}

impl Status {
    /// The statuses an agent may set (`merged` is set by merging only).
    pub const SETTABLE: &'static [Status] =
        &[Status::New, Status::Open, Status::Pending, Status::Resolved, Status::Closed];

    /// Whether a customer's new mail reopens the ticket (instead of opening a follow-up).
    pub fn reopens_on_customer_mail(self) -> bool {
        matches!(self, Status::Pending | Status::Resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
        }
        assert_eq!(Priority::parse("URGENT"), Ok(Priority::Urgent));
        assert!(Role::parse("root").unwrap_err().contains("admin, agent"));
    }

    #[test]
    fn only_pending_and_resolved_reopen() {
        assert!(Status::Pending.reopens_on_customer_mail());
        assert!(Status::Resolved.reopens_on_customer_mail());
        assert!(!Status::Closed.reopens_on_customer_mail());
        assert!(!Status::Open.reopens_on_customer_mail());
    }
}
