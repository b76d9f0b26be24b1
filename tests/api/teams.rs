//! Teams and rights, on both stores: 3 mailboxes (one of no team, one of team A, one of teams A and B) and agents
//! in no team, in A, in B and in both; every ticket route of the API and the dashboard answers 200 exactly where
//! the agent may see the ticket and 404 elsewhere; lists, counts and search show only what they may see; a mailbox
//! move un-assigns who cannot see it there; assignments, notifications and round robin respect the teams.

use crate::helpers::{Store, TestApp, spawn_app_with};
use crate::portal::mail_with_file;
use crate::store_tests;
use crate::web_client::{Browser, PASSWORD, signed_in_staff, staff};
use deskmail::domain::Role;
use serde_json::{Value, json};

store_tests!(
    every_ticket_route_answers_only_within_the_agents_teams_and_lists_count_only_what_they_see,
    assignment_moves_and_round_robin_respect_the_teams,
    agent_mail_acts_on_a_merged_tickets_target_and_not_outside_the_agents_teams,
);

async fn app_with_three_mailboxes(store: Store) -> Option<TestApp> {
    spawn_app_with(store, |s| {
        for (name, address) in [("billing", "billing@example.test"), ("shipping", "shipping@example.test")] {
            s.mailboxes.push(toml::from_str(&format!("name = \"{name}\"\naddress = \"{address}\"")).unwrap());
        }
    })
    .await
}

async fn call(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.address)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn put_team(app: &TestApp, name: &str, members: &[&str], mailboxes: &[&str]) {
    let body = json!({ "members": members, "mailboxes": mailboxes });
    let (s, b) = call(app, &app.admin_token, reqwest::Method::PUT, &format!("/api/v1/teams/{name}"), Some(body)).await;
    assert_eq!(s, 200, "{b}");
}

async fn every_ticket_route_answers_only_within_the_agents_teams_and_lists_count_only_what_they_see(store: Store) {
    let Some(app) = app_with_three_mailboxes(store).await else { return };
    let mut tickets = Vec::new();
    for (i, mailbox) in ["support", "billing", "shipping"].iter().enumerate() {
        let raw = mail_with_file(
            "Kim <kim@customer.example>",
            &format!("Zebra {mailbox}"),
            &format!("t{i}@c.example"),
            "f.txt",
        );
        let n = app.ingest_at(mailbox, &[&raw]).await[0].ticket.unwrap();
        let att = app.ticket(n).await["messages"][0]["attachments"][0]["id"].as_i64().unwrap();
        tickets.push((*mailbox, n, att));
    }
    let mut agents = Vec::new();
    for who in ["none", "a", "b", "both"] {
        let email = format!("{who}@example.test");
        let id = staff(&app, &email, Role::Agent).await;
        let token = deskmail::platform::password::new_api_token();
        let hash = deskmail::platform::password::token_hash(&token);
        app.services.db.create_token(id, "t", &hash).await.unwrap();
        agents.push((who, email, token));
    }
    let (s, _) = call(&app, &agents[1].2, reqwest::Method::PUT, "/api/v1/teams/A", Some(json!({}))).await;
    assert_eq!(s, 403, "teams are for admins");
    put_team(&app, "A", &["a@example.test", "both@example.test"], &["billing", "shipping"]).await;
    put_team(&app, "B", &["b@example.test", "both@example.test"], &["shipping"]).await;
    let sees = |who: &str, mailbox: &str| match who {
        "none" => mailbox == "support",
        "b" => mailbox != "billing",
        _ => true,
    };
    for (who, email, token) in &agents {
        for (mailbox, n, att) in &tickets {
            let want = if sees(who, mailbox) { 200 } else { 404 };
            let get = call(&app, token, reqwest::Method::GET, &format!("/api/v1/tickets/{n}"), None).await.0;
            let file = call(&app, token, reqwest::Method::GET, &format!("/api/v1/attachments/{att}"), None).await.0;
            let note = call(
                &app,
                token,
                reqwest::Method::POST,
                &format!("/api/v1/tickets/{n}/notes"),
                Some(json!({ "body": "n" })),
            )
            .await
            .0;
            let patch = call(
                &app,
                token,
                reqwest::Method::PATCH,
                &format!("/api/v1/tickets/{n}"),
                Some(json!({ "priority": "high" })),
            )
            .await
            .0;
            let links = call(
                &app,
                token,
                reqwest::Method::POST,
                &format!("/api/v1/tickets/{n}/links"),
                Some(json!({ "kind": "order", "ref": "1" })),
            )
            .await
            .0;
            assert_eq!((get, file), (want, want), "{who} on {mailbox}: get, attachment");
            assert_eq!(note == 404, want == 404, "{who} on {mailbox}: note {note}");
            assert_eq!(patch == 404, want == 404, "{who} on {mailbox}: patch {patch}");
            assert_eq!(links == 404, want == 404, "{who} on {mailbox}: links {links}");
        }
        let (_, list) = call(&app, token, reqwest::Method::GET, "/api/v1/tickets", None).await;
        let expected = tickets.iter().filter(|(m, _, _)| sees(who, m)).count() as i64;
        assert_eq!(list["total"].as_i64(), Some(expected), "{who}: list total");
        let (_, found) = call(&app, token, reqwest::Method::GET, "/api/v1/tickets?q=zebra", None).await;
        assert_eq!(found["total"].as_i64(), Some(expected), "{who}: search total");
        let (_, team_b) = call(&app, token, reqwest::Method::GET, "/api/v1/tickets?team=B", None).await;
        assert_eq!(team_b["total"].as_i64(), Some(if *who == "none" { 0 } else { 1 }), "{who}: team filter");
        // The dashboard: the same tickets, pages and downloads, and tab counts of what they see.
        let b = Browser::signed_in(&app, email, PASSWORD).await;
        for (mailbox, n, att) in &tickets {
            let want = if sees(who, mailbox) { 200 } else { 404 };
            assert_eq!(b.get(&format!("/tickets/{n}")).await.status, want, "{who}: page of {mailbox}");
            assert_eq!(
                b.get(&format!("/tickets/{n}/attachments/{att}")).await.status,
                want,
                "{who}: file of {mailbox}"
            );
        }
        let page = b.get("/tickets?status=all").await.body;
        assert_eq!(page.matches("class=\"subject\"").count() as i64, expected, "{who}: dashboard list");
    }
}

async fn assignment_moves_and_round_robin_respect_the_teams(store: Store) {
    let Some(app) = app_with_three_mailboxes(store).await else { return };
    for who in ["a", "b", "c"] {
        app.token_for(&format!("{who}@example.test"), Role::Agent).await;
    }
    put_team(&app, "A", &["a@example.test", "c@example.test"], &["billing"]).await;
    let raw = mail_with_file("Kim <kim@customer.example>", "Bill", "r1@c.example", "f.txt");
    let n = app.ingest_at("billing", &[&raw]).await[0].ticket.unwrap();
    let path = format!("/api/v1/tickets/{n}");
    let patch = |body: Value| call(&app, &app.admin_token, reqwest::Method::PATCH, &path, Some(body));
    let (s, b) = patch(json!({ "assignee": "b@example.test" })).await;
    assert_eq!(s, 422, "b is not in billing's team: {b}");
    assert_eq!(patch(json!({ "assignee": "round_robin:A" })).await.1["assignee"]["email"], "a@example.test");
    assert_eq!(patch(json!({ "assignee": "round_robin:A" })).await.1["assignee"]["email"], "c@example.test");
    assert_eq!(patch(json!({ "assignee": "round_robin:A" })).await.1["assignee"]["email"], "a@example.test");
    put_team(&app, "S", &["b@example.test"], &["shipping"]).await;
    let (_, moved) = patch(json!({ "mailbox": "shipping" })).await;
    assert!(moved["assignee"].is_null(), "a cannot see shipping: unassigned on the move: {moved}");
    let agent = signed_in_staff(&app, "admin2@example.test", Role::Admin).await;
    let page = agent.get(&format!("/tickets/{n}")).await.body;
    let choices = page
        .split("id=\"assignee\"")
        .nth(1)
        .unwrap_or_default()
        .split("</select>")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(choices.contains(">Staff admin2@example.test<") || choices.contains("b@example.test"), "{choices}");
    assert!(!choices.contains(">a@example.test<"), "only who can see the ticket: {choices}");
}

/// An agent's mail to the signed reply address of ticket `number`, as their notification's Reply-To.
fn agent_mail(app: &TestApp, agent_email: &str, agent_id: i64, number: i64, body: &str, id: &str) -> Vec<u8> {
    let mailbox = deskmail::domain::EmailAddress::parse("support@example.test").unwrap();
    let to = app.services.tickets.composer.signer.agent_reply_address(&mailbox, number, agent_id);
    format!(
        "From: Agent <{agent_email}>\r\nTo: {to}\r\nSubject: Re: [#{number}] x\r\nMessage-ID: <{id}>\r\n\
         Date: Tue, 01 Sep 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn agent_mail_acts_on_a_merged_tickets_target_and_not_outside_the_agents_teams(store: Store) {
    let Some(app) = app_with_three_mailboxes(store).await else { return };
    let ana = staff(&app, "ana@example.test", Role::Agent).await;
    let kim = "Kim <kim@customer.example>";
    let a = app.ingest(&crate::helpers::mail(kim, "A", "am1@customer.example", "a")).await.ticket.unwrap();
    let b = app.ingest(&crate::helpers::mail(kim, "B", "am2@customer.example", "b")).await.ticket.unwrap();
    call(
        &app,
        &app.admin_token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{a}/merge"),
        Some(json!({ "into": b })),
    )
    .await;
    let raw = agent_mail(&app, "ana@example.test", ana, a, "#note\nChecked the warehouse.", "ag1@example.test");
    assert_eq!(app.ingest(&raw).await.ticket, Some(b), "the token of the merged ticket names its target");
    let note = app.ticket(b).await["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((note["kind"].as_str(), note["verified"].as_bool()), (Some("note"), Some(true)), "{note}");
    put_team(&app, "Other", &["admin@example.test"], &["support"]).await;
    let raw = agent_mail(&app, "ana@example.test", ana, b, "#note\nStill here?", "ag2@example.test");
    assert_eq!(app.ingest(&raw).await.ticket, Some(b));
    let kept = app.ticket(b).await["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(kept["verified"].as_bool(), Some(false), "an agent outside the mailbox's teams acts on nothing: {kept}");
}
