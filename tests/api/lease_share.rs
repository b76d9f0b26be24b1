//! Fair shares of the mailbox leases: two instances on one PostgreSQL split four mailboxes 2 + 2; the survivor of a
//! clean shutdown takes all four.

use crate::helpers::{Store, fresh_database, test_settings};
use crate::mailenv::{MailEnv, wait_for};
use deskmail::db::Db;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

type Running = (Db, CancellationToken, JoinHandle<anyhow::Result<()>>);

async fn start(env: &MailEnv, dir: &std::path::Path, url: &str, addresses: &[String]) -> Running {
    let mut settings = test_settings(dir, url.to_string());
    settings.imap.lease_secs = 3;
    for (i, address) in addresses.iter().enumerate() {
        settings.mailboxes.push(env.mailbox(&format!("share-{i}"), address, |i| i.idle = true));
    }
    let app = deskmail::startup::Application::build(settings).await.unwrap();
    let db = app.services().db.clone();
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone()));
    (db, stop, task)
}

/// The unexpired leases per holder, fewest first.
async fn split(db: &Db) -> Vec<i64> {
    let now = deskmail::domain::now();
    let sql = "select count(*) from mailbox_leases where expires_at >= $1 group by owner";
    let mut counts: Vec<i64> = sqlx::query_scalar(sql).bind(now).fetch_all(db.pool()).await.unwrap();
    counts.sort();
    counts
}

async fn wait_split(db: &Db, want: &[i64], secs: u64) -> Vec<i64> {
    let reached = wait_for(secs, || async move { (split(db).await == want).then_some(()) }).await;
    let now = split(db).await;
    assert!(reached.is_some(), "leases never split as {want:?}; now {now:?}");
    now
}

#[tokio::test]
async fn two_instances_share_four_mailboxes_two_each_and_a_survivor_takes_them_all() {
    let Some(env) = MailEnv::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(Store::Postgres, dir.path()).await else { return };
    let addresses: Vec<String> = (0..4).map(|_| env.address("share")).collect();
    let first = start(&env, dir.path(), &url, &addresses).await;
    // Alone, an instance polls every mailbox.
    wait_split(&first.0, &[4], 20).await;
    let second = start(&env, dir.path(), &url, &addresses).await;
    // The first hands one lease back per lease period until each holds its share.
    wait_split(&first.0, &[2, 2], 30).await;
    // Settled: nobody above the share hands back, so the split holds for more than a lease period.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(split(&first.0).await, vec![2, 2], "the split flapped");
    let instances: i64 = sqlx::query_scalar("select count(*) from instances").fetch_one(first.0.pool()).await.unwrap();
    assert_eq!(instances, 2, "both instances beat");
    // A clean shutdown releases the leases and the heartbeat; the survivor's share grows to every mailbox.
    first.1.cancel();
    first.2.await.unwrap().unwrap();
    wait_split(&second.0, &[4], 20).await;
    let instances: i64 = sqlx::query_scalar("select count(*) from instances").fetch_one(second.0.pool()).await.unwrap();
    assert_eq!(instances, 1, "the stopped instance removed its heartbeat");
    second.1.cancel();
    second.2.await.unwrap().unwrap();
}
