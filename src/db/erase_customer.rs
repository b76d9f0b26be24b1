//! Erasing a customer beyond their tickets' content: the customer row, participation, portal sign-ins, mail queued
//! to them, orders, block list, quarantine and bounce entries naming them; and the retention job's look-ups.

use super::Result;
use sqlx::AnyConnection;

/// The address an erased customer's row gets: unique, and no mail can come from it.
pub fn anonymous_address(customer_id: i64) -> String {
    format!("erased-{customer_id}@invalid")
}

/// `%text%` for `like … escape '\'`, the pattern characters of `text` taken literally.
fn containing(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The id of the customer with this (lower-cased) address.
pub async fn customer_id(conn: &mut AnyConnection, email: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("select id from customers where email = $1").bind(email).fetch_optional(conn).await?)
}

/// Anonymises the customer row (address [`anonymous_address`], no name, no note); later mail from the old address
/// makes a new customer. Locks the row first, so mail from them being stored now commits before or after, whole.
pub async fn anonymise(conn: &mut AnyConnection, customer_id: i64) -> Result<String> {
    let anon = anonymous_address(customer_id);
    sqlx::query("update customers set email = $2, name = '', note = '', blocked = 0 where id = $1")
        .bind(customer_id)
        .bind(&anon)
        .execute(conn)
        .await?;
    Ok(anon)
}

/// The tickets the customer is the requester of: `(id, erased before)`.
pub async fn requested_tickets(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<(i64, bool)>> {
    let rows: Vec<(i64, Option<i64>)> =
        sqlx::query_as("select id, erased_at from tickets where requester_id = $1 order by id")
            .bind(customer_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(id, at)| (id, at.is_some())).collect())
}

/// Every ticket that holds a participant entry of the customer or a message they wrote: `(id, erased before)`.
pub async fn touched_tickets(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<(i64, bool)>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "select id, erased_at from tickets where id in (select ticket_id from ticket_participants where customer_id = $1 \
         union select ticket_id from messages where customer_id = $1) order by id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, at)| (id, at.is_some())).collect())
}

/// Removes the customer from every ticket's participants.
pub async fn drop_participation(conn: &mut AnyConnection, customer_id: i64) -> Result<()> {
    sqlx::query("delete from ticket_participants where customer_id = $1").bind(customer_id).execute(conn).await?;
    Ok(())
}

/// The messages of a ticket whose recipients name `email`: `(id, to_json, cc_json)`.
pub async fn addressed_to(conn: &mut AnyConnection, ticket_id: i64, email: &str) -> Result<Vec<(i64, String, String)>> {
    Ok(sqlx::query_as(
        "select id, to_json, cc_json from messages where ticket_id = $1 \
         and (lower(to_json) like $2 escape '\\' or lower(cc_json) like $2 escape '\\')",
    )
    .bind(ticket_id)
    .bind(containing(email))
    .fetch_all(conn)
    .await?)
}

/// Replaces a message's recipient lists.
pub async fn set_recipients(conn: &mut AnyConnection, id: i64, to_json: &str, cc_json: &str) -> Result<()> {
    sqlx::query("update messages set to_json = $2, cc_json = $3 where id = $1")
        .bind(id)
        .bind(to_json)
        .bind(cc_json)
        .execute(conn)
        .await?;
    Ok(())
}

/// Mail to `email`: the deliveries name `anon` instead, those not sent yet are cancelled, and the mails are emptied
/// (they carry the address). Returns the tickets of those mails.
pub async fn silence_mail_to(conn: &mut AnyConnection, email: &str, anon: &str, now: i64) -> Result<Vec<i64>> {
    let outbound: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "select distinct o.id, o.ticket_id from outbound_mails o join deliveries d on d.outbound_id = o.id \
         where lower(d.recipient) = $1",
    )
    .bind(email)
    .fetch_all(&mut *conn)
    .await?;
    for (id, _) in &outbound {
        sqlx::query("update outbound_mails set raw = $2 where id = $1")
            .bind(*id)
            .bind(Vec::<u8>::new())
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "update deliveries set status = 'failed', last_error = $2, updated_at = $3, lease_owner = null, \
             lease_until = null where outbound_id = $1 and status in ('queued', 'sending')",
        )
        .bind(*id)
        .bind(super::erase::CANCELLED)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("update deliveries set recipient = $2 where lower(recipient) = $1")
        .bind(email)
        .bind(anon)
        .execute(&mut *conn)
        .await?;
    Ok(outbound.into_iter().filter_map(|(_, t)| t).collect())
}

/// Ends the customer's portal sessions and unused sign-in links (both keyed by address).
pub async fn forget_portal(conn: &mut AnyConnection, email: &str) -> Result<()> {
    sqlx::query("delete from portal_sessions where email = $1").bind(email).execute(&mut *conn).await?;
    sqlx::query("delete from portal_login_tokens where email = $1").bind(email).execute(&mut *conn).await?;
    Ok(())
}

/// The shop's orders of `email` name `anon` instead (the order stays for the shop's links).
pub async fn anonymise_orders(conn: &mut AnyConnection, email: &str, anon: &str) -> Result<()> {
    sqlx::query("update orders set customer_email = $2 where customer_email = $1")
        .bind(email)
        .bind(anon)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the block list entry of exactly this address (a domain entry stays).
pub async fn drop_block(conn: &mut AnyConnection, email: &str) -> Result<()> {
    sqlx::query("delete from blocked_senders where entry = $1").bind(email).execute(conn).await?;
    Ok(())
}

/// Deletes quarantine entries whose headers and bounce reports whose recipients name `email`; returns the raw
/// messages they held.
pub async fn drop_mentions(conn: &mut AnyConnection, email: &str) -> Result<Vec<i64>> {
    let pattern = containing(email);
    let mut raws: Vec<Option<i64>> =
        sqlx::query_scalar("delete from quarantine where lower(headers) like $1 escape '\\' returning raw_id")
            .bind(&pattern)
            .fetch_all(&mut *conn)
            .await?;
    let bounced: Vec<i64> =
        sqlx::query_scalar("delete from bounces where lower(recipients) like $1 escape '\\' returning raw_id")
            .bind(&pattern)
            .fetch_all(&mut *conn)
            .await?;
    raws.extend(bounced.into_iter().map(Some));
    Ok(raws.into_iter().flatten().collect())
}

/// A closed ticket the retention period has passed.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ClosedTicket {
    pub id: i64,
    pub number: i64,
    /// Its last change (when it was closed, unless touched after).
    pub updated_at: i64,
    pub requester: String,
}

/// Closed, not yet erased tickets untouched since before `cutoff`, oldest first, at most `limit`.
pub async fn closed_before(conn: &mut AnyConnection, cutoff: i64, limit: i64) -> Result<Vec<ClosedTicket>> {
    Ok(sqlx::query_as(
        "select t.id, t.number, t.updated_at, c.email as requester from tickets t join customers c on c.id = t.requester_id \
         where t.status = 'closed' and t.erased_at is null and t.updated_at < $1 order by t.updated_at, t.id limit $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The requester and participants of a ticket who have no ticket left that is not erased (and are not
/// anonymised yet): `(id, address)`.
pub async fn left_without_tickets(conn: &mut AnyConnection, ticket_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "select c.id, c.email from customers c where c.id in (select requester_id from tickets where id = $1 \
         union select customer_id from ticket_participants where ticket_id = $1) \
         and c.email not like 'erased-%@invalid' \
         and not exists (select 1 from tickets t where t.requester_id = c.id and t.erased_at is null) \
         and not exists (select 1 from ticket_participants p join tickets t on t.id = p.ticket_id \
                         where p.customer_id = c.id and t.erased_at is null)",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await?)
}
