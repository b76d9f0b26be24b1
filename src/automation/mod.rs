//! Automation over the event log: consumers that read ticket events after commit, each event exactly once per
//! named consumer; the rules (event rules, time rules, macros) built on it, acting through `tickets`.

pub mod consumer;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod macros;
pub mod reports;
pub mod schedule;
pub mod sla;
pub mod validate;
pub mod worker;
