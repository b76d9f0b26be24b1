//! Outbound settings at work: a broken template override stops start-up, `save_sent` keeps a copy in the Sent folder,
//! and `deskmail mailbox test` checks both servers.

use crate::helpers::{Store, spawn_app_with};
use crate::mailenv::{MailEnv, wait_for};
use crate::outbound::{customer_mail, post};
use serde_json::json;

#[tokio::test]
async fn a_broken_template_override_stops_start_up_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("ack.txt"), "Hello {{ customer.name }}\n{% if ticket.number %}\nno end").unwrap();
    let mut settings =
        crate::helpers::test_settings(dir.path(), format!("sqlite://{}/t.db?mode=rwc", dir.path().display()));
    settings.templates.dir = Some(templates.clone());
    let err = match deskmail::startup::Application::build(settings).await {
        Ok(_) => panic!("start-up must fail"),
        Err(e) => deskmail::platform::telemetry::chain(e.as_ref()),
    };
    assert!(err.contains("ack.txt") && err.contains("line"), "{err}");
}

#[tokio::test]
async fn save_sent_appends_a_copy_to_the_sent_folder() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("saver");
    let mut mb = env.mailbox("out", &support, |_| {});
    let mut smtp = env.smtp(&support);
    smtp.save_sent = true;
    mb.smtp = Some(smtp);
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| s.mailboxes.push(mb)).await else { return };
    let customer = env.address("c");
    let raw = customer_mail(
        "C",
        &customer,
        &support,
        "keep a copy",
        &format!("{}@c.example", uuid::Uuid::new_v4().simple()),
        "hi",
    );
    let n = app.ingest_at("out", &[&raw]).await.remove(0).ticket.unwrap();
    let (status, _) = post(&app, &format!("/api/v1/tickets/{n}/replies"), json!({ "body": "copy me" })).await;
    assert_eq!(status, 201);
    let copy = wait_for(15, || {
        let (env, support) = (env.clone(), support.clone());
        async move {
            let mut s = env.session(&support).await;
            let sent = crate::mailenv::bodies(&mut s, "Sent").await;
            sent.into_iter().find(|r| String::from_utf8_lossy(r).contains("copy me"))
        }
    })
    .await;
    assert!(copy.is_some(), "no copy in Sent");
}

#[tokio::test]
async fn mailbox_test_reports_imap_and_smtp() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("probe");
    let mut mb = env.mailbox("probe", &support, |_| {});
    mb.smtp = Some(env.smtp(&support));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    let mut text = format!(
        "[security]\nsecret = \"probe-secret-probe-secret-probe\"\n[[mailbox]]\n{}",
        toml::to_string(&mb).unwrap()
    );
    text = text.replace("[imap]", "[mailbox.imap]").replace("[smtp]", "[mailbox.smtp]");
    std::fs::write(&config, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", config.to_str().unwrap(), "mailbox", "test", "probe"])
        .env("DESKMAIL_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("login ok") && stdout.contains("IDLE") && stdout.contains("next sync would import 0"),
        "{stdout}"
    );
    assert!(stdout.contains("SMTP") && stdout.contains("connection and login ok"), "{stdout}");
    let bad = config.with_file_name("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace(&format!("password = \"{}\"", env.password), "password = \"wrong\""),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["--config", bad.to_str().unwrap(), "mailbox", "test", "probe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert!(String::from_utf8_lossy(&out.stderr).contains("login refused"), "{}", String::from_utf8_lossy(&out.stderr));
}
