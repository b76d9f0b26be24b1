//! Rules' actions on a ticket, inside the caller's transaction (the rules consumer's, or a macro's), each recorded
//! as the event of the change it made with actor `rule:{id}`; mail (replies, notices) queued in the same
//! transaction, webhooks queued for the webhook sender.

use super::{TicketError, Tickets, record};
use crate::db::{self, MailboxRow, TicketRow, messages::NewMessage};
use crate::domain::rule::Action;
use crate::domain::{Actor, MessageKind, Priority, Status, TemplateKind, TicketEvent};
use crate::outbound::{AutoSubmitted, FromName, MailIntent, MessageText, RuleNote};
use serde_json::{Value, json};
use sqlx::AnyConnection;

/// A rule's replies to one recipient per hour at most (a loop breaker against other robots).
pub const RULE_REPLIES_PER_HOUR: i64 = 3;

/// The rule acting, and the event it acts on (sent with webhooks).
#[derive(Debug, Clone)]
pub struct RuleCause<'a> {
    pub rule_id: i64,
    pub rule_name: &'a str,
    /// The triggering event as JSON (`{"id", "kind", "actor", "data"}`), or the run (`{"kind": "schedule"}`).
    pub event: Value,
    pub event_id: Option<i64>,
}

impl Tickets {
    /// Applies one action of a rule to ticket `ticket_id`; returns what it did, for the rule's runs (`None`: nothing
    /// to do, e.g. the status was already set).
    pub async fn apply_rule_action(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        action: &Action,
        cause: &RuleCause<'_>,
        now: i64,
    ) -> Result<Option<String>, TicketError> {
        // Each action sees what the ones before it did.
        let t = db::tickets::by_id(&mut *conn, ticket_id).await?.ok_or(TicketError::NotFound)?;
        if t.status == Status::Merged {
            return Ok(None);
        }
        let who = Actor::Rule(cause.rule_id);
        let done = action.describe();
        let mut mail = Vec::new();
        let changed = match action {
            Action::SetStatus { value } => {
                let s = Status::parse(value).map_err(TicketError::Invalid)?;
                if s == t.status {
                    false
                } else {
                    super::update::record_status(conn, &t, s, &who, now).await?;
                    if s == Status::Resolved {
                        let fresh = db::tickets::by_id(&mut *conn, t.id).await?.ok_or(TicketError::NotFound)?;
                        mail.extend(self.on_resolved(conn, &fresh).await?);
                    }
                    true
                }
            }
            Action::SetPriority { value } => {
                let p = Priority::parse(value).map_err(TicketError::Invalid)?;
                if p != t.priority {
                    db::tickets::set_priority(&mut *conn, t.id, p, now).await?;
                    record(conn, t.id, &who, &TicketEvent::PriorityChanged { from: t.priority, to: p }, now).await?;
                }
                p != t.priority
            }
            Action::SetType { value } => super::types::record_type(conn, &t, Some(value), &who, now).await?,
            Action::Assign { value } => self.rule_assign(conn, &t, value, &who, &mut mail, now).await?,
            Action::AddTag { value } | Action::RemoveTag { value } => {
                let tag = super::tags::clean(value)?;
                let on = matches!(action, Action::AddTag { .. });
                let changed = db::tags::set(&mut *conn, t.id, &tag, on).await?;
                if changed {
                    let (added, removed) = if on { (vec![tag], vec![]) } else { (vec![], vec![tag]) };
                    record(conn, t.id, &who, &TicketEvent::TagsChanged { added, removed }, now).await?;
                }
                changed
            }
            Action::AddNote { body } => {
                let text = self.rule_text(conn, &t, body)?;
                let new = NewMessage {
                    ticket_id: t.id,
                    kind: MessageKind::Note,
                    from_name: format!("Rule: {}", cause.rule_name),
                    subject: t.subject.clone(),
                    visible_text: text.clone(),
                    body_text: text,
                    created_at: now,
                    ..Default::default()
                };
                let id = db::messages::insert(conn, &new).await?;
                record(conn, t.id, &who, &TicketEvent::NoteAdded { message: id, verified: None }, now).await?;
                db::tickets::touch(&mut *conn, t.id, None, now).await?;
                true
            }
            Action::Reply { body, canned } => {
                return self.rule_reply(conn, &t, body.as_deref(), canned.as_deref(), cause, now).await;
            }
            Action::Notify { to, body, any_time } => {
                let escalation = matches!(cause.event["kind"].as_str(), Some("sla_warning" | "sla_breached"));
                let held =
                    if escalation && !any_time { super::sla::closed_until(conn, t.id, now).await? } else { None };
                let queued = mail.len();
                let sent = self.rule_notice(conn, &t, to, body, cause, &mut mail).await?;
                mail[queued..].iter_mut().for_each(|m| m.send_after = held);
                let action = match held {
                    Some(at) => {
                        format!("notified {sent} (sent at {}, when working hours begin)", crate::domain::rfc3339(at))
                    }
                    None => format!("notified {sent}"),
                };
                let e = TicketEvent::RuleApplied { rule: cause.rule_id, name: cause.rule_name.into(), action };
                record(conn, t.id, &who, &e, now).await?;
                true
            }
            Action::Webhook { url, secret } => {
                let body = json!({ "event": cause.event, "ticket": webhook_ticket(&t, conn).await? }).to_string();
                queue_webhook(conn, cause, t.id, url, secret, &body, now).await?;
                let action = format!("webhook POST {url} queued");
                let e = TicketEvent::RuleApplied { rule: cause.rule_id, name: cause.rule_name.into(), action };
                record(conn, t.id, &who, &e, now).await?;
                true
            }
        };
        self.queue(conn, mail, now).await?;
        Ok(changed.then_some(done))
    }

    /// `assign`: an agent who can see the ticket, `nobody`, or a team's round robin.
    async fn rule_assign(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        value: &str,
        who: &Actor,
        mail: &mut Vec<MailIntent>,
        now: i64,
    ) -> Result<bool, TicketError> {
        let user = if value.eq_ignore_ascii_case("nobody") {
            None
        } else {
            let id = match value.strip_prefix("round_robin:") {
                Some(team) => db::teams::round_robin(conn, team.trim())
                    .await?
                    .ok_or_else(|| TicketError::Invalid(format!("assign: team {team} has no active member")))?,
                None => {
                    db::users::active_by_email(&mut *conn, value)
                        .await?
                        .ok_or_else(|| TicketError::Invalid(format!("assign: no active agent {value}")))?
                        .id
                }
            };
            let u = db::users::active_by_id(&mut *conn, id).await?.ok_or(TicketError::NotFound)?;
            if !db::teams::can_see(conn, &u, t.mailbox_id).await? {
                return Err(TicketError::Invalid(format!("assign: {} cannot see this ticket's mailbox", u.email)));
            }
            Some(u)
        };
        if t.assignee_id == user.as_ref().map(|u| u.id) {
            return Ok(false);
        }
        db::tickets::set_assignee(&mut *conn, t.id, user.as_ref().map(|u| u.id), now).await?;
        let to = user.as_ref().map(|u| u.email.clone());
        record(conn, t.id, who, &TicketEvent::AssigneeChanged { from: t.assignee_email.clone(), to }, now).await?;
        if let Some(u) = &user {
            let fresh = db::tickets::by_id(&mut *conn, t.id).await?.ok_or(TicketError::NotFound)?;
            mail.extend(self.on_assigned(conn, &fresh, u, None).await?);
        }
        Ok(true)
    }

    /// A rule's text rendered with the ticket's variables (`ticket`, `customer`, `mailbox`).
    pub(super) fn rule_text(
        &self,
        _conn: &mut AnyConnection,
        t: &TicketRow,
        body: &str,
    ) -> Result<String, TicketError> {
        let ctx = json!({
            "ticket": crate::outbound::context::ticket_json(t, &self.composer.public_url),
            "customer": { "name": t.requester_name, "email": t.requester_email },
            "mailbox": { "name": t.mailbox },
        });
        crate::outbound::snippet::render(body, &ctx)
            .map(|s| s.trim().to_string())
            .map_err(|e| TicketError::Invalid(format!("the rule's text does not render: {e}")))
    }
}

/// The ticket as a webhook receives it.
async fn webhook_ticket(t: &TicketRow, conn: &mut AnyConnection) -> Result<Value, TicketError> {
    let tags = db::tags::of_ticket(&mut *conn, t.id).await?;
    Ok(json!({
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority,
        "mailbox": t.mailbox,
        "requester": { "email": t.requester_email, "name": t.requester_name },
        "assignee": t.assignee_email,
        "tags": tags,
        "created_at": crate::domain::rfc3339(t.created_at),
        "updated_at": crate::domain::rfc3339(t.updated_at),
    }))
}

/// The intent of a rule's reply to the customer (threaded onto their latest mail, marked automatic).
pub(super) fn reply_intent(
    t: &TicketRow,
    mailbox: &MailboxRow,
    to: &str,
    text: &str,
    last: Option<&db::messages::LastCustomerMail>,
    now: i64,
) -> MailIntent {
    let mut intent = MailIntent::new(TemplateKind::RuleReply, t, mailbox, (t.requester_name.clone(), to.to_string()));
    intent.from = FromName::Team;
    intent.message = MessageText {
        body: text.to_string(),
        from_name: mailbox.display_name.clone(),
        from_email: mailbox.address.clone(),
        created_at: now,
        first: false,
    };
    intent.automatic = Some(AutoSubmitted::Replied);
    intent.threading = last.and_then(super::notices::threading);
    intent
}

/// The intent of a rule's notice to one agent.
pub(super) fn notice_intent(t: &TicketRow, mailbox: &MailboxRow, to: (&str, &str), rule: RuleNote) -> MailIntent {
    let mut intent = MailIntent::new(TemplateKind::RuleNotice, t, mailbox, (to.0.to_string(), to.1.to_string()));
    intent.automatic = Some(AutoSubmitted::Generated);
    intent.rule = Some(rule);
    intent
}

/// Queues a signed webhook delivery in the caller's transaction.
async fn queue_webhook(
    conn: &mut AnyConnection,
    cause: &RuleCause<'_>,
    ticket_id: i64,
    url: &str,
    secret: &str,
    body: &str,
    now: i64,
) -> Result<(), TicketError> {
    let signature = crate::outbound::webhooks::sign(secret, body);
    let d = db::webhooks::NewDelivery {
        rule_id: Some(cause.rule_id),
        ticket_id: Some(ticket_id),
        event_id: cause.event_id,
        url,
        body,
        signature: &signature,
    };
    db::webhooks::enqueue(conn, &d, now).await?;
    Ok(())
}
