//! How an inbound batch finds or creates its customers: a known customer is only read (its row neither written nor
//! locked, so two instances' batches that share customers do not wait on each other), a missing name is filled in,
//! and an address another transaction creates meanwhile ends up as that one customer.

use crate::helpers::{Store, migrated_db};
use crate::store_tests;
use deskmail::db::{Db, customers::upsert_all};
use std::time::Duration;

store_tests!(known_customers_keep_their_id_and_name_and_a_missing_name_is_filled_in);

async fn customer(db: &Db, email: &str, name: &str) -> i64 {
    sqlx::query_scalar("insert into customers (email, name, created_at) values ($1, $2, 0) returning id")
        .bind(email)
        .bind(name)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn name_of(db: &Db, id: i64) -> String {
    sqlx::query_scalar("select name from customers where id = $1").bind(id).fetch_one(db.pool()).await.unwrap()
}

async fn known_customers_keep_their_id_and_name_and_a_missing_name_is_filled_in(store: Store) {
    let Some((_dir, db)) = migrated_db(store).await else { return };
    let known = customer(&db, "known@customer.example", "Known Name").await;
    let unnamed = customer(&db, "unnamed@customer.example", "").await;
    let people = [
        ("known@customer.example", "Another Name"),
        ("unnamed@customer.example", "Filled In"),
        ("new@customer.example", "New Customer"),
    ];
    let mut tx = db.begin().await.unwrap();
    let ids = upsert_all(&mut tx, &people, 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!((ids["known@customer.example"], ids["unnamed@customer.example"]), (known, unnamed));
    let new = ids["new@customer.example"];
    assert!(new != known && new != unnamed);
    assert_eq!(name_of(&db, known).await, "Known Name", "a stored name is kept");
    assert_eq!(name_of(&db, unnamed).await, "Filled In", "a missing name is filled in");
    assert_eq!(name_of(&db, new).await, "New Customer");
    // Again, without names and with 40 addresses (more than one statement's 32): nothing is cleared or doubled.
    let many: Vec<String> = (0..37).map(|i| format!("more{i}@customer.example")).collect();
    let mut again: Vec<(&str, &str)> = people.iter().map(|(email, _)| (*email, "")).collect();
    again.extend(many.iter().map(|email| (email.as_str(), "")));
    let mut tx = db.begin().await.unwrap();
    let ids = upsert_all(&mut tx, &again, 20).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 40);
    assert_eq!(ids["new@customer.example"], new);
    assert_eq!(name_of(&db, unnamed).await, "Filled In");
    let rows: i64 = sqlx::query_scalar("select count(*) from customers").fetch_one(db.pool()).await.unwrap();
    assert_eq!(rows, 40);
}

#[tokio::test]
async fn on_postgres_a_known_customer_in_a_running_transaction_holds_up_no_other() {
    let Some((_dir, db)) = migrated_db(Store::Postgres).await else { return };
    let known = customer(&db, "shared@customer.example", "Shared").await;
    let mut first = db.begin().await.unwrap();
    let ids = upsert_all(&mut first, &[("shared@customer.example", "Shared")], 10).await.unwrap();
    assert_eq!(ids["shared@customer.example"], known);
    let second = tokio::time::timeout(Duration::from_secs(5), async {
        let mut second = db.begin().await.unwrap();
        let ids = upsert_all(&mut second, &[("shared@customer.example", "Shared")], 11).await.unwrap();
        second.commit().await.unwrap();
        ids
    })
    .await
    .expect("the second batch waited for the first one's lock on a customer row it only read");
    assert_eq!(second["shared@customer.example"], known);
    first.commit().await.unwrap();
}

/// The second batch's insert waits for the first one's new row and, once that commits, finds it and fills in the
/// name the first one did not know.
#[tokio::test]
async fn on_postgres_an_address_created_meanwhile_by_another_transaction_is_that_customer() {
    let Some((_dir, db)) = migrated_db(Store::Postgres).await else { return };
    let mut first = db.begin().await.unwrap();
    let ids = upsert_all(&mut first, &[("race@customer.example", "")], 10).await.unwrap();
    let created = ids["race@customer.example"];
    let other = db.clone();
    let second = tokio::spawn(async move {
        let mut second = other.begin().await.unwrap();
        let ids = upsert_all(&mut second, &[("race@customer.example", "Second")], 11).await.unwrap();
        second.commit().await.unwrap();
        ids
    });
    let waiting = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let waits: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            if waits > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waiting.is_ok(), "the second insert never waited for the first transaction's new row");
    assert!(!second.is_finished());
    first.commit().await.unwrap();
    let ids = tokio::time::timeout(Duration::from_secs(5), second).await.expect("still waiting").unwrap();
    assert_eq!(ids["race@customer.example"], created);
    assert_eq!(name_of(&db, created).await, "Second", "the name the first batch did not know is filled in");
    let rows: i64 = sqlx::query_scalar("select count(*) from customers").fetch_one(db.pool()).await.unwrap();
    assert_eq!(rows, 1);
}
