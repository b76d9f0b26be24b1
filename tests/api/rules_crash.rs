//! The rules consumer killed mid-run: 600 new tickets wait for an event rule (tag, priority, note, reply), and
//! `deskmail serve` is SIGKILLed three times while it works through them. Afterwards every ticket carries each
//! of the rule's actions exactly once — counted in the event log, the rule's runs, the replies it stored and
//! the mails it queued.

use crate::helpers::{Store, fresh_database, init_once};
use crate::mailenv::wait_for;
use crate::store_tests;
use deskmail::db::Db;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};

store_tests!(a_rules_consumer_killed_three_times_mid_run_repeats_no_action);

const TICKETS: i64 = 600;

fn serve(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("DESKMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start deskmail serve")
}

fn cli(config: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("DESKMAIL_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The single number a counting query returns (0 when it fails).
pub(crate) async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(db.pool()).await.unwrap_or(0)
}

/// `(ticket, value)` rows of a grouping query, as a map.
async fn per_ticket(db: &Db, sql: &str) -> BTreeMap<i64, i64> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(db.pool()).await.expect("query");
    rows.into_iter().collect()
}

fn write_setup(dir: &Path, url: &str) -> std::path::PathBuf {
    let config = dir.join("deskmail.toml");
    // The mailbox sends to a closed port: the rule's replies stay in the outbox, where they are counted (the
    // outbox's own crash test covers handing them to SMTP exactly once).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{url}\"\nmax_connections = 4\n\
             [storage]\ndir = \"{}\"\n[rules]\nlease_secs = 2\n\
             [security]\nsecret = \"rules-crash-secret-rules-crash-secret\"\n\
             [[mailbox]]\nname = \"support\"\naddress = \"support@example.test\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {closed}, tls = \"none\" }}\n",
            dir.join("storage").display()
        ),
    )
    .unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(
        &rules,
        r#"{"rules": [{"name": "Crash watch", "trigger": "ticket_created", "enabled": true,
            "conditions": {"all": [{"field": "message.subject", "op": "contains", "value": "crash"}]},
            "actions": [{"type": "add_tag", "value": "watched"}, {"type": "set_priority", "value": "high"},
                        {"type": "add_note", "body": "Seen by the rule."},
                        {"type": "reply", "body": "We have your request #{{ ticket.number }}."}]}]}"#,
    )
    .unwrap();
    cli(&config, &["rules", "import", rules.to_str().unwrap()]);
    let mails = dir.join("mails");
    std::fs::create_dir(&mails).unwrap();
    for i in 0..TICKETS {
        std::fs::write(
            mails.join(format!("{i:04}.eml")),
            format!(
                "From: Customer {i} <c{i}@customer.example>\r\nTo: support@example.test\r\nSubject: crash {i}\r\n\
                 Message-ID: <crash-{i}@customer.example>\r\nDate: Sat, 5 Dec 2026 10:00:00 +0000\r\n\r\nHelp {i}\r\n"
            ),
        )
        .unwrap();
    }
    config
}

async fn a_rules_consumer_killed_three_times_mid_run_repeats_no_action(store: Store) {
    init_once();
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(store, dir.path()).await else { return };
    let config = write_setup(dir.path(), &url);
    let db = Db::connect(&url, 2).await.expect("open the store");
    let runs = "select count(*) from rule_runs";
    // The first start registers the consumer at the (empty) end of the log; the mails then wait for it.
    let mut first = serve(&config);
    let registered = wait_for(30, || async {
        (count(&db, "select count(*) from event_consumers where name = 'rules'").await == 1).then_some(())
    })
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(registered.is_some(), "the rules consumer never started");
    let files: Vec<String> =
        (0..TICKETS).map(|i| dir.path().join(format!("mails/{i:04}.eml")).display().to_string()).collect();
    let mut args = vec!["ingest", "--mailbox", "support"];
    args.extend(files.iter().map(String::as_str));
    cli(&config, &args);
    assert_eq!(count(&db, "select count(*) from tickets").await, TICKETS);
    assert_eq!(count(&db, runs).await, 0, "no rule ran while serve was down");
    let mut at_kills = Vec::new();
    for threshold in [60, 220, 400] {
        let mut child = serve(&config);
        let reached = wait_for(60, || async { (count(&db, runs).await >= threshold).then_some(()) }).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        assert!(reached.is_some(), "the rules stalled below {threshold} runs");
        at_kills.push(count(&db, runs).await);
    }
    assert!(at_kills.iter().all(|n| *n < TICKETS), "a kill landed after the run: {at_kills:?}");
    let mut last = serve(&config);
    let done = wait_for(60, || async { (count(&db, runs).await >= TICKETS).then_some(()) }).await;
    let caught_up =
        wait_for(30, || async { db.consumer_caught_up("rules").await.unwrap_or(false).then_some(()) }).await;
    last.kill().unwrap();
    last.wait().unwrap();
    assert!(done.is_some() && caught_up.is_some(), "only {} of {TICKETS} runs", count(&db, runs).await);
    println!("rules crash test ({store:?}): killed after {at_kills:?} runs");

    let everyone = |map: &BTreeMap<i64, i64>, what: &str| {
        assert_eq!(map.len() as i64, TICKETS, "{what}: {} tickets", map.len());
        let wrong: Vec<_> = map.iter().filter(|(_, n)| **n != 1).collect();
        assert!(wrong.is_empty(), "{what} not exactly once: {wrong:?}");
    };
    everyone(&per_ticket(&db, "select ticket_id, count(*) from rule_runs group by ticket_id").await, "rule runs");
    for kind in ["tags_changed", "priority_changed", "note_added"] {
        let sql = format!(
            "select ticket_id, count(*) from ticket_events where actor like 'rule:%' and kind = '{kind}' group by ticket_id"
        );
        everyone(&per_ticket(&db, &sql).await, kind);
    }
    let replies = "select ticket_id, count(*) from outbound_mails where kind = 'rule_reply' group by ticket_id";
    everyone(&per_ticket(&db, replies).await, "rule replies queued");
    for kind in ["note", "agent"] {
        let sql = format!("select ticket_id, count(*) from messages where kind = '{kind}' group by ticket_id");
        everyone(&per_ticket(&db, &sql).await, kind);
    }
    assert_eq!(count(&db, "select count(*) from tickets where priority = 'high'").await, TICKETS);
    db.close().await;
}
