//! `/tickets/{number}`: the thread (mail, replies, notes, events), SLA badge, requester and participants, type, tags,
//! history, and the forms.

use super::auth::CurrentUser;
use super::pages::{layout, sv, take_flashes};
use crate::db::outbox::DeliveryRow;
use crate::db::{AttachmentRow, MessageRow, TicketFilter, TicketRow, UserRow};
use crate::web::{AppState, Error};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/{number}", get(show))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowParams {
    /// `1` loads remote images in HTML mail for this view.
    pub images: Option<u8>,
    /// A canned response to put into the reply box.
    pub canned: Option<i64>,
    /// A catalog search for linking orders and products.
    pub link_q: Option<String>,
}

/// What a form post hands back when it must show the page again with an error beside a field.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FormState {
    pub form: String,
    pub field: String,
    pub error: String,
    pub body: String,
    pub to: Option<String>,
    pub cc: Option<String>,
    /// A catalog search to show (orders and products to link).
    pub link_q: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Query(p): Query<ShowParams>,
) -> Result<Response, Error> {
    let mut form = FormState::default();
    if let Some(id) = p.canned {
        match canned_text(&state, &user, number, id).await {
            Ok(text) => form.body = text,
            Err(error) => form = FormState { form: "reply".into(), field: "body".into(), error, ..Default::default() },
        }
    }
    form.link_q = p.link_q.filter(|q| !q.trim().is_empty());
    render(&state, &user, &session, number, p.images == Some(1), form, StatusCode::OK).await
}

/// Renders the ticket page (also after a form error, with the error beside its field).
pub async fn render(
    state: &AppState,
    user: &UserRow,
    session: &Session,
    number: i64,
    images: bool,
    form: FormState,
    status: StatusCode,
) -> Result<Response, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let messages = state.db.messages(t.id).await?;
    let attachments = state.db.ticket_attachments(t.id).await?;
    let deliveries = state.db.ticket_deliveries(t.id).await?;
    let events = state.db.events(t.id).await?;
    let participants = crate::db::customers::participants(state.db.pool(), t.id).await?;
    let others = other_tickets(state, user, &t).await?;
    let names = super::rules::macros::ActorNames::of(state, &events).await?;
    let clock = crate::db::sla::clock(state.db.pool(), t.id).await?;
    let mut remote_images = false;
    let mut timeline: Vec<(i64, i64, Value)> = messages
        .iter()
        .map(|m| {
            let (v, remote) = message_view(&t, m, &attachments, &deliveries);
            remote_images |= remote;
            (m.created_at, m.id * 2, v)
        })
        .collect();
    timeline.extend(events.iter().filter(|e| !shown_as_message(&e.kind)).map(|e| (e.at, e.id * 2 + 1, context! { kind => "event", event => context! { at => e.at, actor => names.label(&e.actor), kind => e.kind.clone(), detail => e.detail.clone() } })));
    timeline.sort_by_key(|(at, order, _)| (*at, *order));
    let cc: Vec<String> = participants.iter().filter(|(_, r)| r == "cc").map(|(c, _)| c.email.clone()).collect();
    let default_to = messages
        .iter()
        .rev()
        .find(|m| m.kind == crate::domain::MessageKind::Customer)
        .map(|m| if m.from_addr.is_empty() { t.requester_email.clone() } else { m.from_addr.clone() });
    let page = context! {
        t => sv(crate::web::api::ticket_json(&t, &[])),
        ticket_id => t.id,
        timeline => timeline.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>(),
        participants => participants.iter().map(|(c, role)| context! { email => c.email.clone(), name => c.name.clone(), role => role }).collect::<Vec<_>>(),
        others => others,
        tags => state.db.tags(t.id).await?,
        events => events.iter().map(|e| context! { at => e.at, actor => names.label(&e.actor), kind => e.kind.clone(), detail => e.detail.clone() }).collect::<Vec<_>>(),
        agents => assignable(state, t.mailbox_id).await?.into_iter().map(|u| context! { id => u.id, name => u.name.clone(), email => u.email.clone() }).collect::<Vec<_>>(),
        macros => super::rules::macros::buttons(state, user).await?,
        canned => state.db.canned_for(user.id).await?.into_iter().map(|c| context! { id => c.id, title => c.title.clone(), shared => c.owner_id.is_none() }).collect::<Vec<_>>(),
        statuses => crate::domain::Status::SETTABLE.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        priorities => crate::domain::Priority::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        mailboxes => state.db.mailboxes().await?.into_iter().map(|m| m.name).collect::<Vec<_>>(),
        types => sv(state.db.ticket_types().await?),
        due => sv(clock.as_ref().and_then(|c| super::due_badge::badge(c, crate::domain::now()))),
        sla => clock.as_ref().map(|c| sv(crate::web::api::sla_json(c))),
        form => sv(&form),
        reply_to => form.to.clone().or(default_to).unwrap_or(t.requester_email.clone()),
        reply_cc => form.cc.clone().unwrap_or_else(|| cc.join(", ")),
        idempotency_key => uuid::Uuid::new_v4().to_string(),
        images => images,
        remote_images => remote_images,
        notices => sv(notices(&deliveries)),
        replying => state.db.others_replying(t.id, user.id, crate::domain::now()).await?,
        follow_up_of => match t.parent_ticket_id { Some(id) => crate::db::tickets::by_id(state.db.pool(), id).await?.map(|p| p.number), None => None },
    };
    let page = with_shop(state, &t, page, form.link_q.as_deref()).await?;
    let html = state.pages.render("ticket.html", layout(Some(user), take_flashes(session).await, "tickets", page))?;
    let mut resp = (status, html).into_response();
    if images {
        let csp = super::CSP.replace("img-src 'self' data:", "img-src 'self' data: https: http:");
        resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("valid header"));
    }
    Ok(resp)
}

/// One message for the template; also whether its HTML refers to remote images.
fn message_view(
    t: &TicketRow,
    m: &MessageRow,
    attachments: &[AttachmentRow],
    deliveries: &[DeliveryRow],
) -> (Value, bool) {
    let atts: Vec<&AttachmentRow> = attachments.iter().filter(|a| a.message_id == m.id).collect();
    let html = m.body_html.as_deref().map(|h| inline_cid_images(h, t.number, &atts));
    let remote = html.as_deref().is_some_and(|h| h.contains("src=\"http"));
    let mine: Vec<&DeliveryRow> = deliveries.iter().filter(|d| d.message_id == Some(m.id)).collect();
    let delivery = (!mine.is_empty()).then(|| crate::web::api::delivery_json(&mine));
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
    let quoted = m.body_text.trim() != m.visible_text.trim() && !m.body_text.trim().is_empty();
    let v = context! {
        kind => m.kind.as_str(), id => m.id, from => m.from_addr.clone(), from_name => m.from_name.clone(), to => list(&m.to_json), cc => list(&m.cc_json),
        subject => m.subject.clone(), visible_text => m.visible_text.clone(), body_text => m.body_text.clone(), has_quoted => quoted,
        html => html.map(Value::from_safe_string), created_at => m.created_at, auto => m.auto == 1,
        verified => m.verified.map(|v| v == 1), flags => m.flags.split_whitespace().map(str::to_string).collect::<Vec<_>>(),
        attachments => atts.iter().filter(|a| a.inline == 0 || a.content_id.is_none()).map(|a| context! { id => a.id, filename => a.filename.clone(), content_type => a.content_type.clone(), size => a.size }).collect::<Vec<_>>(),
        delivery => delivery.map(|d| Value::from(minijinja::value::Serde(d))),
    };
    (v, remote)
}

/// `cid:` references point at the message's inline attachments, served from this ticket.
fn inline_cid_images(html: &str, number: i64, atts: &[&AttachmentRow]) -> String {
    let mut out = html.to_string();
    for a in atts {
        if let Some(cid) = &a.content_id {
            out = out.replace(
                &format!("src=\"cid:{cid}\""),
                &format!("src=\"/tickets/{number}/attachments/{}/inline\"", a.id),
            );
        }
    }
    out
}

async fn other_tickets(state: &AppState, user: &UserRow, t: &TicketRow) -> Result<Vec<Value>, Error> {
    let mailbox_ids = state.db.visible_mailboxes(user).await?;
    let filter =
        TicketFilter { requester_id: Some(t.requester_id), mailbox_ids, per_page: 11, page: 1, ..Default::default() };
    let (rows, _) = state.db.list_tickets(&filter).await?;
    Ok(rows
        .iter()
        .filter(|o| o.id != t.id)
        .take(10)
        .map(|o| context! { number => o.number, subject => o.subject.clone(), status => o.status.as_str() })
        .collect())
}

/// A canned response rendered for this ticket (its variables filled), or a message why not.
async fn canned_text(state: &AppState, user: &UserRow, number: i64, id: i64) -> Result<String, String> {
    let canned = state.db.canned(id).await.map_err(|_| "That canned response does not exist.".to_string())?;
    if canned.owner_id.is_some_and(|o| o != user.id) {
        return Err("That canned response belongs to someone else.".into());
    }
    let t = state.db.ticket(number).await.ok().flatten().ok_or("No such ticket.")?;
    let mut conn = state.db.pool().acquire().await.map_err(|e| e.to_string())?;
    let links = crate::outbound::context::links_json(
        &crate::db::catalog::links(&mut conn, t.id).await.map_err(|e| e.to_string())?,
    );
    let ctx = serde_json::json!({
        "ticket": crate::outbound::context::ticket_json(&t, &state.settings.server.public_url),
        "customer": { "name": t.requester_name, "email": t.requester_email },
        "agent": { "name": user.name, "email": user.email, "signature": user.signature },
        "links": links,
    });
    render_canned(&canned.body, &ctx)
        .map_err(|e| format!("The canned response \u{201c}{}\u{201d} does not render: {e}", canned.title))
}

/// Renders a canned response body (plain text, minijinja syntax) with a context; one that needs more than
/// [`crate::outbound::snippet::SNIPPET_FUEL`] fails with `ErrorKind::OutOfFuel`.
pub fn render_canned(body: &str, ctx: &serde_json::Value) -> Result<String, minijinja::Error> {
    crate::outbound::snippet::render(body, ctx)
}

/// Adds the shop section: linked orders (with their lines) and products, suggestions, search results.
async fn with_shop(state: &AppState, t: &TicketRow, page: Value, q: Option<&str>) -> Result<Value, Error> {
    let mut conn = state.db.pool().acquire().await.map_err(crate::db::DbError::from)?;
    let links = crate::db::catalog::links(&mut conn, t.id).await?;
    drop(conn);
    let mut shown = Vec::new();
    for l in &links {
        let mut v = crate::web::api::link_json(l, &t.requester_email);
        if l.kind == "order" {
            v["lines"] = serde_json::to_value(state.db.order_lines(&l.r#ref).await?).unwrap_or_default();
        }
        shown.push(v);
    }
    let linked: Vec<String> = links.iter().filter(|l| l.kind == "order").map(|l| l.r#ref.clone()).collect();
    let suggestions: Vec<_> = state
        .db
        .recent_orders(&t.requester_email, 5)
        .await?
        .into_iter()
        .filter(|o| !linked.contains(&o.r#ref))
        .collect();
    let results = match q {
        Some(q) => state.db.search_catalog(q, 15).await?,
        None => Vec::new(),
    };
    let extra =
        context! { links => sv(shown), suggestions => sv(suggestions), link_q => q, link_results => sv(results) };
    Ok(context! { ..page, ..extra })
}

/// Mail about the ticket that is not a message of its thread (acknowledgements, notices), newest first,
/// each with its recipients' delivery status.
fn notices(deliveries: &[DeliveryRow]) -> Vec<serde_json::Value> {
    let mut ids: Vec<i64> = deliveries.iter().filter(|d| d.message_id.is_none()).map(|d| d.outbound_id).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.iter()
        .map(|id| {
            let ds: Vec<&DeliveryRow> = deliveries.iter().filter(|d| d.outbound_id == *id).collect();
            serde_json::json!({ "kind": ds[0].kind, "created_at": ds[0].created_at, "delivery": crate::web::api::delivery_json(&ds) })
        })
        .collect()
}

/// Events whose message is in the thread already (the timeline shows the message, not the event too).
fn shown_as_message(kind: &str) -> bool {
    use crate::domain::EventKind::*;
    matches!(crate::domain::EventKind::parse(kind), Some(TicketCreated | MessageReceived | ReplySent | NoteAdded))
}

/// The active staff who may see tickets of `mailbox` (the assignment choices).
async fn assignable(state: &AppState, mailbox: i64) -> Result<Vec<UserRow>, Error> {
    let mut out = Vec::new();
    for u in state.db.users().await?.into_iter().filter(|u| u.active == 1) {
        if state.db.can_see(&u, mailbox).await? {
            out.push(u);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::render_canned;
    use serde_json::json;

    #[test]
    fn canned_responses_render_but_endless_ones_run_out_of_fuel() {
        let ctx = json!({ "customer": { "name": "Carla" } });
        let list = "{% for n in range(50) %}{{ n }} {% endfor %}";
        assert_eq!(render_canned("Hi {{ customer.name }}!", &ctx).unwrap(), "Hi Carla!");
        assert!(render_canned(list, &ctx).unwrap().starts_with("0 1 2"));
        for endless in [
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
            "{% for a in range(100000) %}{{ 'x' * 100000 }}{% endfor %}",
        ] {
            let e = render_canned(endless, &ctx).unwrap_err();
            assert_eq!(e.kind(), minijinja::ErrorKind::OutOfFuel, "{endless}: {e}");
        }
    }
}
