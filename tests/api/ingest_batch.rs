//! One batch of many mails is stored in one piece (written behind, never split into single messages for a bug of
//! its own), with replies to mails of the same batch threaded, second copies recognised and every event in order.

use crate::helpers::{Store, TestApp, mail, reply, spawn_app};
use crate::store_tests;
use deskmail::ingest::{Input, OutcomeKind};

store_tests!(a_large_mixed_batch_is_stored_whole_and_threads_within_itself);

async fn ingest_batch(app: &TestApp, raws: Vec<Vec<u8>>) -> Vec<deskmail::ingest::Outcome> {
    let mb = app.services.db.mailbox_by_name("support").await.unwrap().unwrap();
    let inputs = raws.into_iter().map(|raw| Input { raw, source: None }).collect();
    app.services.pipeline.ingest(&mb, inputs, None).await.unwrap()
}

async fn a_large_mixed_batch_is_stored_whole_and_threads_within_itself(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    // 150 new mails (more than the message ids drawn at a time), each answered in the same batch, one copied twice.
    let mut raws = Vec::new();
    for i in 0..150 {
        let from = format!("Customer {i} <c{i}@batch.example>");
        raws.push(mail(&from, &format!("Question {i}"), &format!("q{i}@batch.example"), "Hello?"));
    }
    for i in 0..150 {
        let from = format!("c{i}@batch.example");
        raws.push(reply(
            &from,
            &format!("Re: Question {i}"),
            &format!("r{i}@batch.example"),
            &format!("q{i}@batch.example"),
            "More.",
        ));
    }
    raws.push(raws[7].clone());
    let outcomes = ingest_batch(&app, raws).await;
    assert_eq!(app.services.pipeline.batches_split(), 0, "the batch was stored in one piece");
    let count = |k: OutcomeKind| outcomes.iter().filter(|o| o.kind == k).count();
    assert_eq!(
        (count(OutcomeKind::Created), count(OutcomeKind::Threaded), count(OutcomeKind::Duplicate)),
        (150, 150, 1)
    );
    let created: Vec<i64> = outcomes[..150].iter().map(|o| o.ticket.unwrap()).collect();
    assert_eq!(created, (1000..1150).collect::<Vec<_>>(), "real numbers, in the order the mails were filed");
    assert_eq!(outcomes[300].ticket, Some(1007), "the second copy names its ticket");
    for i in [0usize, 63, 64, 149] {
        let number = outcomes[i].ticket.unwrap();
        assert_eq!(outcomes[150 + i].ticket, Some(number), "reply {i} threads onto its question");
        let t = app.ticket(number).await;
        assert_eq!(t["requester"]["name"], format!("Customer {i}"));
        assert_eq!(t["message_count"], 2);
        let texts: Vec<&str> =
            t["messages"].as_array().unwrap().iter().map(|m| m["visible_text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["Hello?", "More."]);
        let kinds: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ticket_created", "message_received", "message_received"]);
        let first = t["messages"][0]["id"].as_i64().unwrap();
        assert_eq!(t["events"][1]["data"]["message"], first, "the event names its message");
    }
    // A second batch still draws fresh message ids.
    let more = ingest_batch(&app, vec![mail("late@batch.example", "Later", "late@batch.example", "x")]).await;
    assert_eq!((more[0].kind, more[0].ticket), (OutcomeKind::Created, Some(1150)));
    assert_eq!(app.services.pipeline.batches_split(), 0);
}
