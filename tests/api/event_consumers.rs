//! Consumers of the event log: each event exactly once per consumer name, across a crash before commit and
//! across two instances; on PostgreSQL an event whose transaction commits late is not skipped.

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::store_tests;
use deskmail::automation::consumer::{Batch, Consumer};
use deskmail::db::Db;
use deskmail::domain::{Actor, Priority, TicketEvent};
use std::collections::HashSet;
use std::time::Duration;

store_tests!(
    a_consumer_sees_uncommitted_batches_again_and_committed_ones_never,
    a_new_consumer_starts_at_the_end_of_the_log_and_reads_in_order,
);

const LEASE: Duration = Duration::from_secs(30);

/// A ticket to hang events on; its id.
async fn ticket(app: &TestApp) -> i64 {
    let id = format!("{}@c.example", uuid::Uuid::new_v4());
    let n = app.ingest(&mail("eve@customer.example", "Events", &id, "x")).await.ticket.unwrap();
    app.services.db.ticket(n).await.unwrap().unwrap().id
}

/// Appends `count` events to ticket `id`, each in its own transaction; their event ids.
async fn append(db: &Db, id: i64, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let mut tx = db.begin().await.unwrap();
        let e = TicketEvent::PriorityChanged { from: Priority::Normal, to: Priority::High };
        ids.push(deskmail::db::events::insert(&mut tx, id, &Actor::System, &e, 0).await.unwrap());
        tx.commit().await.unwrap();
    }
    ids
}

fn ids(batch: &Batch) -> Vec<i64> {
    batch.events().iter().map(|e| e.id).collect()
}

/// The next non-empty batch. On PostgreSQL a writing transaction anywhere in the cluster (another test's database)
/// holds events back until it ends, so an empty batch is committed and asked again, for up to 10 s.
async fn next(consumer: &Consumer, limit: i64) -> Batch {
    for _ in 0..200 {
        let batch = consumer.next_batch(limit).await.unwrap().expect("this instance holds the lease");
        if !batch.events().is_empty() {
            return batch;
        }
        batch.commit().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no events came");
}

/// Reads and commits batches of at most `limit` until `count` events came; their ids in order.
async fn take(consumer: &Consumer, count: usize, limit: i64) -> Vec<i64> {
    let mut out = Vec::new();
    while out.len() < count {
        let batch = next(consumer, limit).await;
        assert!(batch.events().len() as i64 <= limit);
        out.extend(ids(&batch));
        batch.commit().await.unwrap();
    }
    out
}

async fn a_new_consumer_starts_at_the_end_of_the_log_and_reads_in_order(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let db = &app.services.db;
    let t = ticket(&app).await;
    let rules = Consumer::new(db.clone(), "rules_probe", "a", LEASE);
    let first = rules.next_batch(100).await.unwrap().expect("the lease is free");
    assert!(first.events().is_empty(), "history before the consumer existed is not replayed");
    first.commit().await.unwrap();
    let written = append(db, t, 5).await;
    assert_eq!(take(&rules, written.len(), 3).await, written, "in order, in batches of at most 3");
    assert!(rules.next_batch(3).await.unwrap().unwrap().events().is_empty());
}

async fn a_consumer_sees_uncommitted_batches_again_and_committed_ones_never(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let db = &app.services.db;
    let t = ticket(&app).await;
    let audit = Consumer::new(db.clone(), "audit", "a", LEASE);
    audit.next_batch(10).await.unwrap().unwrap().commit().await.unwrap();
    let written = append(db, t, 4).await;
    // Killed between reading and committing: the batch's transaction is dropped.
    let read = ids(&next(&audit, 10).await);
    assert_eq!(read, written[..read.len()]);
    // (dropped: never committed)
    let again = next(&audit, 10).await;
    assert_eq!(ids(&again)[..read.len()], read, "nothing was committed, so everything comes again");
    let seen = again.events().len();
    again.commit().await.unwrap();
    assert_eq!(take(&audit, written.len() - seen, 10).await, written[seen..]);
    assert!(audit.next_batch(10).await.unwrap().unwrap().events().is_empty(), "committed events never come again");
    // Another consumer name has its own cursor; another instance waits for the lease.
    let other_instance = Consumer::new(db.clone(), "audit", "b", LEASE);
    assert!(other_instance.next_batch(10).await.unwrap().is_none(), "instance a holds the lease");
    audit.release().await.unwrap();
    let more = append(db, t, 1).await;
    assert_eq!(ids(&next(&other_instance, 10).await), more, "it takes over after a release");
}

#[tokio::test]
async fn two_instances_never_hand_one_event_to_two_consumers_of_a_name() {
    let Some(app) = spawn_app(Store::Postgres).await else { return };
    let db = app.services.db.clone();
    let t = ticket(&app).await;
    sqlx::raw_sql("create table handled (event_id bigint primary key, owner text not null)")
        .execute(db.pool())
        .await
        .unwrap();
    // The consumer starts at the end of the log: created before the events are written.
    drop(Consumer::new(db.clone(), "rules_probe", "a", LEASE).next_batch(1).await.unwrap());
    let writer = {
        let db = db.clone();
        tokio::spawn(async move { append(&db, t, 300).await })
    };
    let consumers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let db = db.clone();
            tokio::spawn(async move { consume(db, owner).await })
        })
        .collect();
    let written: HashSet<i64> = writer.await.unwrap().into_iter().collect();
    let mut handled = HashSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while handled.len() < written.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rows: Vec<(i64,)> = sqlx::query_as("select event_id from handled").fetch_all(db.pool()).await.unwrap();
        handled = rows.into_iter().map(|r| r.0).collect();
    }
    consumers.iter().for_each(|c| c.abort());
    assert_eq!(handled, written, "every event handled, each once (the primary key refuses a second time)");
    let owners: Vec<(String,)> =
        sqlx::query_as("select distinct owner from handled").fetch_all(db.pool()).await.unwrap();
    assert_eq!(owners.len(), 2, "both instances took turns: {owners:?}");
}

/// Handles batches as instance `owner`, releasing the lease now and then so the other instance gets turns.
async fn consume(db: Db, owner: &'static str) {
    let consumer = Consumer::new(db, "rules_probe", owner, LEASE);
    for round in 0u64.. {
        let Ok(Some(mut batch)) = consumer.next_batch(7).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let events: Vec<i64> = batch.events().iter().map(|e| e.id).collect();
        for id in events {
            sqlx::query("insert into handled (event_id, owner) values ($1, $2)")
                .bind(id)
                .bind(owner)
                .execute(&mut **batch.tx())
                .await
                .expect("an event handed out twice");
        }
        batch.commit().await.unwrap();
        if round % 3 == 2 {
            consumer.release().await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

#[tokio::test]
async fn on_postgresql_an_event_committed_late_is_not_skipped() {
    let Some(app) = spawn_app(Store::Postgres).await else { return };
    let db = app.services.db.clone();
    let t = ticket(&app).await;
    let consumer = Consumer::new(db.clone(), "late", "a", LEASE);
    consumer.next_batch(10).await.unwrap().unwrap().commit().await.unwrap();
    // Transaction `slow` starts writing first (its transaction id is older) but commits last.
    let mut slow = db.begin().await.unwrap();
    let e = TicketEvent::PriorityChanged { from: Priority::Normal, to: Priority::Low };
    let slow_id = deskmail::db::events::insert(&mut slow, t, &Actor::System, &e, 0).await.unwrap();
    let fast = append(&db, t, 1).await;
    let batch = consumer.next_batch(10).await.unwrap().unwrap();
    assert!(batch.events().is_empty(), "nothing after a running older transaction is handed out: {:?}", ids(&batch));
    batch.commit().await.unwrap();
    slow.commit().await.unwrap();
    assert_eq!(take(&consumer, 2, 10).await, [slow_id, fast[0]], "both, in commit-safe order");
}
