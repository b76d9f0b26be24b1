//! Tags: cleaned names, added and removed with one `tags_changed` event per change.

use super::{TicketError, Tickets, record};
use crate::db;
use crate::domain::{Actor, TicketEvent};
use sqlx::AnyConnection;

/// Longest tag kept.
const MAX_LEN: usize = 40;

/// A tag as stored: lower case, letters, digits and `-_./`, at most 40 characters; `Invalid` when nothing is left.
pub fn clean(tag: &str) -> Result<String, TicketError> {
    let tag: String = tag
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || "-_./".contains(*c))
        .take(MAX_LEN)
        .collect();
    if tag.is_empty() { Err(TicketError::Invalid("tags: a tag needs letters or digits".into())) } else { Ok(tag) }
}

/// Every tag of a list cleaned, duplicates dropped.
pub fn clean_all(tags: &[String]) -> Result<Vec<String>, TicketError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = clean(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Replaces a ticket's tags with `tags` (cleaned) inside the caller's transaction; one event when anything changed.
pub(crate) async fn replace(
    conn: &mut AnyConnection,
    ticket_id: i64,
    tags: &[String],
    actor: &Actor,
    now: i64,
) -> Result<(), TicketError> {
    let current = db::tags::of_ticket(&mut *conn, ticket_id).await?;
    let added: Vec<String> = tags.iter().filter(|t| !current.contains(t)).cloned().collect();
    let removed: Vec<String> = current.iter().filter(|t| !tags.contains(t)).cloned().collect();
    for t in &added {
        db::tags::set(&mut *conn, ticket_id, t, true).await?;
    }
    for t in &removed {
        db::tags::set(&mut *conn, ticket_id, t, false).await?;
    }
    if !added.is_empty() || !removed.is_empty() {
        record(conn, ticket_id, actor, &TicketEvent::TagsChanged { added, removed }, now).await?;
    }
    Ok(())
}

impl Tickets {
    /// Adds (`on`) or removes one tag by `actor`; returns the cleaned tag and whether anything changed.
    pub async fn tag(&self, number: i64, tag: &str, on: bool, actor: &Actor) -> Result<(String, bool), TicketError> {
        let tag = clean(tag)?;
        let t = self.writable(number).await?;
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        let changed = db::tags::set(&mut *tx, t.id, &tag, on).await?;
        if changed {
            let (added, removed) = if on { (vec![tag.clone()], vec![]) } else { (vec![], vec![tag.clone()]) };
            record(&mut tx, t.id, actor, &TicketEvent::TagsChanged { added, removed }, now).await?;
        }
        tx.commit().await?;
        Ok((tag, changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lower_case_words_and_empty_ones_are_refused() {
        assert_eq!(clean(" Refund!! ").unwrap(), "refund");
        assert_eq!(clean("über-eilig/2").unwrap(), "über-eilig/2");
        assert!(clean("!!!").is_err());
        assert_eq!(clean_all(&["A".into(), "a".into(), "b".into()]).unwrap(), ["a", "b"]);
    }
}
