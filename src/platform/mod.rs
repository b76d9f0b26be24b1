//! What every layer stands on: configuration, the secret and what it signs and seals, password hashing,
//! blob storage, telemetry and the pollers' health registry.

pub mod config;
pub mod health;
pub mod password;
pub mod secret;
pub mod secretbox;
pub mod storage;
pub mod telemetry;
pub mod tokens;
