//! `agent_command_result`: what an agent's mail did, or why it was not sent on — told to that agent (rate-limited).

use super::compose::{Composer, Draft, last_customer_mail, mailbox_of};
use super::context::message_json;
use crate::db::{self, DbError, UserRow};
use serde_json::json;
use sqlx::AnyConnection;

/// At most this many confirmations per agent and hour (a loop breaker for agents' auto-replies).
const PER_HOUR: i64 = 30;

impl Composer {
    /// Confirms an agent's mail (`results`) or reports its problems (`errors`) to the agent.
    #[allow(clippy::too_many_arguments)]
    pub async fn command_result(
        &self,
        conn: &mut AnyConnection,
        ticket_id: i64,
        agent: &UserRow,
        results: &[String],
        errors: &[String],
        note: bool,
        now: i64,
    ) -> Result<(), DbError> {
        let t = db::tickets::by_id(&mut *conn, ticket_id).await?.ok_or(DbError::NotFound)?;
        let mailbox = mailbox_of(conn, &t).await?;
        if !Self::can_send(&mailbox)
            || db::outbox::sent_to_since(conn, "agent_command_result", &agent.email, now - 3600).await? >= PER_HOUR
        {
            return Ok(());
        }
        let last = last_customer_mail(conn, t.id).await?.unwrap_or_default();
        let address = crate::domain::EmailAddress::parse(&mailbox.address).ok();
        let reply_to = address
            .filter(|_| mailbox.plus_addressing == 1)
            .map(|a| self.signer.agent_reply_address(&a, t.number, agent.id));
        let draft = Draft {
            kind: "agent_command_result",
            ticket: &t,
            mailbox: &mailbox,
            to: vec![(agent.name.clone(), agent.email.clone())],
            cc: Vec::new(),
            reply_to,
            agent: Some(agent),
            from_name: Self::team_name(&mailbox),
            message: message_json(&last.visible_text, &last.from_name, &last.from_addr, last.created_at),
            auto_submitted: Some("auto-generated"),
            threading: None,
            message_row: None,
            attachments: Vec::new(),
            message_id: None,
        };
        let mut extra = serde_json::Map::new();
        extra.insert("command".into(), json!({ "results": results, "errors": errors, "note": note }));
        self.enqueue_with(conn, draft, extra, now).await.map(|_| ())
    }
}
