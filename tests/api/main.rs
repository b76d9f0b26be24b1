//! Integration tests: the whole application against a real store (SQLite and PostgreSQL).

mod helpers;

mod api;
mod cli;
mod ingest;
mod threading;
