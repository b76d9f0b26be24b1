//! Integration tests: the whole application against a real store (SQLite and PostgreSQL).

mod helpers;
mod mailenv;

mod account_pages;
mod admin_mail_pages;
mod admin_mailboxes;
mod admin_pages;
mod agent_mail;
mod api;
mod browser;
mod catalog;
mod cli;
mod corpus;
mod event_consumers;
mod events;
mod fuzz;
mod hostile;
mod hostile_api;
mod imap;
mod imap_crash;
mod imap_faults;
mod imap_sync;
mod ingest;
mod ingest_batch;
mod layers;
mod outbound;
mod outbound_api;
mod outbound_faults;
mod outbound_setup;
mod outbox_store;
mod tarpit;
mod threading;
mod ticket_page;
mod upkeep;
mod user_pages;
mod web_client;
