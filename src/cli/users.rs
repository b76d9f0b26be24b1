//! `deskmail user add` and `deskmail token create`.

use super::exit;
use crate::domain::{EmailAddress, Role};
use crate::platform::config::Settings;
use crate::startup::Services;
use anyhow::Context;
use clap::Subcommand;
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff user; prints a generated password unless --password-stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "agent"])]
        role: String,
        /// Read the password from stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; prints it once.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn user(settings: Settings, cmd: UserCommand) -> anyhow::Result<i32> {
    let UserCommand::Add { email, name, role, password_stdin } = cmd;
    let Ok(email) = EmailAddress::parse(&email) else {
        eprintln!("deskmail: {email:?} is not a valid e-mail address");
        return Ok(exit::USAGE);
    };
    let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read the password from stdin")?;
        (s.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (crate::platform::password::random_string(20), true)
    };
    if password.chars().count() < 8 {
        eprintln!("deskmail: the password must have at least 8 characters");
        return Ok(exit::USAGE);
    }
    let services = Services::start(settings).await?;
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::platform::password::hash(&to_hash)).await?;
    match services.db.create_user(email.as_str(), &name, role, &hash).await {
        Ok(id) => println!("created {role} {email} (id {id})"),
        Err(crate::db::DbError::Conflict(_)) => {
            eprintln!("deskmail: a user {email} already exists");
            return Ok(exit::USAGE);
        }
        Err(e) => return Err(e.into()),
    }
    if generated {
        println!("password: {password}");
    }
    Ok(exit::OK)
}

pub async fn token(settings: Settings, cmd: TokenCommand) -> anyhow::Result<i32> {
    let TokenCommand::Create { user, name } = cmd;
    let services = Services::start(settings).await?;
    let Some(u) = services.db.user_by_email(&user.trim().to_lowercase()).await? else {
        eprintln!("deskmail: no user {user}");
        return Ok(exit::USAGE);
    };
    let token = crate::platform::password::new_api_token();
    services.db.create_token(u.id, &name, &crate::platform::password::token_hash(&token)).await?;
    println!("{token}");
    Ok(exit::OK)
}
