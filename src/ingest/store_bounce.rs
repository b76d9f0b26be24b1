//! Storing a bounce: the failed deliveries of our mail marked, an event on its ticket, or the bounce log.

use super::prepare::PreparedMail;
use super::store::{Outcome, OutcomeKind, StoreContext};
use crate::db::{self, DbError};
use sqlx::AnyConnection;

pub(super) async fn store_bounce(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    raw_id: i64,
    now: i64,
) -> Result<Outcome, DbError> {
    let report = m.mail.classification.bounce.as_ref().expect("checked by caller");
    let original = report.original_message_id.as_deref();
    let error =
        format!("bounced: {} {}", report.status.as_deref().unwrap_or(""), report.diagnostic.as_deref().unwrap_or(""))
            .trim()
            .to_string();
    let from_outbox = match original {
        Some(id) => db::outbox::bounce_failed(conn, id, &report.recipients, &error, now).await?,
        None => None,
    };
    let ticket = match (from_outbox, original) {
        (Some(tid), _) => db::tickets::by_id(&mut *conn, tid).await?,
        (None, Some(id)) => match cx.signer.check_message_id(id) {
            Some(number) => db::tickets::by_number(&mut *conn, number).await?,
            None => match db::messages::ticket_of_message_id(conn, &[id.to_string()]).await? {
                Some(tid) => db::tickets::by_id(&mut *conn, tid).await?,
                None => None,
            },
        },
        (None, None) => None,
    };
    let recipients = report.recipients.join(", ");
    let bounce = db::raw::NewBounce {
        raw_id,
        mailbox_id: cx.mailbox.id,
        ticket_id: ticket.as_ref().map(|t| t.id),
        original_message_id: original,
        status: report.status.as_deref(),
        diagnostic: report.diagnostic.as_deref(),
        recipients: &recipients,
    };
    db::raw::insert_bounce(conn, &bounce, now).await?;
    if let Some(t) = &ticket {
        let detail = format!(
            "delivery to {} failed: {} {}",
            recipients,
            report.status.as_deref().unwrap_or(""),
            report.diagnostic.as_deref().unwrap_or("")
        );
        db::messages::insert_event(&mut *conn, t.id, "system", "bounce", detail.trim(), now).await?;
    }
    let reason = ticket.is_none().then(|| "bounce names no message of ours; kept in the bounce log".to_string());
    Ok(Outcome::new(OutcomeKind::Bounce, ticket.map(|t| t.number), reason))
}
