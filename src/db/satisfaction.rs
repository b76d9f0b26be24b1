//! Satisfaction answers ("How did we do?"): one per resolution of a ticket, counted per agent and mailbox.

use super::{Db, Result};

/// One customer's answer about one resolution.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SatisfactionRow {
    pub id: i64,
    pub ticket_id: i64,
    pub resolution_id: i64,
    /// `good` or `bad`.
    pub rating: String,
    pub comment: String,
    pub agent_id: Option<i64>,
    pub mailbox_id: i64,
    pub created_at: i64,
}

/// The answers per agent (or mailbox): `(name, good, bad)`.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SatisfactionCount {
    pub key: String,
    pub good: i64,
    pub bad: i64,
}

/// A new answer.
#[derive(Debug, Clone)]
pub struct NewSatisfaction<'a> {
    pub ticket_id: i64,
    pub resolution_id: i64,
    pub rating: &'a str,
    pub comment: &'a str,
    pub agent_id: Option<i64>,
    pub mailbox_id: i64,
    pub now: i64,
}

const COLUMNS: &str = "id, ticket_id, resolution_id, rating, comment, agent_id, mailbox_id, created_at";

/// Stores an answer; `false` when this resolution was answered already (the first answer stays).
pub async fn insert(conn: &mut sqlx::AnyConnection, s: &NewSatisfaction<'_>) -> Result<bool> {
    let done = sqlx::query(
        "insert into satisfaction (ticket_id, resolution_id, rating, comment, agent_id, mailbox_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7) on conflict (ticket_id, resolution_id) do nothing",
    )
    .bind(s.ticket_id)
    .bind(s.resolution_id)
    .bind(s.rating)
    .bind(s.comment)
    .bind(s.agent_id)
    .bind(s.mailbox_id)
    .bind(s.now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Db {
    /// Every answer about a ticket, oldest first.
    pub async fn satisfaction_of(&self, ticket_id: i64) -> Result<Vec<SatisfactionRow>> {
        let sql = format!("select {COLUMNS} from satisfaction where ticket_id = $1 order by id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(ticket_id).fetch_all(self.pool()).await?)
    }

    /// Answers since `since`, counted per agent (by e-mail; `nobody` when unassigned) or per mailbox.
    pub async fn satisfaction_counts(&self, per_agent: bool, since: i64) -> Result<Vec<SatisfactionCount>> {
        let (key, join) = if per_agent {
            ("coalesce(u.email, 'nobody')", "left join users u on u.id = s.agent_id")
        } else {
            ("m.name", "join mailboxes m on m.id = s.mailbox_id")
        };
        let sql = format!(
            "select {key} as key, sum(case when s.rating = 'good' then 1 else 0 end) as good, \
             sum(case when s.rating = 'bad' then 1 else 0 end) as bad from satisfaction s {join} \
             where s.created_at >= $1 group by {key} order by {key}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since).fetch_all(self.pool()).await?)
    }
}
