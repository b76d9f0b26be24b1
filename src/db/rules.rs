//! Rules, their episodes per ticket and their runs; and named periodic jobs (the rules scheduler) with a lease.

use super::{Db, DbError, Result};
use crate::domain::rule::{Action, Conditions, RuleSpec, Trigger};
use sqlx::AnyConnection;

/// A stored rule.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub enabled: i64,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub position: i64,
    pub stop: i64,
    pub trigger: String,
    pub conditions: String,
    pub actions: String,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RuleRow {
    /// The rule as written (a row that no longer parses reads as a disabled rule with no actions).
    pub fn spec(&self) -> RuleSpec {
        let trigger = Trigger::parse(&self.trigger);
        RuleSpec {
            name: self.name.clone(),
            enabled: self.enabled != 0 && trigger.is_some(),
            owner: self.owner.clone(),
            stop: self.stop != 0,
            trigger: trigger.unwrap_or(Trigger::Manual),
            conditions: serde_json::from_str::<Conditions>(&self.conditions).unwrap_or_default(),
            actions: serde_json::from_str::<Vec<Action>>(&self.actions).unwrap_or_default(),
        }
    }

    /// The rule's JSON as the API shows it (design §10).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.spec()).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("id".into(), self.id.into());
            o.insert("position".into(), self.position.into());
            o.insert("disabled_reason".into(), self.disabled_reason.clone().into());
        }
        v
    }
}

const SELECT: &str = "select r.id, r.name, r.enabled, r.owner_id, u.email as owner, r.position, r.stop, r.trigger, \
     r.conditions, r.actions, r.disabled_reason, r.created_at, r.updated_at from rules r \
     left join users u on u.id = r.owner_id";

/// A run of a rule on a ticket, for the rule's page and the hourly limit.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RuleRunRow {
    pub id: i64,
    pub rule_id: i64,
    pub ticket_number: i64,
    pub event_id: Option<i64>,
    pub actor: String,
    pub at: i64,
    pub actions: String,
}

/// The enabled rules of a trigger, in position order (global and personal).
pub async fn enabled_for(conn: &mut AnyConnection, trigger: Trigger) -> Result<Vec<RuleRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where r.enabled = 1 and r.trigger = $1 order by r.position, r.id"));
    Ok(sqlx::query_as(sql).bind(trigger.as_str()).fetch_all(conn).await?)
}

/// The rules in an episode on the ticket (acted, conditions still holding).
pub async fn episodes_on_ticket(conn: &mut AnyConnection, ticket_id: i64) -> Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar("select rule_id from rule_episodes where ticket_id = $1")
        .bind(ticket_id)
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Starts (`true`) or ends (`false`) the rule's episode on the ticket.
pub async fn set_episode(conn: &mut AnyConnection, rule_id: i64, ticket_id: i64, on: bool, now: i64) -> Result<()> {
    let q = if on {
        "insert into rule_episodes (rule_id, ticket_id, since) values ($1, $2, $3) on conflict do nothing"
    } else {
        "delete from rule_episodes where rule_id = $1 and ticket_id = $2"
    };
    let q = sqlx::query(q).bind(rule_id).bind(ticket_id);
    if on { q.bind(now) } else { q }.execute(conn).await?;
    Ok(())
}

/// Records that the rule acted on the ticket.
pub async fn record_run(
    conn: &mut AnyConnection,
    rule_id: i64,
    ticket_id: i64,
    event_id: Option<i64>,
    actor: &str,
    actions: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into rule_runs (rule_id, ticket_id, event_id, actor, at, actions) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(rule_id)
    .bind(ticket_id)
    .bind(event_id)
    .bind(actor)
    .bind(now)
    .bind(serde_json::to_string(actions).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

/// How often the rule acted on the ticket since `since`.
pub async fn runs_since(conn: &mut AnyConnection, rule_id: i64, ticket_id: i64, since: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from rule_runs where ticket_id = $1 and rule_id = $2 and at >= $3")
        .bind(ticket_id)
        .bind(rule_id)
        .bind(since)
        .fetch_one(conn)
        .await?)
}

/// Switches a rule off with the reason shown to admins.
pub async fn disable(conn: &mut AnyConnection, rule_id: i64, reason: &str, now: i64) -> Result<()> {
    sqlx::query("update rules set enabled = 0, disabled_reason = $2, updated_at = $3 where id = $1")
        .bind(rule_id)
        .bind(reason)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A rule by id.
pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<RuleRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where r.id = $1"));
    Ok(sqlx::query_as(sql).bind(id).fetch_optional(conn).await?)
}

/// A rule's columns as stored.
pub struct StoredRule<'a> {
    pub spec: &'a RuleSpec,
    pub owner_id: Option<i64>,
}

impl Db {
    /// Every rule (`owner: Some(id)` only that user's personal rules), in position order.
    pub async fn rules(&self, owner: Option<i64>) -> Result<Vec<RuleRow>> {
        Ok(match owner {
            Some(id) => {
                let sql = sqlx::AssertSqlSafe(format!("{SELECT} where r.owner_id = $1 order by r.position, r.id"));
                sqlx::query_as(sql).bind(id).fetch_all(self.pool()).await?
            }
            None => {
                let sql = sqlx::AssertSqlSafe(format!("{SELECT} order by r.position, r.id"));
                sqlx::query_as(sql).fetch_all(self.pool()).await?
            }
        })
    }

    /// A rule by id.
    pub async fn rule(&self, id: i64) -> Result<Option<RuleRow>> {
        by_id(&mut *self.pool().acquire().await?, id).await
    }

    /// Stores a new rule at `position` (the end when `None`); returns its id.
    pub async fn insert_rule(&self, r: &StoredRule<'_>, position: Option<i64>) -> Result<i64> {
        let now = crate::domain::now();
        let mut tx = self.begin().await?;
        let last: i64 = sqlx::query_scalar("select coalesce(max(position), 0) from rules").fetch_one(&mut *tx).await?;
        let id: i64 = sqlx::query_scalar(
            "insert into rules (name, enabled, owner_id, position, stop, trigger, conditions, actions, created_at, \
             updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning id",
        )
        .bind(&r.spec.name)
        .bind(r.spec.enabled as i64)
        .bind(r.owner_id)
        .bind(position.unwrap_or(last + 1))
        .bind(r.spec.stop as i64)
        .bind(r.spec.trigger.as_str())
        .bind(serde_json::to_string(&r.spec.conditions).unwrap_or_default())
        .bind(serde_json::to_string(&r.spec.actions).unwrap_or_default())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a rule's fields (a re-enabled rule loses its disabled reason; its episodes start afresh when its
    /// conditions change).
    pub async fn update_rule(&self, id: i64, r: &StoredRule<'_>, position: i64) -> Result<()> {
        let now = crate::domain::now();
        let mut tx = self.begin().await?;
        let old = by_id(&mut tx, id).await?.ok_or(DbError::NotFound)?;
        let conditions = serde_json::to_string(&r.spec.conditions).unwrap_or_default();
        sqlx::query(
            "update rules set name = $2, enabled = $3, owner_id = $4, position = $5, stop = $6, trigger = $7, \
             conditions = $8, actions = $9, updated_at = $10, \
             disabled_reason = case when $3 = 1 then null else disabled_reason end where id = $1",
        )
        .bind(id)
        .bind(&r.spec.name)
        .bind(r.spec.enabled as i64)
        .bind(r.owner_id)
        .bind(position)
        .bind(r.spec.stop as i64)
        .bind(r.spec.trigger.as_str())
        .bind(&conditions)
        .bind(serde_json::to_string(&r.spec.actions).unwrap_or_default())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if old.conditions != conditions || old.trigger != r.spec.trigger.as_str() {
            sqlx::query("delete from rule_episodes where rule_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a rule with its episodes and runs.
    pub async fn delete_rule(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("delete from rules where id = $1").bind(id).execute(&mut *self.writer().await?).await?;
        Ok(done.rows_affected() > 0)
    }

    /// The latest runs of a rule, newest first.
    pub async fn rule_runs(&self, rule_id: i64, limit: i64) -> Result<Vec<RuleRunRow>> {
        Ok(sqlx::query_as(
            "select r.id, r.rule_id, t.number as ticket_number, r.event_id, r.actor, r.at, r.actions \
             from rule_runs r join tickets t on t.id = r.ticket_id where r.rule_id = $1 order by r.id desc limit $2",
        )
        .bind(rule_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

/// What rules may look at of one message.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct MessageFacts {
    pub kind: String,
    pub from_addr: String,
    pub subject: String,
    pub visible_text: String,
    pub auto: i64,
}

/// A message's facts, by id.
pub async fn message_facts(conn: &mut AnyConnection, id: i64) -> Result<Option<MessageFacts>> {
    Ok(sqlx::query_as("select kind, from_addr, subject, visible_text, auto from messages where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The facts of a ticket's newest customer message.
pub async fn last_customer_facts(conn: &mut AnyConnection, ticket_id: i64) -> Result<Option<MessageFacts>> {
    Ok(sqlx::query_as(
        "select kind, from_addr, subject, visible_text, auto from messages where ticket_id = $1 and kind = 'customer' \
         order by id desc limit 1",
    )
    .bind(ticket_id)
    .fetch_optional(conn)
    .await?)
}

/// When the ticket's status last changed (its creation when never).
pub async fn status_since(conn: &mut AnyConnection, ticket_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("select max(at) from ticket_events where ticket_id = $1 and kind = 'status_changed'")
        .bind(ticket_id)
        .fetch_one(conn)
        .await?)
}

/// The newest event id of a ticket (0 when none), to find the events an action wrote after it.
pub async fn last_event_id(conn: &mut AnyConnection, ticket_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("select coalesce(max(id), 0) from ticket_events where ticket_id = $1")
        .bind(ticket_id)
        .fetch_one(conn)
        .await?)
}

/// Tickets a schedule pass looks at: not merged (only `statuses` when given), in id order after `after`, at most
/// `limit`.
pub async fn schedule_candidates(
    conn: &mut AnyConnection,
    statuses: &[&str],
    after: i64,
    limit: i64,
) -> Result<Vec<super::TicketRow>> {
    let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 3)).collect();
    let filter = if statuses.is_empty() {
        "t.status <> 'merged'".to_string()
    } else {
        format!("t.status in ({})", marks.join(", "))
    };
    let sql =
        sqlx::AssertSqlSafe(format!("{} where t.id > $1 and {filter} order by t.id limit $2", super::tickets::SELECT));
    let mut q = sqlx::query_as(sql).bind(after).bind(limit);
    for s in statuses {
        q = q.bind(*s);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The tickets a rule is in an episode on.
pub async fn episode_tickets(conn: &mut AnyConnection, rule_id: i64) -> Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar("select ticket_id from rule_episodes where rule_id = $1")
        .bind(rule_id)
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// A shared canned response by id or title (case-insensitive), for a rule's reply: `(title, body)`.
pub async fn shared_canned(conn: &mut AnyConnection, reference: &str) -> Result<Option<(String, String)>> {
    let id: i64 = reference.trim().parse().unwrap_or(0);
    Ok(sqlx::query_as(
        "select title, body from canned_responses where owner_id is null and (id = $1 or lower(title) = lower($2)) \
         order by id limit 1",
    )
    .bind(id)
    .bind(reference.trim())
    .fetch_optional(conn)
    .await?)
}

/// Every active staff user, by id.
pub async fn active_users(conn: &mut AnyConnection) -> Result<Vec<super::UserRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{} where active = 1 order by id", super::users::SELECT));
    Ok(sqlx::query_as(sql).fetch_all(conn).await?)
}
