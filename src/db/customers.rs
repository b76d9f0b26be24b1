//! Customers (requesters and Cc participants) and their ticket participation.

use super::Result;
use crate::domain::DisplayName;
use sqlx::{Any, AnyConnection, Executor};

/// A customer known by e-mail address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub blocked: i64,
}

/// Finds or creates the customer with this (lower-cased) address, filling in a missing name; one statement.
pub async fn upsert(conn: &mut AnyConnection, email: &str, name: &DisplayName, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into customers (email, name, created_at) values ($1, $2, $3) \
         on conflict (email) do update set name = case when customers.name = '' then excluded.name else customers.name end \
         returning id",
    )
    .bind(email)
    .bind(name.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Finds or creates several customers at once (`(address, name)`, each address once), filling in missing names;
/// address → id. One statement per 32.
pub async fn upsert_all(
    conn: &mut AnyConnection,
    people: &[(&str, &str)],
    now: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::insert_chunks(people, 32) {
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({}, ${})", super::marks(2 * i + 2, 2), 1)).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "insert into customers (email, name, created_at) values {} on conflict (email) do update \
             set name = case when customers.name = '' then excluded.name else customers.name end returning email, id",
            rows.join(", ")
        ));
        let mut q = sqlx::query_as::<_, (String, i64)>(sql).bind(now);
        for (email, name) in chunk {
            q = q.bind(*email).bind(*name);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Adds several participants `(ticket, customer, role)` at once (those already there stay as they are).
pub async fn add_participants(conn: &mut AnyConnection, rows: &[(i64, i64, &str)]) -> Result<()> {
    for chunk in super::insert_chunks(rows, 32) {
        let sql = super::wide_sql(conn, "ticket_participants", chunk.len(), || {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(3 * i + 1, 3))).collect();
            format!(
                "insert into ticket_participants (ticket_id, customer_id, role) values {} on conflict do nothing",
                values.join(", ")
            )
        });
        let mut q = sqlx::query(sql);
        for (ticket, customer, role) in chunk {
            q = q.bind(*ticket).bind(*customer).bind(*role);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds a participant to a ticket (no-op when already there).
pub async fn add_participant<'e>(
    conn: impl Executor<'e, Database = Any>,
    ticket_id: i64,
    customer_id: i64,
    role: &str,
) -> Result<()> {
    sqlx::query(
        "insert into ticket_participants (ticket_id, customer_id, role) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(ticket_id)
    .bind(customer_id)
    .bind(role)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `email` is the requester or a Cc participant of the ticket.
pub async fn is_participant<'e>(conn: impl Executor<'e, Database = Any>, ticket_id: i64, email: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from ticket_participants p join customers c on c.id = p.customer_id where p.ticket_id = $1 and c.email = $2",
    )
    .bind(ticket_id)
    .bind(email)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// The participants of a ticket (requester first).
pub async fn participants<'e>(
    conn: impl Executor<'e, Database = Any>,
    ticket_id: i64,
) -> Result<Vec<(CustomerRow, String)>> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "select c.id, c.email, c.name, c.blocked, p.role from ticket_participants p join customers c on c.id = p.customer_id \
         where p.ticket_id = $1 order by case p.role when 'requester' then 0 else 1 end, c.email",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, email, name, blocked, role)| (CustomerRow { id, email, name, blocked }, role))
        .collect())
}
