//! Who is replying to a ticket right now: short-lived marks renewed while an agent types.

use super::{Db, Result};

impl Db {
    /// Marks `user_id` as replying to the ticket until `expires_at`.
    pub async fn mark_replying(&self, ticket_id: i64, user_id: i64, expires_at: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into ticket_presence (ticket_id, user_id, expires_at) values ($1, $2, $3) \
             on conflict (ticket_id, user_id) do update set expires_at = excluded.expires_at",
        )
        .bind(ticket_id)
        .bind(user_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The names of the other users replying to the ticket now.
    pub async fn others_replying(&self, ticket_id: i64, user_id: i64, now: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "select u.name from ticket_presence p join users u on u.id = p.user_id \
             where p.ticket_id = $1 and p.user_id <> $2 and p.expires_at > $3 order by u.name",
        )
        .bind(ticket_id)
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }
}
