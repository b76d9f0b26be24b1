//! What every layer stands on: configuration, the secret and what it signs and seals, password hashing,
//! blob storage and the files of a backup, telemetry and the pollers' health registry.

pub mod backup;
pub mod config;
pub mod health;
pub mod oauth;
pub mod password;
pub mod secret;
pub mod secretbox;
pub mod storage;
pub mod telemetry;
pub mod tokens;
