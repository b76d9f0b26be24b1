//! Who hears of a change (design §4, §5): the acknowledgement (once per ticket, rate-limited per recipient),
//! agents' notices by their settings, the resolved notice, and the answer to an agent's mail — as mail intents.

use super::Tickets;
use crate::db::{self, DbError, MailboxRow, TicketRow, UserRow, messages::LastCustomerMail};
use crate::domain::{Actor, TemplateKind, TicketEvent};
use crate::outbound::{AutoSubmitted, CommandReport, MailIntent, MessageText, Threading};
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// At most this many answers to agents' mail per agent and hour (a loop breaker for agents' auto-replies).
const COMMAND_RESULTS_PER_HOUR: i64 = 30;

/// A ticket an ingest batch created, with its latest customer mail (what its notices quote).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreatedTicket<'a> {
    pub ticket: &'a TicketRow,
    pub last: &'a LastCustomerMail,
    /// No acknowledgement: the mail is automatic, from a mailing list, spam, or from staff.
    pub suppress_ack: bool,
}

/// The agents told of new tickets, by mailbox (those who want the notice and may see the mailbox), read once
/// for all the tickets of an ingest batch.
#[derive(Debug, Default)]
pub(crate) struct NewTicketAudience {
    wanting: Option<Vec<UserRow>>,
    by_mailbox: HashMap<i64, Vec<UserRow>>,
}

impl NewTicketAudience {
    /// The agents to tell of a new ticket in `mailbox_id` (read on first use, then remembered).
    async fn of(&mut self, conn: &mut AnyConnection, mailbox_id: i64) -> Result<&[UserRow], DbError> {
        if !self.by_mailbox.contains_key(&mailbox_id) {
            if self.wanting.is_none() {
                self.wanting = Some(db::users::notified_of_new_tickets(&mut *conn).await?);
            }
            let mut seeing = Vec::new();
            for agent in self.wanting.iter().flatten() {
                if db::teams::can_see(conn, agent, mailbox_id).await? {
                    seeing.push(agent.clone());
                }
            }
            self.by_mailbox.insert(mailbox_id, seeing);
        }
        Ok(&self.by_mailbox[&mailbox_id])
    }
}

/// The acknowledgement rules for the tickets of an ingest batch, read once for all of them: which tickets have
/// one already, and how many each requester got in the last hour, counted on as the batch queues more.
#[derive(Debug, Default)]
pub(crate) struct AckLimiter {
    acknowledged: HashSet<i64>,
    /// Recipient → acknowledgements queued to them in the last hour (this batch's included).
    recent: HashMap<String, i64>,
}

impl AckLimiter {
    /// Reads what the rules need for `tickets` (all created by the batch) at `now`.
    pub(crate) async fn read(conn: &mut AnyConnection, tickets: &[&TicketRow], now: i64) -> Result<Self, DbError> {
        let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
        let mut requesters: Vec<String> = tickets.iter().map(|t| t.requester_email.clone()).collect();
        requesters.sort();
        requesters.dedup();
        Ok(Self {
            acknowledged: db::outbox::tickets_having(conn, &ids, TemplateKind::Ack).await?,
            recent: db::outbox::sent_to_many_since(conn, TemplateKind::Ack, &requesters, now - 3600).await?,
        })
    }

    /// Counts an acknowledgement queued to `recipients`.
    pub(crate) fn queued(&mut self, ticket_id: i64, recipients: &[String]) {
        self.acknowledged.insert(ticket_id);
        for r in recipients {
            *self.recent.entry(r.clone()).or_default() += 1;
        }
    }
}

impl Tickets {
    /// A new ticket from mail: the acknowledgement (unless `suppress_ack`) and agents' new-ticket notices. Only for
    /// a mailbox that can send (`finish_inbound` queues nothing for one that cannot).
    pub(crate) async fn on_created(
        &self,
        conn: &mut AnyConnection,
        created: CreatedTicket<'_>,
        mailbox: &MailboxRow,
        audience: &mut NewTicketAudience,
        acks: &AckLimiter,
        events: &mut Vec<(i64, Actor, TicketEvent)>,
    ) -> Result<Vec<MailIntent>, DbError> {
        let CreatedTicket { ticket: t, last, suppress_ack } = created;
        let mut mail = Vec::new();
        if !suppress_ack && self.ack_allowed(t, acks, events) {
            let to = if last.reply_to.is_empty() { t.requester_email.clone() } else { last.reply_to.clone() };
            mail.push(self.to_customer(TemplateKind::Ack, t, mailbox, to, Some(last)));
        }
        for agent in audience.of(conn, t.mailbox_id).await? {
            mail.push(self.to_agent(TemplateKind::NotifyNewTicket, t, mailbox, agent, None, last));
        }
        Ok(mail)
    }

    /// One acknowledgement per ticket, and at most `ack_limit_per_hour` per recipient (the circuit breaker; a
    /// suppressed one is an event queued on `events`, which the caller writes with the batch's others: in a mail
    /// flood every new ticket has one).
    fn ack_allowed(&self, t: &TicketRow, acks: &AckLimiter, events: &mut Vec<(i64, Actor, TicketEvent)>) -> bool {
        if acks.acknowledged.contains(&t.id) {
            return false;
        }
        let recent = acks.recent.get(&t.requester_email).copied().unwrap_or(0);
        if recent >= i64::from(self.ack_limit_per_hour) {
            let e = TicketEvent::AckSuppressed { recipient: t.requester_email.clone(), recent };
            events.push((t.id, Actor::System, e));
            return false;
        }
        true
    }

    /// A customer wrote again: the assignee's notice, when they want it.
    pub(crate) async fn on_customer_replied(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        mailbox: &MailboxRow,
    ) -> Result<Vec<MailIntent>, DbError> {
        let Some(assignee_id) = t.assignee_id else { return Ok(Vec::new()) };
        let agent = db::users::active_by_id(&mut *conn, assignee_id).await?;
        let Some(agent) = agent.filter(|u| u.notify_customer_replied == 1 && mailbox.can_send()) else {
            return Ok(Vec::new());
        };
        let last = db::messages::last_customer_mail(conn, t.id).await?.unwrap_or_default();
        Ok(vec![self.to_agent(TemplateKind::NotifyCustomerReplied, t, mailbox, &agent, None, &last)])
    }

    /// `t` was assigned to `assignee` by `actor`; self-assignment sends nothing.
    pub(crate) async fn on_assigned(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
        assignee: &UserRow,
        actor: Option<&UserRow>,
    ) -> Result<Vec<MailIntent>, DbError> {
        if actor.is_some_and(|a| a.id == assignee.id) || assignee.notify_assigned != 1 {
            return Ok(Vec::new());
        }
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        if !mailbox.can_send() {
            return Ok(Vec::new());
        }
        let last = db::messages::last_customer_mail(conn, t.id).await?.unwrap_or_default();
        Ok(vec![self.to_agent(TemplateKind::NotifyAssigned, t, &mailbox, assignee, actor, &last)])
    }

    /// `t` was resolved by an agent: the customer hears it (their reply reopens the ticket).
    pub(crate) async fn on_resolved(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRow,
    ) -> Result<Vec<MailIntent>, DbError> {
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        if !mailbox.can_send() {
            return Ok(Vec::new());
        }
        let last = db::messages::last_customer_mail(conn, t.id).await?;
        let to = t.requester_email.clone();
        Ok(vec![self.to_customer(TemplateKind::Resolved, t, &mailbox, to, last.as_ref())])
    }

    /// Tells `agent` what their mail did (`report.results`) or why it was not sent on (`report.errors`).
    pub(crate) async fn command_result(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        agent: &UserRow,
        report: CommandReport,
        now: i64,
    ) -> Result<Vec<MailIntent>, DbError> {
        // The ticket as the agent's mail left it.
        let t = &db::tickets::by_id(&mut *conn, ticket_id).await?.ok_or(DbError::NotFound)?;
        let mailbox = db::mailboxes::by_id(&mut *conn, t.mailbox_id).await?;
        let kind = TemplateKind::AgentCommandResult;
        if !mailbox.can_send()
            || db::outbox::sent_to_since(conn, kind, &agent.email, now - 3600).await? >= COMMAND_RESULTS_PER_HOUR
        {
            return Ok(Vec::new());
        }
        let last = db::messages::last_customer_mail(conn, t.id).await?.unwrap_or_default();
        let mut intent = self.to_agent(kind, t, &mailbox, agent, Some(agent), &last);
        intent.command = Some(report);
        Ok(vec![intent])
    }

    /// An automatic mail to the customer, threaded onto their latest mail.
    fn to_customer(
        &self,
        kind: TemplateKind,
        t: &TicketRow,
        mailbox: &MailboxRow,
        to: String,
        last: Option<&LastCustomerMail>,
    ) -> MailIntent {
        let mut intent = MailIntent::new(kind, t, mailbox, (t.requester_name.clone(), to));
        intent.reply_to = self.composer.customer_reply_to(mailbox, t.number);
        intent.message = MessageText {
            body: last.map(|l| l.visible_text.clone()).unwrap_or_default(),
            from_name: t.requester_name.clone(),
            from_email: t.requester_email.clone(),
            created_at: last.map(|l| l.created_at).unwrap_or(t.created_at),
            first: false,
        };
        intent.automatic = Some(AutoSubmitted::Replied);
        intent.threading = last.and_then(threading);
        intent
    }

    /// A notice to an agent, with the customer's latest text and a Reply-To only that agent can use.
    fn to_agent(
        &self,
        kind: TemplateKind,
        t: &TicketRow,
        mailbox: &MailboxRow,
        agent: &UserRow,
        actor: Option<&UserRow>,
        last: &LastCustomerMail,
    ) -> MailIntent {
        let mut intent = MailIntent::new(kind, t, mailbox, (agent.name.clone(), agent.email.clone()));
        intent.reply_to = self.composer.agent_reply_to(mailbox, t.number, agent.id);
        intent.agent = actor.cloned();
        intent.message = MessageText {
            body: last.visible_text.clone(),
            from_name: last.from_name.clone(),
            from_email: last.from_addr.clone(),
            created_at: last.created_at,
            first: false,
        };
        intent.automatic = Some(AutoSubmitted::Generated);
        intent
    }
}

/// The threading headers that continue `last`.
pub(crate) fn threading(last: &LastCustomerMail) -> Option<Threading> {
    last.message_id.as_ref().map(|id| Threading { message_id: id.clone(), references: last.refs.clone() })
}
