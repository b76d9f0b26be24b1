//! PostgreSQL's search index in ranges of message ids (db/search_buckets.rs): a search finds mail in a range whose
//! index is not built yet, and the keeper builds the missing ranges newest first and ahead of the newest message.
//! (That the planner takes a range's partial index is seen on a full-size database: `scripts/bench scale`; on a
//! handful of rows the primary key is as cheap.)

use crate::helpers::{Store, mail, spawn_app};
use deskmail::db::Db;
use std::time::{Duration, Instant};

/// Message ids per range (db::search_buckets::BUCKET; migration 0025 writes the same number).
const RANGE: i64 = 262_144;

#[tokio::test]
async fn postgres_search_reads_ranges_of_the_index_and_the_keeper_builds_the_missing_ones() {
    let Some(app) = spawn_app(Store::Postgres).await else { return };
    let db = app.services.db.clone();
    app.ingest(&mail("a@customer.example", "Heron early", "h1@c.example", "x")).await;
    // The next message lands in range 3; the migration built ranges 0 and 1, the keeper's first round 2.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "select setval(pg_get_serial_sequence('messages', 'id'), {})",
        3 * RANGE
    )))
    .execute(db.pool())
    .await
    .unwrap();
    app.ingest(&mail("b@customer.example", "Heron late", "h2@c.example", "x")).await;
    let (_, found) = app.get("/api/v1/tickets?q=heron&sort=oldest").await;
    assert_eq!(found["total"], 2, "before its range is built: {found}");
    assert_eq!(found["tickets"][1]["subject"], "Heron late");

    // The background keeper may hold the lock when asked: ask until the ranges are there.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ranges(&db).await != [0, 1, 2, 3, 4, 5] {
        assert!(Instant::now() < deadline, "ranges built: {:?}", ranges(&db).await);
        db.ensure_search_buckets().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(db.ensure_search_buckets().await.unwrap(), Vec::<i64>::new(), "nothing left to build");

    // A failed concurrent build leaves an invalid index behind: it is built again.
    sqlx::raw_sql("drop index messages_search_4").execute(db.pool()).await.unwrap();
    let failed = sqlx::raw_sql("create index concurrently messages_search_4 on messages ((1 / (id - id)))")
        .execute(db.pool())
        .await;
    assert!(failed.is_err(), "the build fails on division by zero");
    assert_eq!(ranges(&db).await, [0, 1, 2, 3, 5], "left invalid");
    assert_eq!(db.ensure_search_buckets().await.unwrap(), [4]);
    assert_eq!(ranges(&db).await, [0, 1, 2, 3, 4, 5]);

    let (_, found) = app.get("/api/v1/tickets?q=heron").await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(found["tickets"][0]["subject"], "Heron late", "newest first");
}

/// The valid ranges of the search index.
async fn ranges(db: &Db) -> Vec<i64> {
    db.search_index_ranges().await.unwrap()
}
