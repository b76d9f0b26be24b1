//! How a ticket event reads for people: the line in the ticket history and the API's `detail`.

use super::event::{Channel, ErasedBy, TicketEvent};

impl TicketEvent {
    /// One line for people: the ticket history on the page and in the API's `detail`.
    pub fn describe(&self) -> String {
        let list = |v: &[String]| v.join(", ");
        match self {
            TicketEvent::TicketCreated { channel: Channel::Mail, mailbox, .. } => format!("by e-mail to {mailbox}"),
            TicketEvent::TicketCreated { channel: Channel::Agent, requester, .. } => {
                format!("by an agent to {requester}")
            }
            TicketEvent::TicketCreated { channel: Channel::Split, .. } => "split off another ticket".into(),
            TicketEvent::MessageReceived { from, auto: true, .. } => format!("automatic mail from {from}"),
            TicketEvent::MessageReceived { from, .. } => format!("mail from {from}"),
            TicketEvent::ReplySent { to, .. } => format!("replied to {}", list(to)),
            TicketEvent::NoteAdded { verified: Some(false), .. } => "unverified mail kept as a note".into(),
            TicketEvent::NoteAdded { .. } => "internal note".into(),
            TicketEvent::StatusChanged { from, to } => format!("{from} → {to}"),
            TicketEvent::PriorityChanged { from, to } => format!("{from} → {to}"),
            TicketEvent::TypeChanged { to: Some(to), .. } => format!("type → {to}"),
            TicketEvent::TypeChanged { to: None, .. } => "type removed".into(),
            TicketEvent::SlaWarning { target, due, .. } => format!("{} due {}", target_text(target), hm(*due)),
            TicketEvent::SlaBreached { target, due, .. } => {
                format!("{} overdue since {}", target_text(target), hm(*due))
            }
            TicketEvent::AssigneeChanged { to: Some(to), .. } => format!("assigned to {to}"),
            TicketEvent::AssigneeChanged { to: None, .. } => "unassigned".into(),
            TicketEvent::TagsChanged { added, removed } => tags_text(added, removed),
            TicketEvent::LinkAdded { link, reference, automatic } => {
                let how = if *automatic { " automatically (mentioned in the mail)" } else { "" };
                format!("{} {reference} linked{how}", link.replace('_', " "))
            }
            TicketEvent::LinkRemoved { link, reference } => format!("{} {reference} unlinked", link.replace('_', " ")),
            TicketEvent::FollowUp { ticket } => {
                format!("follow-up ticket #{ticket} opened by a reply to this closed ticket")
            }
            TicketEvent::FollowUpOf { ticket } => format!("follows up closed ticket #{ticket}"),
            TicketEvent::Bounce { recipients, status, diagnostic } => {
                let why = [status.as_deref(), diagnostic.as_deref()].into_iter().flatten().collect::<Vec<_>>();
                format!("delivery to {} failed: {}", list(recipients), why.join(" ")).trim().to_string()
            }
            TicketEvent::MailNotSent { template, error } => format!("{template}: {error}"),
            TicketEvent::AckSuppressed { recipient, recent } => {
                format!("acknowledgement not sent: {recipient} already got {recent} in the last hour")
            }
            TicketEvent::UnverifiedMail { reason, .. } => reason.clone(),
            TicketEvent::MailboxChanged { from, to } => format!("moved from mailbox {from} to {to}"),
            TicketEvent::Merged { source, target, messages } => {
                format!("#{source} merged into #{target} ({} moved)", plural(*messages as usize, "message"))
            }
            TicketEvent::Split { source, target, messages } => {
                format!("{} split off from #{source} into #{target}", plural(messages.len(), "message"))
            }
            TicketEvent::RuleApplied { name, action, .. } => format!("Rule \u{201c}{name}\u{201d}: {action}"),
            TicketEvent::RuleChainStopped { name, depth, .. } => format!(
                "Rule \u{201c}{name}\u{201d} was not run: rules changing this ticket triggered each other {depth} deep"
            ),
            TicketEvent::RuleDisabled { name, runs, .. } => {
                format!(
                    "Rule \u{201c}{name}\u{201d} acted {runs} times within an hour on this ticket and was switched off"
                )
            }
            TicketEvent::SatisfactionRated { rating, comment, .. } if comment.is_empty() => format!("rated {rating}"),
            TicketEvent::SatisfactionRated { rating, comment, .. } => format!("rated {rating}: {comment}"),
            TicketEvent::Erased { by, messages, attachments } => {
                let why = match by {
                    ErasedBy::Customer => "the customer's data was erased",
                    ErasedBy::Retention => "closed longer than the retention period",
                };
                let (m, a) = (plural(*messages as usize, "message"), plural(*attachments as usize, "attachment"));
                format!("content erased ({why}): {m} blanked, {a} removed")
            }
        }
    }
}

/// An SLA target's name for people.
fn target_text(target: &str) -> String {
    match target {
        "first_response" => "first reply".into(),
        "next_response" => "next reply".into(),
        other => other.replace('_', " "),
    }
}

/// A due time as UTC text (the page shows it in the reader's zone).
fn hm(ts: i64) -> String {
    super::rfc3339(ts).replace('T', " ").replace('Z', " UTC")
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn tags_text(added: &[String], removed: &[String]) -> String {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("tags added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("tags removed: {}", removed.join(", ")));
    }
    parts.join("; ")
}
