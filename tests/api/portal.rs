//! The customer portal over HTTP, on both stores: who sees what (200 tickets of 20 customers), ticket links, the
//! separation of portal and staff sessions, cross-site posts.

use crate::helpers::{Store, TestApp, mail, spawn_app};
use crate::store_tests;
use crate::web_client::{Browser, signed_in_staff};
use deskmail::domain::Role;
use serde_json::json;

store_tests!(
    a_customer_sees_exactly_their_tickets_and_attachments_and_gets_404_for_all_others,
    the_conversation_shows_no_notes_events_or_staff_addresses,
    a_ticket_link_opens_only_its_ticket_until_thirty_days_after_closing,
    portal_and_staff_sessions_grant_nothing_to_each_other_and_cross_site_posts_are_refused,
    sign_in_links_work_once_and_expire,
);

/// A browser signed in to the portal as `email` (through a link issued directly in the store).
pub async fn portal_customer(app: &TestApp, email: &str) -> Browser {
    let token = deskmail::platform::password::random_string(43);
    let now = deskmail::domain::now();
    let hash = deskmail::platform::password::token_hash(&token);
    app.services.db.portal_token_create(email, &hash, now, now + 1800).await.unwrap();
    let b = Browser::new(app);
    let p = b.get(&format!("/portal/login/{token}")).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/portal/tickets"), "{}", p.body);
    b
}

/// A customer mail with a small text attachment.
pub fn mail_with_file(from: &str, subject: &str, message_id: &str, file: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 01 Sep 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n\
         --b1\r\nContent-Type: text/plain; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\n\r\n\
         contents of {file}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// Ingests 200 tickets of 20 customers (`c{i}@customer.example`, ten each, every fifth with a file); returns
/// `(number, customer index)` per ticket.
async fn seed(app: &TestApp) -> Vec<(i64, usize)> {
    let mut raws = Vec::new();
    let mut owners = Vec::new();
    for t in 0..200 {
        let c = t % 20;
        let from = format!("Customer {c} <c{c}@customer.example>");
        let id = format!("seed{t}@customer.example");
        raws.push(if t % 5 == 0 {
            mail_with_file(&from, &format!("Question {t}"), &id, &format!("file{t}.txt"))
        } else {
            mail(&from, &format!("Question {t}"), &id, &format!("Text of question {t}."))
        });
        owners.push(c);
    }
    let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
    let outcomes = app.ingest_at("support", &refs).await;
    outcomes.iter().zip(owners).map(|(o, c)| (o.ticket.expect("a ticket"), c)).collect()
}

/// Every attachment id of a ticket, from the API.
async fn attachment_ids(app: &TestApp, number: i64) -> Vec<i64> {
    let t = app.ticket(number).await;
    let messages = t["messages"].as_array().unwrap().clone();
    messages
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()))
        .collect()
}

async fn a_customer_sees_exactly_their_tickets_and_attachments_and_gets_404_for_all_others(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let tickets = seed(&app).await;
    let me = 5;
    let b = portal_customer(&app, &format!("c{me}@customer.example")).await;
    let list = b.get("/portal/tickets").await;
    assert_eq!(list.status, 200);
    for (n, owner) in &tickets {
        let listed = list.body.contains(&format!("/portal/tickets/{n}\""));
        assert_eq!(listed, *owner == me, "ticket {n} of customer {owner} in the list");
        let page = b.get(&format!("/portal/tickets/{n}")).await;
        assert_eq!(page.status, if *owner == me { 200 } else { 404 }, "ticket {n} of customer {owner}");
    }
    let mine: Vec<i64> = tickets.iter().filter(|(_, o)| *o == me).map(|(n, _)| *n).collect();
    let with_file = mine[0];
    let my_files = attachment_ids(&app, with_file).await;
    assert_eq!(my_files.len(), 1);
    let mut all_files = Vec::new();
    for (n, _) in tickets.iter().enumerate().filter(|(i, (_, o))| i % 5 == 0 && *o != me).map(|(_, t)| t) {
        all_files.extend(attachment_ids(&app, *n).await);
    }
    assert!(all_files.len() >= 30, "other customers' files: {}", all_files.len());
    let own = b.get(&format!("/portal/tickets/{with_file}/attachments/{}", my_files[0])).await;
    assert_eq!(own.status, 200);
    assert!(own.body.starts_with("contents of file") && own.header("content-disposition").starts_with("attachment"));
    for id in &all_files {
        let through_mine = b.get(&format!("/portal/tickets/{with_file}/attachments/{id}")).await;
        assert_eq!(through_mine.status, 404, "another customer's attachment {id} through my ticket");
    }
    let (other, _) = tickets.iter().find(|(_, o)| *o != me).unwrap();
    let p = b.get(&format!("/portal/tickets/{other}/attachments/{}", my_files[0])).await;
    assert_eq!(p.status, 404);
    let search = b.get("/portal/tickets?q=question%2025").await;
    assert!(search.body.contains("Question 25") && !search.body.contains("Question 45"), "{}", search.body);
    let by_text = b.get("/portal/tickets?q=see%20the%20file").await;
    assert_eq!(by_text.body.matches("class=\"subject\"").count(), 10, "a word of the mail finds every one of mine");
    let others = b.get("/portal/tickets?q=question%2017").await;
    assert!(!others.body.contains("Question 17"), "search never finds another customer's ticket");
}

async fn the_conversation_shows_no_notes_events_or_staff_addresses(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let from = "Kim <kim@customer.example>";
    let n =
        app.ingest(&mail(from, "Lamp <b>flickers</b>", "k1@customer.example", "It flickers.")).await.ticket.unwrap();
    let cc = "From: Kim <kim@customer.example>\r\nCc: Lou <lou@other.example>\r\n";
    let with_cc = mail(from, "Cc", "k2@customer.example", "x");
    let with_cc = String::from_utf8(with_cc).unwrap().replacen("From: Kim <kim@customer.example>\r\n", cc, 1);
    app.ingest(with_cc.as_bytes()).await;
    for (path, body) in [("notes", "SECRET-NOTE-TEXT only for staff"), ("replies", "Please try a new bulb.")] {
        let resp = app
            .client
            .post(format!("{}/api/v1/tickets/{n}/{path}", app.address))
            .bearer_auth(&app.admin_token)
            .json(&json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.text().await.unwrap());
    }
    let b = portal_customer(&app, "kim@customer.example").await;
    let page = b.get(&format!("/portal/tickets/{n}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("It flickers.") && page.body.contains("Please try a new bulb."), "{}", page.body);
    assert!(page.body.contains("Lamp &lt;b&gt;flickers&lt;&#x2f;b&gt;"), "the subject is text: {}", page.body);
    assert!(page.body.contains("waiting for you"), "pending in customer words");
    for hidden in ["SECRET-NOTE-TEXT", "admin@example.test", "status_changed", "reply_sent", "pending →"] {
        assert!(!page.body.contains(hidden), "{hidden} shown to the customer");
    }
    // A participant sees the ticket too; a stranger does not.
    let lou = portal_customer(&app, "lou@other.example").await;
    let lou_list = lou.get("/portal/tickets").await.body;
    assert!(lou_list.contains(">Cc<") && !lou_list.contains("flickers"), "{lou_list}");
}

async fn a_ticket_link_opens_only_its_ticket_until_thirty_days_after_closing(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "Link", "l1@customer.example", "Hi")).await.ticket.unwrap();
    let m = app.ingest(&mail("Kim <kim@customer.example>", "Other", "l2@customer.example", "Ho")).await.ticket.unwrap();
    let url = app.services.tickets.composer.portal_ticket_url(n);
    let path = url[url.find("/portal/t/").expect("a portal link")..].to_string();
    let token = path.rsplit('/').next().unwrap().to_string();
    let b = Browser::new(&app);
    assert_eq!(b.get(&path).await.status, 200);
    assert_eq!(b.get(&format!("/portal/t/{m}/{token}")).await.status, 404, "the token of another ticket");
    assert_eq!(b.get(&format!("/portal/t/{n}/{}", token.replace('a', "b").replace('0', "1"))).await.status, 404);
    assert_eq!(b.get("/portal/tickets").await.location, "/portal", "a link is no sign-in");
    let answer = b.post(&format!("{path}/replies"), &[("body", "Answer through the link")]).await;
    assert_eq!((answer.status, answer.location.as_str()), (303, format!("{path}?done=sent").as_str()));
    let t = app.ticket(n).await;
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["from"].as_str()), (Some("customer"), Some("kim@customer.example")));
    let closed = app.client.patch(format!("{}/api/v1/tickets/{n}", app.address)).bearer_auth(&app.admin_token);
    assert!(closed.json(&json!({ "status": "closed" })).send().await.unwrap().status().is_success());
    assert_eq!(b.get(&path).await.status, 200, "still open right after closing");
    let month = 31 * 86_400;
    let sql = "update ticket_events set at = at - $1 where kind = 'status_changed'";
    sqlx::query(sql).bind(month).execute(app.services.db.pool()).await.unwrap();
    assert_eq!(b.get(&path).await.status, 404, "closed more than 30 days ago");
    assert_eq!(b.post(&format!("{path}/replies"), &[("body", "late")]).await.status, 404);
}

async fn portal_and_staff_sessions_grant_nothing_to_each_other_and_cross_site_posts_are_refused(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "S", "s1@customer.example", "Hi")).await.ticket.unwrap();
    let staff = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    assert_eq!(staff.get("/portal/tickets").await.location, "/portal", "a staff session is no portal session");
    assert_eq!(staff.get(&format!("/portal/tickets/{n}")).await.location, "/portal");
    let kim = portal_customer(&app, "kim@customer.example").await;
    let p = kim.get("/tickets").await;
    assert!(p.status == 303 && p.location.starts_with("/login"), "a portal session is no staff session");
    assert_eq!(kim.get("/api/v1/tickets").await.status, 401);
    let cookie = kim.get("/portal/tickets").await;
    assert_eq!(cookie.status, 200);
    let evil = kim
        .client()
        .post(format!("{}/portal/tickets/{n}/replies", app.address))
        .header("Origin", "http://evil.example")
        .form(&[("body", "cross-site")])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status().as_u16(), 403, "cross-site post");
    assert_eq!(app.ticket(n).await["messages"].as_array().unwrap().len(), 1);
    let out = kim.post("/portal/logout", &[]).await;
    assert_eq!(out.status, 200);
    assert!(out.header("set-cookie").contains("deskmail_portal=;") && out.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(kim.get("/portal/tickets").await.location, "/portal", "signed out");
}

async fn sign_in_links_work_once_and_expire(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let db = &app.services.db;
    let now = deskmail::domain::now();
    let hash = |t: &str| deskmail::platform::password::token_hash(t);
    let (fresh, old) = ("F".repeat(43), "O".repeat(43));
    db.portal_token_create("kim@customer.example", &hash(&fresh), now, now + 1800).await.unwrap();
    db.portal_token_create("kim@customer.example", &hash(&old), now - 3600, now - 1800).await.unwrap();
    let b = Browser::new(&app);
    let first = b.get(&format!("/portal/login/{fresh}")).await;
    assert_eq!(first.status, 303);
    let cookie = first.header("set-cookie");
    for attr in ["deskmail_portal=", "HttpOnly", "SameSite=Lax", "Path=/portal"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http");
    let again = Browser::new(&app).get(&format!("/portal/login/{fresh}")).await;
    assert_eq!(again.status, 410, "a used link");
    assert!(again.header("set-cookie").is_empty());
    assert_eq!(Browser::new(&app).get(&format!("/portal/login/{old}")).await.status, 410, "an expired link");
    assert_eq!(Browser::new(&app).get("/portal/login/nonsense").await.status, 410);
    let known = Browser::new(&app).post("/portal/login", &[("email", "kim@customer.example")]).await;
    let unknown = Browser::new(&app).post("/portal/login", &[("email", "nobody@nowhere.example")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let answer = |body: &str| body.split("<main").nth(1).unwrap_or_default().to_string();
    assert_eq!(answer(&known.body), answer(&unknown.body), "the same answer for known and unknown addresses");
    let bad = Browser::new(&app).post("/portal/login", &[("email", "not an address")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("field-error") && bad.body.contains("not an address"), "{}", bad.body);
}
