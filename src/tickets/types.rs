//! A ticket's type: set by agents, rules, the portal form and the API, each change a `type_changed` event.

use super::{TicketError, Tickets, record};
use crate::db::{self, TicketRow};
use crate::domain::{Actor, TicketEvent};
use sqlx::AnyConnection;

impl Tickets {
    /// Sets ticket `number`'s type as `by` (the portal's customer; agents go through `update`). Whether it changed.
    pub async fn set_type(&self, number: i64, name: Option<&str>, by: &Actor) -> Result<bool, TicketError> {
        let ticket = self.writable(number).await?;
        let mut tx = self.db.begin().await?;
        let changed = record_type(&mut tx, &ticket, name, by, crate::domain::now()).await?;
        tx.commit().await?;
        Ok(changed)
    }
}

/// Sets the ticket's type (`None` clears it) with its event; an unknown type is refused. Whether it changed.
pub async fn record_type(
    conn: &mut AnyConnection,
    t: &TicketRow,
    name: Option<&str>,
    actor: &Actor,
    now: i64,
) -> Result<bool, TicketError> {
    let name = name.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty());
    if name == t.type_name {
        return Ok(false);
    }
    if let Some(n) = &name
        && !db::ticket_types::exists(conn, n).await?
    {
        return Err(TicketError::Invalid(format!("type: no ticket type {n}")));
    }
    db::ticket_types::set_type(conn, t.id, name.as_deref(), now).await?;
    record(conn, t.id, actor, &TicketEvent::TypeChanged { from: t.type_name.clone(), to: name }, now).await?;
    Ok(true)
}

/// A type name: lowercase letters, digits, `-` and `_`, 1–40 characters.
pub fn type_name(name: &str) -> Result<String, TicketError> {
    let n = name.trim().to_lowercase();
    let ok = !n.is_empty()
        && n.len() <= 40
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(n) } else { Err(TicketError::Invalid("name: 1 to 40 of a-z, 0-9, - and _".into())) }
}
