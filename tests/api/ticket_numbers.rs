//! Where ticket numbers come from: on PostgreSQL a sequence, so a transaction that has drawn numbers and still runs
//! (an inbound batch writing and acknowledging its mail) never holds up another instance's; on SQLite the counter,
//! gap-free behind its one writer. And the per-status counts the triggers keep, striped on PostgreSQL so a ticket
//! created in one transaction does not hold up one created in another.

use crate::helpers::{Store, migrated_db};
use deskmail::db::{Db, tickets::NewTicket, tickets::draw_numbers, tickets::insert};
use std::time::Duration;

#[tokio::test]
async fn on_postgres_numbers_drawn_by_a_running_transaction_hold_up_no_other() {
    let Some((_dir, db)) = migrated_db(Store::Postgres).await else { return };
    let mut first = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut first, 3).await.unwrap(), [1000, 1001, 1002]);
    let drawn = tokio::time::timeout(Duration::from_secs(5), async {
        let mut second = db.begin().await.unwrap();
        let numbers = draw_numbers(&mut second, 2).await.unwrap();
        second.commit().await.unwrap();
        numbers
    })
    .await
    .expect("the second transaction waited for the first one's numbers");
    assert_eq!(drawn, [1003, 1004]);
    drop(first); // rolled back: its numbers stay unused
    let mut third = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut third, 1).await.unwrap(), [1005]);
}

/// Migration 0028 on a database the counter had numbered up to 1041 (its SQL run again on one whose sequence is
/// dropped), and on a fresh one.
#[tokio::test]
async fn on_postgres_the_sequence_continues_from_the_counter_it_replaced() {
    let Some((_dir, db)) = migrated_db(Store::Postgres).await else { return };
    let mut tx = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut tx, 1).await.unwrap(), [1000], "a fresh database starts at 1000");
    drop(tx);
    let migration = include_str!("../../migrations/postgres/0028_ticket_number_sequence.sql");
    let mut tx = db.begin().await.unwrap();
    sqlx::raw_sql("drop sequence ticket_number_seq; update counters set value = 1041 where name = 'ticket_number'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(migration).execute(&mut *tx).await.unwrap();
    assert_eq!(draw_numbers(&mut tx, 2).await.unwrap(), [1042, 1043]);
}

#[tokio::test]
async fn on_sqlite_numbers_are_gap_free_even_after_a_rollback() {
    let (_dir, db) = migrated_db(Store::Sqlite).await.unwrap();
    let mut first = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut first, 3).await.unwrap(), [1000, 1001, 1002]);
    drop(first);
    let mut second = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut second, 2).await.unwrap(), [1000, 1001]);
    second.commit().await.unwrap();
    let mut third = db.begin().await.unwrap();
    assert_eq!(draw_numbers(&mut third, 0).await.unwrap(), Vec::<i64>::new());
    assert_eq!(draw_numbers(&mut third, 1).await.unwrap(), [1002]);
}

/// Two sessions creating tickets in one mailbox at once: the second commits while the first still runs (the count
/// rows are per session slot), and the counts add up afterwards.
#[tokio::test]
async fn on_postgres_a_ticket_created_in_a_running_transaction_holds_up_no_other() {
    let Some((_dir, db)) = migrated_db(Store::Postgres).await else { return };
    let mailbox = db.create_mailbox("count", "count@example.test", "Count", false).await.unwrap();
    let customer = a_customer(&db).await;
    let new = NewTicket { mailbox_id: mailbox, subject: "one", requester_id: customer, parent_ticket_id: None, now: 1 };
    let mut first = db.begin().await.unwrap();
    let first_slot = slot(&mut first).await;
    insert(&mut first, &new).await.unwrap();
    // Sessions whose pids share a slot do wait for each other: the second is one of another slot (a pool of 4).
    let mut same_slot = Vec::new();
    let mut second = loop {
        let mut tx = db.begin().await.unwrap();
        if slot(&mut tx).await != first_slot {
            break tx;
        }
        same_slot.push(tx);
    };
    let created = tokio::time::timeout(Duration::from_secs(5), async {
        let created = insert(&mut second, &new).await.unwrap();
        second.commit().await.unwrap();
        created
    })
    .await
    .expect("the second ticket waited for the first transaction");
    drop(same_slot);
    first.commit().await.unwrap();
    assert_eq!(created.1, 1001);
    let counts = db.status_counts().await.unwrap();
    assert!(counts.contains(&("new".to_string(), 2)), "{counts:?}");
    assert_eq!(db.status_counts_in(&[mailbox]).await.unwrap(), [("new".to_string(), 2)]);
}

/// A customer to be the requester of the tickets a test makes.
async fn a_customer(db: &Db) -> i64 {
    sqlx::query_scalar(
        "insert into customers (email, name, created_at) values ('c@customer.example', '', 0) returning id",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// The count slot a PostgreSQL session adds to (migration 0029).
async fn slot(tx: &mut deskmail::db::Tx) -> i32 {
    sqlx::query_scalar::<_, i32>("select pg_backend_pid() % 16").fetch_one(&mut **tx).await.unwrap()
}

/// The counts follow tickets inserted several to a statement, deleted several to a statement (migration 0030's
/// statement triggers) and changed one at a time (the row triggers), on both stores.
#[tokio::test]
async fn counts_follow_multi_row_inserts_deletes_and_status_changes() {
    for store in [Store::Sqlite, Store::Postgres] {
        let Some((_dir, db)) = migrated_db(store).await else { continue };
        let a = db.create_mailbox("a", "a@example.test", "A", false).await.unwrap();
        let b = db.create_mailbox("b", "b@example.test", "B", false).await.unwrap();
        let customer = a_customer(&db).await;
        let rows = [(1, a, "new"), (2, a, "new"), (3, a, "open"), (4, b, "new"), (5, b, "resolved")];
        let values: Vec<String> = rows
            .iter()
            .map(|(n, mb, status)| format!("({n}, {mb}, 's', '{status}', 'normal', {customer}, 0, 0)"))
            .collect();
        let sql = format!(
            "insert into tickets (number, mailbox_id, subject, status, priority, requester_id, created_at, updated_at) \
             values {}",
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db.pool()).await.unwrap();
        if store == Store::Postgres {
            let statement_triggers: i64 = sqlx::query_scalar(
                "select count(*) from information_schema.triggers where event_object_table = 'tickets' \
                 and action_orientation = 'STATEMENT' and event_manipulation in ('INSERT', 'DELETE')",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(statement_triggers, 2, "migration 0030's statement triggers");
        }
        let counts = |db: Db| async move {
            (
                nonzero(db.status_counts().await.unwrap()),
                nonzero(db.status_counts_in(&[a]).await.unwrap()),
                nonzero(db.status_counts_in(&[b]).await.unwrap()),
            )
        };
        let pairs = |v: &[(&str, i64)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();
        assert_eq!(
            counts(db.clone()).await,
            (
                pairs(&[("new", 3), ("open", 1), ("resolved", 1)]),
                pairs(&[("new", 2), ("open", 1)]),
                pairs(&[("new", 1), ("resolved", 1)])
            ),
            "{store:?} after one insert of five"
        );
        sqlx::query("update tickets set status = 'open' where number = 1").execute(db.pool()).await.unwrap();
        sqlx::query("update tickets set mailbox_id = $1 where number = 2").bind(b).execute(db.pool()).await.unwrap();
        sqlx::query("delete from tickets where number in (3, 5)").execute(db.pool()).await.unwrap();
        assert_eq!(
            counts(db.clone()).await,
            (pairs(&[("new", 2), ("open", 1)]), pairs(&[("open", 1)]), pairs(&[("new", 2)])),
            "{store:?} after a status change, a move and one delete of two"
        );
    }
}

/// The statuses with tickets, in order (a slot's count can go to zero and stay as a row).
fn nonzero(mut counts: Vec<(String, i64)>) -> Vec<(String, i64)> {
    counts.retain(|(_, n)| *n != 0);
    counts.sort();
    counts
}
