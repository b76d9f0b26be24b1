//! Staff replying by e-mail (design §5) through real Postfix and Dovecot: actions, commands, and forgeries.

use crate::helpers::{Store, TestApp, outbox_drained, sent_to, spawn_app_with};
use crate::mailenv::{MailEnv, wait_for, wait_inbox};
use deskmail::ingest::parse::{ParsedMail, parse};
use std::time::Duration;

struct Desk {
    app: TestApp,
    env: MailEnv,
    support: String,
    customer: String,
    agent: String,
    other_agent: String,
    number: i64,
}

/// A polled and sending support mailbox, two agents who want new-ticket notices, and one customer ticket.
async fn desk() -> Option<Desk> {
    let env = MailEnv::shared()?;
    let (support, customer, agent, other_agent) =
        (env.address("desk"), env.address("kunde"), env.address("ana"), env.address("bo"));
    let mut mb = env.mailbox("desk", &support, |i| i.idle = true);
    mb.smtp = Some(env.smtp(&support));
    let app = spawn_app_with(Store::Sqlite, move |s| {
        s.mailboxes.push(mb);
        s.security.trusted_authserv_ids = vec!["mx.example.test".into()];
    })
    .await?;
    for (email, name) in [(&agent, "Ana García"), (&other_agent, "Bo Berg")] {
        let id = app.services.db.create_user(email, name, deskmail::domain::Role::Agent, "x").await.unwrap();
        sqlx::query("update users set notify_new_ticket = 1, signature = 'Ana, Lamps Support' where id = $1")
            .bind(id)
            .execute(app.services.db.pool())
            .await
            .unwrap();
    }
    let first = format!(
        "From: José Pérez <{customer}>\r\nTo: {support}\r\nSubject: Lampe kaputt\r\nMessage-ID: <first-{}@kunde.example>\r\n\r\nMy lamp arrived broken.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    env.send(&customer, &[&support], first.as_bytes()).await;
    let number = wait_for(30, || async {
        let (_, list) = app.get("/api/v1/tickets?q=kaputt").await;
        list["tickets"][0]["number"].as_i64()
    })
    .await
    .expect("the customer's mail became a ticket");
    // The acknowledgement arrives first, so the tests' counts of the customer's mail start from a settled inbox.
    assert_eq!(wait_inbox(&env, &customer, 1, 30).await.len(), 1, "the acknowledgement reached the customer");
    Some(Desk { app, env, support, customer, agent, other_agent, number })
}

impl Desk {
    /// The notice of `kind` that reached `who`'s inbox.
    async fn notice(&self, who: &str, subject_part: &str) -> ParsedMail {
        self.notice_saying(who, subject_part, "").await
    }

    /// The first mail to `who` whose subject has `subject_part` and whose text has `text_part` (waiting up to 15 s).
    async fn notice_saying(&self, who: &str, subject_part: &str, text_part: &str) -> ParsedMail {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let found = wait_inbox(&self.env, who, 1, 1)
                .await
                .iter()
                .filter_map(|r| parse(r))
                .find(|m| m.subject.contains(subject_part) && m.body_text.contains(text_part));
            if let Some(m) = found {
                return m;
            }
            if tokio::time::Instant::now() >= deadline {
                let got: Vec<String> = wait_inbox(&self.env, who, 0, 0)
                    .await
                    .iter()
                    .filter_map(|r| parse(r))
                    .map(|m| format!("{}: {}", m.subject, m.body_text))
                    .collect();
                panic!("no notice {subject_part:?} saying {text_part:?} for {who}; got {got:#?}");
            }
        }
    }

    /// Sends a mail as `from` (over port 25, like any sender on the Internet) to `to`.
    async fn send_as(&self, from: &str, to: &str, in_reply_to: &str, extra_headers: &str, body: &str) {
        let raw = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: Re: notice\r\nMessage-ID: <{}@agent.example>\r\nIn-Reply-To: <{in_reply_to}>\r\n{extra_headers}\r\n{body}\r\n",
            uuid::Uuid::new_v4().simple()
        );
        self.env.send(from, &[to], raw.as_bytes()).await;
    }

    async fn ticket(&self) -> serde_json::Value {
        self.app.ticket(self.number).await
    }

    /// Waits until the ticket has `n` messages.
    async fn messages(&self, n: usize) -> serde_json::Value {
        let t = wait_for(15, || async {
            let t = self.ticket().await;
            (t["messages"].as_array().map(Vec::len) >= Some(n)).then_some(t)
        })
        .await;
        t.unwrap_or_else(|| panic!("ticket never reached {n} messages"))
    }

    async fn customer_mail_count(&self) -> usize {
        wait_inbox(&self.env, &self.customer, 0, 0).await.len()
    }
}

#[tokio::test]
async fn an_agent_answers_a_notification_and_the_customer_gets_it_from_support() {
    let Some(d) = desk().await else { return };
    let notice = d.notice(&d.agent, "New ticket").await;
    let reply_to = notice.reply_to[0].email.to_string();
    assert!(reply_to.contains(&format!("+{}-a", d.number)), "{reply_to}");
    let text = format!(
        "Hello José, a new lamp is on its way.\r\n\r\n-- \r\nAna García | +49 555 123\r\n\r\nOn Tue, 1 Sep 2026 at 10:00, Test Support <{}> wrote:\r\n> New ticket #{} in Test Support.\r\n> Reply to this email to answer José Pérez.\r\n",
        d.support, d.number
    );
    // With the shipping label attached: it goes to the customer with the reply.
    let body = format!(
        "--att\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n--att\r\n\
         Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"label.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgbGFiZWw=\r\n--att--"
    );
    let mime = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"att\"\r\n";
    d.send_as(&d.agent, &reply_to, notice.message_id.as_deref().unwrap(), mime, &body).await;
    let mails = wait_inbox(&d.env, &d.customer, 2, 20).await;
    let reply = mails
        .iter()
        .filter_map(|r| parse(r))
        .find(|m| m.body_text.contains("a new lamp is on its way"))
        .expect("the customer got the reply");
    assert_eq!(reply.from.as_ref().unwrap().email.as_str(), d.support);
    let label = reply.attachments.iter().find(|a| a.filename == "label.pdf").expect("the agent's attachment");
    assert_eq!(label.data, b"%PDF-1.4 label");
    assert_eq!(reply.from.as_ref().unwrap().name, "Ana García (Test Support)");
    assert!(reply.in_reply_to[0].starts_with("first-"), "threaded onto the customer's mail: {:?}", reply.in_reply_to);
    let raw = String::from_utf8_lossy(mails.iter().find(|r| String::from_utf8_lossy(r).contains("new lamp")).unwrap())
        .to_lowercase();
    assert!(!raw.contains(&d.agent.to_lowercase()), "the agent's address leaked");
    assert!(!reply.body_text.contains("+49 555 123"), "the mail client's signature leaked");
    assert!(
        !reply.body_text.contains("New ticket #") && !reply.body_text.contains("> "),
        "the quoted notice leaked: {}",
        reply.body_text
    );
    let t = d.ticket().await;
    let m = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").unwrap().clone();
    assert_eq!(m["verified"], true);
    assert_eq!(t["status"], "pending");
    let confirmation = d.notice(&d.agent, "Done").await;
    assert!(confirmation.body_text.contains("Sent your reply"), "{}", confirmation.body_text);
}

#[tokio::test]
async fn notes_commands_and_command_only_mails_do_what_they_say() {
    let Some(d) = desk().await else { return };
    let notice = d.notice(&d.agent, "New ticket").await;
    let (reply_to, parent) = (notice.reply_to[0].email.to_string(), notice.message_id.clone().unwrap());
    let before = d.customer_mail_count().await;
    d.send_as(&d.agent, &reply_to, &parent, "", "#note\r\nCustomer called; wants a refund.\r\n#priority high\r\n")
        .await;
    let t = d.messages(2).await;
    let note = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "note").unwrap().clone();
    assert_eq!(
        (note["visible_text"].as_str(), note["verified"].as_bool()),
        (Some("Customer called; wants a refund."), Some(true))
    );
    assert_eq!(t["priority"], "high");
    d.send_as(&d.agent, &reply_to, &parent, "", &format!("#status resolved\r\n#assign {}\r\n", d.other_agent)).await;
    let t = wait_for(15, || async {
        let t = d.ticket().await;
        (t["status"] == "resolved").then_some(t)
    })
    .await
    .expect("#status resolved applied");
    assert_eq!(t["assignee"]["email"], d.other_agent.as_str());
    assert_eq!(t["messages"].as_array().unwrap().len(), 2, "a command-only mail adds no message");
    outbox_drained(&d.app).await;
    assert_eq!(sent_to(&d.app, &d.customer).await, ["ack", "resolved"], "deskmail sent the customer only the notice");
    // The resolved notice left after anything the two agent mails could have sent the customer: it is the marker.
    let resolved_notice = 1;
    assert_eq!(
        wait_inbox(&d.env, &d.customer, before + resolved_notice, 15).await.len(),
        before + resolved_notice,
        "only the resolved notice reached the customer"
    );
}

#[tokio::test]
async fn forged_agent_mail_ends_as_an_unverified_note_and_nothing_reaches_the_customer() {
    let Some(d) = desk().await else { return };
    let notice = d.notice(&d.agent, "New ticket").await;
    let (reply_to, parent) = (notice.reply_to[0].email.to_string(), notice.message_id.clone().unwrap());
    let other_notice = d.notice(&d.other_agent, "New ticket").await;
    let others_address = other_notice.reply_to[0].email.to_string();
    // Only the tag after '+' is tampered with: the mailbox's own local part ("desk-<hex>") may contain "-a" too.
    let (local, tag) = reply_to.split_once('+').unwrap();
    let tampered = format!("{local}+{}", tag.replacen("-a", "-a9", 1));
    let before = d.customer_mail_count().await;
    let cases: [(&str, &str, &str); 4] = [
        (&d.support, "", "no token"),
        (&tampered, "", "wrong token"),
        (&others_address, "", "another agent's token"),
        (
            &reply_to,
            "Authentication-Results: mx.example.test; dkim=fail header.d=any.example.test; dmarc=fail\r\n",
            "DKIM fail",
        ),
    ];
    for (i, (to, headers, what)) in cases.iter().enumerate() {
        d.send_as(&d.agent, to, &parent, headers, &format!("Forged {what}: refund approved!")).await;
        let t = d.messages(2 + i).await;
        let last = t["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["kind"].as_str(), last["verified"].as_bool()), (Some("note"), Some(false)), "{what}: {last}");
    }
    let t = d.ticket().await;
    assert!(t["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "unverified_mail").count() >= 4);
    outbox_drained(&d.app).await;
    assert_eq!(sent_to(&d.app, &d.customer).await, ["ack"], "deskmail sent the customer nothing");
    // The agent's notice is queued with the note, so once it is in, a mail to the customer sent with it would be too.
    // (Waiting for the one that says so: under load another notice to the agent may come first.)
    d.notice_saying(&d.agent, "Not everything", "NOT sent to the customer").await;
    assert_eq!(d.customer_mail_count().await, before, "nothing reached the customer");
}

#[tokio::test]
async fn a_customer_replying_to_a_forwarded_notification_cannot_act_as_the_agent() {
    let Some(d) = desk().await else { return };
    let notice = d.notice(&d.agent, "New ticket").await;
    let before = d.customer_mail_count().await;
    d.send_as(
        &d.customer,
        notice.reply_to[0].email.as_ref(),
        notice.message_id.as_deref().unwrap(),
        "",
        "#status closed\r\nI am the agent now.",
    )
    .await;
    let t = d.messages(2).await;
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["verified"].as_bool()), (Some("note"), Some(false)));
    assert_ne!(t["status"], "closed");
    outbox_drained(&d.app).await;
    assert_eq!(sent_to(&d.app, &d.customer).await, ["ack"], "deskmail sent the customer nothing");
    // The agent whose reply address was used is told, with the note: the marker for the customer's inbox.
    d.notice(&d.agent, "Not everything").await;
    assert_eq!(d.customer_mail_count().await, before);
}
