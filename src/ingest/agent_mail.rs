//! Mail from staff (design §5): an agent answering a notification acts on the ticket; anything unverified
//! becomes an internal note that never reaches the customer, and the agent is told.

use super::prepare::PreparedMail;
use super::store::{Outcome, OutcomeKind, StoreContext};
use crate::tickets::commands::{self, AssignTo, Command};
use crate::tickets::reply::{write_note, write_reply};
use crate::tickets::update::{Resolved, apply_changes};
use crate::tickets::{TicketError, NewFile, ReplyInput};
use crate::db::{self, DbError, TicketRow, UserRow};
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

/// Stores a mail from staff or to an agent reply address on its ticket; `None` when it concerns no existing
/// ticket (then it is ordinary mail).
pub async fn store(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket: Option<TicketRow>,
    raw_id: i64,
    now: i64,
) -> Result<Option<Outcome>, DbError> {
    let Some(ticket) = ticket else { return Ok(None) };
    let sender = m.mail.from.as_ref().map(|p| p.email.to_string()).unwrap_or_default();
    let sender_user = db::users::active_by_email(&mut *conn, &sender).await?;
    let token_agent = match m.facts.token.and_then(|t| t.agent.filter(|_| t.ticket == ticket.number)) {
        Some(id) => agent_by_id(conn, id).await?,
        None => None,
    };
    let failure = super::auth_results::trusted_failure(&m.mail.authentication_results, cx.trusted_authserv_ids);
    let v = verdict(&sender, sender_user.as_ref(), token_agent.as_ref(), failure);
    let result = match (&v, token_agent.as_ref().or(sender_user.as_ref())) {
        (Verdict::Verified, Some(agent)) => act(conn, cx, m, &ticket, agent, raw_id, now).await,
        (Verdict::Unverified(reason), Some(agent)) => {
            unverified(conn, cx, m, &ticket, agent, &sender, reason, raw_id, now).await
        }
        (_, None) => return Ok(None),
    };
    match result {
        Ok(()) => Ok(Some(Outcome {
            kind: OutcomeKind::Threaded,
            sha256: String::new(),
            ticket: Some(ticket.number),
            reason: None,
        })),
        Err(TicketError::Db(e)) => Err(e),
        Err(e) => Err(DbError::Conflict(e.to_string())),
    }
}

async fn agent_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    let email: Option<String> = sqlx::query_scalar("select email from users where id = $1 and active = 1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match email {
        Some(e) => db::users::active_by_email(&mut *conn, &e).await,
        None => Ok(None),
    }
}

fn files(m: &PreparedMail) -> Vec<NewFile> {
    m.mail
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| NewFile::lenient(&a.filename, &a.content_type, i, a.data.clone()))
        .collect()
}

/// A verified agent mail: a reply (or `#note`), then its commands; the agent gets a confirmation.
async fn act(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket: &TicketRow,
    agent: &UserRow,
    raw_id: i64,
    now: i64,
) -> Result<(), TicketError> {
    let parsed = commands::parse(&m.visible_text);
    let mut results = Vec::new();
    let mut errors = parsed.errors.clone();
    let attachments = files(m);
    let input = ReplyInput {
        body: parsed.body.clone(),
        attachments: attachments.clone(),
        verified: Some(true),
        raw_id: Some(raw_id),
        content_digest: Some(m.digest.clone()),
        ..Default::default()
    };
    if parsed.note && (!parsed.body.is_empty() || !attachments.is_empty()) {
        write_note(conn, ticket, agent, &input, now).await?;
        results.push("Added your internal note.".to_string());
    } else if !parsed.note && (!parsed.body.is_empty() || !attachments.is_empty()) {
        write_reply(conn, cx.composer, ticket, agent, &input, now).await?;
        results.push(format!("Sent your reply to {}.", ticket.requester_email));
    } else if parsed.commands.is_empty() {
        errors.push("The mail had no text, no attachment and no command: nothing was done.".into());
    }
    if !parsed.commands.is_empty() {
        let fresh = db::tickets::by_id(&mut *conn, ticket.id).await?.ok_or(TicketError::NotFound)?;
        let changes = resolve_commands(conn, &parsed.commands, agent, &mut results, &mut errors).await?;
        apply_changes(conn, cx.composer, &fresh, agent, &changes, now).await?;
    }
    cx.composer.command_result(conn, ticket.id, agent, &results, &errors, parsed.note, now).await?;
    Ok(())
}

async fn resolve_commands(
    conn: &mut AnyConnection,
    cmds: &[Command],
    agent: &UserRow,
    results: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> Result<Resolved, TicketError> {
    let mut r = Resolved::default();
    for c in cmds {
        match c {
            Command::Status(s) => {
                r.status = Some(*s);
                results.push(format!("Status set to {s}."));
            }
            Command::Priority(p) => {
                r.priority = Some(*p);
                results.push(format!("Priority set to {p}."));
            }
            Command::Assign(AssignTo::Me) => {
                r.assignee = Some(Some(agent.clone()));
                results.push("Assigned to you.".into());
            }
            Command::Assign(AssignTo::Nobody) => {
                r.assignee = Some(None);
                results.push("Unassigned.".into());
            }
            Command::Assign(AssignTo::Email(e)) => match db::users::active_by_email(&mut *conn, e).await? {
                Some(u) => {
                    results.push(format!("Assigned to {}.", u.name));
                    r.assignee = Some(Some(u));
                }
                None => errors.push(format!("#assign {e}: no active user with that address.")),
            },
        }
    }
    Ok(r)
}

/// Never mailed: kept as an internal note marked unverified, with an event; the agent whose identity was used is told.
#[allow(clippy::too_many_arguments)]
async fn unverified(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket: &TicketRow,
    agent: &UserRow,
    sender: &str,
    reason: &str,
    raw_id: i64,
    now: i64,
) -> Result<(), TicketError> {
    let input = ReplyInput {
        body: if m.visible_text.trim().is_empty() { "(empty mail)".into() } else { m.visible_text.clone() },
        attachments: files(m),
        verified: Some(false),
        raw_id: Some(raw_id),
        content_digest: Some(m.digest.clone()),
        from_addr: Some(sender.to_string()),
        full_text: Some(m.mail.body_text.clone()),
        ..Default::default()
    };
    write_note(conn, ticket, agent, &input, now).await?;
    db::messages::insert_event(&mut *conn, ticket.id, sender, "unverified_mail", reason, now).await?;
    let errors = vec![format!(
        "A mail to ticket #{} was kept as an unverified internal note and NOT sent to the customer: {reason}.",
        ticket.number
    )];
    cx.composer.command_result(conn, ticket.id, agent, &[], &errors, false, now).await?;
    Ok(())
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
