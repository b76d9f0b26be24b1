//! What agents do with rules by hand: run a macro on a ticket, and the dry run of any rule over current tickets.

use super::engine::{Engine, Loaded, load};
use super::schedule::Scheduler;
use crate::db::rules::RuleRow;
use crate::db::{DbError, UserRow};
use crate::domain::rule::Trigger;
use serde::Serialize;

/// The dry run of a rule: the tickets it would act on now and what it would do to each.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub matches: usize,
    pub tickets: Vec<i64>,
    pub actions: Vec<String>,
    /// The scan stopped at the cap: more tickets may match.
    pub capped: bool,
}

/// At most this many tickets are listed by a dry run of an event rule or macro.
pub const PREVIEW_CAP: usize = 1000;

/// Why a macro did not run.
#[derive(Debug, thiserror::Error)]
pub enum MacroError {
    /// Not a macro, or not this agent's to run: shown as 404.
    #[error("no such macro")]
    NotFound,
    /// Its conditions do not hold for the ticket.
    #[error("this macro does not apply to the ticket: its conditions do not hold")]
    NotApplicable,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether `user` may see and run `rule`: global rules are everyone's, personal ones their owner's.
pub fn usable_by(rule: &RuleRow, user: &UserRow) -> bool {
    rule.owner_id.is_none_or(|o| o == user.id)
}

impl Engine {
    /// Runs macro `rule` on the ticket (id) as `user`, in one transaction; its changes run the event rules at once.
    pub async fn run_macro(&self, rule: &RuleRow, ticket_id: i64, user: &UserRow) -> Result<usize, MacroError> {
        if rule.trigger != Trigger::Manual.as_str() || rule.enabled == 0 || !usable_by(rule, user) {
            return Err(MacroError::NotFound);
        }
        let loaded = load(vec![rule.clone()]).pop().ok_or(MacroError::NotFound)?;
        let now = crate::domain::now();
        let mut tx = self.tickets.db.begin().await?;
        let acted = self.run_on_ticket(&mut tx, ticket_id, Trigger::Manual, Some(&loaded), &user.email, now).await?;
        if acted == 0 {
            return Err(MacroError::NotApplicable);
        }
        tx.commit().await.map_err(DbError::from)?;
        self.tickets.composer.wake();
        self.tickets.wake_webhooks();
        Ok(acted)
    }

    /// The dry run: which current tickets the rule would act on (a time rule: exactly what its next run changes,
    /// up to the cap), changing nothing and sending nothing.
    pub async fn preview(&self, rule: &RuleRow) -> Result<Preview, DbError> {
        let Some(loaded) = load(vec![rule.clone()]).pop() else {
            return Ok(Preview { matches: 0, tickets: vec![], actions: vec![], capped: false });
        };
        let cap = if loaded.spec.trigger == Trigger::Schedule { self.limits.schedule_cap } else { PREVIEW_CAP };
        let scheduler = Scheduler { engine: self.clone(), owner: String::new() };
        let (hits, _) = scheduler.matching(&loaded, crate::domain::now(), cap, false).await?;
        Ok(preview_of(&loaded, hits.into_iter().map(|(_, n)| n).collect(), cap))
    }
}

fn preview_of(rule: &Loaded, tickets: Vec<i64>, cap: usize) -> Preview {
    Preview {
        matches: tickets.len(),
        capped: tickets.len() >= cap,
        actions: rule.spec.actions.iter().map(|a| a.describe()).collect(),
        tickets,
    }
}
