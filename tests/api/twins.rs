//! Two `deskmail serve` processes on one PostgreSQL database and one storage directory: four IMAP mailboxes that
//! send their acknowledgements over SMTP, 1,000 mails arriving over SMTP while one instance (the one holding the
//! most mailbox leases) is SIGKILLed and restarted three times. Afterwards every mail is exactly one ticket
//! (counted per Message-ID in the database and through the API), every ticket has exactly one acknowledgement in
//! the outbox, sent once, and the customers' INBOXes hold one acknowledgement per mail. A second copy is allowed
//! only of a delivery the killed instance held claimed at the kill: SMTP accepted it and the kill came before the
//! result was recorded (sending is at least once, see tests/api/outbound_faults.rs).

use crate::helpers::{Store, fresh_database, init_once};
use crate::mailenv::{MailEnv, inbox_after_marker, wait_for};
use crate::outbound_faults::cli;
use crate::rules_crash::count;
use deskmail::db::Db;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const MAILS: usize = 1000;
const MAILBOXES: usize = 4;
const CUSTOMERS: usize = 8;
/// SMTP sessions handing the mails to Postfix at once.
const SENDERS: usize = 16;
/// One mail every 15 ms (67 a second): the mail keeps arriving over the 15 s the kills fall into.
const PACE: std::time::Duration = std::time::Duration::from_millis(15);
/// Tickets in the database when each kill lands: the kills fall inside the run however fast it goes.
const KILL_AT: [i64; 3] = [200, 450, 700];

/// The two `serve` processes; on a failed test their logs' warnings are printed and the processes stopped.
struct Twins {
    config: PathBuf,
    dir: PathBuf,
    ports: [u16; 2],
    children: [Option<Child>; 2],
    logs: Vec<PathBuf>,
}

impl Twins {
    fn start(&mut self, slot: usize) {
        let log = self.dir.join(format!("serve-{slot}-{}.log", self.logs.len()));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_deskmail"))
            .args(["--config", self.config.to_str().unwrap(), "serve"])
            .env("DESKMAIL_SERVER__LISTEN", format!("127.0.0.1:{}", self.ports[slot]))
            .env("DESKMAIL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start deskmail serve");
        self.logs.push(log);
        self.children[slot] = Some(child);
    }

    /// SIGKILL; returns the process id.
    fn kill(&mut self, slot: usize) -> u32 {
        let mut child = self.children[slot].take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        child.id()
    }

    fn pid(&self, slot: usize) -> u32 {
        self.children[slot].as_ref().expect("running").id()
    }

    async fn healthy(&self, slot: usize) -> bool {
        let url = format!("http://127.0.0.1:{}/healthz", self.ports[slot]);
        wait_for(30, || async { reqwest::get(&url).await.ok().map(|_| ()) }).await.is_some()
    }
}

impl Drop for Twins {
    fn drop(&mut self) {
        for slot in 0..2 {
            if self.children[slot].is_some() {
                self.kill(slot);
            }
        }
        if std::thread::panicking() {
            for log in &self.logs {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
                eprintln!("--- {} ({} warnings/errors, last 40):", log.display(), lines.len());
                for l in lines.iter().rev().take(40).rev() {
                    eprintln!("{l}");
                }
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `(key, count)` rows of a grouping query, as a map.
async fn grouped(db: &Db, sql: &str) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(db.pool()).await.expect("query");
    rows.into_iter().collect()
}

/// Every key of `map` once, and exactly the `expected` keys.
fn exactly_once(map: &BTreeMap<String, i64>, expected: &HashSet<String>, what: &str) {
    let wrong: Vec<_> = map.iter().filter(|(_, n)| **n != 1).collect();
    assert!(wrong.is_empty(), "{what} not exactly once: {wrong:?}");
    let missing: Vec<_> = expected.iter().filter(|k| !map.contains_key(*k)).take(10).collect();
    assert!(
        missing.is_empty() && map.len() == expected.len(),
        "{what}: {} of {}, missing {missing:?}",
        map.len(),
        expected.len()
    );
}

fn write_config(dir: &Path, url: &str, env: &MailEnv, supports: &[String]) -> PathBuf {
    let config = dir.join("deskmail.toml");
    let mut toml = format!(
        "[database]\nurl = \"{url}\"\nmax_connections = 6\n[storage]\ndir = \"{}\"\n\
         [security]\nsecret = \"twins-secret-twins-secret-twins-secret\"\n\
         [imap]\nlease_secs = 3\n\
         [outbound]\nlease_secs = 8\nretry_initial_secs = 1\nretry_cap_secs = 2\nack_limit_per_hour = 100000\n",
        dir.join("storage").display()
    );
    for (k, address) in supports.iter().enumerate() {
        let account = format!(
            "host = \"{}\", username = \"{address}\", password = \"{}\", ca_file = \"{}\"",
            env.host,
            env.password,
            env.ca_cert.display()
        );
        toml += &format!(
            "[[mailbox]]\nname = \"twin{k}\"\naddress = \"{address}\"\n\
             imap = {{ {account}, port = {}, tls = \"implicit\", import_existing = \"all\", idle = true }}\n\
             smtp = {{ {account}, port = {}, tls = \"starttls\", pool_size = 4 }}\n",
            env.imaps_port, env.submission_port
        );
    }
    std::fs::write(&config, toml).unwrap();
    config
}

fn customer_mail(i: usize, from: &str, to: &str, run: &str) -> (String, Vec<u8>) {
    let id = format!("twins-{run}-{i}@customer.example");
    let raw = format!(
        "From: Customer <{from}>\r\nTo: {to}\r\nSubject: twins {i}\r\nMessage-ID: <{id}>\r\n\
         Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nPlease help with case {i}.\r\n"
    );
    (id, raw.into_bytes())
}

/// The kills' evidence: the Message-IDs whose acknowledgement the killed instance held claimed.
async fn claimed_by(db: &Db, pid: u32) -> Vec<String> {
    let sql = "select m.message_id from deliveries d join outbound_mails o on o.id = d.outbound_id \
               join messages m on m.ticket_id = o.ticket_id and m.kind = 'customer' \
               where o.kind = 'ack' and d.status = 'sending' and d.lease_owner like $1";
    sqlx::query_scalar(sql).bind(format!("sender:{pid}:%")).fetch_all(db.pool()).await.expect("claimed deliveries")
}

/// The slot whose process holds the most live mailbox leases (the busier importer).
async fn busiest(db: &Db, twins: &Twins) -> (usize, i64) {
    let mut held = [0i64; 2];
    for (slot, n) in held.iter_mut().enumerate() {
        let sql = "select count(*) from mailbox_leases where owner like $1 and expires_at >= $2";
        *n = sqlx::query_scalar(sql)
            .bind(format!("%:{}:%", twins.pid(slot)))
            .bind(deskmail::domain::now())
            .fetch_one(db.pool())
            .await
            .unwrap_or(0);
    }
    if held[1] > held[0] { (1, held[1]) } else { (0, held[0]) }
}

#[tokio::test]
async fn two_instances_killed_in_turn_under_load_make_every_mail_one_ticket_and_acknowledge_it_once() {
    init_once();
    let Some(env) = MailEnv::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(Store::Postgres, dir.path()).await else { return };
    let started = std::time::Instant::now();
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let supports: Vec<String> = (0..MAILBOXES).map(|_| env.address("twin")).collect();
    let customers: Vec<String> = (0..CUSTOMERS).map(|_| env.address("twincust")).collect();
    let config = write_config(dir.path(), &url, &env, &supports);
    cli(&config, &["user", "add", "--email", "ana@example.test", "--name", "Ana", "--role", "agent"]);
    let token = cli(&config, &["token", "create", "--user", "ana@example.test", "--name", "t"]).trim().to_string();
    let db = Db::connect(&url, 2).await.expect("open the store");
    let mut twins = Twins {
        config,
        dir: dir.path().to_path_buf(),
        ports: [free_port(), free_port()],
        children: [None, None],
        logs: Vec::new(),
    };
    twins.start(0);
    twins.start(1);
    assert!(twins.healthy(0).await && twins.healthy(1).await, "the instances did not start");

    let mails: Vec<(String, String, String, Vec<u8>)> = (0..MAILS)
        .map(|i| {
            let (from, to) = (customers[i % CUSTOMERS].clone(), supports[i % MAILBOXES].clone());
            let (id, raw) = customer_mail(i, &from, &to, &run);
            (id, from, to, raw)
        })
        .collect();
    let expected: HashSet<String> = mails.iter().map(|m| m.0.clone()).collect();
    let handed = Arc::new(AtomicUsize::new(0));
    let sending = tokio::spawn({
        let (env, handed) = (env.clone(), handed.clone());
        async move {
            let start = tokio::time::Instant::now();
            futures::stream::iter(mails.into_iter().enumerate())
                .for_each_concurrent(SENDERS, |(i, (_, from, to, raw))| {
                    let (env, handed) = (env.clone(), handed.clone());
                    async move {
                        tokio::time::sleep_until(start + PACE * i as u32).await;
                        env.send(&from, &[&to], &raw).await;
                        handed.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .await
        }
    });

    let tickets = "select count(*) from tickets";
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut kills = Vec::new();
    for threshold in KILL_AT {
        let reached = wait_for(90, || async { (count(&db, tickets).await >= threshold).then_some(()) }).await;
        assert!(reached.is_some(), "the import stalled below {threshold} tickets ({})", count(&db, tickets).await);
        let (slot, leases) = busiest(&db, &twins).await;
        let pid = twins.kill(slot);
        let claimed = claimed_by(&db, pid).await;
        kills.push(format!(
            "instance {slot} at {} tickets, {} mails handed to Postfix ({leases} mailbox leases, {} acknowledgements \
             claimed)",
            count(&db, tickets).await,
            handed.load(Ordering::Relaxed),
            claimed.len()
        ));
        in_flight.extend(claimed);
        twins.start(slot);
        assert!(twins.healthy(slot).await, "instance {slot} did not restart");
    }
    sending.await.expect("every mail handed to Postfix");
    let all = wait_for(90, || async { (count(&db, tickets).await >= MAILS as i64).then_some(()) }).await;
    assert!(all.is_some(), "only {} of {MAILS} tickets", count(&db, tickets).await);
    let acks_sent = "select count(*) from deliveries d join outbound_mails o on o.id = d.outbound_id \
                     where o.kind = 'ack' and d.status = 'sent'";
    let sent = wait_for(90, || async { (count(&db, acks_sent).await >= MAILS as i64).then_some(()) }).await;
    assert!(sent.is_some(), "only {} of {MAILS} acknowledgements sent", count(&db, acks_sent).await);

    // The database: one customer message per Message-ID, each its own ticket, one receipt per IMAP message.
    let per_id =
        grouped(&db, "select message_id, count(*) from messages where kind = 'customer' group by message_id").await;
    exactly_once(&per_id, &expected, "messages per Message-ID");
    let per_ticket = "select m.message_id, count(distinct t.id) from messages m join tickets t on t.id = m.ticket_id \
                      where m.kind = 'customer' group by m.message_id";
    exactly_once(&grouped(&db, per_ticket).await, &expected, "tickets per Message-ID");
    assert_eq!(count(&db, tickets).await, MAILS as i64, "tickets");
    assert_eq!(count(&db, "select count(*) from receipts").await, MAILS as i64, "receipts");
    assert_eq!(count(&db, "select count(*) from quarantine").await, 0, "quarantined");

    // The API (of either instance): every subject once, each ticket with its one message.
    let client = reqwest::Client::new();
    let mut subjects: HashMap<String, i64> = HashMap::new();
    for page in 1..=MAILS.div_ceil(200) {
        let url = format!("http://127.0.0.1:{}/api/v1/tickets?per_page=200&page={page}", twins.ports[page % 2]);
        let body: serde_json::Value =
            client.get(url).bearer_auth(&token).send().await.unwrap().json().await.expect("ticket list");
        assert_eq!(body["total"], MAILS, "the API's total");
        for t in body["tickets"].as_array().unwrap() {
            assert_eq!(t["message_count"], 1, "{t}");
            *subjects.entry(t["subject"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let wrong: Vec<_> = subjects.iter().filter(|(_, n)| **n != 1).collect();
    assert!(subjects.len() == MAILS && wrong.is_empty(), "{} subjects in the API, doubled {wrong:?}", subjects.len());

    // The outbox: one acknowledgement per ticket, one delivery, sent.
    let acks = "select m.message_id, count(*) from outbound_mails o join deliveries d on d.outbound_id = o.id \
                join messages m on m.ticket_id = o.ticket_id and m.kind = 'customer' \
                where o.kind = 'ack' and d.status = 'sent' group by m.message_id";
    exactly_once(&grouped(&db, acks).await, &expected, "acknowledgements in the outbox");
    assert_eq!(count(&db, "select count(*) from outbound_mails where kind = 'ack'").await, MAILS as i64);

    // The customers' INBOXes: a marker sent now arrives after everything handed to Postfix before it.
    let mut arrived: HashMap<String, usize> = HashMap::new();
    for customer in &customers {
        for raw in inbox_after_marker(&env, customer).await {
            let mail = deskmail::ingest::parse::parse(&raw).expect("an acknowledgement");
            let answered = mail.in_reply_to.first().cloned().unwrap_or_default();
            *arrived.entry(answered.trim_matches(['<', '>']).to_string()).or_default() += 1;
        }
    }
    let missing: Vec<_> = expected.iter().filter(|id| !arrived.contains_key(*id)).take(10).collect();
    assert!(
        missing.is_empty() && arrived.len() == MAILS,
        "{} acknowledgements arrived; missing {missing:?}",
        arrived.len()
    );
    let twice: Vec<&String> = arrived.iter().filter(|(_, n)| **n > 1).map(|(id, _)| id).collect();
    let unexplained: Vec<_> = twice.iter().filter(|id| !in_flight.contains(**id)).collect();
    println!(
        "twins test: {MAILS} mails, kills: {}; {} acknowledgements arrived twice (all claimed by a killed instance); \
         {:.1} s",
        kills.join("; "),
        twice.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(unexplained.is_empty(), "acknowledgements doubled that no killed instance held: {unexplained:?}");
    db.close().await;
}
