//! Outbound faults: an SMTP outage (replies wait and arrive once), a SIGKILL during a batch of 200 replies, and a
//! scripted server that takes two sessions at most (the pool shrinks to them; MAIL, RCPT and DATA come pipelined).

use crate::helpers::{Store, outbox_drained};
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for, wait_inbox};
use crate::outbound::{post, sending_app};
use deskmail::ingest::parse::parse;
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

#[tokio::test]
async fn replies_wait_out_an_smtp_outage_and_arrive_exactly_once() {
    let Some(env) = MailEnv::private() else { return };
    let Some((app, support)) = sending_app(Store::Sqlite, &env, |_| {}).await else { return };
    let customer = env.address("patient");
    let raw = format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: outage\r\nMessage-ID: <o-{}@c.example>\r\n\r\nhi\r\n",
        uuid::Uuid::new_v4().simple()
    );
    let number = app.ingest_at("out", &[raw.as_bytes()]).await.remove(0).ticket.unwrap();
    assert_eq!(wait_inbox(&env, &customer, 1, 30).await.len(), 1, "acknowledgement before the outage");
    env.control("stop-smtp");
    for i in 0..5 {
        let (status, body) =
            post(&app, &format!("/api/v1/tickets/{number}/replies"), json!({ "body": format!("reply {i}") })).await;
        assert_eq!(status, 201, "{body}");
    }
    let deferred = wait_for(15, || async {
        let (_, o) = app.get("/api/v1/outbox?status=queued").await;
        let list = o["outbox"].as_array()?.clone();
        (list.len() == 5 && list.iter().all(|d| d["attempts"].as_i64() >= Some(1))).then_some(list)
    })
    .await
    .expect("replies stay queued and are retried while SMTP is down");
    assert!(deferred[0]["error"].as_str().unwrap().len() > 5, "the connection error is recorded");
    env.control("start-smtp");
    wait_inbox(&env, &customer, 6, 30).await;
    outbox_drained(&app).await;
    // A marker sent now arrives after anything deskmail handed to Postfix before it, a second copy included.
    let inbox = inbox_after_marker(&env, &customer).await;
    let replies = inbox.iter().filter(|r| parse(r).is_some_and(|m| !m.classification.auto_reply)).count();
    assert_eq!(replies, 5, "each reply delivered exactly once after the outage");
}

fn serve(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("DESKMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs a `deskmail` command on `config`; its stdout (it must succeed).
pub(crate) fn cli(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("DESKMAIL_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Sessions of the crash test's mailbox: the mails in flight at once.
const POOL: usize = 4;

async fn sent_replies(db: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await else {
        return 0;
    };
    sqlx::query_scalar("select count(*) from deliveries d join outbound_mails o on o.id = d.outbound_id where o.kind = 'agent_reply' and d.status = 'sent'")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0)
}

#[tokio::test]
async fn sigkill_during_200_replies_loses_none_and_doubles_at_most_the_mails_in_flight() {
    let Some(env) = MailEnv::shared() else { return };
    let (support, customer) = (env.address("crashout"), env.address("crashcust"));
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("deskmail.toml");
    // The replies are posted while SMTP cannot be reached (they wait, queued), so that sending them is one batch
    // under way when the kill lands, however fast the sender keeps up with the posts.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let write_config = |smtp_port: u16| {
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:{port}\"\n[outbound]\nlease_secs = 2\nretry_initial_secs = 1\nretry_cap_secs = 1\n\
                 [security]\nsecret = \"crash-out-secret-crash-out-secret\"\n\
                 [[mailbox]]\nname = \"out\"\naddress = \"{support}\"\n\
                 smtp = {{ host = \"{}\", port = {smtp_port}, tls = \"starttls\", username = \"{support}\", password = \"{}\", ca_file = \"{}\", pool_size = {POOL} }}\n",
                env.host,
                env.password,
                env.ca_cert.display()
            ),
        )
        .unwrap()
    };
    write_config(closed);
    cli(&config, &["user", "add", "--email", "ana@example.test", "--name", "Ana", "--role", "agent"]);
    let token = cli(&config, &["token", "create", "--user", "ana@example.test", "--name", "t"]).trim().to_string();
    let mail = dir.path().join("m.eml");
    std::fs::write(
        &mail,
        format!(
            "From: {customer}\r\nTo: {support}\r\nSubject: many replies\r\nAuto-Submitted: auto-generated\r\n\r\nx\r\n"
        ),
    )
    .unwrap();
    let number: i64 = serde_json::from_str::<serde_json::Value>(&cli(
        &config,
        &["ingest", "--mailbox", "out", "--json", mail.to_str().unwrap()],
    ))
    .unwrap()["ticket"]
        .as_i64()
        .unwrap();
    let db = dir.path().join("data/deskmail.db");
    let mut first = serve(&config);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_for(20, || async { client.get(format!("{base}/healthz")).send().await.ok().map(|_| ()) }).await.is_some()
    );
    for i in 0..200 {
        let resp = client
            .post(format!("{base}/api/v1/tickets/{number}/replies"))
            .bearer_auth(&token)
            .json(&json!({ "body": format!("reply number {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(sent_replies(&db).await, 0, "nothing could be sent yet");
    write_config(env.submission_port);
    let mut first = serve(&config);
    assert!(
        wait_for(60, || async { (sent_replies(&db).await >= 40).then_some(()) }).await.is_some(),
        "sending never started"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = sent_replies(&db).await;
    assert!(at_kill < 200, "the kill must land during the batch ({at_kill} already sent)");
    let mut second = serve(&config);
    let done = wait_for(90, || async { (sent_replies(&db).await >= 200).then_some(()) }).await;
    // Duplicates count in the INBOX too: wait for 200 distinct replies, not 200 messages.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 200 && tokio::time::Instant::now() < deadline {
        seen.clear();
        for raw in &wait_inbox(&env, &customer, 200, 30).await {
            if let Some(m) = parse(raw).filter(|m| m.body_text.contains("reply number")) {
                *seen.entry(m.message_id.unwrap_or_default()).or_default() += 1;
            }
        }
        if seen.len() < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(done.is_some(), "only {} of 200 replies sent", sent_replies(&db).await);
    let twice = seen.values().filter(|n| **n > 1).count();
    println!(
        "outbound crash test: {} distinct replies arrived, {twice} arrived twice (killed after {at_kill} sent)",
        seen.len()
    );
    assert_eq!(seen.len(), 200, "every reply arrived");
    // At most the mails in flight: one mailbox sends over at most `smtp.pool_size` sessions at once.
    assert!(twice <= POOL, "{twice} duplicates: more than the mails in flight");
}

/// What the scripted server saw.
#[derive(Default)]
struct Seen {
    sessions: usize,
    most_at_once: usize,
    refused: usize,
    /// Transactions whose MAIL, RCPT and DATA arrived together (one write).
    pipelined: usize,
    mails: Vec<String>,
}

/// An SMTP server (no TLS, no AUTH) offering PIPELINING that answers 421 to a third session at once and 550 to
/// recipients starting with "gone"; returns its port and what it saw.
fn two_session_server() -> (u16, std::sync::Arc<std::sync::Mutex<Seen>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let shared = seen.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let (seen, open) = (shared.clone(), open.clone());
            std::thread::spawn(move || {
                use std::sync::atomic::Ordering::SeqCst;
                if open.fetch_add(1, SeqCst) >= 2 {
                    seen.lock().unwrap().refused += 1;
                    let _ = conn.write_all(b"421 4.7.0 too many connections\r\n");
                    open.fetch_sub(1, SeqCst);
                    return;
                }
                {
                    let mut s = seen.lock().unwrap();
                    s.sessions += 1;
                    s.most_at_once = s.most_at_once.max(open.load(SeqCst));
                }
                let mut out = conn.try_clone().unwrap();
                let mut reader = BufReader::new(conn);
                let _ = out.write_all(b"220 scripted ESMTP\r\n");
                let (mut line, mut rcpt_ok) = (String::new(), false);
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") {
                        b"250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL") {
                        if String::from_utf8_lossy(reader.buffer()).contains("DATA") {
                            seen.lock().unwrap().pipelined += 1;
                        }
                        b"250 2.1.0 ok\r\n"
                    } else if upper.starts_with("RCPT") {
                        rcpt_ok = !upper.contains("<GONE");
                        if rcpt_ok { b"250 2.1.5 ok\r\n" } else { b"550 5.1.1 gone: user unknown\r\n" }
                    } else if upper.starts_with("DATA") && !rcpt_ok {
                        b"554 5.5.1 no valid recipients\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = out.write_all(b"354 go ahead\r\n");
                        let mut mail = String::new();
                        while !mail.ends_with("\r\n.\r\n") && reader.read_line(&mut mail).unwrap_or(0) > 0 {}
                        seen.lock().unwrap().mails.push(mail);
                        b"250 2.0.0 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = out.write_all(answer);
                    line.clear();
                }
                open.fetch_sub(1, SeqCst);
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn the_pool_shrinks_to_the_sessions_a_server_takes_and_pipelines_each_mail() {
    use deskmail::net::smtp::{SendError, SmtpClient};
    let (port, seen) = two_session_server();
    let settings: deskmail::platform::config::SmtpSettings = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\npool_size = 6\ntimeout_secs = 5"
    ))
    .unwrap();
    let client = SmtpClient::new(&settings, None).unwrap();
    assert_eq!(client.concurrency(), 6);
    let raw = |i: usize| format!("Subject: mail {i}\r\n\r\nbody {i}\r\n.starts with a dot\r\n").into_bytes();
    // Six senders at once, as a sending step does; a busy answer gives the mail back to the others.
    let queue = std::sync::Arc::new(std::sync::Mutex::new((0..30).collect::<Vec<usize>>()));
    let mut busy = 0;
    let senders = (0..6).map(|_| {
        let (client, queue) = (client.clone(), queue.clone());
        async move {
            let mut busy = 0;
            loop {
                let Some(i) = queue.lock().unwrap().pop() else { return busy };
                match client.send("support@example.test", &format!("c{i}@customer.example"), &raw(i)).await {
                    Ok(()) => {}
                    Err(SendError::Busy(_)) => {
                        busy += 1;
                        queue.lock().unwrap().push(i);
                        return busy;
                    }
                    Err(e) => panic!("mail {i}: {e}"),
                }
            }
        }
    });
    for n in futures::future::join_all(senders).await {
        busy += n;
    }
    // What a busy answer gave back after the others had stopped waits for the next step, as in the sender.
    let left: Vec<usize> = queue.lock().unwrap().drain(..).collect();
    for i in left {
        client.send("support@example.test", &format!("c{i}@customer.example"), &raw(i)).await.unwrap();
    }
    assert!(busy >= 1, "the server refused a third session");
    assert!(client.concurrency() <= 2, "the pool shrank to the sessions the server took: {}", client.concurrency());
    let gone = client.send("support@example.test", "gone@customer.example", &raw(99)).await;
    assert!(matches!(&gone, Err(SendError::Permanent(e)) if e.contains("user unknown")), "{gone:?}");
    let s = seen.lock().unwrap();
    assert_eq!(s.mails.len(), 30, "every mail went out once");
    assert!(s.mails.iter().any(|m| m.contains("\r\n..starts with a dot")), "dot-stuffed");
    assert!(s.most_at_once <= 2 && s.refused >= 1);
    assert_eq!(s.pipelined, 31, "MAIL, RCPT and DATA in one write each time");
}
