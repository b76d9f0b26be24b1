//! What every layer stands on: configuration, the secret and what it signs and seals, password hashing,
//! blob storage and the files of a backup, telemetry, the pollers' health registry and the process's memory tuning.

pub mod backup;
pub mod config;
pub mod health;
pub mod memory;
pub mod oauth;
pub mod password;
pub mod secret;
pub mod secretbox;
pub mod storage;
pub mod telemetry;
pub mod tokens;
