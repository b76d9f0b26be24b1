//! deskmail: an email-driven support ticketing gateway (library; `main.rs` is a thin shell around [`cli`]).
//!
//! Layers, top down (each imports only those below it; `tests/api/layers.rs` checks it):
//! `cli`/`startup` → `web` → `ingest` / `automation` → `tickets` → `outbound` → `net` / `db` → `platform` → `domain`.

pub mod automation;
pub mod cli;
pub mod db;
pub mod domain;
pub mod ingest;
pub mod net;
pub mod outbound;
pub mod platform;
pub mod startup;
pub mod tickets;
pub mod web;
