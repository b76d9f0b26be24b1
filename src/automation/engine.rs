//! The rule engine: given an event (or a schedule tick, or a macro), the rules of its trigger in position order
//! are evaluated on the ticket; a rule whose conditions hold acts once per matching episode, through `tickets`, in
//! the caller's transaction. What rules change is evaluated at once, in the same transaction, as the next link
//! of a chain, up to [`Limits::max_depth`]; the log consumer skips rule-made events for that reason.

use super::eval::{Compiled, Episode, compile};
use super::facts::{self, Lookup, Needs};
use crate::db::events::EventRow;
use crate::db::rules::RuleRow;
use crate::db::{self, DbError};
use crate::domain::rule::{Action, RuleSpec, Trigger};
use crate::domain::{Actor, EventKind, TicketEvent};
use crate::tickets::automated::RuleCause;
use crate::tickets::{TicketError, Tickets};
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::{HashMap, VecDeque};

/// Bounds on what rules may do.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Rule-made changes trigger other rules this many links deep, then stop with a warning event.
    pub max_depth: u32,
    /// A rule acting more often than this on one ticket within an hour is switched off.
    pub runs_per_hour: i64,
    /// A time rule acts on at most this many tickets per scheduler run.
    pub schedule_cap: usize,
}

impl From<crate::platform::config::RuleSettings> for Limits {
    fn from(s: crate::platform::config::RuleSettings) -> Self {
        Limits { max_depth: s.max_depth, runs_per_hour: s.runs_per_hour.max(1), schedule_cap: s.schedule_cap.max(1) }
    }
}

/// A stored rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub row: RuleRow,
    pub spec: RuleSpec,
    pub compiled: Compiled,
}

/// Loads and compiles rules; a stored rule that no longer compiles is skipped (and logged).
pub fn load(rows: Vec<RuleRow>) -> Vec<Loaded> {
    rows.into_iter()
        .filter_map(|row| {
            let spec = row.spec();
            match compile(&spec.conditions) {
                Ok(compiled) => Some(Loaded { row, spec, compiled }),
                Err(e) => {
                    tracing::error!(rule = row.id, error = %e, "stored rule does not compile; skipped");
                    None
                }
            }
        })
        .collect()
}

/// The trigger an event kind fires.
pub fn trigger_of(kind: EventKind) -> Option<Trigger> {
    use EventKind as K;
    Some(match kind {
        K::TicketCreated => Trigger::TicketCreated,
        K::MessageReceived => Trigger::MessageReceived,
        K::ReplySent => Trigger::ReplySent,
        K::NoteAdded => Trigger::NoteAdded,
        K::StatusChanged
        | K::PriorityChanged
        | K::TypeChanged
        | K::AssigneeChanged
        | K::TagsChanged
        | K::LinkAdded
        | K::LinkRemoved
        | K::MailboxChanged
        | K::Merged
        | K::Split => Trigger::TicketUpdated,
        K::SlaWarning => Trigger::SlaWarning,
        K::SlaBreached => Trigger::SlaBreached,
        _ => return None,
    })
}

/// One link of a chain: an event on a ticket and how deep in the chain it is.
struct Link {
    ticket_id: i64,
    event: Option<TicketEvent>,
    event_id: Option<i64>,
    event_json: serde_json::Value,
    trigger: Trigger,
    depth: u32,
    /// Who ran it, for the rule's runs: `event`, `schedule`, or the agent who ran a macro.
    by: String,
}

/// The engine: the ticket service it acts through and its limits.
#[derive(Debug, Clone)]
pub struct Engine {
    pub tickets: Tickets,
    pub limits: Limits,
}

impl Engine {
    /// Handles events read from the log (rule-made ones were handled in their chain); returns how many rules acted.
    pub async fn on_events(&self, conn: &mut AnyConnection, events: &[EventRow], now: i64) -> Result<usize, DbError> {
        let mut cache = HashMap::new();
        let mut acted = 0;
        for e in events {
            if e.actor.starts_with("rule:") {
                continue;
            }
            let (Some(kind), Some(event)) = (EventKind::parse(&e.kind), e.event()) else { continue };
            let Some(trigger) = trigger_of(kind) else { continue };
            let link = Link {
                ticket_id: e.ticket_id,
                event_id: Some(e.id),
                event_json: event_json(e),
                event: Some(event),
                trigger,
                depth: 0,
                by: "event".into(),
            };
            acted += self.chain(conn, link, &mut cache, None, now).await?;
        }
        Ok(acted)
    }

    /// Runs the rules of `trigger` on one ticket (schedule passes and macros), then the chain their changes start.
    /// `only` restricts it to one rule; `by` is who ran it (`schedule`, or the agent of a macro); returns how many
    /// rules acted.
    pub async fn run_on_ticket(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        trigger: Trigger,
        only: Option<&Loaded>,
        by: &str,
        now: i64,
    ) -> Result<usize, DbError> {
        let link = Link {
            ticket_id,
            event: None,
            event_id: None,
            event_json: json!({ "kind": trigger.as_str(), "by": by }),
            trigger,
            depth: 0,
            by: by.to_string(),
        };
        self.chain(conn, link, &mut HashMap::new(), only, now).await
    }

    async fn chain(
        &self,
        conn: &mut AnyConnection,
        first: Link,
        cache: &mut HashMap<Trigger, Vec<Loaded>>,
        only: Option<&Loaded>,
        now: i64,
    ) -> Result<usize, DbError> {
        let blocks = db::blocks::entries(conn).await?;
        let mut queue = VecDeque::from([first]);
        let mut acted = 0;
        while let Some(link) = queue.pop_front() {
            let rules = match (only, link.depth) {
                (Some(rule), 0) => vec![rule.clone()],
                _ => match cache.get(&link.trigger) {
                    Some(rules) => rules.clone(),
                    None => {
                        let rules = load(db::rules::enabled_for(conn, link.trigger).await?);
                        cache.insert(link.trigger, rules.clone());
                        rules
                    }
                },
            };
            if rules.is_empty() {
                continue;
            }
            // Read the ticket once per event, and again only after a rule changed it.
            let lookup =
                Lookup { blocks: &blocks, now, needs: Needs::of(rules.iter().flat_map(|r| r.compiled.fields())) };
            let mut seen: Option<Observed> = None;
            for rule in &rules {
                if seen.is_none() {
                    seen = observe(conn, &link, &lookup).await?;
                }
                let Some(Observed { ticket: t, facts: f, episodes }) = &seen else { break };
                let t = t.clone();
                // A personal rule acts on its owner's tickets; a personal macro wherever its owner runs it.
                let manual = link.trigger == Trigger::Manual;
                if !manual && rule.row.owner_id.is_some() && rule.row.owner_id != t.assignee_id {
                    continue;
                }
                let holds = rule.compiled.holds(f);
                let armed = !episodes.contains(&rule.row.id);
                let (act, next) = if manual { (holds, Episode { armed: true }) } else { Episode { armed }.step(holds) };
                if act && link.depth >= self.limits.max_depth {
                    let e = TicketEvent::RuleChainStopped {
                        rule: rule.row.id,
                        name: rule.row.name.clone(),
                        depth: link.depth,
                    };
                    crate::tickets::record(conn, t.id, &Actor::System, &e, now).await?;
                    tracing::warn!(rule = rule.row.id, ticket = t.number, depth = link.depth, "rule chain stopped");
                    continue;
                }
                if next.armed != armed && !manual {
                    db::rules::set_episode(conn, rule.row.id, t.id, !next.armed, now).await?;
                    if let Some(o) = seen.as_mut() {
                        o.set_episode(rule.row.id, !next.armed);
                    }
                }
                if !act {
                    continue;
                }
                if self.over_limit(conn, rule, t.id, now).await? {
                    continue;
                }
                let before = db::rules::last_event_id(conn, t.id).await?;
                self.act(conn, rule, t.id, &link, now).await?;
                acted += 1;
                seen = None;
                let made = db::events::of_ticket(&mut *conn, t.id).await?;
                let actor = Actor::Rule(rule.row.id).name();
                for e in made.iter().filter(|e| e.id > before && e.actor == actor) {
                    let (Some(kind), Some(event)) = (EventKind::parse(&e.kind), e.event()) else { continue };
                    let Some(trigger) = trigger_of(kind) else { continue };
                    queue.push_back(Link {
                        ticket_id: t.id,
                        event_id: Some(e.id),
                        event_json: event_json(e),
                        event: Some(event),
                        trigger,
                        depth: link.depth + 1,
                        by: link.by.clone(),
                    });
                }
                if rule.spec.stop {
                    break;
                }
            }
        }
        Ok(acted)
    }

    /// Whether the rule acted too often on the ticket this hour; then it is switched off, and the ticket says so.
    async fn over_limit(
        &self,
        conn: &mut AnyConnection,
        rule: &Loaded,
        ticket_id: i64,
        now: i64,
    ) -> Result<bool, DbError> {
        let runs = db::rules::runs_since(conn, rule.row.id, ticket_id, now - 3600).await?;
        if runs < self.limits.runs_per_hour {
            return Ok(false);
        }
        let reason = format!("acted {runs} times within an hour on one ticket (limit {})", self.limits.runs_per_hour);
        db::rules::disable(conn, rule.row.id, &reason, now).await?;
        let e = TicketEvent::RuleDisabled { rule: rule.row.id, name: rule.row.name.clone(), runs };
        crate::tickets::record(conn, ticket_id, &Actor::System, &e, now).await?;
        tracing::warn!(rule = rule.row.id, runs, "rule switched off: too many runs on one ticket");
        self.tell_admins(conn, rule, ticket_id, &reason, now).await?;
        Ok(true)
    }

    /// Mails every admin that the rule was switched off (the same hour, with the ticket it happened on).
    async fn tell_admins(
        &self,
        conn: &mut AnyConnection,
        rule: &Loaded,
        ticket_id: i64,
        reason: &str,
        now: i64,
    ) -> Result<(), DbError> {
        let cause = RuleCause { rule_id: rule.row.id, rule_name: &rule.row.name, event: json!({}), event_id: None };
        let body = format!(
            "The rule \u{201c}{}\u{201d} was switched off: it {reason}. Check it in /admin/rules and switch it on again.",
            rule.row.name
        );
        for admin in db::rules::active_users(conn).await?.into_iter().filter(|u| u.is_admin()) {
            let notify = Action::Notify { to: admin.email, body: body.clone(), any_time: true };
            match self.tickets.apply_rule_action(conn, ticket_id, &notify, &cause, now).await {
                Ok(_) => {}
                Err(TicketError::Db(e)) => return Err(e),
                Err(e) => tracing::warn!(rule = rule.row.id, error = %e, "could not tell an admin"),
            }
        }
        Ok(())
    }

    /// Applies the rule's actions in order; an action that cannot be done is noted in the history, the rest go on.
    async fn act(
        &self,
        conn: &mut AnyConnection,
        rule: &Loaded,
        ticket_id: i64,
        link: &Link,
        now: i64,
    ) -> Result<(), DbError> {
        let cause = RuleCause {
            rule_id: rule.row.id,
            rule_name: &rule.row.name,
            event: link.event_json.clone(),
            event_id: link.event_id,
        };
        let mut done = Vec::new();
        for action in &rule.spec.actions {
            match self.tickets.apply_rule_action(conn, ticket_id, action, &cause, now).await {
                Ok(Some(d)) => done.push(d),
                Ok(None) => {}
                Err(TicketError::Db(e)) => return Err(e),
                Err(e) => {
                    let action = format!("{}: not done: {e}", action.describe());
                    let e = TicketEvent::RuleApplied { rule: rule.row.id, name: rule.row.name.clone(), action };
                    crate::tickets::record(conn, ticket_id, &Actor::Rule(rule.row.id), &e, now).await?;
                }
            }
        }
        db::rules::record_run(conn, rule.row.id, ticket_id, link.event_id, &link.by, &done, now).await
    }
}

/// A ticket as the rules of one event see it: its row, its facts, the rules in an episode on it.
struct Observed {
    ticket: crate::db::TicketRow,
    facts: super::eval::Facts,
    episodes: std::collections::HashSet<i64>,
}

impl Observed {
    fn set_episode(&mut self, rule: i64, on: bool) {
        if on {
            self.episodes.insert(rule);
        } else {
            self.episodes.remove(&rule);
        }
    }
}

/// Reads the link's ticket with the facts its rules need; `None` when the ticket is gone.
async fn observe(conn: &mut AnyConnection, link: &Link, lookup: &Lookup<'_>) -> Result<Option<Observed>, DbError> {
    let Some(ticket) = db::tickets::by_id(&mut *conn, link.ticket_id).await? else { return Ok(None) };
    let mut facts = facts::of_ticket(conn, &ticket, link.event.as_ref().and_then(facts::message_of), lookup).await?;
    if let Some(e) = &link.event {
        facts::add_changes(&mut facts, e);
    }
    let episodes = db::rules::episodes_on_ticket(conn, ticket.id).await?;
    Ok(Some(Observed { ticket, facts, episodes }))
}

/// An event as rules' webhooks send it.
fn event_json(e: &EventRow) -> serde_json::Value {
    let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
    json!({ "id": e.id, "kind": e.kind, "actor": e.actor, "at": crate::domain::rfc3339(e.at), "data": data })
}
