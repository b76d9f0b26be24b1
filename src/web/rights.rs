//! Who sees which ticket (design §6): admins every ticket; agents the tickets of mailboxes that belong to no team
//! or to one of theirs. Checked once for every staff request that names a ticket or an attachment in its path
//! (the dashboard's `/tickets/{n}…`, the API's `/api/v1/tickets/{n}…` and `/api/v1/attachments/{id}`), by the
//! extractors that identify the user: a ticket outside the user's rights is 404, never a hint that it exists.

use crate::db::UserRow;
use crate::web::{AppState, Error};

/// What a request path names: a ticket number or an attachment id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Ticket(i64),
    Attachment(i64),
}

fn named(path: &str) -> Option<Named> {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    let (kind, id) = (parts.next()?, parts.next()?);
    match kind {
        "tickets" => id.parse().ok().map(Named::Ticket),
        "attachments" => id.parse().ok().map(Named::Attachment),
        _ => None,
    }
}

/// Refuses (404) a request whose path names a ticket or attachment `user` may not see. Unknown numbers pass
/// (the handler answers 404 itself).
pub async fn check_path(state: &AppState, user: &UserRow, path: &str) -> Result<(), Error> {
    let Some(what) = named(path) else { return Ok(()) };
    let Some(visible) = state.db.visible_mailboxes(user).await? else { return Ok(()) };
    let mailbox = match what {
        Named::Ticket(n) => state.db.ticket(n).await?.map(|t| t.mailbox_id),
        Named::Attachment(id) => state.db.attachment_mailbox(id).await?,
    };
    match mailbox {
        Some(m) if !visible.contains(&m) => Err(Error::NotFound),
        _ => Ok(()),
    }
}

/// The mailboxes a ticket list of `user` may show, narrowed to `team`'s when one is asked for (an unknown team
/// shows nothing): `None` for every mailbox.
pub async fn list_scope(state: &AppState, user: &UserRow, team: Option<&str>) -> Result<Option<Vec<i64>>, Error> {
    let visible = state.db.visible_mailboxes(user).await?;
    let Some(team) = team.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(visible) };
    let of_team = state.db.team_mailboxes(team).await?.unwrap_or_default();
    Ok(Some(match visible {
        Some(v) => of_team.into_iter().filter(|m| v.contains(m)).collect(),
        None => of_team,
    }))
}

#[cfg(test)]
mod tests {
    use super::{Named, named};

    #[test]
    fn ticket_and_attachment_paths_are_recognised() {
        assert_eq!(named("/tickets/1042"), Some(Named::Ticket(1042)));
        assert_eq!(named("/tickets/1042/attachments/7"), Some(Named::Ticket(1042)));
        assert_eq!(named("/api/v1/tickets/1042/merge"), Some(Named::Ticket(1042)));
        assert_eq!(named("/api/v1/attachments/9"), Some(Named::Attachment(9)));
        assert_eq!(named("/tickets"), None);
        assert_eq!(named("/tickets/new"), None);
        assert_eq!(named("/tickets/bulk"), None);
        assert_eq!(named("/customers/a@b"), None);
    }
}
