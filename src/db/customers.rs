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

/// Finds or creates the customer with this (lower-cased) address, filling in a missing name.
pub async fn upsert(conn: &mut AnyConnection, email: &str, name: &DisplayName, now: i64) -> Result<i64> {
    let found = upsert_all(conn, &[(email, name.as_str())], now).await?;
    // Missing only when another transaction created the customer and erased it again meanwhile.
    found.get(email).copied().ok_or(super::DbError::NotFound)
}

/// Finds or creates several customers at once (`(address, name)`, each address once), filling in missing names;
/// address → id. A known customer is only read: an `on conflict do update` would write (and, on PostgreSQL, lock
/// until commit) every known customer's row on every mail, so two instances' batches that share customers would
/// wait on each other. Only a name filled in is written.
pub async fn upsert_all(
    conn: &mut AnyConnection,
    people: &[(&str, &str)],
    now: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    // In address order, so two transactions inserting or naming the same customers take their row locks in the
    // same order and cannot deadlock.
    let mut people = people.to_vec();
    people.sort_unstable();
    let addresses: Vec<&str> = people.iter().map(|(email, _)| *email).collect();
    let mut stored = by_email(conn, &addresses).await?;
    let new: Vec<(&str, &str)> = people.iter().filter(|(email, _)| !stored.contains_key(*email)).copied().collect();
    let inserted = insert_new(conn, &new, now).await?;
    // Created by another transaction since the look-up: the insert waited for its commit and left the row alone.
    let raced: Vec<&str> = new.iter().map(|(email, _)| *email).filter(|email| !inserted.contains_key(*email)).collect();
    stored.extend(by_email(conn, &raced).await?);
    for (email, name) in &people {
        if let Some((id, stored_name)) = stored.get(*email)
            && stored_name.is_empty()
            && !name.is_empty()
        {
            sqlx::query("update customers set name = $1 where id = $2 and name = ''")
                .bind(*name)
                .bind(*id)
                .execute(&mut *conn)
                .await?;
        }
    }
    let mut out: std::collections::HashMap<String, i64> = inserted;
    out.extend(stored.into_iter().map(|(email, (id, _))| (email, id)));
    Ok(out)
}

/// The customers with these addresses: address → (id, name). One statement per 32.
async fn by_email(
    conn: &mut AnyConnection,
    addresses: &[&str],
) -> Result<std::collections::HashMap<String, (i64, String)>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::insert_chunks(addresses, 32) {
        let sql = super::wide_sql(conn, "customers_by_email", chunk.len(), || {
            format!("select email, id, name from customers where email in ({})", super::marks(1, chunk.len()))
        });
        let mut q = sqlx::query_as::<_, (String, i64, String)>(sql);
        for email in chunk {
            q = q.bind(*email);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|(email, id, name)| (email, (id, name))));
    }
    Ok(out)
}

/// Inserts customers not known yet; address → id of those inserted (an address another transaction inserted
/// first is left out). One statement per 32.
async fn insert_new(
    conn: &mut AnyConnection,
    people: &[(&str, &str)],
    now: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::insert_chunks(people, 32) {
        let sql = super::wide_sql(conn, "customers_insert_new", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(3 * i + 1, 3))).collect();
            format!(
                "insert into customers (email, name, created_at) values {} on conflict (email) do nothing \
                 returning email, id",
                rows.join(", ")
            )
        });
        let mut q = sqlx::query_as::<_, (String, i64)>(sql);
        for (email, name) in chunk {
            q = q.bind(*email).bind(*name).bind(now);
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
