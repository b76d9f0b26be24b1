//! Automation over the event log: consumers that read ticket events after commit, each event exactly once per
//! named consumer (rules and SLA clocks build on it), acting through `tickets`.

pub mod consumer;
