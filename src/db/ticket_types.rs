//! Ticket types (admin-defined: question, refund, shipping …) and a ticket's type.

use super::{Db, Result};
use sqlx::{Any, AnyConnection, Executor};

/// A ticket type.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TicketTypeRow {
    pub name: String,
    pub title: String,
    /// Open tickets of this type (not resolved, closed or merged).
    pub open: i64,
}

/// Every type, by name, with its open tickets.
pub async fn list<'e>(conn: impl Executor<'e, Database = Any>) -> Result<Vec<TicketTypeRow>> {
    Ok(sqlx::query_as(
        "select y.name, y.title, (select count(*) from tickets t where t.type_name = y.name \
         and t.status in ('new', 'open', 'pending')) as open from ticket_types y order by y.name",
    )
    .fetch_all(conn)
    .await?)
}

/// Whether type `name` exists.
pub async fn exists(conn: &mut AnyConnection, name: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("select 1 from ticket_types where name = $1").bind(name).fetch_optional(conn).await?;
    Ok(found.is_some())
}

/// Sets (or clears) a ticket's type.
pub async fn set_type(conn: &mut AnyConnection, ticket_id: i64, name: Option<&str>, now: i64) -> Result<()> {
    sqlx::query("update tickets set type_name = $2, updated_at = $3 where id = $1")
        .bind(ticket_id)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

impl Db {
    /// Every ticket type.
    pub async fn ticket_types(&self) -> Result<Vec<TicketTypeRow>> {
        list(self.pool()).await
    }

    /// Adds type `name` or retitles it.
    pub async fn put_ticket_type(&self, name: &str, title: &str, now: i64) -> Result<()> {
        sqlx::query(
            "insert into ticket_types (name, title, created_at) values ($1, $2, $3) \
             on conflict (name) do update set title = excluded.title",
        )
        .bind(name)
        .bind(title)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Deletes type `name` (its tickets keep no type); whether it existed.
    pub async fn delete_ticket_type(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("delete from ticket_types where name = $1")
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await?;
        // Its tickets lost the type: their policies may change.
        if done.rows_affected() > 0 {
            self.request_job(super::sla::RECOMPUTE_JOB, crate::domain::now()).await?;
        }
        Ok(done.rows_affected() > 0)
    }
}
