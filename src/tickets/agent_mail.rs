//! Mail from staff (design §5): an agent answering a notification acts on the ticket (reply or note, then its
//! commands); anything unverified becomes an internal note that never reaches the customer, and the agent is told.

use super::commands::{self, AssignTo, Command};
use super::inbound::{Filed, InboundMail};
use super::update::Resolved;
use super::{NewFile, ReplyInput, TicketError, Tickets, record};
use crate::db::{self, TicketRow, UserRow};
use crate::domain::TicketEvent;
use crate::outbound::{CommandReport, MailIntent};
use sqlx::AnyConnection;

/// Whether the mail may act as the agent, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// From the agent's registered address, to the reply address signed for that agent, authentication not failed.
    Verified,
    Unverified(String),
}

/// Decides whether a staff-looking mail is the agent's own action.
pub fn verdict(
    sender: &str,
    sender_user: Option<&UserRow>,
    token_agent: Option<&UserRow>,
    auth_failure: Option<String>,
) -> Verdict {
    match (token_agent, sender_user) {
        (None, _) => {
            Verdict::Unverified(format!("{sender} wrote to the support address, not to an agent reply address"))
        }
        (Some(agent), Some(u)) if u.id == agent.id => match auth_failure {
            Some(f) => Verdict::Unverified(format!("sender authentication failed ({f})")),
            None => Verdict::Verified,
        },
        (Some(agent), _) => Verdict::Unverified(format!("{sender} used the reply address of {}", agent.email)),
    }
}

impl Tickets {
    /// Files a mail from staff or to an agent reply address on its ticket; `None` when it concerns no existing
    /// ticket or names no agent (then it is ordinary mail).
    pub(super) async fn file_agent_mail(
        &self,
        conn: &mut AnyConnection,
        m: &InboundMail<'_>,
        ticket: Option<TicketRow>,
        now: i64,
    ) -> Result<Option<Filed>, TicketError> {
        let Some(ticket) = ticket else { return Ok(None) };
        let sender = m.from.email.to_string();
        let sender_user = db::users::active_by_email(&mut *conn, &sender).await?;
        // The token may name a ticket that was merged into this one since the notification went out.
        let token_agent = match m.agent_token {
            Some((number, id)) if live_id(conn, number).await? == Some(ticket.id) => {
                db::users::active_by_id(&mut *conn, id).await?
            }
            _ => None,
        };
        let mut v = verdict(&sender, sender_user.as_ref(), token_agent.as_ref(), m.auth_failure.clone());
        if let (Verdict::Verified, Some(agent)) = (&v, token_agent.as_ref().or(sender_user.as_ref()))
            && !db::teams::can_see(conn, agent, ticket.mailbox_id).await?
        {
            v = Verdict::Unverified(format!("{} is not in a team of mailbox {}", agent.email, ticket.mailbox));
        }
        let mail = match (&v, token_agent.as_ref().or(sender_user.as_ref())) {
            (Verdict::Verified, Some(agent)) => self.act(conn, m, &ticket, agent, now).await?,
            (Verdict::Unverified(reason), Some(agent)) => {
                self.unverified(conn, m, &ticket, agent, &sender, reason, now).await?
            }
            (_, None) => return Ok(None),
        };
        self.queue(conn, mail, now).await?;
        Ok(Some(Filed::Threaded(ticket.number)))
    }

    /// A verified agent mail: a reply (or `#note`), then its commands; the agent gets a confirmation.
    async fn act(
        &self,
        conn: &mut AnyConnection,
        m: &InboundMail<'_>,
        ticket: &TicketRow,
        agent: &UserRow,
        now: i64,
    ) -> Result<Vec<MailIntent>, TicketError> {
        let parsed = commands::parse(m.visible_text);
        let mut report = CommandReport { results: Vec::new(), errors: parsed.errors.clone(), note: parsed.note };
        let attachments = files(m);
        let has_content = !parsed.body.is_empty() || !attachments.is_empty();
        let input = ReplyInput {
            body: parsed.body.clone(),
            attachments,
            verified: Some(true),
            raw_id: Some(m.raw_id),
            content_digest: Some(m.digest.to_string()),
            ..Default::default()
        };
        let mut mail = Vec::new();
        if parsed.note && has_content {
            self.write_note(conn, ticket, agent, &input, now).await?;
            report.results.push("Added your internal note.".to_string());
        } else if !parsed.note && has_content {
            mail.extend(self.write_reply(conn, ticket, agent, &input, now).await?.1);
            report.results.push(format!("Sent your reply to {}.", ticket.requester_email));
        } else if parsed.commands.is_empty() {
            report.errors.push("The mail had no text, no attachment and no command: nothing was done.".into());
        }
        if !parsed.commands.is_empty() {
            let fresh = db::tickets::by_id(&mut *conn, ticket.id).await?.ok_or(TicketError::NotFound)?;
            let changes = resolve_commands(conn, &parsed.commands, agent, fresh.mailbox_id, &mut report).await?;
            mail.extend(self.apply_changes(conn, &fresh, agent, &changes, now).await?);
        }
        mail.extend(self.command_result(conn, ticket.id, agent, report, now).await?);
        Ok(mail)
    }

    /// Never mailed: kept as an internal note marked unverified, with an event; the agent whose identity was used
    /// is told.
    #[allow(clippy::too_many_arguments)]
    async fn unverified(
        &self,
        conn: &mut AnyConnection,
        m: &InboundMail<'_>,
        ticket: &TicketRow,
        agent: &UserRow,
        sender: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<MailIntent>, TicketError> {
        let input = ReplyInput {
            body: if m.visible_text.trim().is_empty() { "(empty mail)".into() } else { m.visible_text.to_string() },
            attachments: files(m),
            verified: Some(false),
            raw_id: Some(m.raw_id),
            content_digest: Some(m.digest.to_string()),
            from_addr: Some(sender.to_string()),
            full_text: Some(m.body_text.to_string()),
            ..Default::default()
        };
        self.write_note(conn, ticket, agent, &input, now).await?;
        let e = TicketEvent::UnverifiedMail { sender: sender.to_string(), reason: reason.to_string() };
        record(conn, ticket.id, &crate::domain::Actor::System, &e, now).await?;
        let errors = vec![format!(
            "A mail to ticket #{} was kept as an unverified internal note and NOT sent to the customer: {reason}.",
            ticket.number
        )];
        let report = CommandReport { results: Vec::new(), errors, note: false };
        Ok(self.command_result(conn, ticket.id, agent, report, now).await?)
    }
}

/// The id of the ticket numbered `number`, or of the one it was merged into.
async fn live_id(conn: &mut AnyConnection, number: i64) -> Result<Option<i64>, TicketError> {
    Ok(db::tickets::live_by_number(conn, number).await?.map(|t| t.id))
}

fn files(m: &InboundMail<'_>) -> Vec<NewFile> {
    m.files.iter().enumerate().map(|(i, a)| NewFile::lenient(a.filename, a.content_type, i, a.data.to_vec())).collect()
}

async fn resolve_commands(
    conn: &mut AnyConnection,
    cmds: &[Command],
    agent: &UserRow,
    mailbox_id: i64,
    report: &mut CommandReport,
) -> Result<Resolved, TicketError> {
    let mut r = Resolved::default();
    for c in cmds {
        match c {
            Command::Status(s) => {
                r.status = Some(*s);
                report.results.push(format!("Status set to {s}."));
            }
            Command::Priority(p) => {
                r.priority = Some(*p);
                report.results.push(format!("Priority set to {p}."));
            }
            Command::Assign(AssignTo::Me) => {
                r.assignee = Some(Some(agent.clone()));
                report.results.push("Assigned to you.".into());
            }
            Command::Assign(AssignTo::Nobody) => {
                r.assignee = Some(None);
                report.results.push("Unassigned.".into());
            }
            Command::Assign(AssignTo::Email(e)) => match db::users::active_by_email(&mut *conn, e).await? {
                Some(u) if !db::teams::can_see(conn, &u, mailbox_id).await? => {
                    report.errors.push(format!("#assign {e}: {} is not in a team of this ticket's mailbox.", u.name));
                }
                Some(u) => {
                    report.results.push(format!("Assigned to {}.", u.name));
                    r.assignee = Some(Some(u));
                }
                None => report.errors.push(format!("#assign {e}: no active user with that address.")),
            },
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, email: &str) -> UserRow {
        UserRow {
            id,
            email: email.into(),
            name: email.into(),
            role: "agent".into(),
            password_hash: String::new(),
            active: 1,
            signature: String::new(),
            notify_new_ticket: 0,
            notify_customer_replied: 1,
            notify_assigned: 1,
        }
    }

    #[test]
    fn only_the_agent_itself_on_its_own_address_is_verified() {
        let (ana, bo) = (user(1, "ana@x.test"), user(2, "bo@x.test"));
        assert_eq!(verdict("ana@x.test", Some(&ana), Some(&ana), None), Verdict::Verified);
        assert!(
            matches!(verdict("bo@x.test", Some(&bo), Some(&ana), None), Verdict::Unverified(r) if r.contains("reply address of ana"))
        );
        assert!(matches!(verdict("cust@y.test", None, Some(&ana), None), Verdict::Unverified(_)));
        assert!(
            matches!(verdict("ana@x.test", Some(&ana), None, None), Verdict::Unverified(r) if r.contains("not to an agent reply address"))
        );
        assert!(
            matches!(verdict("ana@x.test", Some(&ana), Some(&ana), Some("mx: dkim=fail".into())), Verdict::Unverified(r) if r.contains("dkim=fail"))
        );
    }
}
