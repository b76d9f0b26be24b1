//! The admin pages over HTTP with a cookie-keeping client: agents and other sites are refused on every admin page,
//! and the mailbox form shows a bad value beside its field.

use crate::helpers::{Store, TestApp, spawn_app};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::Role;

store_tests!(
    agents_get_403_on_every_admin_page_and_form,
    cross_site_posts_are_refused_and_same_origin_ones_work,
    a_bad_port_is_shown_beside_its_field_and_the_input_is_kept,
);

/// The form fields of a mailbox without servers; callers add theirs.
pub fn mailbox_fields<'a>(name: &'a str, address: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("address", address),
        ("display_name", "Dashboard Desk"),
        ("enabled", "1"),
        ("imap_port", "993"),
        ("imap_tls", "implicit"),
        ("imap_folder", "INBOX"),
        ("imap_after_import", "seen"),
        ("imap_poll_interval", "60"),
        ("imap_import_existing", "unseen"),
        ("smtp_port", "587"),
        ("smtp_tls", "starttls"),
    ]
}

/// Replaces (or adds) form fields.
pub fn with<'a>(mut fields: Vec<(&'a str, &'a str)>, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    fields
}

pub async fn mailbox_id(app: &TestApp, name: &str) -> i64 {
    app.services.db.mailbox_by_name(name).await.unwrap().expect("mailbox exists").id
}

async fn agents_get_403_on_every_admin_page_and_form(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    app.ingest(b"Subject: no sender\r\n\r\nheld").await;
    let id = mailbox_id(&app, "support").await;
    let pages = [
        "/admin/mailboxes".to_string(),
        "/admin/mailboxes/new".into(),
        format!("/admin/mailboxes/{id}"),
        "/admin/templates".into(),
        "/admin/templates/ack.txt".into(),
        "/admin/quarantine".into(),
        "/admin/quarantine/1".into(),
        "/admin/quarantine/1/raw".into(),
        "/admin/deliveries?status=all".into(),
    ];
    for path in &pages {
        assert_eq!(agent.get(path).await.status, 403, "agent GET {path}");
        let p = admin.get(path).await;
        assert_eq!(p.status, 200, "admin GET {path}: {}", p.body);
    }
    assert_eq!(admin.get("/admin").await.location, "/admin/mailboxes");
    let posts = [
        "/admin/mailboxes".to_string(),
        format!("/admin/mailboxes/{id}"),
        format!("/admin/mailboxes/{id}/enabled"),
        format!("/admin/mailboxes/{id}/test"),
        "/admin/templates/ack.txt".into(),
        "/admin/templates/ack.txt/reset".into(),
        "/admin/quarantine/1/retry".into(),
        "/admin/quarantine/1/ticket".into(),
        "/admin/quarantine/1/delete".into(),
        "/admin/deliveries/1/retry".into(),
    ];
    for path in &posts {
        assert_eq!(agent.post(path, &[("enabled", "0"), ("source", "x")]).await.status, 403, "agent POST {path}");
    }
    assert_eq!(app.services.db.quarantine(10, 0).await.unwrap().1, 1, "nothing was changed by the agent");
}

async fn cross_site_posts_are_refused_and_same_origin_ones_work(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let fields = mailbox_fields("evil", "evil@example.test");
    let url = format!("{}/admin/mailboxes", app.address);
    let evil = admin.client().post(&url).header("Origin", "https://evil.example").form(&fields).send().await.unwrap();
    assert_eq!(evil.status().as_u16(), 403);
    let fetch = admin.client().post(&url).header("Sec-Fetch-Site", "cross-site").form(&fields).send().await.unwrap();
    assert_eq!(fetch.status().as_u16(), 403);
    assert!(app.services.db.mailbox_by_name("evil").await.unwrap().is_none());
    let same = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!((same.status, same.location.as_str()), (303, "/admin/mailboxes"), "{}", same.body);
    let list = admin.get("/admin/mailboxes").await.body;
    assert!(list.contains("Mailbox evil added.") && list.contains("evil@example.test"));
}

async fn a_bad_port_is_shown_beside_its_field_and_the_input_is_kept(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let fields = with(
        mailbox_fields("sales", "sales@example.test"),
        &[
            ("imap_on", "1"),
            ("imap_host", "imap.example.test"),
            ("imap_username", "sales-user"),
            ("imap_password", "pw"),
            ("imap_port", "99999"),
        ],
    );
    let p = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains(
            r#"name="imap_port" type="text" value="99999" aria-invalid="true" aria-describedby="f-imap_port-error""#
        ),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains(r#"<p class="field-error" id="f-imap_port-error">Enter a port number between 1 and 65535.</p>"#)
    );
    assert!(p.body.contains(r#"value="imap.example.test""#) && p.body.contains(r#"value="sales-user""#), "input kept");
    assert!(!p.body.contains(r#"aria-describedby="f-imap_host-error""#), "only the bad field is marked");
    assert!(app.services.db.mailbox_by_name("sales").await.unwrap().is_none());
    let taken = admin
        .post("/admin/mailboxes", &with(fields, &[("imap_port", "993"), ("address", "support@example.test")]))
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("Another mailbox already has this address."));
}

#[tokio::test]
async fn a_quick_check_out_of_bounds_is_shown_beside_its_field_and_one_within_is_stored() {
    let Some(app) = spawn_app(Store::Sqlite).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let fields = with(
        mailbox_fields("quick", "quick@example.test"),
        &[
            ("imap_on", "1"),
            ("imap_host", "imap.example.test"),
            ("imap_username", "quick-user"),
            ("imap_password", "pw"),
        ],
    );
    for bad in ["20", "60001", "soon"] {
        let p = admin.post("/admin/mailboxes", &with(fields.clone(), &[("imap_check_interval", bad)])).await;
        assert_eq!(p.status, 422, "{bad}");
        let error = r#"<p class="field-error" id="f-imap_check_interval-error">Enter 0 (off) or milliseconds between 50 and 60000.</p>"#;
        assert!(p.body.contains(error), "{bad}: {}", p.body);
    }
    assert!(app.services.db.mailbox_by_name("quick").await.unwrap().is_none());
    let p = admin.post("/admin/mailboxes", &with(fields, &[("imap_check_interval", "100")])).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let row = app.services.db.mailbox_by_name("quick").await.unwrap().expect("stored");
    assert_eq!(row.settings().unwrap().imap.unwrap().check_interval_ms, 100);
    let form = admin.get(&format!("/admin/mailboxes/{}", row.id)).await.body;
    assert!(form.contains(r#"name="imap_check_interval" type="text" value="100""#), "{form}");
}
