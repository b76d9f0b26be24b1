//! The outbox in the store alone (no sender running): claims and releases, attempts against bounces, and which
//! deliveries a bounce fails.

use crate::helpers::{Store, migrated_db};
use crate::store_tests;
use deskmail::db::Db;
use deskmail::db::outbox::{self, Attempt, NewOutbound};

store_tests!(
    a_released_delivery_is_claimed_again_by_anyone,
    an_expired_lease_is_claimed_again_and_the_earliest_due_goes_first,
    a_bounce_during_an_attempt_wins_over_its_result,
    a_bounce_fails_only_the_recipients_it_names_or_a_lone_one,
);

/// The acknowledgement limit counts a recipient's mail from their own deliveries of the hour, never by walking
/// every acknowledgement of the hour (which made a backlog import quadratic) nor the recipient's whole history.
#[tokio::test]
async fn the_acknowledgement_limit_reads_only_the_recipients_deliveries() {
    let (_dir, db, _) = store_with_mailbox(Store::Sqlite).await.unwrap();
    let sql = format!("explain query plan {}", outbox::sent_to_many_since_sql(1));
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("ack")
        .bind(0_i64)
        .bind("a@example.test")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
    assert!(steps[0].contains("deliveries_recipient_queued"), "the plan starts elsewhere: {steps:?}");
    assert!(steps[0].contains("queued_at>"), "the plan reads the recipient's whole history: {steps:?}");
    assert!(steps.iter().all(|s| !s.contains("outbound_kind_created")), "the plan walks the hour: {steps:?}");
    // The same for the batch of an ingest, several recipients at once.
    let sql = format!("explain query plan {}", outbox::sent_to_many_since_sql(2));
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("ack")
        .bind(0_i64)
        .bind("a@example.test")
        .bind("b@example.test")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
    let deliveries = steps.iter().find(|s| s.contains("d USING")).copied().unwrap_or_default();
    assert!(deliveries.contains("deliveries_recipient_queued"), "not by recipient: {steps:?}");
    assert!(deliveries.contains("queued_at>"), "the recipients' whole history: {steps:?}");
    assert!(steps.iter().all(|s| !s.contains("outbound_kind_created")), "the batch walks the hour: {steps:?}");
}

/// A migrated store with one mailbox; `None` when PostgreSQL is not available (and not required).
async fn store_with_mailbox(store: Store) -> Option<(tempfile::TempDir, Db, i64)> {
    let (dir, db) = migrated_db(store).await?;
    let mailbox = db.create_mailbox("out", "out@example.test", "Out", false).await.unwrap();
    Some((dir, db, mailbox))
}

/// Queues one mail with this Message-ID to `recipients`.
async fn enqueue(db: &Db, mailbox: i64, header_message_id: &str, recipients: &[&str]) -> i64 {
    let mut conn = db.pool().acquire().await.unwrap();
    let mail = NewOutbound {
        ticket_id: None,
        message_id: None,
        mailbox_id: mailbox,
        kind: deskmail::domain::TemplateKind::AgentReply,
        header_message_id,
        sender: "out@example.test",
        raw: b"Subject: x\r\n\r\nx\r\n",
        automatic: false,
        send_after: None,
    };
    let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    outbox::enqueue(&mut conn, &mail, &recipients, deskmail::domain::now()).await.unwrap()
}

/// The status of each delivery of the store, by recipient.
async fn statuses(db: &Db) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        db.deliveries(None, 100, 0).await.unwrap().into_iter().map(|d| (d.recipient, d.status)).collect();
    rows.sort();
    rows
}

async fn bounce(db: &Db, header_message_id: &str, recipients: &[&str]) {
    let mut conn = db.pool().acquire().await.unwrap();
    let named: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    outbox::bounce_failed(&mut conn, header_message_id, &named, "5.1.1 gone", deskmail::domain::now()).await.unwrap();
}

async fn a_released_delivery_is_claimed_again_by_anyone(store: Store) {
    let Some((_dir, db, mailbox)) = store_with_mailbox(store).await else { return };
    enqueue(&db, mailbox, "r1@example.test", &["a@customer.example"]).await;
    let now = deskmail::domain::now();
    let claimed = db.claim_deliveries("one", now, now + 180, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(db.claim_deliveries("two", now, now + 180, 10).await.unwrap().is_empty(), "leased to one");
    db.release_delivery(claimed[0].id, "one").await.unwrap();
    let again = db.claim_deliveries("two", now, now + 180, 10).await.unwrap();
    assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), [claimed[0].id], "given back, claimed by another");
    assert!(!db.record_attempt(claimed[0].id, "one", &Attempt::Sent, now).await.unwrap(), "no longer one's");
    assert!(db.record_attempt(claimed[0].id, "two", &Attempt::Sent, now).await.unwrap());
    assert_eq!(statuses(&db).await, [("a@customer.example".into(), "sent".into())]);
}

/// A claim walks the due index in its order and stops at its limit: no sort of the whole queue (a backlog of
/// thousands was read and sorted by every claim, inside the write lock).
#[tokio::test]
async fn a_claim_reads_the_queue_in_index_order_without_sorting_it() {
    let (_dir, db, _) = store_with_mailbox(Store::Sqlite).await.unwrap();
    let (requeue, claim) = outbox::claim_sql(deskmail::db::Backend::Sqlite);
    let plan = |sql: String| {
        let db = db.clone();
        async move {
            let q =
                sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!("explain query plan {sql}")));
            let q = (0..5).fold(q, |q, _| q.bind(1_i64));
            q.fetch_all(db.pool()).await.unwrap().into_iter().map(|p| p.3).collect::<Vec<_>>()
        }
    };
    let steps = plan(claim).await;
    assert!(steps.iter().any(|s| s.contains("USING INDEX deliveries_due")), "{steps:?}");
    assert!(steps.iter().all(|s| !s.contains("TEMP B-TREE")), "the claim sorts the queue: {steps:?}");
    let steps = plan(requeue).await;
    assert!(steps.iter().any(|s| s.contains("USING INDEX deliveries_due")), "{steps:?}");
}

/// On SQLite a single write outside a transaction (here giving a delivery back) queues behind the write
/// transaction that runs, on the writer connection, and lands once that commits.
#[tokio::test]
async fn a_single_write_waits_for_the_running_transaction_and_lands_after_it() {
    let (_dir, db, mailbox) = store_with_mailbox(Store::Sqlite).await.unwrap();
    enqueue(&db, mailbox, "w1@example.test", &["a@customer.example"]).await;
    let now = deskmail::domain::now();
    let claimed = db.claim_deliveries("one", now, now + 180, 10).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query("update deliveries set attempts = 7 where id = $1")
        .bind(claimed[0].id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let release = tokio::spawn({
        let db = db.clone();
        async move { db.release_delivery(claimed[0].id, "one").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!release.is_finished(), "the single write did not wait for the transaction");
    tx.commit().await.unwrap();
    let released = tokio::time::timeout(std::time::Duration::from_secs(20), release).await;
    released.expect("the single write still waits after the commit").unwrap().unwrap();
    let (status, attempts): (String, i64) =
        sqlx::query_as("select status, attempts from deliveries").fetch_one(db.pool()).await.unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 7), "given back after the transaction's own write");
}

async fn an_expired_lease_is_claimed_again_and_the_earliest_due_goes_first(store: Store) {
    let Some((_dir, db, mailbox)) = store_with_mailbox(store).await else { return };
    enqueue(&db, mailbox, "e1@example.test", &["first@customer.example"]).await;
    enqueue(&db, mailbox, "e2@example.test", &["second@customer.example"]).await;
    let now = deskmail::domain::now();
    let both = db.claim_deliveries("gone", now, now + 10, 10).await.unwrap();
    assert_eq!(both.len(), 2);
    // The first is retried with a later due time; the second's sender died holding it.
    let retry = Attempt::Retry { at: now + 50, error: "4.2.1 try later".into() };
    assert!(db.record_attempt(both[0].id, "gone", &retry, now).await.unwrap());
    enqueue(&db, mailbox, "e3@example.test", &["third@customer.example"]).await;
    let recipients = |claimed: Vec<outbox::Claimed>| claimed.into_iter().map(|c| c.recipient).collect::<Vec<_>>();
    let early = db.claim_deliveries("next", now + 5, now + 100, 10).await.unwrap();
    assert_eq!(recipients(early), ["third@customer.example"], "the retry is not due, the lease still runs");
    // At now + 60 both are due: the one due since it was queued goes before the retry, though queued later.
    let one = db.claim_deliveries("next", now + 60, now + 200, 1).await.unwrap();
    assert_eq!(recipients(one), ["second@customer.example"], "the lease that ran out at now + 10 is claimed again");
    let two = db.claim_deliveries("next", now + 60, now + 200, 1).await.unwrap();
    assert_eq!(recipients(two), ["first@customer.example"]);
    assert!(!db.record_attempt(both[1].id, "gone", &Attempt::Sent, now + 61).await.unwrap(), "no longer gone's");
    assert!(db.record_attempt(both[1].id, "next", &Attempt::Sent, now + 61).await.unwrap());
}

async fn a_bounce_during_an_attempt_wins_over_its_result(store: Store) {
    let Some((_dir, db, mailbox)) = store_with_mailbox(store).await else { return };
    enqueue(&db, mailbox, "r2@example.test", &["gone@customer.example"]).await;
    let now = deskmail::domain::now();
    let claimed = db.claim_deliveries("sender", now, now + 180, 10).await.unwrap();
    bounce(&db, "r2@example.test", &["gone@customer.example"]).await;
    let retry = Attempt::Retry { at: now + 60, error: "421 try later".into() };
    assert!(!db.record_attempt(claimed[0].id, "sender", &retry, now).await.unwrap(), "the bounce stands");
    assert_eq!(statuses(&db).await, [("gone@customer.example".into(), "failed".into())]);
}

async fn a_bounce_fails_only_the_recipients_it_names_or_a_lone_one(store: Store) {
    let Some((_dir, db, mailbox)) = store_with_mailbox(store).await else { return };
    enqueue(&db, mailbox, "two@example.test", &["a@customer.example", "cc@customer.example"]).await;
    bounce(&db, "two@example.test", &["alias@elsewhere.example"]).await;
    let queued = |r: &str| (r.to_string(), "queued".to_string());
    assert_eq!(statuses(&db).await, [queued("a@customer.example"), queued("cc@customer.example")], "names nobody");
    bounce(&db, "two@example.test", &["CC@customer.example"]).await;
    let failed = |r: &str| (r.to_string(), "failed".to_string());
    assert_eq!(statuses(&db).await, [queued("a@customer.example"), failed("cc@customer.example")]);
    enqueue(&db, mailbox, "one@example.test", &["solo@customer.example"]).await;
    bounce(&db, "one@example.test", &["alias@elsewhere.example"]).await;
    assert!(statuses(&db).await.contains(&failed("solo@customer.example")), "a lone recipient is the one meant");
}
