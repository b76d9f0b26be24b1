//! The shop catalog: products, orders with their lines (upserted by the shop), and ticket links to them.

pub use super::links::{LinkRow, add_link, any_orders, links, links_of, remove_link, target_id};
use super::{Db, Result};
pub use crate::domain::catalog::{Order, OrderLine, Product};
use sqlx::AnyConnection;

/// Whether an upsert created or updated the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Created,
    Updated,
}

/// Creates or updates a product by reference.
pub async fn upsert_product(conn: &mut AnyConnection, p: &Product, now: i64) -> Result<Upsert> {
    let existed: Option<i64> =
        sqlx::query_scalar("select id from products where ref = $1").bind(&p.r#ref).fetch_optional(&mut *conn).await?;
    sqlx::query(
        "insert into products (ref, title, url, price, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) \
         on conflict (ref) do update set title = excluded.title, url = excluded.url, price = excluded.price, updated_at = excluded.updated_at",
    )
    .bind(&p.r#ref)
    .bind(&p.title)
    .bind(&p.url)
    .bind(&p.price)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(if existed.is_some() { Upsert::Updated } else { Upsert::Created })
}

/// Creates or updates an order and makes its lines exactly the given ones (matched by line reference).
pub async fn upsert_order(conn: &mut AnyConnection, o: &Order, now: i64) -> Result<Upsert> {
    let existed: Option<i64> = sqlx::query_scalar("select id from orders where number = $1")
        .bind(&o.number)
        .fetch_optional(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "insert into orders (number, customer_email, status, total, currency, placed_at, url, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8) on conflict (number) do update set customer_email = excluded.customer_email, \
         status = excluded.status, total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at, \
         url = excluded.url, updated_at = excluded.updated_at returning id",
    )
    .bind(&o.number)
    .bind(o.customer_email.to_lowercase())
    .bind(&o.status)
    .bind(&o.total)
    .bind(&o.currency)
    .bind(o.placed_at)
    .bind(&o.url)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for l in &o.lines {
        sqlx::query(
            "insert into order_lines (order_id, line_ref, product_ref, title, quantity, status) values ($1, $2, $3, $4, $5, $6) \
             on conflict (order_id, line_ref) do update set product_ref = excluded.product_ref, title = excluded.title, \
             quantity = excluded.quantity, status = excluded.status",
        )
        .bind(id)
        .bind(&l.r#ref)
        .bind(&l.product_ref)
        .bind(&l.title)
        .bind(l.quantity)
        .bind(&l.status)
        .execute(&mut *conn)
        .await?;
    }
    if existed.is_some() {
        remove_other_lines(conn, id, &o.lines).await?;
    }
    Ok(if existed.is_some() { Upsert::Updated } else { Upsert::Created })
}

async fn remove_other_lines(conn: &mut AnyConnection, order_id: i64, keep: &[OrderLine]) -> Result<()> {
    let existing: Vec<(i64, String)> = sqlx::query_as("select id, line_ref from order_lines where order_id = $1")
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?;
    for (id, line_ref) in existing {
        if !keep.iter().any(|l| l.r#ref == line_ref) {
            sqlx::query("delete from ticket_links where kind = 'order_line' and target_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("delete from order_lines where id = $1").bind(id).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// An order or product found by a search, for linking.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CatalogHit {
    pub kind: String,
    pub r#ref: String,
    pub title: String,
    pub status: String,
    pub customer_email: String,
}

impl Db {
    /// Orders by number prefix or customer address, products by reference prefix or title words.
    pub async fn search_catalog(&self, q: &str, limit: i64) -> Result<Vec<CatalogHit>> {
        let q = q.trim().to_lowercase();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = format!("{}%", q.replace(['%', '_'], ""));
        let words = format!("%{}%", q.replace(['%', '_'], ""));
        Ok(sqlx::query_as(
            "select 'order' as kind, number as ref, 'Order ' || number as title, status, customer_email from orders \
             where lower(number) like $1 or customer_email like $2 \
             union all select 'product' as kind, ref, title, '' as status, '' as customer_email from products \
             where lower(ref) like $1 or lower(title) like $2 limit $3",
        )
        .bind(&prefix)
        .bind(&words)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// A customer's most recent orders (suggestions on the ticket page).
    pub async fn recent_orders(&self, customer_email: &str, limit: i64) -> Result<Vec<CatalogHit>> {
        Ok(sqlx::query_as(
            "select 'order' as kind, number as ref, 'Order ' || number as title, status, customer_email from orders \
             where customer_email = $1 order by placed_at desc, id desc limit $2",
        )
        .bind(customer_email.to_lowercase())
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The lines of an order.
    pub async fn order_lines(&self, number: &str) -> Result<Vec<OrderLine>> {
        let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(
            "select ol.line_ref, ol.product_ref, ol.title, ol.quantity, ol.status from order_lines ol join orders o on o.id = ol.order_id \
             where o.number = $1 order by ol.id",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(r, p, t, q, s)| OrderLine { r#ref: r, product_ref: p, title: t, quantity: q, status: s })
            .collect())
    }

    /// How many products, orders and order lines exist.
    pub async fn catalog_counts(&self) -> Result<(i64, i64, i64)> {
        Ok(sqlx::query_as(
            "select (select count(*) from products), (select count(*) from orders), (select count(*) from order_lines)",
        )
        .fetch_one(self.pool())
        .await?)
    }
}
