//! Merge and split through the API, on both stores: what moves, the histories, where later mail threads, refusals,
//! two opposite merges at once, search after a move.

use crate::helpers::{Store, TestApp, mail, reply, spawn_app};
use crate::store_tests;
use serde_json::{Value, json};

store_tests!(
    a_merge_moves_messages_participants_links_and_tags_and_later_mail_lands_on_the_target,
    merges_into_itself_a_merged_ticket_or_from_a_merged_one_are_refused,
    two_opposite_merges_at_once_leave_one_consistent_result,
    a_split_moves_the_chosen_messages_and_their_replies_thread_to_the_new_ticket,
    the_portal_link_of_a_merged_ticket_opens_the_target_and_writes_as_the_customer_it_was_mailed_to,
    tickets_move_to_another_mailbox_and_the_list_merges_or_moves_the_ticked_ones,
);

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let resp = app.client.post(format!("{}{path}", app.address)).bearer_auth(&app.admin_token).json(&body);
    let resp = resp.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn kinds(t: &Value, field: &str) -> Vec<String> {
    t[field].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

fn texts(t: &Value) -> Vec<String> {
    t["messages"].as_array().unwrap().iter().map(|m| m["visible_text"].as_str().unwrap().to_string()).collect()
}

async fn a_merge_moves_messages_participants_links_and_tags_and_later_mail_lands_on_the_target(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let a =
        app.ingest(&mail("Kim <kim@customer.example>", "Lamp", "m1@customer.example", "First about the lamp")).await;
    let b = app.ingest(&mail("Lou <lou@other.example>", "Lamp again", "m2@other.example", "Second, by Lou")).await;
    let (a, b) = (a.ticket.unwrap(), b.ticket.unwrap());
    assert_eq!(post(&app, &format!("/api/v1/tickets/{a}/replies"), json!({ "body": "Agent on A" })).await.0, 201);
    let patch = app.client.patch(format!("{}/api/v1/tickets/{a}", app.address)).bearer_auth(&app.admin_token);
    assert!(patch.json(&json!({ "tags": ["lamp"] })).send().await.unwrap().status().is_success());
    let (status, body) = post(&app, &format!("/api/v1/tickets/{a}/merge"), json!({ "into": b })).await;
    assert_eq!((status, body["ticket"].as_i64(), body["messages"].as_i64()), (200, Some(b), Some(2)), "{body}");
    let source = app.ticket(a).await;
    assert_eq!((source["status"].as_str(), source["merged_into"].as_i64()), (Some("merged"), Some(b)));
    assert!(source["messages"].as_array().unwrap().is_empty());
    assert!(kinds(&source, "events").contains(&"merged".to_string()));
    let target = app.ticket(b).await;
    assert_eq!(texts(&target), ["First about the lamp", "Second, by Lou", "Agent on A"], "in time order");
    assert_eq!(target["requester"]["email"], "lou@other.example", "the target's requester stays");
    assert_eq!(target["tags"], json!(["lamp"]));
    assert_eq!(target["message_count"], 3);
    assert!(kinds(&target, "events").contains(&"merged".to_string()));
    let agent_id = source_agent_message_id(&target);
    // Kim answers the agent's reply on A (its signed Message-ID names A): it lands on B.
    let answer = reply("Kim <kim@customer.example>", "Re: [#A] Lamp", "m3@customer.example", &agent_id, "Kim again");
    assert_eq!(app.ingest(&answer).await.ticket, Some(b));
    // The subject tag of A alone (from a participant) lands on B too.
    let tagged = mail("Kim <kim@customer.example>", &format!("Re: [#{a}] Lamp"), "m4@customer.example", "By tag");
    assert_eq!(app.ingest(&tagged).await.ticket, Some(b));
    let patch = app.client.patch(format!("{}/api/v1/tickets/{a}", app.address)).bearer_auth(&app.admin_token);
    let refused = patch.json(&json!({ "status": "open" })).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 422, "a merged ticket does not change");
    let (s, _) = post(&app, &format!("/api/v1/tickets/{a}/notes"), json!({ "body": "late note" })).await;
    assert_eq!(s, 422);
    let (_, found) = app.get("/api/v1/tickets?q=lamp").await;
    let numbers: Vec<i64> =
        found["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert!(
        numbers.contains(&b) && !numbers.contains(&a),
        "search finds the moved messages on the target: {numbers:?}"
    );
}

/// The Message-ID of the agent's reply (moved from the source) on a ticket.
fn source_agent_message_id(t: &Value) -> String {
    let agent = t["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "agent").expect("an agent reply");
    agent["message_id"].as_str().unwrap().to_string()
}

async fn merges_into_itself_a_merged_ticket_or_from_a_merged_one_are_refused(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let mut n = Vec::new();
    for i in 0..3 {
        let raw = mail("Kim <kim@customer.example>", &format!("T{i}"), &format!("r{i}@customer.example"), "x");
        n.push(app.ingest(&raw).await.ticket.unwrap());
    }
    assert_eq!(post(&app, &format!("/api/v1/tickets/{}/merge", n[0]), json!({ "into": n[0] })).await.0, 422);
    assert_eq!(post(&app, &format!("/api/v1/tickets/{}/merge", n[0]), json!({ "into": 99999 })).await.0, 404);
    assert_eq!(post(&app, &format!("/api/v1/tickets/{}/merge", n[0]), json!({ "into": n[1] })).await.0, 200);
    let (s, body) = post(&app, &format!("/api/v1/tickets/{}/merge", n[2]), json!({ "into": n[0] })).await;
    assert_eq!(s, 422, "into a merged ticket: {body}");
    assert!(body["error"].as_str().unwrap().contains(&format!("#{}", n[1])), "says where it went: {body}");
    assert_eq!(post(&app, &format!("/api/v1/tickets/{}/merge", n[0]), json!({ "into": n[2] })).await.0, 422);
    let status = app.client.patch(format!("{}/api/v1/tickets/{}", app.address, n[2])).bearer_auth(&app.admin_token);
    let refused = status.json(&json!({ "status": "merged" })).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 422, "merged is no status to set");
}

async fn two_opposite_merges_at_once_leave_one_consistent_result(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    for round in 0..5 {
        let x = mail("Kim <kim@customer.example>", "X", &format!("x{round}@customer.example"), "message x");
        let y = mail("Kim <kim@customer.example>", "Y", &format!("y{round}@customer.example"), "message y");
        let (x, y) = (app.ingest(&x).await.ticket.unwrap(), app.ingest(&y).await.ticket.unwrap());
        let (px, py) = (format!("/api/v1/tickets/{x}/merge"), format!("/api/v1/tickets/{y}/merge"));
        let (one, two) = tokio::join!(post(&app, &px, json!({ "into": y })), post(&app, &py, json!({ "into": x })));
        let ok = [one.0, two.0].iter().filter(|s| **s == 200).count();
        assert_eq!(ok, 1, "exactly one merge wins: {one:?} {two:?}");
        let (tx, ty) = (app.ticket(x).await, app.ticket(y).await);
        let (merged, live) = if tx["status"] == "merged" { (&tx, &ty) } else { (&ty, &tx) };
        assert_eq!(merged["merged_into"], live["number"]);
        assert!(live["merged_into"].is_null(), "no loop");
        assert_eq!(texts(live).len(), 2, "no message lost");
    }
}

async fn a_split_moves_the_chosen_messages_and_their_replies_thread_to_the_new_ticket(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Two things", "s1@customer.example", "Lamp broken")).await;
    let n = n.ticket.unwrap();
    let second = reply(
        "Kim <kim@customer.example>",
        "Re: Two things",
        "s2@customer.example",
        "s1@customer.example",
        "Also: invoice wrong",
    );
    assert_eq!(app.ingest(&second).await.ticket, Some(n));
    assert_eq!(
        post(&app, &format!("/api/v1/tickets/{n}/replies"), json!({ "body": "About the invoice: fixed" })).await.0,
        201
    );
    let t = app.ticket(n).await;
    let ids: Vec<i64> = t["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let agent_mid = source_agent_message_id(&t);
    let (s, body) = post(
        &app,
        &format!("/api/v1/tickets/{n}/split"),
        json!({ "messages": [ids[1], ids[2]], "subject": "Invoice" }),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let new = body["ticket"].as_i64().unwrap();
    let (old, split) = (app.ticket(n).await, app.ticket(new).await);
    assert_eq!(texts(&old), ["Lamp broken"]);
    assert_eq!(texts(&split), ["Also: invoice wrong", "About the invoice: fixed"]);
    assert_eq!(
        (split["subject"].as_str(), split["requester"]["email"].as_str()),
        (Some("Invoice"), Some("kim@customer.example"))
    );
    assert!(
        kinds(&old, "events").contains(&"split".to_string()) && kinds(&split, "events").contains(&"split".to_string())
    );
    // A reply to the split-off agent reply (signed with the old number) and one to the customer's own split message.
    let to_agent =
        reply("Kim <kim@customer.example>", "Re: [#N] Two things", "s3@customer.example", &agent_mid, "Thanks!");
    assert_eq!(app.ingest(&to_agent).await.ticket, Some(new), "the signed id of a split message names its new ticket");
    let to_own = reply(
        "Kim <kim@customer.example>",
        "Re: Two things",
        "s4@customer.example",
        "s2@customer.example",
        "More on the invoice",
    );
    assert_eq!(app.ingest(&to_own).await.ticket, Some(new));
    let to_first = reply(
        "Kim <kim@customer.example>",
        "Re: Two things",
        "s5@customer.example",
        "s1@customer.example",
        "Lamp again",
    );
    assert_eq!(app.ingest(&to_first).await.ticket, Some(n));
    let all = post(&app, &format!("/api/v1/tickets/{n}/split"), json!({ "messages": [ids[0]] })).await;
    assert_eq!(all.0, 201, "one of two may go: {:?}", all.1);
    let none = post(&app, &format!("/api/v1/tickets/{n}/split"), json!({ "messages": [] })).await;
    assert_eq!(none.0, 422);
    let foreign = post(&app, &format!("/api/v1/tickets/{n}/split"), json!({ "messages": [ids[1]] })).await;
    assert_eq!(foreign.0, 422, "a message of another ticket");
}

async fn the_portal_link_of_a_merged_ticket_opens_the_target_and_writes_as_the_customer_it_was_mailed_to(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let a = app.ingest(&mail("Kim <kim@customer.example>", "Mine", "p1@customer.example", "Kim's text")).await;
    let b = app.ingest(&mail("Lou <lou@other.example>", "Lou's", "p2@other.example", "Lou's text")).await;
    let (a, b) = (a.ticket.unwrap(), b.ticket.unwrap());
    assert_eq!(post(&app, &format!("/api/v1/tickets/{a}/merge"), json!({ "into": b })).await.0, 200);
    let url = app.services.tickets.composer.portal_ticket_url(a);
    let path = url[url.find("/portal/t/").unwrap()..].to_string();
    let browser = crate::web_client::Browser::new(&app);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Kim&#x27;s text") || page.body.contains("Kim's text"), "{}", page.body);
    let answer = browser.post(&format!("{path}/replies"), &[("body", "Kim through her old link")]).await;
    assert_eq!(answer.status, 303);
    let t = app.ticket(b).await;
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["visible_text"].as_str()),
        (Some("kim@customer.example"), Some("Kim through her old link"))
    );
}

async fn tickets_move_to_another_mailbox_and_the_list_merges_or_moves_the_ticked_ones(store: Store) {
    let Some(app) = crate::helpers::spawn_app_with(store, |s| {
        s.mailboxes.push(toml::from_str("name = \"billing\"\naddress = \"billing@example.test\"").unwrap());
    })
    .await
    else {
        return;
    };
    let mut n = Vec::new();
    for i in 0..4 {
        let raw = mail("Kim <kim@customer.example>", &format!("B{i}"), &format!("bm{i}@customer.example"), "x");
        n.push(app.ingest(&raw).await.ticket.unwrap());
    }
    let patch = app.client.patch(format!("{}/api/v1/tickets/{}", app.address, n[0])).bearer_auth(&app.admin_token);
    let moved: Value = patch.json(&json!({ "mailbox": "billing" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(moved["mailbox"], "billing", "{moved}");
    assert!(kinds(&app.ticket(n[0]).await, "events").contains(&"mailbox_changed".to_string()));
    let patch = app.client.patch(format!("{}/api/v1/tickets/{}", app.address, n[0])).bearer_auth(&app.admin_token);
    assert_eq!(patch.json(&json!({ "mailbox": "nope" })).send().await.unwrap().status().as_u16(), 422);
    let agent = crate::web_client::signed_in_staff(&app, "agent@example.test", deskmail::domain::Role::Agent).await;
    let ids: Vec<String> = n.iter().map(|x| x.to_string()).collect();
    let form = [
        ("ids", ids[1].as_str()),
        ("ids", ids[2].as_str()),
        ("action", "mailbox"),
        ("value", "mailbox:billing"),
        ("back", "/tickets"),
    ];
    assert_eq!(agent.post("/tickets/bulk", &form).await.status, 303);
    assert_eq!(app.ticket(n[2]).await["mailbox"], "billing");
    let form = [
        ("ids", ids[3].as_str()),
        ("ids", ids[1].as_str()),
        ("ids", ids[2].as_str()),
        ("action", "merge"),
        ("value", ""),
        ("back", "/tickets"),
    ];
    let p = agent.post("/tickets/bulk", &form).await;
    assert_eq!((p.status, p.location.clone()), (303, format!("/tickets/{}", n[1])), "into the oldest ticked");
    let target = app.ticket(n[1]).await;
    assert_eq!(target["message_count"], 3);
    assert_eq!(app.ticket(n[3]).await["merged_into"].as_i64(), Some(n[1]));
}
