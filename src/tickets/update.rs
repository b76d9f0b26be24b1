//! Status, priority and assignee changes, each an event in the ticket's history.

use super::{TicketError, Tickets, record};
use crate::db::{self, TicketRow, UserRow};
use crate::domain::{Actor, Priority, Status, TicketEvent};
use crate::outbound::MailIntent;
use sqlx::AnyConnection;

/// What to change; `None` leaves a field as it is. `assignee: Some(None)` unassigns.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<i64>>,
    /// The whole set of tags (replaces the current one).
    pub tags: Option<Vec<String>>,
    /// Another mailbox (by id) for the ticket: later mail to the customer goes out from it.
    pub mailbox: Option<i64>,
    /// The ticket type by name; `Some(None)` clears it.
    pub type_name: Option<Option<String>>,
}

/// Sets a status with its event (nothing when unchanged).
pub async fn record_status(
    conn: &mut AnyConnection,
    t: &TicketRow,
    status: Status,
    actor: &Actor,
    now: i64,
) -> Result<(), TicketError> {
    record_status_event(conn, t, status, actor, now).await?;
    if t.status != status {
        db::tickets::set_status(&mut *conn, t.id, status, now).await?;
    }
    Ok(())
}

/// The event of a status change only, for a writer whose own update of the ticket row sets the status (a reply's or
/// a note's `touch`): one update of the row instead of two.
pub async fn record_status_event(
    conn: &mut AnyConnection,
    t: &TicketRow,
    status: Status,
    actor: &Actor,
    now: i64,
) -> Result<(), TicketError> {
    if status == Status::Merged {
        return Err(TicketError::Invalid("status: merged is set by merging the ticket into another".into()));
    }
    if t.status != status {
        record(conn, t.id, actor, &TicketEvent::StatusChanged { from: t.status, to: status }, now).await?;
    }
    Ok(())
}

/// Changes with the assignee resolved to a user row (`Some(None)` unassigns).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<UserRow>>,
    pub tags: Option<Vec<String>>,
    pub mailbox: Option<crate::db::MailboxRow>,
    pub type_name: Option<Option<String>>,
}

impl Tickets {
    /// Applies `changes` by `actor`. The first agent action moves a `new` ticket to `open`.
    pub async fn update(&self, number: i64, actor: &UserRow, changes: Changes) -> Result<(), TicketError> {
        let t = self.writable(number).await?;
        let assignee = match changes.assignee {
            Some(Some(id)) => {
                Some(Some(self.db.user(id).await.map_err(|_| TicketError::Invalid("assignee: no such user".into()))?))
            }
            Some(None) => Some(None),
            None => None,
        };
        let tags = changes.tags.map(|t| super::tags::clean_all(&t)).transpose()?;
        let mailbox = match changes.mailbox {
            Some(id) => Some(
                crate::db::mailboxes::by_id(self.db.pool(), id)
                    .await
                    .map_err(|_| TicketError::Invalid("mailbox: no such mailbox".into()))?,
            ),
            None => None,
        };
        let resolved = Resolved {
            status: changes.status,
            priority: changes.priority,
            assignee,
            tags,
            mailbox,
            type_name: changes.type_name,
        };
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        let mail = self.apply_changes(&mut tx, &t, actor, &resolved, now).await?;
        self.queue(&mut tx, mail, now).await?;
        tx.commit().await?;
        self.composer.wake();
        Ok(())
    }

    /// Applies changes inside the caller's transaction, with their events; returns the assignee's notice and the
    /// resolved notice to queue.
    pub(crate) async fn apply_changes(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        actor: &UserRow,
        changes: &Resolved,
        now: i64,
    ) -> Result<Vec<MailIntent>, TicketError> {
        if let Some(Some(u)) = &changes.assignee
            && u.active != 1
        {
            return Err(TicketError::Invalid(format!("assignee: {} is deactivated", u.email)));
        }
        let who = Actor::User(actor.email.clone());
        let mailbox_id = changes.mailbox.as_ref().map_or(t.mailbox_id, |m| m.id);
        if let Some(Some(u)) = &changes.assignee
            && !db::teams::can_see(conn, u, mailbox_id).await?
        {
            return Err(TicketError::Invalid(format!("assignee: {} cannot see this ticket's mailbox", u.email)));
        }
        let mut assigned = None;
        let status = changes.status.or((t.status == Status::New).then_some(Status::Open));
        if let Some(s) = status {
            record_status(conn, t, s, &who, now).await?;
        }
        if let Some(p) = changes.priority.filter(|p| t.priority != *p) {
            db::tickets::set_priority(&mut *conn, t.id, p, now).await?;
            record(conn, t.id, &who, &TicketEvent::PriorityChanged { from: t.priority, to: p }, now).await?;
        }
        if let Some(name) = &changes.type_name {
            super::types::record_type(conn, t, name.as_deref(), &who, now).await?;
        }
        if let Some(a) = &changes.assignee
            && t.assignee_id != a.as_ref().map(|u| u.id)
        {
            db::tickets::set_assignee(&mut *conn, t.id, a.as_ref().map(|u| u.id), now).await?;
            let to = a.as_ref().map(|u| u.email.clone());
            record(conn, t.id, &who, &TicketEvent::AssigneeChanged { from: t.assignee_email.clone(), to }, now).await?;
            assigned = a.as_ref();
        }
        if let Some(tags) = &changes.tags {
            super::tags::replace(conn, t.id, tags, &who, now).await?;
        }
        if let Some(m) = changes.mailbox.as_ref().filter(|m| m.id != t.mailbox_id) {
            db::tickets::set_mailbox(&mut *conn, t.id, m.id, now).await?;
            let event = TicketEvent::MailboxChanged { from: t.mailbox.clone(), to: m.name.clone() };
            record(conn, t.id, &who, &event, now).await?;
            unassign_if_hidden(conn, t, changes, m.id, &who, now).await?;
        }
        // The notices show the ticket as it is now.
        let fresh = db::tickets::by_id(&mut *conn, t.id).await?.ok_or(TicketError::NotFound)?;
        let mut mail = Vec::new();
        if let Some(u) = assigned {
            mail.extend(self.on_assigned(conn, &fresh, u, Some(actor)).await?);
        }
        if status == Some(Status::Resolved) && t.status != Status::Resolved {
            mail.extend(self.on_resolved(conn, &fresh).await?);
        }
        Ok(mail)
    }
}

/// After a move to mailbox `to`: the assignee (kept by these changes) who cannot see it there is unassigned.
async fn unassign_if_hidden(
    conn: &mut AnyConnection,
    t: &TicketRow,
    changes: &Resolved,
    to: i64,
    who: &Actor,
    now: i64,
) -> Result<(), TicketError> {
    let kept = match &changes.assignee {
        Some(new) => new.as_ref().map(|u| u.id),
        None => t.assignee_id,
    };
    let Some(id) = kept else { return Ok(()) };
    let Some(user) = db::users::active_by_id(&mut *conn, id).await? else { return Ok(()) };
    if db::teams::can_see(conn, &user, to).await? {
        return Ok(());
    }
    db::tickets::set_assignee(&mut *conn, t.id, None, now).await?;
    let event = TicketEvent::AssigneeChanged { from: Some(user.email.clone()), to: None };
    record(conn, t.id, who, &event, now).await?;
    Ok(())
}
