//! The command line: `serve`, `migrate`, `user add`, `token create`, `ingest`, `import`, `reindex`, `mailbox test`,
//! `rules export|import`.

mod import;
mod ingest;
mod mailbox;
mod rules;
mod serve;
mod users;

use crate::platform::telemetry::LogFormat;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes of the contract (sysexits).
pub mod exit {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 64;
    pub const DATA_ERR: i32 = 65;
    pub const NO_INPUT: i32 = 66;
    pub const SOFTWARE: i32 = 70;
    pub const TEMPFAIL: i32 = 75;
}

/// deskmail: email-driven support tickets.
#[derive(Debug, Parser)]
#[command(name = "deskmail", version, about)]
pub struct Cli {
    /// Config file (default: $DESKMAIL_CONFIG, else config/deskmail.toml when present, else built-in defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Web server, IMAP pollers and mail sender in one process.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff users.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(users::TokenCommand),
    /// Ingest raw RFC 5322 messages as if fetched from a mailbox (stdin when no file).
    Ingest(ingest::IngestArgs),
    /// Import the shop catalog (products, orders with lines) from NDJSON; exit 65 when lines were rejected.
    Import(import::ImportArgs),
    /// Rebuild the full-text search index from the stored messages (after a bulk load or restore).
    Reindex,
    /// Check mailboxes.
    #[command(subcommand)]
    Mailbox(mailbox::MailboxCommand),
    /// Export or import rules as JSON.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let settings = match crate::platform::config::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("deskmail: {}", crate::platform::telemetry::chain(&e));
            return exit::USAGE;
        }
    };
    let result = match cli.command {
        Command::Serve => serve::serve(settings).await,
        Command::Migrate => serve::migrate(settings).await,
        Command::User(cmd) => users::user(settings, cmd).await,
        Command::Token(cmd) => users::token(settings, cmd).await,
        Command::Ingest(args) => return ingest::ingest(settings, args).await,
        Command::Mailbox(cmd) => mailbox::mailbox(settings, cmd).await,
        Command::Import(args) => import::import(settings, args).await,
        Command::Reindex => serve::reindex(settings).await,
        Command::Rules(cmd) => rules::rules(settings, cmd).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %crate::platform::telemetry::chain(e.as_ref()), "command failed");
            eprintln!("deskmail: {}", crate::platform::telemetry::chain(e.as_ref()));
            exit::SOFTWARE
        }
    }
}
