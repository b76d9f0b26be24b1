//! Retention and the command line, on both stores: a dry run lists the tickets closed long enough and changes
//! nothing; the daily job erases them (once a day), keeps a customer who has another ticket and anonymises one who
//! has none; `deskmail customer export|erase` and `deskmail retention --dry-run`.

use crate::erase::{KIM, LOU, SHARED, call, mail_with, on_disk};
use crate::helpers::{Store, TestApp, build_app, spawn_app_with};
use crate::{blob_store_tests, store_tests};
use deskmail::platform::storage::sha256_hex;
use deskmail::tickets::retention::RetentionRun;
use serde_json::json;
use std::process::Command;

blob_store_tests!(retention_erases_tickets_closed_long_enough_once_a_day_after_a_dry_run_that_changes_nothing);
store_tests!(the_command_line_exports_and_erases_a_customer_and_lists_what_retention_would_erase);

const DAY: i64 = 86_400;

async fn close(app: &TestApp, n: i64) {
    let (s, body) =
        call(app, reqwest::Method::PATCH, &format!("/api/v1/tickets/{n}"), None, Some(json!({"status": "closed"})))
            .await;
    assert_eq!(s, 200, "{body}");
}

async fn retention_erases_tickets_closed_long_enough_once_a_day_after_a_dry_run_that_changes_nothing(store: Store) {
    let Some(app) = spawn_app_with(store, |s| s.retention.closed_ticket_days = Some(30)).await else { return };
    let kim_old =
        mail_with(KIM, "Old lamp", "r1@customer.example", "the old lamp story", &[("old.pdf", b"old kim file")]);
    let kim_old_n = app.ingest(&kim_old).await.ticket.unwrap();
    let kim_open =
        app.ingest(&mail_with(KIM, "New lamp", "r2@customer.example", "the new lamp", &[])).await.ticket.unwrap();
    let lou_n = app
        .ingest(&mail_with(LOU, "Kettle", "r3@customer.example", "kettle story", &[("m.pdf", SHARED)]))
        .await
        .ticket
        .unwrap();
    close(&app, kim_old_n).await;
    close(&app, lou_n).await;
    let (tickets, later) = (&app.services.tickets, deskmail::domain::now() + 31 * DAY);

    let due: Vec<i64> = tickets.retention_due(30, later, 100).await.unwrap().iter().map(|t| t.number).collect();
    assert_eq!(due, [kim_old_n, lou_n]);
    assert!(tickets.retention_due(30, deskmail::domain::now(), 100).await.unwrap().is_empty(), "not 30 days yet");
    assert!(app.ticket(kim_old_n).await.to_string().contains("the old lamp story"), "the dry run changed nothing");

    let RetentionRun::Ran(done) = tickets.try_retention(Some(30), "test", later).await.unwrap() else {
        panic!("a run")
    };
    assert_eq!((done.tickets, done.attachments, done.customers), (2, 2, 1), "{done:?}");
    let old = app.ticket(kim_old_n).await;
    assert_eq!(old["subject"], "[erased]");
    assert!(!old.to_string().contains("old lamp story") && old["status"] == "closed");
    let erased = old["events"].as_array().unwrap().iter().find(|e| e["kind"] == "erased").expect("an erased event");
    assert_eq!((erased["actor"].as_str(), erased["data"]["by"].as_str()), (Some("system"), Some("retention")));
    assert!(!on_disk(&app, &sha256_hex(&kim_old)).await && !on_disk(&app, &sha256_hex(b"old kim file")).await);
    assert!(!on_disk(&app, &sha256_hex(SHARED)).await, "only Lou's erased ticket held it");
    assert!(app.ticket(kim_open).await.to_string().contains("the new lamp"), "an open ticket stays");
    assert_eq!(app.get(&format!("/api/v1/customers/{KIM}")).await.0, 200, "Kim has another ticket");
    assert_eq!(app.get(&format!("/api/v1/customers/{LOU}")).await.0, 404, "Lou had no other ticket");
    let lou = app.ticket(lou_n).await;
    assert!(!lou.to_string().contains(LOU), "{lou}");

    assert_eq!(tickets.try_retention(Some(30), "test", later + 60).await.unwrap(), RetentionRun::NotDue);
    assert_eq!(tickets.try_retention(None, "test", later + 2 * DAY).await.unwrap(), RetentionRun::Off);
    let RetentionRun::Ran(again) = tickets.try_retention(Some(30), "test", later + 2 * DAY).await.unwrap() else {
        panic!("due a day later")
    };
    assert_eq!(again.tickets, 0, "erased tickets are not erased again");
    assert_eq!(app.get("/healthz").await.1["retention"]["last_acted"], 0);
}

fn deskmail(config: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskmail"));
    cmd.arg("--config").arg(config).args(args).env_remove("DESKMAIL_CONFIG").env("DESKMAIL_LOG", "warn");
    cmd
}

async fn the_command_line_exports_and_erases_a_customer_and_lists_what_retention_would_erase(store: Store) {
    // Nothing running beside the command line: on SQLite a running server's writers and the command's would share
    // the one write lock.
    let Some(app) = build_app(store).await else { return };
    let n = app
        .ingest(&mail_with(KIM, "Lamp", "c1@customer.example", "cli lamp text", &[("a.pdf", b"cli file")]))
        .await
        .ticket
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    let s = &app.services.settings;
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[storage]\ndir = \"{}\"\n[security]\nsecret = \"{}\"\n[[mailbox]]\nname = \"support\"\n\
             address = \"support@example.test\"\ndisplay_name = \"Example Support\"\nplus_addressing = true\n",
            s.database.url,
            s.storage.dir.display(),
            s.security.secret.as_deref().unwrap()
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("kim");
    let out = deskmail(&config, &["customer", "export", KIM, "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json = std::fs::read_to_string(out_dir.join("export.json")).unwrap();
    assert!(json.contains("cli lamp text") && json.contains(KIM));
    let files: Vec<_> = std::fs::read_dir(out_dir.join("attachments")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), b"cli file");
    let again = deskmail(&config, &["customer", "export", KIM, "--out"]).arg(&out_dir).output().unwrap();
    assert_ne!(again.status.code(), Some(0), "a non-empty directory is refused");

    let dry = deskmail(&config, &["retention", "--dry-run", "--days", "30"]).output().unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("0 ticket(s)"));
    assert_eq!(deskmail(&config, &["retention", "--dry-run"]).output().unwrap().status.code(), Some(64), "no days set");

    let erase = deskmail(&config, &["customer", "erase", KIM, "--yes"]).output().unwrap();
    assert_eq!(erase.status.code(), Some(0), "{}", String::from_utf8_lossy(&erase.stderr));
    let done: serde_json::Value = serde_json::from_slice(&erase.stdout).unwrap();
    assert_eq!((done["tickets"].as_i64(), done["blobs_deleted"].as_i64()), (Some(1), Some(2)), "{done}");
    assert_eq!(app.services.db.ticket(n).await.unwrap().unwrap().subject, "[erased]");
    let unknown = deskmail(&config, &["customer", "erase", KIM, "--yes"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(66), "{}", String::from_utf8_lossy(&unknown.stderr));
}
