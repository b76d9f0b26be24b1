//! The command line: `serve`, `migrate`, `user add`, `token create`, `ingest`, `import`, `reindex`, `mailbox test`,
//! `rules export|import`, `backup`, `restore`, `verify`, `customer erase|export`, `retention`.

pub mod backup;
mod customer;
mod import;
mod ingest;
mod mailbox;
pub mod restore;
mod retention;
mod rules;
mod serve;
mod users;
pub mod verify;

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

/// `deskmail --version`: the crate version and the git commit it was built from (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DESKMAIL_COMMIT"), ")");

/// deskmail: email-driven support tickets.
#[derive(Debug, Parser)]
#[command(name = "deskmail", version = VERSION, about)]
pub struct Cli {
    /// Config file (default: $DESKMAIL_CONFIG, else config/deskmail.toml when present, else built-in defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Log format on stderr: `json` is one JSON object per line.
    #[arg(long, global = true, value_enum, default_value = "human", env = "DESKMAIL_LOG_FORMAT")]
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
    /// Erase or export a customer's data.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Erase the content of tickets closed longer than retention.closed_ticket_days now (or list them).
    Retention(retention::RetentionArgs),
    /// Back up the database (a consistent snapshot, while `serve` runs) and every blob it references into DIR, with a
    /// manifest of sha256 sums; into an existing backup only new blobs are copied.
    Backup { dir: PathBuf },
    /// Restore a backup into an empty database and storage dir (a non-empty target is refused).
    Restore { dir: PathBuf },
    /// Check that every referenced blob is stored with its sha256 and list orphans (exit 65 when one is missing or
    /// damaged).
    Verify {
        /// Remove orphans older than a day.
        #[arg(long)]
        prune: bool,
        /// Check this backup directory against its manifest instead of the storage dir.
        #[arg(long, value_name = "DIR", conflicts_with = "prune")]
        backup: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    // With JSON logs every stderr line is JSON: errors are log events only, not also plain lines.
    let plain = cli.log_format == LogFormat::Human;
    let settings = match crate::platform::config::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) if plain => {
            eprintln!("deskmail: {}", crate::platform::telemetry::chain(&e));
            return exit::USAGE;
        }
        Err(e) => {
            tracing::error!(error = %crate::platform::telemetry::chain(&e), "invalid configuration");
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
        Command::Customer(cmd) => customer::customer(settings, cmd).await,
        Command::Retention(args) => retention::retention(settings, args).await,
        Command::Backup { dir } => backup::command(&settings, &dir).await,
        Command::Restore { dir } => restore::command(&settings, &dir).await,
        Command::Verify { prune, backup, json } => verify::command(&settings, prune, backup.as_deref(), json).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %crate::platform::telemetry::chain(e.as_ref()), "command failed");
            if plain {
                eprintln!("deskmail: {}", crate::platform::telemetry::chain(e.as_ref()));
            }
            exit::SOFTWARE
        }
    }
}
