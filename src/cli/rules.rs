//! `deskmail rules export [FILE]` and `deskmail rules import FILE`: rules as JSON for review in version control.
//! Import checks every rule first and changes nothing when one is refused; a rule with the same name and owner as
//! a stored one replaces it, others are added.

use super::exit;
use crate::db::Db;
use crate::db::rules::StoredRule;
use crate::domain::rule::RuleSpec;
use crate::platform::config::Settings;
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print every rule as JSON (`{"rules": [...]}`, position order), to FILE or stdout.
    Export { file: Option<PathBuf> },
    /// Add or replace rules from a JSON file written by `export` (stdin with `-`).
    Import { file: PathBuf },
}

pub async fn rules(settings: Settings, cmd: RulesCommand) -> anyhow::Result<i32> {
    let db = Db::connect(&settings.database.url, 2).await.context("cannot open the database")?;
    db.migrate().await.context("cannot migrate the database")?;
    match cmd {
        RulesCommand::Export { file } => {
            let rules: Vec<Value> = db.rules(None).await?.iter().map(|r| r.to_json()).collect();
            let text = serde_json::to_string_pretty(&json!({ "rules": rules }))? + "\n";
            match file {
                Some(f) => std::fs::write(&f, text).with_context(|| format!("cannot write {}", f.display()))?,
                None => print!("{text}"),
            }
            Ok(exit::OK)
        }
        RulesCommand::Import { file } => import(&db, &file).await,
    }
}

async fn import(db: &Db, file: &std::path::Path) -> anyhow::Result<i32> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("deskmail: cannot read {}: {e}", file.display());
                return Ok(exit::NO_INPUT);
            }
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("deskmail: {}: not JSON: {e}", file.display());
            return Ok(exit::DATA_ERR);
        }
    };
    let items = doc.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut checked = Vec::new();
    let mut refused = 0;
    for (i, item) in items.into_iter().enumerate() {
        match check(db, &item).await? {
            Ok(rule) => checked.push(rule),
            Err(why) => {
                eprintln!("deskmail: rules[{i}]: {why}");
                refused += 1;
            }
        }
    }
    if refused > 0 {
        eprintln!("deskmail: nothing imported: {refused} rule(s) refused");
        return Ok(exit::DATA_ERR);
    }
    let existing = db.rules(None).await?;
    let (mut added, mut replaced) = (0, 0);
    for (spec, owner_id, position) in &checked {
        let stored = StoredRule { spec, owner_id: *owner_id };
        match existing.iter().find(|r| r.name == spec.name && r.owner_id == *owner_id) {
            Some(old) => {
                db.update_rule(old.id, &stored, position.unwrap_or(old.position)).await?;
                replaced += 1;
            }
            None => {
                db.insert_rule(&stored, *position).await?;
                added += 1;
            }
        }
    }
    db.job_due_now(crate::automation::schedule::JOB).await?;
    println!("{added} rule(s) added, {replaced} replaced");
    Ok(exit::OK)
}

/// A rule of the file, checked, with its owner's id and position; or why it is refused.
async fn check(db: &Db, item: &Value) -> anyhow::Result<Result<(RuleSpec, Option<i64>, Option<i64>), String>> {
    let position = item.get("position").and_then(Value::as_i64);
    let mut body = item.clone();
    if let Some(o) = body.as_object_mut() {
        for k in ["id", "position", "disabled_reason"] {
            o.remove(k);
        }
    }
    let spec: RuleSpec = match serde_json::from_value(body) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if let Err(e) = crate::automation::validate::check(&spec) {
        return Ok(Err(e.to_string()));
    }
    let owner_id = match spec.owner.as_deref() {
        None => None,
        Some(email) => match db.user_by_email(&email.trim().to_lowercase()).await? {
            Some(u) => Some(u.id),
            None => return Ok(Err(format!("owner: no user {email}"))),
        },
    };
    Ok(Ok((spec, owner_id, position)))
}
