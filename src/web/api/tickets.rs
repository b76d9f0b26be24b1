//! `GET /api/v1/tickets` (filters, paging) and `GET /api/v1/tickets/{number}` (thread, history, links).

use super::ApiUser;
use crate::db::outbox::DeliveryRow;
use crate::db::ticket_filter::Sort;
use crate::db::{AttachmentRow, MessageRow, TicketFilter, TicketRow};
use crate::domain::sla::SlaState;
use crate::domain::{Priority, Status, rfc3339};
use crate::web::{AppState, Error, Result};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets", get(list)).route("/tickets/{number}", get(show))
}

/// Query parameters of the list; an unknown one is a 400 (a misspelt filter must not silently list everything).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub mailbox: Option<String>,
    /// Only tickets of this team's mailboxes.
    pub team: Option<String>,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// `warning` or `breached` (or another SLA state).
    pub sla: Option<String>,
    pub q: Option<String>,
    pub tag: Option<String>,
    pub order: Option<String>,
    pub product: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Turns query parameters into a filter; `assignee=me|none|EMAIL`.
pub async fn filter_from(state: &AppState, user: &crate::db::UserRow, q: &ListQuery) -> Result<TicketFilter> {
    let user_id = user.id;
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let statuses = match nonempty(&q.status) {
        Some(s) => s.split(',').map(Status::parse).collect::<Result<Vec<_>, _>>().map_err(Error::BadRequest)?,
        None => Vec::new(),
    };
    let assignee = match nonempty(&q.assignee).as_deref() {
        None => None,
        Some("me") => Some(Some(user_id)),
        Some("none") => Some(None),
        Some(email) => {
            let user = state.db.user_by_email(&email.to_lowercase()).await?;
            Some(Some(user.ok_or_else(|| Error::BadRequest(format!("no user {email}")))?.id))
        }
    };
    Ok(TicketFilter {
        statuses,
        assignee,
        mailbox: nonempty(&q.mailbox),
        mailbox_ids: crate::web::rights::list_scope(state, user, q.team.as_deref()).await?,
        priority: nonempty(&q.priority).map(|p| Priority::parse(&p)).transpose().map_err(Error::BadRequest)?,
        type_name: nonempty(&q.type_name).map(|t| t.to_lowercase()),
        sla: match nonempty(&q.sla) {
            Some(s) if s == "running" => None,
            Some(s) => Some(
                SlaState::parse(&s)
                    .ok_or_else(|| {
                        Error::BadRequest(format!(
                            "sla: {s:?} is not one of running, ok, warning, breached, paused, met"
                        ))
                    })?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        },
        // `running`: a target is running (a due time to sort by), whatever the state.
        has_due: nonempty(&q.sla).as_deref() == Some("running"),
        query: nonempty(&q.q),
        tag: nonempty(&q.tag),
        order: nonempty(&q.order),
        product: nonempty(&q.product),
        requester_id: None,
        sort: match nonempty(&q.sort) {
            Some(s) => Sort::parse(&s).ok_or_else(|| {
                Error::BadRequest(format!("sort: {s:?} is not one of updated, oldest, created, priority, due"))
            })?,
            None => Sort::Updated,
        },
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
        ..TicketFilter::default()
    })
}

async fn list(State(state): State<AppState>, user: ApiUser, Query(q): Query<ListQuery>) -> Result<Json<Value>> {
    let filter = filter_from(&state, &user.0, &q).await?;
    let (rows, total) = state.db.list_tickets(&filter).await?;
    let tags = state.db.tags_of(&rows.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let clocks = sla_by_ticket(&state, &ids).await?;
    let tickets: Vec<Value> = rows
        .iter()
        .map(|t| {
            let mut j = ticket_json(t, tags.get(&t.id).map_or(&[], Vec::as_slice));
            j["sla"] = clocks.get(&t.id).cloned().unwrap_or(Value::Null);
            j
        })
        .collect();
    Ok(Json(json!({ "tickets": tickets, "total": total.count, "total_capped": total.capped })))
}

/// The list representation of a ticket.
/// The SLA clocks of tickets `ids` as the API shows them, by ticket id.
pub async fn sla_by_ticket(state: &AppState, ids: &[i64]) -> Result<std::collections::HashMap<i64, Value>> {
    let clocks = crate::db::sla::clocks(state.db.pool(), ids).await?;
    Ok(clocks.iter().map(|c| (c.ticket_id, sla_json(c))).collect())
}

/// A ticket's clock: `{"policy", "state", "first_response_due", "first_response_at", "next_response_due",
/// "resolution_due", "paused_minutes", "due_at"}` (times RFC 3339; `due_at` is the next running target's).
pub fn sla_json(c: &crate::db::sla::ClockRow) -> Value {
    let time = |at: Option<i64>| at.map(rfc3339);
    json!({
        "policy": c.policy, "state": c.state,
        "first_response_due": time(c.first_response_due), "first_response_at": time(c.first_response_at),
        "next_response_due": time(c.next_response_due), "resolution_due": time(c.resolution_due),
        "resolved_at": time(c.resolved_at), "paused_minutes": c.paused_minutes, "due_at": time(c.due_at),
    })
}

/// A ticket as the API shows it with its tags and clock (read now).
pub async fn ticket_json_read(state: &AppState, t: &TicketRow) -> Result<Value> {
    let mut j = ticket_json(t, &state.db.tags(t.id).await?);
    j["sla"] = sla_by_ticket(state, &[t.id]).await?.remove(&t.id).unwrap_or(Value::Null);
    Ok(j)
}

/// A ticket as the API shows it; `"sla"` is null here, filled in by callers that read the clock.
pub fn ticket_json(t: &TicketRow, tags: &[String]) -> Value {
    let assignee = match (&t.assignee_email, &t.assignee_name) {
        (Some(email), name) => json!({ "email": email, "name": name.clone().unwrap_or_default() }),
        _ => Value::Null,
    };
    json!({
        "number": t.number, "subject": t.subject, "status": t.status, "priority": t.priority, "mailbox": t.mailbox,
        "requester": { "email": t.requester_email, "name": t.requester_name }, "assignee": assignee,
        "created_at": rfc3339(t.created_at), "updated_at": rfc3339(t.updated_at), "message_count": t.message_count,
        "tags": tags, "type": t.type_name, "sla": null, "merged_into": t.merged_into,
    })
}

async fn show(State(state): State<AppState>, _user: ApiUser, Path(number): Path<i64>) -> Result<Json<Value>> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let messages = state.db.messages(t.id).await?;
    let attachments = state.db.ticket_attachments(t.id).await?;
    let events = state.db.events(t.id).await?;
    let deliveries = state.db.ticket_deliveries(t.id).await?;
    let participants = crate::db::customers::participants(state.db.pool(), t.id).await?;
    let parent = match t.parent_ticket_id {
        Some(id) => crate::db::tickets::by_id(state.db.pool(), id).await?.map(|p| p.number),
        None => None,
    };
    let mut body = ticket_json_read(&state, &t).await?;
    body["follow_up_of"] = json!(parent);
    body["participants"] =
        participants.iter().map(|(c, role)| json!({ "email": c.email, "name": c.name, "role": role })).collect();
    body["messages"] = messages.iter().map(|m| message_json(m, &attachments, &deliveries)).collect();
    body["outbound"] = outbound_json(&deliveries);
    body["events"] = events
        .iter()
        .map(|e| {
            let data = serde_json::from_str::<Value>(&e.data).unwrap_or_else(|_| json!({}));
            json!({ "id": e.id, "at": rfc3339(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail, "data": data })
        })
        .collect();
    let mut conn = state.db.pool().acquire().await.map_err(crate::db::DbError::from)?;
    let links = crate::db::catalog::links(&mut conn, t.id).await?;
    body["links"] = links.iter().map(|l| super::link_json(l, &t.requester_email)).collect();
    Ok(Json(body))
}

/// Every mail sent about the ticket (acknowledgements, replies, notices), with per-recipient status.
fn outbound_json(deliveries: &[DeliveryRow]) -> Value {
    let mut ids: Vec<i64> = deliveries.iter().map(|d| d.outbound_id).collect();
    ids.dedup();
    ids.iter()
        .map(|id| {
            let ds: Vec<&DeliveryRow> = deliveries.iter().filter(|d| d.outbound_id == *id).collect();
            json!({ "kind": ds[0].kind, "message_id": ds[0].header_message_id, "created_at": rfc3339(ds[0].created_at), "delivery": delivery_json(&ds) })
        })
        .collect()
}

/// `{status, error, recipients}`: failed when any recipient failed, queued while any is pending, else sent.
pub fn delivery_json(ds: &[&DeliveryRow]) -> Value {
    let status = if ds.iter().any(|d| d.status == "failed") {
        "failed"
    } else if ds.iter().any(|d| d.status != "sent") {
        "queued"
    } else {
        "sent"
    };
    let error = ds.iter().filter(|d| d.status == "failed").find_map(|d| d.last_error.clone());
    let recipients: Vec<Value> = ds
        .iter()
        .map(|d| {
            json!({ "id": d.id, "email": d.recipient, "status": d.status, "attempts": d.attempts, "error": d.last_error,
                    "sent_at": d.sent_at.map(rfc3339) })
        })
        .collect();
    json!({ "status": status, "error": error, "recipients": recipients })
}

/// The API representation of a message.
pub fn message_json(m: &MessageRow, attachments: &[AttachmentRow], deliveries: &[DeliveryRow]) -> Value {
    let mine: Vec<&DeliveryRow> = deliveries.iter().filter(|d| d.message_id == Some(m.id)).collect();
    let delivery = if mine.is_empty() { Value::Null } else { delivery_json(&mine) };
    let list = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| json!([]));
    let atts: Vec<Value> = attachments
        .iter()
        .filter(|a| a.message_id == m.id)
        .map(|a| json!({ "id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256, "inline": a.inline == 1 }))
        .collect();
    json!({
        "id": m.id, "kind": m.kind, "from": m.from_addr, "from_name": m.from_name, "to": list(&m.to_json), "cc": list(&m.cc_json),
        "subject": m.subject, "message_id": m.message_id, "in_reply_to": m.in_reply_to, "visible_text": m.visible_text,
        "body_text": m.body_text, "body_html": m.body_html, "created_at": rfc3339(m.created_at), "auto": m.auto == 1,
        "verified": m.verified.map(|v| v == 1), "flags": m.flags.split_whitespace().collect::<Vec<_>>(),
        "delivery": delivery, "attachments": atts,
    })
}
