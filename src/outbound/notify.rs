//! Who gets what: acknowledgements, agent replies, resolved notices and agent notifications.

use super::compose::{Composer, Draft, last_customer_mail, mailbox_of};
use super::context::message_json;
use crate::db::{self, DbError, TicketRow, UserRow};
use sqlx::AnyConnection;

/// Agents to notify, by setting.
async fn agents_with(conn: &mut AnyConnection, setting: &'static str) -> Result<Vec<UserRow>, DbError> {
    let sql = match setting {
        "notify_new_ticket" => "select id from users where active = 1 and notify_new_ticket = 1",
        _ => return Ok(Vec::new()),
    };
    let ids: Vec<i64> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(user(conn, id).await?);
    }
    Ok(out)
}

async fn user(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(
        "select id, email, name, role, password_hash, active, signature, notify_new_ticket, notify_customer_replied, notify_assigned \
         from users where id = $1 and active = 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

async fn ticket(conn: &mut AnyConnection, id: i64) -> Result<TicketRow, DbError> {
    db::tickets::by_id(&mut *conn, id).await?.ok_or(DbError::NotFound)
}

impl Composer {
    /// A new ticket from mail: the acknowledgement (unless `suppress_ack`) and agents' new-ticket notices.
    pub async fn ticket_created(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        suppress_ack: bool,
        now: i64,
    ) -> Result<(), DbError> {
        let t = ticket(conn, ticket_id).await?;
        let mailbox = mailbox_of(conn, &t).await?;
        if !Self::can_send(&mailbox) {
            return Ok(());
        }
        let last = last_customer_mail(conn, t.id).await?.unwrap_or_default();
        if !suppress_ack && self.ack_allowed(conn, &t, now).await? {
            let to = if last.reply_to.is_empty() { t.requester_email.clone() } else { last.reply_to.clone() };
            let draft = Draft {
                kind: "ack",
                reply_to: self.customer_reply_to(&mailbox, t.number),
                ..self.draft_for_customer(&t, &mailbox, vec![(t.requester_name.clone(), to)], Some(&last))
            };
            self.enqueue(conn, draft, now).await?;
        }
        for agent in agents_with(conn, "notify_new_ticket").await? {
            self.notify_agent(conn, "notify_new_ticket", &t, &mailbox, &agent, None, &last, now).await?;
        }
        Ok(())
    }

    /// One acknowledgement per ticket, and at most `ack_limit_per_hour` per recipient (the circuit breaker).
    async fn ack_allowed(&self, conn: &mut AnyConnection, t: &TicketRow, now: i64) -> Result<bool, DbError> {
        if db::outbox::ticket_has(conn, t.id, "ack").await? {
            return Ok(false);
        }
        let recent = db::outbox::sent_to_since(conn, "ack", &t.requester_email, now - 3600).await?;
        if recent >= i64::from(self.ack_limit_per_hour) {
            let detail =
                format!("acknowledgement not sent: {} already got {recent} in the last hour", t.requester_email);
            db::messages::insert_event(&mut *conn, t.id, "system", "ack_suppressed", &detail, now).await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// A customer wrote again: the assignee's notice, when they want it.
    pub async fn customer_replied(&self, conn: &mut AnyConnection, ticket_id: i64, now: i64) -> Result<(), DbError> {
        let t = ticket(conn, ticket_id).await?;
        let Some(assignee_id) = t.assignee_id else { return Ok(()) };
        let mailbox = mailbox_of(conn, &t).await?;
        let Some(agent) = user(conn, assignee_id).await?.filter(|u| u.notify_customer_replied == 1) else {
            return Ok(());
        };
        if !Self::can_send(&mailbox) {
            return Ok(());
        }
        let last = last_customer_mail(conn, t.id).await?.unwrap_or_default();
        self.notify_agent(conn, "notify_customer_replied", &t, &mailbox, &agent, None, &last, now).await
    }

    /// A ticket was assigned to `assignee` by `actor` (none: by the system); self-assignment sends nothing.
    pub async fn assigned(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        assignee: &UserRow,
        actor: Option<&UserRow>,
        now: i64,
    ) -> Result<(), DbError> {
        if actor.is_some_and(|a| a.id == assignee.id) || assignee.notify_assigned != 1 {
            return Ok(());
        }
        let t = ticket(conn, ticket_id).await?;
        let mailbox = mailbox_of(conn, &t).await?;
        if !Self::can_send(&mailbox) {
            return Ok(());
        }
        let last = last_customer_mail(conn, t.id).await?.unwrap_or_default();
        self.notify_agent(conn, "notify_assigned", &t, &mailbox, assignee, actor, &last, now).await
    }

    /// The ticket was resolved by an agent: the customer hears it (a reply reopens the ticket).
    pub async fn resolved(&self, conn: &mut AnyConnection, ticket_id: i64, now: i64) -> Result<(), DbError> {
        let t = ticket(conn, ticket_id).await?;
        let mailbox = mailbox_of(conn, &t).await?;
        if !Self::can_send(&mailbox) {
            return Ok(());
        }
        let last = last_customer_mail(conn, t.id).await?;
        let draft = Draft {
            kind: "resolved",
            reply_to: self.customer_reply_to(&mailbox, t.number),
            ..self.draft_for_customer(
                &t,
                &mailbox,
                vec![(t.requester_name.clone(), t.requester_email.clone())],
                last.as_ref(),
            )
        };
        self.enqueue(conn, draft, now).await.map(|_| ())
    }

    /// The signed plus-address customers reply to, when the mailbox enables plus-addressing.
    pub fn customer_reply_to(&self, mailbox: &db::MailboxRow, ticket: i64) -> Option<String> {
        let address = crate::domain::EmailAddress::parse(&mailbox.address).ok()?;
        (mailbox.plus_addressing == 1).then(|| self.signer.reply_address(&address, ticket))
    }

    /// An automatic mail to the customer, threaded onto their latest mail.
    fn draft_for_customer<'a>(
        &self,
        t: &'a TicketRow,
        mailbox: &'a db::MailboxRow,
        to: Vec<(String, String)>,
        last: Option<&'a super::context::LastCustomerMail>,
    ) -> Draft<'a> {
        let body = last.map(|l| l.visible_text.as_str()).unwrap_or_default();
        Draft {
            kind: "ack",
            ticket: t,
            mailbox,
            to,
            cc: Vec::new(),
            reply_to: None,
            agent: None,
            from_name: Self::team_name(mailbox),
            message: message_json(
                body,
                &t.requester_name,
                &t.requester_email,
                last.map(|l| l.created_at).unwrap_or(t.created_at),
            ),
            auto_submitted: Some("auto-replied"),
            threading: last,
            message_row: None,
            attachments: Vec::new(),
            message_id: None,
        }
    }

    /// A notice to an agent, with the customer's latest text and a Reply-To only that agent can use.
    #[allow(clippy::too_many_arguments)]
    async fn notify_agent(
        &self,
        conn: &mut AnyConnection,
        kind: &'static str,
        t: &TicketRow,
        mailbox: &db::MailboxRow,
        agent: &UserRow,
        actor: Option<&UserRow>,
        last: &super::context::LastCustomerMail,
        now: i64,
    ) -> Result<(), DbError> {
        let address = crate::domain::EmailAddress::parse(&mailbox.address).ok();
        let reply_to = address
            .filter(|_| mailbox.plus_addressing == 1)
            .map(|a| self.signer.agent_reply_address(&a, t.number, agent.id));
        let draft = Draft {
            kind,
            ticket: t,
            mailbox,
            to: vec![(agent.name.clone(), agent.email.clone())],
            cc: Vec::new(),
            reply_to,
            agent: actor,
            from_name: Self::team_name(mailbox),
            message: message_json(&last.visible_text, &last.from_name, &last.from_addr, last.created_at),
            auto_submitted: Some("auto-generated"),
            threading: None,
            message_row: None,
            attachments: Vec::new(),
            message_id: None,
        };
        self.enqueue(conn, draft, now).await.map(|_| ())
    }
}
