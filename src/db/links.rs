//! Ticket links to orders, order lines and products: resolving references, adding, removing, listing.

use super::{Db, DbError, Result};
use sqlx::{AnyConnection, AssertSqlSafe};

/// A link of a ticket, with what it points at.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LinkRow {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub target_id: i64,
    pub r#ref: String,
    pub title: String,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub url: String,
    pub quantity: i64,
    /// The order's customer (empty for products).
    pub customer_email: String,
    pub order_number: String,
    pub added_by: String,
    pub added_at: i64,
}

const LINKS: &str = "select l.id, l.ticket_id, l.kind, l.target_id, \
     coalesce(o.number, ol_o.number || '/' || ol.line_ref, p.ref, '') as ref, \
     coalesce(p.title, ol.title, '') as title, coalesce(o.status, ol.status, '') as status, \
     coalesce(o.total, '') as total, coalesce(o.currency, '') as currency, coalesce(o.url, p.url, '') as url, \
     coalesce(ol.quantity, 0) as quantity, coalesce(o.customer_email, ol_o.customer_email, '') as customer_email, \
     coalesce(o.number, ol_o.number, '') as order_number, l.added_by, l.added_at \
     from ticket_links l \
     left join orders o on l.kind = 'order' and o.id = l.target_id \
     left join order_lines ol on l.kind = 'order_line' and ol.id = l.target_id \
     left join orders ol_o on ol_o.id = ol.order_id \
     left join products p on l.kind = 'product' and p.id = l.target_id";

/// The links of a ticket, in the order they were added.
pub async fn links(conn: &mut AnyConnection, ticket_id: i64) -> Result<Vec<LinkRow>> {
    let sql = AssertSqlSafe(format!("{LINKS} where l.ticket_id = $1 order by l.id"));
    Ok(sqlx::query_as(sql).bind(ticket_id).fetch_all(&mut *conn).await?)
}

/// The links of several tickets (one statement per 32): ticket → its links in the order they were added; every
/// ticket asked for has an entry.
pub async fn links_of(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<LinkRow>>> {
    let mut out: std::collections::HashMap<i64, Vec<LinkRow>> = ticket_ids.iter().map(|id| (*id, Vec::new())).collect();
    for chunk in super::lookup_chunks(ticket_ids, 32) {
        let sql =
            AssertSqlSafe(format!("{LINKS} where l.ticket_id in ({}) order by l.id", super::marks(1, chunk.len())));
        let mut q = sqlx::query_as::<_, LinkRow>(sql);
        for id in &chunk {
            q = q.bind(*id);
        }
        for link in q.fetch_all(&mut *conn).await? {
            out.entry(link.ticket_id).or_default().push(link);
        }
    }
    Ok(out)
}

/// Whether the catalog holds any order (automatic order links look up nothing otherwise).
pub async fn any_orders(conn: &mut AnyConnection) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("select id from orders limit 1").fetch_optional(&mut *conn).await?;
    Ok(found.is_some())
}

/// Resolves a link target: `order` by number, `product` by ref, `order_line` by `ORDER/LINE`.
pub async fn target_id(conn: &mut AnyConnection, kind: &str, r: &str) -> Result<Option<i64>> {
    Ok(match kind {
        "order" => {
            sqlx::query_scalar("select id from orders where number = $1").bind(r).fetch_optional(&mut *conn).await?
        }
        "product" => {
            sqlx::query_scalar("select id from products where ref = $1").bind(r).fetch_optional(&mut *conn).await?
        }
        "order_line" => {
            let Some((order, line)) = r.rsplit_once('/') else { return Ok(None) };
            sqlx::query_scalar("select ol.id from order_lines ol join orders o on o.id = ol.order_id where o.number = $1 and ol.line_ref = $2")
                .bind(order)
                .bind(line)
                .fetch_optional(&mut *conn)
                .await?
        }
        _ => None,
    })
}

/// Adds a link (no-op when present); returns its id and whether it is new.
pub async fn add_link(
    conn: &mut AnyConnection,
    ticket_id: i64,
    kind: &str,
    target: i64,
    by: &str,
    now: i64,
) -> Result<(i64, bool)> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "insert into ticket_links (ticket_id, kind, target_id, added_by, added_at) values ($1, $2, $3, $4, $5) on conflict do nothing returning id",
    )
    .bind(ticket_id)
    .bind(kind)
    .bind(target)
    .bind(by)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok((id, true)),
        None => {
            let id =
                sqlx::query_scalar("select id from ticket_links where ticket_id = $1 and kind = $2 and target_id = $3")
                    .bind(ticket_id)
                    .bind(kind)
                    .bind(target)
                    .fetch_one(&mut *conn)
                    .await?;
            Ok((id, false))
        }
    }
}

/// Removes a link of a ticket; the removed link, or `NotFound`.
pub async fn remove_link(conn: &mut AnyConnection, ticket_id: i64, link_id: i64) -> Result<LinkRow> {
    let sql = AssertSqlSafe(format!("{LINKS} where l.ticket_id = $1 and l.id = $2"));
    let link: LinkRow =
        sqlx::query_as(sql).bind(ticket_id).bind(link_id).fetch_optional(&mut *conn).await?.ok_or(DbError::NotFound)?;
    sqlx::query("delete from ticket_links where id = $1").bind(link_id).execute(&mut *conn).await?;
    Ok(link)
}

impl Db {
    /// The links of several tickets at once (the list's rows), as `(ticket id, kind, ref)`.
    pub async fn links_of_tickets(&self, ids: &[i64]) -> Result<Vec<(i64, String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = AssertSqlSafe(format!(
            "select l.ticket_id, l.kind, coalesce(o.number, ol_o.number || '/' || ol.line_ref, p.ref, '') from ticket_links l \
             left join orders o on l.kind = 'order' and o.id = l.target_id \
             left join order_lines ol on l.kind = 'order_line' and ol.id = l.target_id left join orders ol_o on ol_o.id = ol.order_id \
             left join products p on l.kind = 'product' and p.id = l.target_id where l.ticket_id in ({}) order by l.id",
            marks.join(", ")
        ));
        let mut q = sqlx::query_as::<_, (i64, String, String)>(sql);
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.pool()).await?)
    }
}
