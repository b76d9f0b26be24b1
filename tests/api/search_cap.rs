//! A search looks at the newest `SEARCH_CAP` matching messages: beyond them the total is marked as a lower bound
//! (API `total_capped`, "N+" on the list page) and the oldest matches are left out; below it the search is exact.
//! Words are matched as written, also those PostgreSQL's own parser would split (`4e7b2c`, `1e10`).

use crate::helpers::{Store, mail, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::db::ticket_filter::SEARCH_CAP;
use deskmail::domain::Role;

store_tests!(
    a_search_matching_more_messages_than_it_reads_says_so_and_shows_the_newest,
    words_the_database_parser_would_split_are_found_as_written,
);

async fn a_search_matching_more_messages_than_it_reads_says_so_and_shows_the_newest(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = SEARCH_CAP as usize + 1;
    let raws: Vec<Vec<u8>> = (0..n)
        .map(|i| mail(&format!("c{i}@customer.example"), &format!("Flamingo {i}"), &format!("f{i}@c.example"), "x"))
        .collect();
    let first = app.ingest(&mail("p@customer.example", "Pelican", "p@c.example", "x")).await;
    let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
    app.ingest_at("support", &refs).await;

    let (_, few) = app.get("/api/v1/tickets?q=pelican").await;
    assert_eq!((few["total"].as_i64(), few["total_capped"].as_bool()), (Some(1), Some(false)), "{few}");

    let (_, many) = app.get("/api/v1/tickets?q=flamingo&per_page=1&sort=oldest").await;
    assert_eq!((many["total"].as_i64(), many["total_capped"].as_bool()), (Some(SEARCH_CAP), Some(true)));
    // The oldest match (the first mail of the batch) is beyond the newest SEARCH_CAP; the second is the oldest shown.
    assert_eq!(many["tickets"][0]["subject"], "Flamingo 1", "{many}");
    let (_, newest) = app.get("/api/v1/tickets?q=flamingo&per_page=1").await;
    assert_eq!(newest["tickets"][0]["subject"], format!("Flamingo {}", n - 1));

    // A ticket number still finds its ticket (the oldest here), however many messages its digits match as a word.
    let number = first.ticket.expect("a ticket");
    let (_, by_number) = app.get(&format!("/api/v1/tickets?q=%23{number}&sort=oldest&per_page=1")).await;
    assert_eq!(by_number["tickets"][0]["subject"], "Pelican", "{by_number}");

    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let page = agent.get("/tickets?status=all&q=flamingo").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("{SEARCH_CAP}+ tickets")), "no capped total on the page");
    assert!(page.body.contains("add a word or a filter to narrow"));
    let page = agent.get("/tickets?status=all&q=pelican").await;
    assert!(page.body.contains(">1 ticket<"), "the exact total of a small search");
}

async fn words_the_database_parser_would_split_are_found_as_written(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    app.ingest(&mail("s@customer.example", "Serial 4e7b2cff", "s1@c.example", "Part 1e10, batch 12-e5")).await;
    app.ingest(&mail("o@customer.example", "Other", "s2@c.example", "nothing here")).await;
    for q in ["4e7b2cff", "4e7b", "1e10", "serial%204e7", "12%20e5"] {
        let (_, found) = app.get(&format!("/api/v1/tickets?q={q}")).await;
        assert_eq!(found["total"], 1, "q={q}: {found}");
        assert_eq!(found["tickets"][0]["subject"], "Serial 4e7b2cff", "q={q}");
    }
    assert_eq!(app.get("/api/v1/tickets?q=4e7%20other").await.1["total"], 0);
}
