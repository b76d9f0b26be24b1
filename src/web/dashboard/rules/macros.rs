//! Macros in the dashboard: the buttons on the ticket page (`POST /tickets/{n}/macros/{id}`), the bulk form's
//! "Run macro" over ticked tickets, and rule names in a ticket's history (`rule:{id}` shown as "Rule “name”").

use crate::automation::macros::{MacroError, usable_by};
use crate::db::UserRow;
use crate::db::events::EventRow;
use crate::db::rules::RuleRow;
use crate::domain::rule::Trigger;
use crate::web::api::rules::engine;
use crate::web::dashboard::auth::CurrentUser;
use crate::web::dashboard::pages::flash;
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::response::Redirect;
use minijinja::{Value, context};
use std::collections::HashMap;
use tower_sessions::Session;

/// The enabled macros `user` may run (global ones and their own), in position order.
pub async fn usable(state: &AppState, user: &UserRow) -> Result<Vec<RuleRow>, Error> {
    let rules = state.db.rules(None).await?;
    Ok(rules
        .into_iter()
        .filter(|r| r.trigger == Trigger::Manual.as_str() && r.enabled != 0 && usable_by(r, user))
        .collect())
}

/// The macros for a template: id, name, personal.
pub async fn buttons(state: &AppState, user: &UserRow) -> Result<Vec<Value>, Error> {
    Ok(usable(state, user)
        .await?
        .iter()
        .map(|r| context! { id => r.id, name => r.name.clone(), personal => r.owner_id.is_some() })
        .collect())
}

pub(super) async fn run(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Redirect, Error> {
    let ticket = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let rule = state.db.rule(id).await?.filter(|r| usable_by(r, &user)).ok_or(Error::NotFound)?;
    match engine(&state).run_macro(&rule, ticket.id, &user).await {
        Ok(_) => flash(&session, "ok", format!("Macro “{}” ran.", rule.name)).await,
        Err(MacroError::NotApplicable) => {
            flash(
                &session,
                "error",
                format!("Macro “{}” does not apply to this ticket: its conditions do not hold.", rule.name),
            )
            .await
        }
        Err(MacroError::NotFound) => return Err(Error::NotFound),
        Err(MacroError::Db(e)) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/tickets/{number}")))
}

/// Runs macro `value` (`macro:{id}`) on each ticked ticket the user may see, each in its own run; says how many
/// it acted on.
pub async fn bulk(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    numbers: &[i64],
    value: &str,
    back: String,
) -> Result<Redirect, Error> {
    let id = value.strip_prefix("macro:").and_then(|v| v.parse::<i64>().ok());
    let rule = match id {
        Some(id) => usable(state, user).await?.into_iter().find(|r| r.id == id),
        None => None,
    };
    let Some(rule) = rule else {
        flash(session, "error", "Choose a macro to run.").await;
        return Ok(Redirect::to(&back));
    };
    let visible = state.db.visible_mailboxes(user).await?;
    let (mut acted, mut skipped) = (0, 0);
    for &n in numbers {
        let Some(t) = state.db.ticket(n).await? else { continue };
        if visible.as_ref().is_some_and(|v| !v.contains(&t.mailbox_id)) {
            continue;
        }
        match engine(state).run_macro(&rule, t.id, user).await {
            Ok(_) => acted += 1,
            Err(MacroError::NotApplicable) => skipped += 1,
            Err(MacroError::NotFound) => return Err(Error::NotFound),
            Err(MacroError::Db(e)) => return Err(e.into()),
        }
    }
    let plural = |n: usize| if n == 1 { "ticket" } else { "tickets" };
    let mut text = format!("Macro “{}” acted on {acted} {}.", rule.name, plural(acted));
    if skipped > 0 {
        text.push_str(&format!(" It did not apply to {skipped} {}.", plural(skipped)));
    }
    flash(session, "ok", text).await;
    Ok(Redirect::to(&back))
}

/// How a history entry names who acted: a rule by its name, anyone else as stored.
pub struct ActorNames(HashMap<i64, String>);

impl ActorNames {
    /// Looks up the names of the rules among `events`' actors (one query, only when a rule acted).
    pub async fn of(state: &AppState, events: &[EventRow]) -> Result<Self, Error> {
        if !events.iter().any(|e| e.actor.starts_with("rule:")) {
            return Ok(Self(HashMap::new()));
        }
        Ok(Self(state.db.rules(None).await?.into_iter().map(|r| (r.id, r.name)).collect()))
    }

    /// `Rule “name”` for `rule:{id}` (`Rule #id` when deleted); other actors unchanged.
    pub fn label(&self, actor: &str) -> String {
        match actor.strip_prefix("rule:").and_then(|id| id.parse::<i64>().ok()) {
            Some(id) => match self.0.get(&id) {
                Some(name) => format!("Rule “{name}”"),
                None => format!("Rule #{id}"),
            },
            None => actor.to_string(),
        }
    }
}
