//! Rules' mail: a reply to the customer (never to automatic mail or blocked senders, a few per recipient and hour)
//! and notices to agents.

use super::automated::{RULE_REPLIES_PER_HOUR, RuleCause, notice_intent, reply_intent};
use super::{TicketError, Tickets, record};
use crate::db::{self, TicketRow, messages::NewMessage};
use crate::domain::{Actor, MessageKind, TemplateKind, TicketEvent};
use crate::outbound::{MailIntent, RuleNote};
use sqlx::AnyConnection;

impl Tickets {
    /// `reply`: stores the reply on the ticket and queues it, unless the customer's mail was automatic, they are
    /// blocked or they already got [`RULE_REPLIES_PER_HOUR`] rule replies this hour (then the history says why).
    pub(super) async fn rule_reply(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        body: Option<&str>,
        canned: Option<&str>,
        cause: &RuleCause<'_>,
        now: i64,
    ) -> Result<Option<String>, TicketError> {
        let template = match (body, canned) {
            (_, Some(c)) => {
                db::rules::shared_canned(conn, c)
                    .await?
                    .ok_or_else(|| TicketError::Invalid(format!("reply: no shared canned response {c}")))?
                    .1
            }
            (Some(b), None) => b.to_string(),
            (None, None) => return Err(TicketError::Invalid("reply: a body or a canned response is needed".into())),
        };
        let text = self.rule_text(conn, t, &template)?;
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        let last = db::messages::last_customer_mail(conn, t.id).await?;
        let to =
            last.as_ref().filter(|l| !l.reply_to.is_empty()).map_or(t.requester_email.clone(), |l| l.reply_to.clone());
        if let Some(why) = self.rule_reply_refused(conn, t, &to, now).await? {
            let action = format!("reply not sent: {why}");
            let e = TicketEvent::RuleApplied { rule: cause.rule_id, name: cause.rule_name.into(), action };
            record(conn, t.id, &Actor::Rule(cause.rule_id), &e, now).await?;
            return Ok(None);
        }
        let header_id = self.composer.new_message_id(t.number, &mailbox);
        let new = NewMessage {
            ticket_id: t.id,
            kind: MessageKind::Agent,
            mailbox_id: Some(mailbox.id),
            from_addr: mailbox.address.clone(),
            from_name: mailbox.display_name.clone(),
            to_json: serde_json::to_string(&[&to]).unwrap_or_default(),
            subject: format!("Re: [#{}] {}", t.number, crate::outbound::clean_subject(&t.subject)),
            message_id: Some(header_id.clone()),
            in_reply_to: last.as_ref().and_then(|l| l.message_id.clone()),
            visible_text: text.clone(),
            body_text: text.clone(),
            created_at: now,
            ..Default::default()
        };
        let message_id = db::messages::insert(conn, &new).await?;
        let sent = TicketEvent::ReplySent { message: message_id, to: vec![to.clone()], cc: vec![] };
        record(conn, t.id, &Actor::Rule(cause.rule_id), &sent, now).await?;
        db::tickets::touch(&mut *conn, t.id, None, now).await?;
        let mut intent = reply_intent(t, &mailbox, &to, &text, last.as_ref(), now);
        intent.reply_to = self.composer.customer_reply_to(&mailbox, t.number);
        intent.message_row = Some(message_id);
        intent.message_id = Some(header_id);
        self.queue(conn, vec![intent], now).await?;
        Ok(Some(format!("replied to {to}")))
    }

    /// Why a rule may not reply to `to` now, if it may not.
    async fn rule_reply_refused(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        to: &str,
        now: i64,
    ) -> Result<Option<String>, TicketError> {
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        if !mailbox.can_send() {
            return Ok(Some("the mailbox cannot send".into()));
        }
        if db::rules::last_customer_facts(conn, t.id).await?.is_some_and(|m| m.auto != 0) {
            return Ok(Some("the customer's latest mail was automatic".into()));
        }
        let blocks = db::blocks::entries(conn).await?;
        if let Some(entry) = db::blocks::matching(to, &blocks) {
            return Ok(Some(format!("{to} is blocked ({entry})")));
        }
        let recent = db::outbox::sent_to_since(conn, TemplateKind::RuleReply, to, now - 3600).await?;
        if recent >= RULE_REPLIES_PER_HOUR {
            return Ok(Some(format!("{to} already got {recent} rule replies in the last hour")));
        }
        Ok(None)
    }

    /// `notify`: the assignee, every agent who can see the ticket, or one staff user by e-mail; returns whom.
    pub(super) async fn rule_notice(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        to: &str,
        body: &str,
        cause: &RuleCause<'_>,
        mail: &mut Vec<MailIntent>,
    ) -> Result<String, TicketError> {
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        let everyone = db::rules::active_users(conn).await?;
        let chosen: Vec<_> = match to {
            "assignee" => everyone.into_iter().filter(|u| Some(u.id) == t.assignee_id).collect(),
            "agents" => everyone,
            email => everyone.into_iter().filter(|u| u.email.eq_ignore_ascii_case(email)).collect(),
        };
        let text = self.rule_text(conn, t, body)?;
        let mut names = Vec::new();
        for u in chosen {
            if !mailbox.can_send() || !db::teams::can_see(conn, &u, t.mailbox_id).await? {
                continue;
            }
            let note = RuleNote { name: cause.rule_name.to_string(), body: text.clone() };
            mail.push(notice_intent(t, &mailbox, (&u.name, &u.email), note));
            names.push(u.email);
        }
        Ok(if names.is_empty() { format!("nobody ({to})") } else { names.join(", ") })
    }
}
