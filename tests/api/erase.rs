//! Erasing a customer, on both stores: afterwards no API, page, search or export shows their text, attachment or
//! address; their blobs are gone from disk while a blob another customer's ticket shares stays; the other
//! customer's data is byte-identical; mail from the address makes a new customer. The customer page's button.

use crate::helpers::{Store, TestApp, mail, reply, spawn_app};
use crate::web_client::signed_in_staff;
use crate::{blob_store_tests, store_tests};
use deskmail::domain::Role;
use deskmail::platform::storage::sha256_hex;
use serde_json::{Value, json};
use std::io::Read;

// Erasing deletes blobs: also against an S3 bucket.
blob_store_tests!(an_erased_customer_leaves_anonymous_shells_and_another_customers_data_stays_byte_identical);
store_tests!(the_customer_page_erases_only_for_admins_who_type_the_address);

pub const SHARED: &[u8] = b"the same manual, sent by two customers";
pub const KIM: &str = "kim@customer.example";
pub const LOU: &str = "lou@customer.example";

/// A mail with attachments `(filename, bytes)`.
pub fn mail_with(from: &str, subject: &str, message_id: &str, body: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 01 Sep 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n\
         --B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    for (name, bytes) in files {
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        m.push_str(&format!(
            "--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        ));
    }
    m.push_str("--B--\r\n");
    m.into_bytes()
}

/// A request with the admin token (or `token`); status and JSON.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req =
        app.client.request(method, format!("{}{path}", app.address)).bearer_auth(token.unwrap_or(&app.admin_token));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The customer's export through the API: `export.json` (without its time) and every other file by name.
pub async fn export(app: &TestApp, email: &str) -> (Value, std::collections::BTreeMap<String, Vec<u8>>) {
    let resp = app.client.get(format!("{}/api/v1/customers/{email}/export", app.address)).bearer_auth(&app.admin_token);
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let bytes = resp.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        files.insert(f.name().unwrap().to_string(), data);
    }
    let mut json: Value = serde_json::from_slice(&files.remove("export.json").expect("export.json")).unwrap();
    json.as_object_mut().unwrap().remove("exported_at");
    (json, files)
}

/// Whether the blob is stored (on disk, or in the bucket).
pub async fn on_disk(app: &TestApp, sha: &str) -> bool {
    let (blobs, sha) = (app.services.blobs.clone(), sha.to_string());
    tokio::task::spawn_blocking(move || blobs.size(&sha).unwrap().is_some()).await.unwrap()
}

/// How many of `shas` are stored.
pub async fn stored(app: &TestApp, shas: &[&String]) -> usize {
    let mut n = 0;
    for sha in shas {
        n += usize::from(on_disk(app, sha).await);
    }
    n
}

async fn an_erased_customer_leaves_anonymous_shells_and_another_customers_data_stays_byte_identical(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let kim1 = mail_with(
        &format!("Kim Weber <{KIM}>"),
        "Zebrafish lamp",
        "k1@customer.example",
        "My zebrafish lamp flickers.",
        &[("manual.pdf", SHARED), ("photo.pdf", b"kim's own photo of her living room")],
    );
    let kim_n = app.ingest(&kim1).await.ticket.unwrap();
    let kim2 = reply(KIM, "Re: Zebrafish lamp", "k2@customer.example", "k1@customer.example", "Still zebrafish.");
    assert_eq!(app.ingest(&kim2).await.ticket, Some(kim_n));
    let lou = mail_with(
        &format!("Lou Park <{LOU}>"),
        "Kettle",
        "l1@customer.example",
        "My kettle hums.",
        &[("manual.pdf", SHARED)],
    );
    let lou_n = app.ingest(&lou).await.ticket.unwrap();
    let t = format!("/api/v1/tickets/{kim_n}");
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("{t}/replies"),
        None,
        Some(json!({"body": "Dear Kim, about the zebrafish lamp"})),
    )
    .await;
    assert!(s < 300, "reply: {s}");
    call(
        &app,
        reqwest::Method::POST,
        &format!("{t}/notes"),
        None,
        Some(json!({"body": "kim@customer.example called"})),
    )
    .await;
    call(&app, reqwest::Method::PATCH, &t, None, Some(json!({"status": "resolved"}))).await;
    let rating = deskmail::tickets::customer::Rating::Bad;
    assert!(app.services.tickets.rate(kim_n, rating, "zebrafish comment").await.unwrap());
    let order = json!({ "customer_email": KIM, "status": "paid" });
    assert!(call(&app, reqwest::Method::PUT, "/api/v1/orders/7001", None, Some(order)).await.0 < 300);
    app.services.db.portal_session_create("kim-session", KIM, deskmail::domain::now()).await.unwrap();
    let kim_ticket = app.ticket(kim_n).await;
    let own: Vec<String> = kim_ticket["messages"][0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(own.len(), 2);
    let (shared, photo) = (sha256_hex(SHARED), own.iter().find(|s| **s != sha256_hex(SHARED)).unwrap().clone());
    let kim_raws = [sha256_hex(&kim1), sha256_hex(&kim2)];
    assert_eq!(stored(&app, &[&kim_raws[0], &kim_raws[1], &shared, &photo]).await, 4);
    assert_eq!(app.get("/api/v1/tickets?q=zebrafish").await.1["total"], 1);
    let lou_before = app.ticket(lou_n).await;
    let (lou_export_before, lou_files_before) = export(&app, LOU).await;

    let agent = app.token_for("agent@example.test", Role::Agent).await;
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &format!("/api/v1/customers/{KIM}"), Some(&agent), None).await.0,
        403
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, "/api/v1/customers/nobody@nowhere.example", None, None).await.0,
        404
    );
    let (s, done) = call(&app, reqwest::Method::DELETE, "/api/v1/customers/Kim@Customer.example", None, None).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (done["tickets"].as_i64(), done["attachments"].as_i64(), done["blobs_deleted"].as_i64()),
        (Some(1), Some(2), Some(3)),
        "{done}"
    );
    assert!(done["messages"].as_i64().unwrap() >= 4, "{done}");

    // Nothing of Kim's anywhere.
    let after = app.ticket(kim_n).await;
    assert_eq!(after["subject"], "[erased]");
    assert!(
        after["events"].as_array().unwrap().iter().any(|e| e["kind"] == "erased" && e["actor"] == "admin@example.test")
    );
    let mut shown = vec![("the ticket".to_string(), after.to_string())];
    for path in ["/api/v1/tickets?status=all", "/api/v1/outbox?per_page=200", "/api/v1/quarantine"] {
        shown.push((path.into(), app.get(path).await.1.to_string()));
    }
    let admin = signed_in_staff(&app, "boss@example.test", Role::Admin).await;
    for page in [format!("/tickets/{kim_n}"), "/tickets?status=all".into(), format!("/tickets?status=all&q={KIM}")] {
        let p = admin.get(&page).await;
        assert_eq!(p.status, 200, "{page}");
        // The search box shows what was typed into it.
        shown.push((page, p.body.replace(&format!("value=\"{KIM}\""), "")));
    }
    for secret in ["zebrafish", "Zebrafish", KIM, "Kim Weber", "photo.pdf", "living room"] {
        for (source, text) in &shown {
            let at = text.find(secret).map(|i| &text[i.saturating_sub(200)..(i + 100).min(text.len())]);
            assert!(at.is_none(), "{secret} is still shown by {source}: {at:?}");
        }
    }
    assert_eq!(
        after["messages"].as_array().unwrap().iter().map(|m| m["attachments"].as_array().unwrap().len()).sum::<usize>(),
        0
    );
    assert_eq!(app.get("/api/v1/tickets?q=zebrafish").await.1["total"], 0);
    assert_eq!(app.get("/api/v1/tickets?q=kim").await.1["total"], 0);
    assert_eq!(app.get(&format!("/api/v1/customers/{KIM}")).await.0, 404);
    assert_eq!(admin.get(&format!("/customers/{KIM}")).await.status, 404);
    assert_eq!(call(&app, reqwest::Method::GET, &format!("/api/v1/customers/{KIM}/export"), None, None).await.0, 404);
    assert!(app.services.db.recent_orders(KIM, 10).await.unwrap().is_empty());
    assert!(app.services.db.portal_session("kim-session", 0).await.unwrap().is_none());
    // Kim's blobs are gone, the one Lou shares stays.
    assert_eq!(stored(&app, &[&photo, &kim_raws[0], &kim_raws[1]]).await, 0);
    assert!(on_disk(&app, &shared).await);
    // Lou: byte-identical, and the export still holds everything of Lou's.
    assert_eq!(app.ticket(lou_n).await.to_string(), lou_before.to_string());
    let (lou_export, lou_files) = export(&app, LOU).await;
    assert_eq!(lou_export, lou_export_before);
    assert_eq!(lou_files, lou_files_before);
    assert!(lou_export.to_string().contains("My kettle hums."));
    assert_eq!(lou_files.values().filter(|f| f.as_slice() == SHARED).count(), 1, "the shared manual");
    assert!(lou_files.contains_key(&format!("raw/{}.eml", lou_before["messages"][0]["id"])));

    // Mail from the address afterwards (even the same mail again) makes a new customer and a new ticket.
    let again = app.ingest(&kim1).await;
    assert_eq!(again.kind.as_str(), "created");
    assert_ne!(again.ticket, Some(kim_n));
    let (s, kim_now) = app.get(&format!("/api/v1/customers/{KIM}")).await;
    assert_eq!((s, kim_now["tickets"].as_array().unwrap().len()), (200, 1), "{kim_now}");
    assert_eq!(kim_now["tickets"][0]["number"].as_i64(), again.ticket);
    assert!(on_disk(&app, &photo).await, "stored again with the new mail");
}

async fn the_customer_page_erases_only_for_admins_who_type_the_address(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app
        .ingest(&mail(&format!("Kim Weber <{KIM}>"), "Lamp", "p1@customer.example", "flicker"))
        .await
        .ticket
        .unwrap();
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    let page = agent.get(&format!("/customers/{KIM}")).await;
    assert!(page.status == 200 && !page.body.contains("Erase customer"), "agents see no erase button");
    assert_eq!(agent.post(&format!("/customers/{KIM}/erase"), &[("confirm", KIM)]).await.status, 403);
    assert_eq!(agent.get(&format!("/customers/{KIM}/export")).await.status, 403);
    let admin = signed_in_staff(&app, "boss@example.test", Role::Admin).await;
    let page = admin.get(&format!("/customers/{KIM}")).await;
    assert!(page.body.contains("Erase customer") && page.body.contains("/export"));
    let download = admin.get(&format!("/customers/{KIM}/export")).await;
    assert_eq!((download.status, download.header("content-type")), (200, "application/zip"));
    let wrong = admin.post(&format!("/customers/{KIM}/erase"), &[("confirm", "someone@else.example")]).await;
    assert_eq!((wrong.status, wrong.location.as_str()), (303, "/customers/kim%40customer.example"));
    assert!(admin.get(&wrong.location).await.body.contains("type the customer"), "says why");
    assert_eq!(app.ticket(n).await["requester"]["email"], KIM, "not erased");
    let done = admin.post(&format!("/customers/{KIM}/erase"), &[("confirm", " Kim@customer.example ")]).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/tickets"));
    assert!(admin.get("/tickets").await.body.contains("Customer erased: 1 ticket"));
    let shell = app.ticket(n).await;
    assert_eq!(shell["subject"], "[erased]");
    assert!(shell["requester"]["email"].as_str().unwrap().ends_with("@invalid"), "{shell}");
    assert_eq!(shell["messages"][0]["body_text"], "");
}
