//! Status, priority and assignee changes, each recorded in the ticket's history.

use super::{TicketError, Tickets};
use crate::db::{self, TicketRow, UserRow};
use crate::domain::{Priority, Status};
use sqlx::AnyConnection;

/// What to change; `None` leaves a field as it is. `assignee: Some(None)` unassigns.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<i64>>,
}

/// Sets a status with its history entry (nothing when unchanged).
pub async fn record_status(
    conn: &mut AnyConnection,
    t: &TicketRow,
    status: Status,
    actor: &str,
    now: i64,
) -> Result<(), TicketError> {
    if t.status != status.as_str() {
        db::tickets::set_status(&mut *conn, t.id, status, now).await?;
        db::messages::insert_event(&mut *conn, t.id, actor, "status", &format!("{} → {}", t.status, status), now)
            .await?;
    }
    Ok(())
}

/// Changes with the assignee resolved to a user row (`Some(None)` unassigns).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<UserRow>>,
}

impl Tickets {
    /// Applies `changes` by `actor`. The first agent action moves a `new` ticket to `open`.
    pub async fn update(&self, number: i64, actor: &UserRow, changes: Changes) -> Result<(), TicketError> {
        let t = self.ticket(number).await?;
        let assignee = match changes.assignee {
            Some(Some(id)) => {
                Some(Some(self.db.user(id).await.map_err(|_| TicketError::Invalid("assignee: no such user".into()))?))
            }
            Some(None) => Some(None),
            None => None,
        };
        let resolved = Resolved { status: changes.status, priority: changes.priority, assignee };
        let mut tx = self.db.begin().await?;
        apply_changes(&mut tx, &self.composer, &t, actor, &resolved, crate::domain::now()).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        self.composer.wake();
        Ok(())
    }
}

/// Applies changes inside the caller's transaction, with history, the assignee's notice and the resolved notice.
pub async fn apply_changes(
    conn: &mut AnyConnection,
    composer: &crate::outbound::Composer,
    t: &TicketRow,
    actor: &UserRow,
    changes: &Resolved,
    now: i64,
) -> Result<(), TicketError> {
    if let Some(Some(u)) = &changes.assignee
        && u.active != 1
    {
        return Err(TicketError::Invalid(format!("assignee: {} is deactivated", u.email)));
    }
    let status = changes.status.or((t.status == Status::New.as_str()).then_some(Status::Open));
    if let Some(s) = status {
        record_status(conn, t, s, &actor.email, now).await?;
    }
    if let Some(p) = changes.priority.filter(|p| t.priority != p.as_str()) {
        sqlx::query("update tickets set priority = $2, updated_at = $3 where id = $1")
            .bind(t.id)
            .bind(p.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db::DbError::from)?;
        db::messages::insert_event(&mut *conn, t.id, &actor.email, "priority", &format!("{} → {p}", t.priority), now)
            .await?;
    }
    if let Some(a) = &changes.assignee
        && t.assignee_id != a.as_ref().map(|u| u.id)
    {
        sqlx::query("update tickets set assignee_id = $2, updated_at = $3 where id = $1")
            .bind(t.id)
            .bind(a.as_ref().map(|u| u.id))
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db::DbError::from)?;
        let detail = a.as_ref().map(|u| format!("assigned to {}", u.name)).unwrap_or_else(|| "unassigned".into());
        db::messages::insert_event(&mut *conn, t.id, &actor.email, "assignee", &detail, now).await?;
        if let Some(u) = a {
            composer.assigned(conn, t.id, u, Some(actor), now).await?;
        }
    }
    if status == Some(Status::Resolved) && t.status != Status::Resolved.as_str() {
        composer.resolved(conn, t.id, now).await?;
    }
    Ok(())
}
