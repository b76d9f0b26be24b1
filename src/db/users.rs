//! Staff users (agents and admins).

use super::{Db, DbError, Result, flag};
use crate::domain::Role;
use sqlx::{Any, Executor};

/// A staff user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: i64,
    pub signature: String,
    pub notify_new_ticket: i64,
    pub notify_customer_replied: i64,
    pub notify_assigned: i64,
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Agent)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    /// This user as the actor of a change.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor::User(self.email.clone())
    }
}

pub(super) const SELECT: &str = "select id, email, name, role, password_hash, active, signature, notify_new_ticket, \
     notify_customer_replied, notify_assigned from users";

/// The active user with this address, if any.
pub async fn active_by_email<'e>(conn: impl Executor<'e, Database = Any>, email: &str) -> Result<Option<UserRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where email = $1 and active = 1"));
    Ok(sqlx::query_as(sql).bind(email).fetch_optional(conn).await?)
}

/// The active user with this id, if any.
pub async fn active_by_id<'e>(conn: impl Executor<'e, Database = Any>, id: i64) -> Result<Option<UserRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where id = $1 and active = 1"));
    Ok(sqlx::query_as(sql).bind(id).fetch_optional(conn).await?)
}

/// Active users who want a notice of every new ticket.
pub async fn notified_of_new_tickets<'e>(conn: impl Executor<'e, Database = Any>) -> Result<Vec<UserRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} where active = 1 and notify_new_ticket = 1 order by id"));
    Ok(sqlx::query_as(sql).fetch_all(conn).await?)
}

/// The addresses of every active staff user (their mail is handled apart, and gets no acknowledgement).
pub async fn active_emails<'e>(conn: impl Executor<'e, Database = Any>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select email from users where active = 1").fetch_all(conn).await?)
}

impl Db {
    /// Creates a user; the address must be new.
    pub async fn create_user(&self, email: &str, name: &str, role: Role, password_hash: &str) -> Result<i64> {
        // Names go into mail headers: cleaned here, whichever form, command or test created the user.
        let name = crate::domain::DisplayName::new(name);
        let now = crate::domain::now();
        Ok(sqlx::query_scalar(
            "insert into users (email, name, role, password_hash, active, notify_new_ticket, notify_customer_replied, notify_assigned, created_at, updated_at) \
             values ($1, $2, $3, $4, 1, 0, 1, 1, $5, $5) returning id",
        )
        .bind(email)
        .bind(name.as_str())
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *self.writer().await?)
        .await?)
    }

    /// The user with this address (active or not).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} where email = $1"));
        Ok(sqlx::query_as(sql).bind(email).fetch_optional(self.pool()).await?)
    }

    /// The user with this id.
    pub async fn user(&self, id: i64) -> Result<UserRow> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} where id = $1"));
        sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await?.ok_or(DbError::NotFound)
    }

    /// Every user, admins first.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} order by role, email"));
        Ok(sqlx::query_as(sql).fetch_all(self.pool()).await?)
    }

    /// How many users exist.
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("select count(*) from users").fetch_one(self.pool()).await?)
    }

    /// Turns a user on or off.
    pub async fn set_user_active(&self, id: i64, active: bool) -> Result<()> {
        sqlx::query("update users set active = $2, updated_at = $3 where id = $1")
            .bind(id)
            .bind(flag(active))
            .bind(crate::domain::now())
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }
}
