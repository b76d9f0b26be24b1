//! One sync driven directly (no poller) against the real Dovecot: resumed scans, `import_existing`, the
//! COPY + `\Deleted` + UID EXPUNGE fallback without MOVE, and the STARTTLS and plain connection modes.

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::imap::wait_tickets;
use crate::mailenv::{MailEnv, search, test_mail};
use crate::store_tests;
use deskmail::db::MailboxRow;
use deskmail::ingest::imap::{Caps, sync};
use deskmail::net::imap::connect;
use deskmail::platform::config::{AfterImport, ImapSettings, ImportExisting, TlsMode};

store_tests!(
    an_interrupted_first_sync_resumes_without_importing_old_read_mail,
    import_existing_none_skips_old_mail_and_takes_new_mail,
    without_move_a_message_is_copied_flagged_and_expunged,
);

/// An app with the disabled mailbox `imap` (so no poller runs), and its row and IMAP settings.
async fn app_with_idle_mailbox(
    store: Store,
    env: &MailEnv,
    address: &str,
    adjust: impl FnOnce(&mut ImapSettings),
) -> Option<(TestApp, MailboxRow, ImapSettings)> {
    let mut mb = env.mailbox("imap", address, adjust);
    mb.enabled = false;
    let imap = mb.imap.clone().unwrap();
    let app = spawn_app_with(store, move |s| s.mailboxes.push(mb)).await?;
    let row = app.services.db.mailbox_by_name("imap").await.unwrap().unwrap();
    Some((app, row, imap))
}

/// Runs one sync of `imap` as the poller would, with these capabilities (the server's own when `None`).
async fn sync_now(app: &TestApp, row: &MailboxRow, imap: &ImapSettings, caps: Option<Caps>) -> sync::SyncReport {
    let timeout = std::time::Duration::from_secs(30);
    let mut session = connect(imap, timeout).await.unwrap();
    let caps = match caps {
        Some(c) => c,
        None => Caps::read(&mut session, timeout).await.unwrap(),
    };
    let cx = sync::SyncContext {
        pipeline: &app.services.pipeline,
        db: &app.services.db,
        mailbox: row,
        imap,
        caps,
        max_message_bytes: 1 << 20,
        batch: 10,
        timeout,
        lease: None,
    };
    let report = sync::sync_once(&mut session, &cx, &mut Default::default()).await.unwrap();
    let _ = session.logout().await;
    report
}

async fn subjects(app: &TestApp, q: &str) -> Vec<String> {
    let (_, list) = app.get(&format!("/api/v1/tickets?q={q}")).await;
    let mut v: Vec<String> =
        list["tickets"].as_array().unwrap().iter().filter_map(|t| t["subject"].as_str().map(str::to_string)).collect();
    v.sort();
    v
}

/// A first sync (`import_existing = unseen`) cut off after its first batch: the resumed sync still skips read mail.
async fn an_interrupted_first_sync_resumes_without_importing_old_read_mail(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("resume");
    let mut s = env.session(&support).await;
    let seen = Some("(\\Seen)");
    for (subject, flags) in [("resume-new-1", None), ("resume-old", seen), ("resume-new-2", None)] {
        s.append("INBOX", flags, None, test_mail("c@customer.example", &support, subject)).await.unwrap();
    }
    let validity = s.select("INBOX").await.unwrap().uid_validity.unwrap();
    let unseen = |i: &mut ImapSettings| i.import_existing = ImportExisting::Unseen;
    let Some((app, row, imap)) = app_with_idle_mailbox(store, &env, &support, unseen).await else { return };
    // What the first batch of the first sync committed before the connection dropped: UID 1, still scanning.
    let mut conn = app.services.db.pool().acquire().await.unwrap();
    let state = deskmail::db::SyncState {
        uid_validity: Some(i64::from(validity)),
        last_uid: 1,
        last_sync_at: None,
        pending: String::new(),
        scanning: 1,
    };
    deskmail::db::mailboxes::save_checkpoint(&mut conn, row.id, "INBOX", &state).await.unwrap();
    drop(conn);
    let report = sync_now(&app, &row, &imap, None).await;
    assert_eq!(report.fetched, 1, "only the unseen mail above the checkpoint");
    assert_eq!(subjects(&app, "resume").await, ["resume-new-2"]);
    let done = app.services.db.sync_state(row.id, "INBOX").await.unwrap();
    assert_eq!((done.scanning, done.last_uid), (0, 3), "the scan is complete");
}

async fn import_existing_none_skips_old_mail_and_takes_new_mail(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("none");
    let mut s = env.session(&support).await;
    s.append("INBOX", None, None, test_mail("c@customer.example", &support, "none-old")).await.unwrap();
    let none = |i: &mut ImapSettings| i.import_existing = ImportExisting::None;
    let Some((app, row, imap)) = app_with_idle_mailbox(store, &env, &support, none).await else { return };
    assert_eq!(sync_now(&app, &row, &imap, None).await.fetched, 0, "the first sync takes nothing that was there");
    s.append("INBOX", None, None, test_mail("c@customer.example", &support, "none-new")).await.unwrap();
    assert_eq!(sync_now(&app, &row, &imap, None).await.fetched, 1);
    assert_eq!(subjects(&app, "none").await, ["none-new"]);
}

async fn without_move_a_message_is_copied_flagged_and_expunged(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("nomove");
    let mut s = env.session(&support).await;
    s.append("INBOX", None, None, test_mail("c@customer.example", &support, "nomove-mail")).await.unwrap();
    let to_done = |i: &mut ImapSettings| i.after_import = AfterImport::Move("Done".into());
    let Some((app, row, imap)) = app_with_idle_mailbox(store, &env, &support, to_done).await else { return };
    let no_move = Caps { idle: true, move_: false, uidplus: true };
    assert_eq!(sync_now(&app, &row, &imap, Some(no_move)).await.fetched, 1);
    assert_eq!(search(&mut s, "INBOX", "ALL").await.len(), 0, "UID EXPUNGE removed it from INBOX");
    assert_eq!(search(&mut s, "Done", "ALL").await.len(), 1, "COPY put it into Done");
}

#[tokio::test]
async fn starttls_and_plain_connections_import_too() {
    let Some(env) = MailEnv::shared() else { return };
    for (tls, name) in [(TlsMode::Starttls, "starttls"), (TlsMode::None, "plain")] {
        let support = env.address(name);
        let mut s = env.session(&support).await;
        s.append("INBOX", None, None, test_mail("c@customer.example", &support, &format!("{name}-mail")))
            .await
            .unwrap();
        let port = env.imap_port;
        let mode = |i: &mut ImapSettings| {
            i.tls = tls;
            i.port = port;
        };
        let Some((app, row, imap)) = app_with_idle_mailbox(Store::Sqlite, &env, &support, mode).await else { return };
        assert_eq!(sync_now(&app, &row, &imap, None).await.fetched, 1, "{name}");
        assert_eq!(wait_tickets(&app, &format!("{name}-mail"), 1, 5).await, 1, "{name}");
    }
}
