//! deskmail: an email-driven support ticketing gateway (library; `main.rs` is a thin shell around [`cli`]).

pub mod actions;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod health;
pub mod ingest;
pub mod net;
pub mod outbound;
pub mod password;
pub mod secret;
pub mod secretbox;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod web;
