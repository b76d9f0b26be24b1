//! SLA clocks: the pure clock, the policy that applies to a ticket, and the workers that keep each ticket's clock
//! and raise its warnings and breaches as events (for rules to escalate on).

pub mod check;
pub mod clock;
pub mod keeper;
pub mod policy;
pub mod worker;
