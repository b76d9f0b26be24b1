//! `deskmail customer erase EMAIL [--yes]` and `deskmail customer export EMAIL --out DIR`: an admin's erasure and
//! data export on the server (the same as the API's `DELETE /customers/{email}` and `/export`).

use super::exit;
use crate::domain::Actor;
use crate::platform::config::Settings;
use crate::startup::Services;
use crate::tickets::TicketError;
use crate::web::customers::export;
use anyhow::Context;
use clap::Subcommand;
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Erase a customer for good: their messages' text, attachments, stored mail, name and address; their tickets
    /// stay as anonymous shells. Asks for the address again unless --yes; exit 66 for an unknown address.
    Erase {
        email: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Write everything stored about a customer into a new or empty DIR: export.json, attachments/, raw/.
    Export {
        email: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub async fn customer(settings: Settings, cmd: CustomerCommand) -> anyhow::Result<i32> {
    let services = Services::start(settings).await?;
    match cmd {
        CustomerCommand::Erase { email, yes } => {
            if !yes && !confirmed(&email)? {
                eprintln!("deskmail: not erased (the address typed did not match)");
                return Ok(exit::USAGE);
            }
            match services.tickets.erase_customer(&email, &Actor::System).await {
                Ok(done) => {
                    println!("{}", serde_json::to_string(&done)?);
                    Ok(exit::OK)
                }
                Err(TicketError::NotFound) => {
                    eprintln!("deskmail: no customer {email}");
                    Ok(exit::NO_INPUT)
                }
                Err(e) => Err(e).context("cannot erase the customer"),
            }
        }
        CustomerCommand::Export { email, out } => {
            let Some(built) = export::build(&services.db, &email).await? else {
                eprintln!("deskmail: no customer {email}");
                return Ok(exit::NO_INPUT);
            };
            let (blobs, dir, files) = (services.blobs.clone(), out.clone(), built.files.len());
            tokio::task::spawn_blocking(move || export::write_dir(&built, &blobs, &dir))
                .await?
                .with_context(|| format!("cannot write the export into {}", out.display()))?;
            println!("exported to {}: {} and {files} file(s)", out.display(), export::JSON_NAME);
            Ok(exit::OK)
        }
    }
}

/// Asks on the terminal for the address again.
fn confirmed(email: &str) -> anyhow::Result<bool> {
    eprint!("Erase {email} for good? Type the address again: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the confirmation")?;
    Ok(line.trim().eq_ignore_ascii_case(email.trim()))
}
