//! The crash test: 500 mails, `deskmail serve` SIGKILLed three times mid-import, exactly 500 tickets after.

use crate::mailenv::{MailEnv, wait_for};
use std::process::{Child, Command, Stdio};

fn start(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("DESKMAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start deskmail serve")
}

async fn messages(db: &std::path::Path) -> (i64, i64) {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&url).await else { return (0, 0) };
    let row: Result<(i64, i64), _> =
        sqlx::query_as("select count(*), count(distinct message_id) from messages").fetch_one(&mut conn).await;
    row.unwrap_or((0, 0))
}

/// Whether the sync state says nothing is left to import: the scan has ended and no batch awaits its flags.
async fn settled(db: &std::path::Path) -> bool {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&url).await else { return false };
    let sql = "select count(*) from mailbox_sync where scanning = 0 and pending = ''";
    sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut conn).await.is_ok_and(|n| n == 1)
}

#[tokio::test]
async fn sigkill_three_times_during_an_import_of_500_mails_loses_and_doubles_nothing() {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("crash");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    let imap = env.imap(&support);
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[imap]\nfetch_batch = 7\nlease_secs = 2\n[security]\nsecret = \"crash-test-secret-crash-test-secret\"\n\
             [[mailbox]]\nname = \"crash\"\naddress = \"{support}\"\n\
             imap = {{ host = \"{}\", port = {}, tls = \"implicit\", username = \"{support}\", password = \"{}\", ca_file = \"{}\", import_existing = \"all\", idle = true }}\n",
            imap.host,
            imap.port,
            env.password,
            env.ca_cert.display()
        ),
    )
    .unwrap();
    let db = dir.path().join("data/deskmail.db");
    let transport =
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&env.host).port(env.smtp_port).build();
    for i in 0..500 {
        use lettre::AsyncTransport;
        let raw = crate::mailenv::test_mail(&format!("c{i}@customer.example"), &support, &format!("crash-{i:03}"));
        let envelope =
            lettre::address::Envelope::new(Some("c@customer.example".parse().unwrap()), vec![support.parse().unwrap()])
                .unwrap();
        transport.send_raw(&envelope, &raw).await.expect("send");
    }
    let mut kills = 0;
    for threshold in [60, 200, 350] {
        let mut child = start(&config);
        let reached = wait_for(60, || async { (messages(&db).await.0 >= threshold).then_some(()) }).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        assert!(reached.is_some(), "import stalled below {threshold}");
        if messages(&db).await.0 < 500 {
            kills += 1;
        }
    }
    assert!(kills >= 3, "only {kills} kills landed during the import");
    let mut child = start(&config);
    let done = wait_for(60, || async { (messages(&db).await.0 >= 500).then_some(()) }).await;
    let finished = wait_for(30, || async { settled(&db).await.then_some(()) }).await;
    let (count, distinct) = messages(&db).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(done.is_some(), "only {count} of 500 imported");
    assert!(finished.is_some(), "the sync did not finish");
    assert_eq!((count, distinct), (500, 500), "every mail exactly once");
}
