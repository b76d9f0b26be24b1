//! Ticket tags.

use super::{Db, Result};
use sqlx::{Any, Executor};

/// The tags of a ticket, sorted.
pub async fn of_ticket<'e>(conn: impl Executor<'e, Database = Any>, ticket_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select tag from ticket_tags where ticket_id = $1 order by tag")
        .bind(ticket_id)
        .fetch_all(conn)
        .await?)
}

/// Adds (true) or removes (false) a tag; returns whether anything changed.
pub async fn set<'e>(conn: impl Executor<'e, Database = Any>, ticket_id: i64, tag: &str, on: bool) -> Result<bool> {
    let sql = if on {
        "insert into ticket_tags (ticket_id, tag) values ($1, $2) on conflict do nothing"
    } else {
        "delete from ticket_tags where ticket_id = $1 and tag = $2"
    };
    Ok(sqlx::query(sql).bind(ticket_id).bind(tag).execute(conn).await?.rows_affected() > 0)
}

impl Db {
    /// The tags of a ticket, sorted.
    pub async fn tags(&self, ticket_id: i64) -> Result<Vec<String>> {
        of_ticket(self.pool(), ticket_id).await
    }

    /// The tags of several tickets (a list page), each sorted.
    pub async fn tags_of(&self, ticket_ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<String>>> {
        let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
        if ticket_ids.is_empty() {
            return Ok(out);
        }
        let marks: Vec<String> = (1..=ticket_ids.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "select ticket_id, tag from ticket_tags where ticket_id in ({}) order by ticket_id, tag",
            marks.join(", ")
        ));
        let mut q = sqlx::query_as::<_, (i64, String)>(sql);
        for id in ticket_ids {
            q = q.bind(*id);
        }
        for (id, tag) in q.fetch_all(self.pool()).await? {
            out.entry(id).or_default().push(tag);
        }
        Ok(out)
    }

    /// Every tag in use, sorted. One index probe per distinct tag (a skip scan of `ticket_tags_tag`): `select
    /// distinct` read every row of the index, ~1.5 million at a million tickets.
    pub async fn all_tags(&self) -> Result<Vec<String>> {
        let sql = "with recursive t(tag) as ( \
             select min(tag) from ticket_tags \
             union all select (select min(tag) from ticket_tags where tag > t.tag) from t where t.tag is not null) \
             select tag from t where tag is not null";
        Ok(sqlx::query_scalar(sql).fetch_all(self.pool()).await?)
    }
}
