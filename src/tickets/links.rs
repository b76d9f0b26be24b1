//! Linking tickets to orders, order lines and products (by hand or automatically), with history.

use super::{TicketError, Tickets, record};
use crate::db::DbError;
use crate::db::catalog::{self, LinkRow};
use crate::domain::{Actor, TicketEvent};
use regex::Regex;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Kinds a link can have.
pub const KINDS: &[&str] = &["order", "order_line", "product"];

impl Tickets {
    /// Links a ticket to `kind` `ref` as `by`; returns the link (also when it already existed).
    pub async fn link(&self, number: i64, kind: &str, r: &str, by: &Actor) -> Result<LinkRow, TicketError> {
        if !KINDS.contains(&kind) {
            return Err(TicketError::Invalid(format!("kind: {kind:?} is not one of order, order_line, product")));
        }
        let ticket = self.writable(number).await?;
        let mut tx = self.db.begin().await?;
        let target = catalog::target_id(&mut tx, kind, r.trim()).await?.ok_or_else(|| {
            TicketError::Invalid(format!("ref: no {} {:?} in the catalog", kind.replace('_', " "), r.trim()))
        })?;
        let now = crate::domain::now();
        let (id, new) = catalog::add_link(&mut tx, ticket.id, kind, target, &by.name(), now).await?;
        if new {
            let e = TicketEvent::LinkAdded { link: kind.into(), reference: r.trim().into(), automatic: false };
            record(&mut tx, ticket.id, by, &e, now).await?;
        }
        let link =
            catalog::links(&mut tx, ticket.id).await?.into_iter().find(|l| l.id == id).ok_or(TicketError::NotFound)?;
        tx.commit().await?;
        Ok(link)
    }

    /// Removes a link of a ticket.
    pub async fn unlink(&self, number: i64, link_id: i64, by: &Actor) -> Result<(), TicketError> {
        let ticket = self.writable(number).await?;
        let mut tx = self.db.begin().await?;
        let link = catalog::remove_link(&mut tx, ticket.id, link_id).await.map_err(|e| match e {
            DbError::NotFound => TicketError::NotFound,
            e => e.into(),
        })?;
        let e = TicketEvent::LinkRemoved { link: link.kind.clone(), reference: link.r#ref.clone() };
        record(&mut tx, ticket.id, by, &e, crate::domain::now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Matches "order #100023", "Order 100023", "Bestellung 100023", "order no. 100023", "commande n° 100023" …;
/// group 1 is the number.
pub const DEFAULT_ORDER_PATTERN: &str = r"(?i)\b(?:order|bestellung|bestellnummer|auftrag|commande|pedido|ordine|zam[oó]wienie|orden)(?:\s*(?:number|nummer|no\.?|nr\.?|n[°º]|num(?:ero|éro)?))?\s*[:#]?\s*#?\s*([0-9][0-9-]{2,30}[0-9])";

static PATTERNS: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Mutex::default);

/// Order numbers mentioned in `text` by a mailbox's `order_pattern` (default [`DEFAULT_ORDER_PATTERN`]).
pub fn order_numbers(text: &str, pattern: Option<&str>) -> Vec<String> {
    let pattern = pattern.filter(|p| !p.trim().is_empty()).unwrap_or(DEFAULT_ORDER_PATTERN);
    let mut cache = PATTERNS.lock().expect("pattern cache");
    let re = cache.entry(pattern.to_string()).or_insert_with(|| match Regex::new(pattern) {
        Ok(re) => Some(re),
        Err(e) => {
            tracing::error!(pattern, error = %e, "order_pattern does not compile; automatic linking is off for it");
            None
        }
    });
    let Some(re) = re else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for c in re.captures_iter(text).take(20) {
        if let Some(m) = c.get(1).or_else(|| c.get(0)) {
            let n = m.as_str().to_string();
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Links every mentioned order that exists in the catalog (inside the ingest transaction); the `link_added` events
/// to record.
pub(crate) async fn auto_link(
    conn: &mut AnyConnection,
    ticket_id: i64,
    text: &str,
    pattern: Option<&str>,
    now: i64,
) -> Result<Vec<TicketEvent>, DbError> {
    let mut linked = Vec::new();
    for number in order_numbers(text, pattern) {
        let Some(target) = catalog::target_id(conn, "order", &number).await? else { continue };
        let (_, new) = catalog::add_link(conn, ticket_id, "order", target, "system", now).await?;
        if new {
            linked.push(TicketEvent::LinkAdded { link: "order".into(), reference: number, automatic: true });
        }
    }
    Ok(linked)
}

#[cfg(test)]
mod tests {
    use super::order_numbers;

    #[test]
    fn common_ways_of_naming_an_order_are_found() {
        for text in [
            "about my order #100023",
            "Order 100023 arrived broken",
            "Bestellung 100023",
            "order no. 100023",
            "Order number: 100023",
            "commande n° 100023",
        ] {
            assert_eq!(order_numbers(text, None), vec!["100023".to_string()], "{text}");
        }
        assert!(order_numbers("I ordered 3 lamps in 2026", None).is_empty());
        assert!(order_numbers("in order to help", None).is_empty());
    }

    #[test]
    fn a_mailbox_pattern_replaces_the_default_and_a_broken_one_finds_nothing() {
        assert_eq!(order_numbers("ref SO-77 and SO-78", Some(r"SO-(\d+)")), vec!["77", "78"]);
        assert!(order_numbers("order 100023", Some("(unclosed")).is_empty());
    }
}
