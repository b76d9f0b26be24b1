//! Backup, restore and verify: a backup taken while mail arrives through the real Dovecot restores elsewhere with
//! every committed ticket and byte-identical blobs; verify finds damage; restore refuses a non-empty target; a
//! hard-linked copy of an earlier backup stays whole (the README's nightly recipe).

use crate::blob_store_tests;
use crate::helpers::{Store, blob_storage, fresh_database, read_blob, test_settings};
use crate::imap::app_with_mailbox;
use crate::mailenv::{MailEnv, append, wait_for};
use deskmail::cli::{backup, restore, verify};
use deskmail::platform::storage::BlobStore;
use sqlx::Row;
use std::collections::BTreeSet;

blob_store_tests!(a_backup_taken_while_mail_arrives_restores_every_committed_ticket_with_identical_blobs);

const MAILS: usize = 500;

/// A mail with an attachment: every fifth one carries the same file (one blob, shared by several tickets).
fn mail_with_attachment(from: &str, to: &str, i: usize) -> Vec<u8> {
    let body: String = if i.is_multiple_of(5) { "shared report".into() } else { format!("report number {i}") };
    let file = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body.as_bytes());
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: order {i}\r\nMessage-ID: <bk{i}-{}@customer.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n\
         Where is order {i}?\r\n--B\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"r{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{file}\r\n--B--\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}

/// Ticket numbers and the blobs (raw mail and attachments) of everything committed so far.
async fn committed(pool: &sqlx::AnyPool) -> (BTreeSet<i64>, BTreeSet<String>) {
    let rows = sqlx::query(
        "select t.number, r.sha256 from tickets t join messages m on m.ticket_id = t.id \
         join raw_messages r on r.id = m.raw_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let numbers = rows.iter().map(|r| r.get::<i64, _>(0)).collect();
    let mut blobs: BTreeSet<String> = rows.iter().map(|r| r.get::<String, _>(1)).collect();
    let atts: Vec<String> = sqlx::query_scalar("select sha256 from attachments").fetch_all(pool).await.unwrap();
    blobs.extend(atts);
    (numbers, blobs)
}

/// Replaces a stored blob's bytes (a damaged disk or bucket).
async fn damage(store: &BlobStore, sha: &str, bytes: Vec<u8>) {
    let (store, sha) = (store.clone(), sha.to_string());
    tokio::task::spawn_blocking(move || {
        store.delete(&sha).unwrap();
        store.put(&sha, &bytes).unwrap();
    })
    .await
    .unwrap();
}

async fn a_backup_taken_while_mail_arrives_restores_every_committed_ticket_with_identical_blobs(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let support = env.address("backup");
    let Some(app) = app_with_mailbox(store, &env, &support, |i| {
        i.idle = true;
        i.poll_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    let settings = app.services.settings.clone();
    let in_bucket = settings.storage.url.is_some();
    assert_eq!(in_bucket, store == Store::PostgresS3);
    let sender = {
        let (env_session, support) = (env.session(&support).await, support.clone());
        tokio::spawn(async move {
            let mut session = env_session;
            for i in 0..MAILS {
                append(&mut session, "INBOX", &mail_with_attachment("buyer@customer.example", &support, i)).await;
                // Spread over a few seconds, so the backup runs while mail is being imported.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let started = wait_for(120, || async {
        let (numbers, _) = committed(app.services.db.pool()).await;
        (numbers.len() >= 50).then_some(())
    })
    .await;
    assert!(started.is_some(), "mail never started arriving");
    // Everything committed before the backup starts must be in it; more arrives while it runs.
    let (numbers, blobs) = committed(app.services.db.pool()).await;
    assert!(numbers.len() < MAILS, "the backup should start while mail still arrives");
    let dir = tempfile::tempdir().unwrap();
    let backup_dir = dir.path().join("backup");
    let first = backup::backup(&settings, &backup_dir, false).await.expect("backup");
    let report = first.clone();
    assert!(report.missing.is_empty() && report.corrupt.is_empty(), "{report:?}");
    assert!(report.referenced >= blobs.len(), "{report:?}");
    sender.await.unwrap();
    let clean = verify::verify_backup(&backup_dir, false).await.unwrap();
    assert!(clean.clean() && clean.orphans.is_empty(), "{clean:?}");
    // The README's nightly recipe keeps a dated copy made of hard links; it must stay whole after later backups.
    let dated = dir.path().join("2026-12-06");
    let cp = std::process::Command::new("cp").arg("-al").arg(&backup_dir).arg(&dated).status().unwrap();
    assert!(cp.success());

    // Restored elsewhere: every committed ticket, every blob byte for byte.
    let url = fresh_database(store, dir.path()).await.unwrap();
    let mut target = test_settings(&dir.path().join("elsewhere"), url);
    blob_storage(store, &mut target).await.unwrap();
    let target_blobs = BlobStore::from_settings(&target.storage).unwrap();
    let restored = restore::restore(&target, &backup_dir, false).await.expect("restore");
    assert_eq!(restored.blobs, report.referenced);
    let db = deskmail::db::Db::connect(&target.database.url, 2).await.unwrap();
    let (numbers_after, blobs_after) = committed(db.pool()).await;
    assert!(numbers.is_subset(&numbers_after), "missing tickets: {:?}", numbers.difference(&numbers_after));
    assert!(blobs.is_subset(&blobs_after));
    for sha in &blobs {
        let (restored, original) = (read_blob(&target_blobs, sha).await, read_blob(&app.services.blobs, sha).await);
        assert!(restored == original, "blob {sha} differs");
    }
    let shared = deskmail::platform::storage::sha256_hex(b"shared report");
    assert!(blobs_after.contains(&shared), "the shared attachment is restored once for all its tickets");
    let report = verify::verify(&target, false, false).await.unwrap();
    assert!(report.clean() && report.orphans.is_empty(), "{report:?}");
    if in_bucket {
        let on_disk = BlobStore::open(&target.storage.dir).unwrap().list().unwrap();
        assert!(on_disk.is_empty(), "with a bucket no blob lands in the storage dir");
    }

    // A second restore into the now non-empty target is refused, and nothing changes.
    let again = restore::restore(&target, &backup_dir, false).await;
    assert!(matches!(again, Err(restore::RestoreError::NotEmpty(_))), "{again:?}");

    // Damage is found: a flipped byte in the restored storage, and one in the backup.
    let victim = blobs.iter().next().unwrap();
    let mut bytes = read_blob(&target_blobs, victim).await;
    bytes[0] ^= 1;
    damage(&target_blobs, victim, bytes.clone()).await;
    let report = verify::verify(&target, false, false).await.unwrap();
    assert_eq!(report.corrupt, vec![victim.clone()]);
    // The same through the binary: exit 65 naming the blob; a restore into this target exits 64.
    let config = dir.path().join("elsewhere.toml");
    let toml = format!(
        "[database]\nurl = \"{}\"\n[storage]\ndir = \"{}\"\n[security]\nsecret = \"{}\"\n",
        target.database.url,
        target.storage.dir.display(),
        target.security.secret.clone().unwrap()
    );
    let bucket = match (&target.storage.url, &target.storage.endpoint) {
        (Some(url), Some(endpoint)) => format!("url = \"{url}\"\nendpoint = \"{endpoint}\"\nallow_http = true\n"),
        _ => String::new(),
    };
    let toml = toml.replace("[security]", &format!("{bucket}[security]"));
    std::fs::write(&config, toml).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_deskmail"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("DESKMAIL_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["verify"]);
    assert_eq!(out.status.code(), Some(65), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("damaged  {victim}")));
    let out = run(&["restore", backup_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to restore into a non-empty target"));
    std::fs::write(backup_dir.join(BlobStore::relative_path(victim)), &bytes).unwrap();
    assert_eq!(verify::verify_backup(&backup_dir, false).await.unwrap().corrupt, vec![victim.clone()]);

    // Incremental: all mail is in now; the next backup into the same dir copies only what is new.
    assert!(
        wait_for(120, || async { (committed(app.services.db.pool()).await.0.len() >= MAILS).then_some(()) })
            .await
            .is_some()
    );
    let good = read_blob(&app.services.blobs, victim).await;
    std::fs::write(backup_dir.join(BlobStore::relative_path(victim)), good).unwrap();
    let second = backup::backup(&settings, &backup_dir, false).await.expect("second backup");
    assert_eq!(second.copied, second.referenced - first.referenced, "only the new blobs: {second:?}");
    let clean = verify::verify_backup(&backup_dir, false).await.unwrap();
    assert!(clean.clean() && clean.orphans.is_empty(), "{clean:?}");
    let old = verify::verify_backup(&dated, false).await.unwrap();
    assert!(old.clean() && old.orphans.is_empty() && old.checked == first.referenced, "{old:?}");
    db.pool().close().await;
    app.shutdown.cancel();
}

#[tokio::test]
async fn verify_prune_removes_only_orphans_older_than_a_day() {
    let Some(app) = crate::helpers::spawn_app(Store::Sqlite).await else { return };
    let kept = app.ingest(&crate::helpers::mail("a@customer.example", "Hi", "prune@c.example", "hello")).await;
    let settings = app.services.settings.clone();
    let (old, young) =
        (deskmail::platform::storage::sha256_hex(b"old"), deskmail::platform::storage::sha256_hex(b"new"));
    let blobs = app.services.blobs.clone();
    let (o, y) = (old.clone(), young.clone());
    tokio::task::spawn_blocking(move || {
        blobs.put(&o, b"old").unwrap();
        blobs.put(&y, b"new").unwrap();
    })
    .await
    .unwrap();
    let old_file = settings.storage.dir.join(BlobStore::relative_path(&old));
    let aged = std::process::Command::new("touch").arg("-d").arg("2 days ago").arg(&old_file).status().unwrap();
    assert!(aged.success());
    let listed = verify::verify(&settings, false, false).await.unwrap();
    assert!(listed.clean() && listed.pruned == 0, "{listed:?}");
    assert_eq!(listed.orphans.iter().collect::<BTreeSet<_>>(), BTreeSet::from([&old, &young]));
    let pruned = verify::verify(&settings, true, false).await.unwrap();
    assert_eq!(pruned.pruned, 1, "{pruned:?}");
    assert!(!old_file.exists(), "the day-old orphan is gone");
    let after = verify::verify(&settings, false, false).await.unwrap();
    assert_eq!(after.orphans, vec![young.clone()], "the young orphan stays: its mail may still be committing");
    assert!(after.clean() && after.checked >= 1);
    assert!(!read_blob(&app.services.blobs, &kept.sha256).await.is_empty(), "the referenced blob stays");
}
