//! SLA words: a clock's state and its targets, with their stored names (design §10).

use serde::{Deserialize, Serialize};

/// Where a ticket's SLA clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Every running target is more than the warning lead away.
    Ok,
    /// Waiting for the customer (`pending`): the resolution clock stands still.
    Paused,
    /// Resolved or closed with every target met.
    Met,
    /// A running target is within the warning lead of its due time.
    Warning,
    /// A target was missed (answered late, resolved late, or overdue now).
    Breached,
}

impl SlaState {
    /// Every state.
    pub const ALL: [SlaState; 5] = [Self::Ok, Self::Warning, Self::Breached, Self::Paused, Self::Met];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Breached => "breached",
            Self::Paused => "paused",
            Self::Met => "met",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A time target of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    /// An agent's first reply, from the ticket's creation.
    FirstResponse,
    /// An agent's reply to a customer message that followed an agent reply.
    NextResponse,
    /// Resolution, from creation, without the paused time.
    Resolution,
}

impl SlaTarget {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::NextResponse => "next_response",
            Self::Resolution => "resolution",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for s in SlaState::ALL {
            assert_eq!(SlaState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(SlaState::parse("late"), None);
        assert_eq!(SlaTarget::FirstResponse.as_str(), "first_response");
    }
}

/// An SLA policy as the API takes it (`PUT /api/v1/sla/{name}`); minutes are business minutes of its calendar
/// (none: around the clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    #[serde(default)]
    pub calendar: Option<String>,
    /// Its place among the policies (the first whose conditions hold applies); none: after the last.
    #[serde(default)]
    pub position: Option<i64>,
    /// Over the ticket's fields, as in rules; `{"all": []}` (the default) holds for every ticket.
    #[serde(default)]
    pub conditions: crate::domain::rule::Conditions,
    #[serde(default)]
    pub first_response_minutes: Option<i64>,
    #[serde(default)]
    pub next_response_minutes: Option<i64>,
    #[serde(default)]
    pub resolution_minutes: Option<i64>,
    /// How long before a due time the warning is raised (0: no warning).
    #[serde(default)]
    pub warn_before_minutes: i64,
}
