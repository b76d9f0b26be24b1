//! Time rules: every minute (leased, one instance at a time on PostgreSQL), the `schedule` rules are evaluated
//! over the tickets and act, each on at most [`Limits::schedule_cap`](super::engine::Limits) tickets per run. A
//! missed minute is not made up: the next run simply sees the tickets as they are.

use super::engine::{Engine, Loaded, load};
use super::facts::{self, Lookup, Needs};
use crate::db::{self, DbError};
use crate::domain::rule::{ConditionItem, Conditions, Op, Trigger};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The job name in `scheduled_jobs`.
pub const JOB: &str = "rules_schedule";
/// How often the scheduler runs.
pub const EVERY_SECS: i64 = 60;
/// Tickets read per query while scanning.
const SCAN_CHUNK: i64 = 2000;

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// A pass ran: tickets looked at, rules' actions taken.
    Ran { scanned: usize, acted: usize },
    /// The last pass was less than a minute ago.
    NotDue,
    /// Another instance runs the scheduler.
    NotLeader,
}

/// The scheduler of one instance.
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub engine: Engine,
    pub owner: String,
}

impl Scheduler {
    /// Runs a pass when one is due and this instance holds the lease.
    pub async fn try_tick(&self, now: i64) -> Result<Tick, DbError> {
        let db = &self.engine.tickets.db;
        if !db.claim_job(JOB, &self.owner, now, now + 2 * EVERY_SECS).await? {
            return Ok(Tick::NotLeader);
        }
        if db.job(JOB).await?.and_then(|j| j.last_run_at).is_some_and(|at| at > now - EVERY_SECS) {
            return Ok(Tick::NotDue);
        }
        let started = Instant::now();
        let (scanned, acted) = self.pass(now).await?;
        db.finish_job(JOB, &self.owner, now, started.elapsed().as_millis() as i64, acted as i64).await?;
        if acted > 0 {
            self.engine.tickets.composer.wake();
            self.engine.tickets.wake_webhooks();
        }
        Ok(Tick::Ran { scanned, acted })
    }

    /// One pass over every enabled time rule; returns tickets looked at and actions taken.
    pub async fn pass(&self, now: i64) -> Result<(usize, usize), DbError> {
        let db = &self.engine.tickets.db;
        let rules = load(db::rules::enabled_for(&mut *db.pool().acquire().await?, Trigger::Schedule).await?);
        let (mut scanned, mut acted) = (0, 0);
        for rule in &rules {
            let (s, a) = self.pass_rule(rule, now).await?;
            scanned += s;
            acted += a;
        }
        Ok((scanned, acted))
    }

    /// The tickets `rule` acts on now (matching, not in an episode), at most `cap`, and how many were looked at;
    /// `rearm` ends the episodes of tickets that stopped matching (a real pass; the dry run changes nothing).
    pub async fn matching(
        &self,
        rule: &Loaded,
        now: i64,
        cap: usize,
        rearm: bool,
    ) -> Result<(Vec<(i64, i64)>, usize), DbError> {
        let db = &self.engine.tickets.db;
        let mut conn = db.pool().acquire().await?;
        let blocks = db::blocks::entries(&mut conn).await?;
        let lookup = Lookup { blocks: &blocks, now, needs: Needs::of(rule.compiled.fields()) };
        let statuses = status_prefilter(&rule.spec.conditions);
        let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
        let mut episodes = db::rules::episode_tickets(&mut conn, rule.row.id).await?;
        let (mut after, mut scanned, mut hits) = (0, 0, Vec::new());
        loop {
            let tickets = db::rules::schedule_candidates(&mut conn, &statuses, after, SCAN_CHUNK).await?;
            let Some(last) = tickets.last().map(|t| t.id) else { break };
            for t in tickets {
                scanned += 1;
                if rule.row.owner_id.is_some() && rule.row.owner_id != t.assignee_id {
                    continue;
                }
                let f = facts::of_ticket(&mut conn, &t, None, &lookup).await?;
                match (rule.compiled.holds(&f), episodes.contains(&t.id)) {
                    (true, false) => hits.push((t.id, t.number)),
                    // Stopped matching: the rule may act again when the ticket matches anew.
                    (false, true) if rearm => {
                        db::rules::set_episode(&mut conn, rule.row.id, t.id, false, now).await?;
                        episodes.remove(&t.id);
                    }
                    _ => {}
                }
                if hits.len() >= cap {
                    return Ok((hits, scanned));
                }
            }
            after = last;
        }
        Ok((hits, scanned))
    }

    async fn pass_rule(&self, rule: &Loaded, now: i64) -> Result<(usize, usize), DbError> {
        let db = &self.engine.tickets.db;
        let (hits, scanned) = self.matching(rule, now, self.engine.limits.schedule_cap, true).await?;
        let mut acted = 0;
        for (id, _) in hits {
            if acted >= self.engine.limits.schedule_cap {
                break;
            }
            // One transaction per ticket: a failing ticket does not undo the others.
            let mut tx = db.begin().await?;
            acted += self.engine.run_on_ticket(&mut tx, id, Trigger::Schedule, Some(rule), "schedule", now).await?;
            tx.commit().await?;
        }
        Ok((scanned, acted))
    }

    /// Ticks every 10 s until cancelled (a pass runs when a minute has gone by), then gives the lease up.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            if let Err(e) = self.try_tick(crate::domain::now()).await {
                tracing::error!(error = &e as &dyn std::error::Error, "rules scheduler: pass failed");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            }
        }
        if let Err(e) = self.engine.tickets.db.release_job(JOB, &self.owner).await {
            tracing::warn!(error = &e as &dyn std::error::Error, "rules scheduler: could not give the lease up");
        }
    }
}

/// Statuses a time rule can only match (from `ticket.status is X` at the top of an `all`), so the scan reads
/// only those tickets; empty means every status but `merged`.
fn status_prefilter(c: &Conditions) -> Vec<String> {
    let Conditions::All(items) = c else { return Vec::new() };
    items
        .iter()
        .find_map(|i| match i {
            ConditionItem::Test(t) if t.field == "ticket.status" && t.op == Op::Is => {
                t.value.as_str().map(|s| vec![s.trim().to_lowercase()])
            }
            _ => None,
        })
        .unwrap_or_default()
}
