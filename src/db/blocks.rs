//! Blocked senders (addresses and `@domain`s) and the mail held because of them.

use super::{Db, Result};
use sqlx::AnyConnection;

/// A block list entry.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct BlockRow {
    pub entry: String,
    pub blocked_by: String,
    pub created_at: i64,
}

/// Every entry, for the store step (read once per batch).
pub async fn entries(conn: &mut AnyConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select entry from blocked_senders").fetch_all(conn).await?)
}

/// The quarantine reason of mail held for `entry`.
pub fn held_reason(entry: &str) -> String {
    format!("blocked: {entry}")
}

impl Db {
    /// The block list, newest first.
    pub async fn blocks(&self) -> Result<Vec<BlockRow>> {
        Ok(sqlx::query_as("select entry, blocked_by, created_at from blocked_senders order by created_at desc, entry")
            .fetch_all(self.pool())
            .await?)
    }

    /// Adds an entry; `false` when it was there already.
    pub async fn block(&self, entry: &str, by: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "insert into blocked_senders (entry, blocked_by, created_at) values ($1, $2, $3) on conflict (entry) do nothing",
        )
        .bind(entry)
        .bind(by)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes an entry; `false` when it was not there.
    pub async fn unblock(&self, entry: &str) -> Result<bool> {
        let done = sqlx::query("delete from blocked_senders where entry = $1")
            .bind(entry)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The held quarantine entries kept because of `entry`: `(id, raw id, raw sha256, mailbox id)`, oldest first.
    pub async fn held_for_block(&self, entry: &str) -> Result<Vec<(i64, i64, String, i64)>> {
        Ok(sqlx::query_as(
            "select q.id, q.raw_id, r.sha256, q.mailbox_id from quarantine q join raw_messages r on r.id = q.raw_id \
             where q.status = 'held' and q.reason = $1 and q.mailbox_id is not null order by q.id",
        )
        .bind(held_reason(entry))
        .fetch_all(self.pool())
        .await?)
    }

    /// A customer by address: `(email, name, note, first seen)`.
    pub async fn customer_profile(&self, email: &str) -> Result<Option<(String, String, String, i64)>> {
        Ok(sqlx::query_as("select email, name, note, created_at from customers where email = $1")
            .bind(email)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The internal note agents keep about a customer.
    pub async fn set_customer_note(&self, email: &str, note: &str) -> Result<bool> {
        let done = sqlx::query("update customers set note = $2 where email = $1")
            .bind(email)
            .bind(note)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The entry of `blocks` that `email` matches (its address, or `@` and its domain), if any.
pub fn matching<'b>(email: &str, blocks: &'b [String]) -> Option<&'b String> {
    let email = email.to_ascii_lowercase();
    let domain = email.rsplit_once('@').map(|(_, d)| format!("@{d}"));
    blocks.iter().find(|b| **b == email || domain.as_deref() == Some(b.as_str()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_matches_its_own_entry_or_its_domain() {
        let blocks = vec!["spam@x.example".to_string(), "@junk.example".to_string()];
        assert_eq!(super::matching("Spam@X.example", &blocks).map(String::as_str), Some("spam@x.example"));
        assert_eq!(super::matching("a@junk.example", &blocks).map(String::as_str), Some("@junk.example"));
        assert_eq!(super::matching("a@notjunk.example", &blocks), None);
        assert_eq!(super::matching("a@sub.junk.example", &blocks), None);
    }
}
