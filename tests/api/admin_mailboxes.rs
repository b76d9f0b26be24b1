//! Mailboxes added in the dashboard, over HTTP with a cookie-keeping client: passwords stored encrypted and kept only
//! for the same server and username, the connection test, and a poller started and stopped without a restart.

use crate::admin_pages::{mailbox_fields, mailbox_id, with};
use crate::helpers::{Store, TestApp, spawn_app};
use crate::mailenv::{MailEnv, test_mail, wait_for, wait_inbox};
use crate::store_tests;
use crate::web_client::signed_in_staff;
use deskmail::domain::Role;

store_tests!(
    dashboard_passwords_are_stored_encrypted_kept_on_edit_and_decrypted_for_use,
    a_dashboard_mailbox_imports_without_a_restart_and_stops_when_disabled,
    a_stored_password_is_not_kept_for_another_server_or_username,
);

/// A mailbox with both servers (unreachable hosts), logging in as `name` with stored passwords.
fn with_servers<'a>(name: &'a str, address: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = mailbox_fields(name, address);
    fields.extend([("imap_on", "1"), ("imap_host", "imap.invalid"), ("imap_username", name)]);
    fields.extend([("smtp_on", "1"), ("smtp_host", "smtp.invalid"), ("smtp_username", name)]);
    fields.extend([("imap_password", "imap-secret-4711"), ("smtp_password", "smtp-secret-0815")]);
    fields
}

/// A mailbox's stored settings, passwords decrypted.
async fn stored(app: &TestApp, name: &str) -> deskmail::platform::config::MailboxSettings {
    let row = app.services.db.mailbox_by_name(name).await.unwrap().expect("mailbox exists");
    deskmail::platform::secretbox::load_mailbox_settings(&row.settings_json, &app.services.secrets).unwrap()
}

async fn dashboard_passwords_are_stored_encrypted_kept_on_edit_and_decrypted_for_use(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let fields = with_servers("crypt", "crypt@example.test");
    let fields: Vec<_> = fields.into_iter().filter(|(k, _)| *k != "enabled").collect();
    assert_eq!(admin.post("/admin/mailboxes", &fields).await.status, 303);
    let row = app.services.db.mailbox_by_name("crypt").await.unwrap().unwrap();
    assert!(!row.settings_json.contains("secret-"), "plaintext stored: {}", row.settings_json);
    assert!(row.settings_json.contains("password_encrypted"));
    let loaded =
        deskmail::platform::secretbox::load_mailbox_settings(&row.settings_json, &app.services.secrets).unwrap();
    assert_eq!(loaded.imap.unwrap().password.resolve().unwrap().as_deref(), Some("imap-secret-4711"));
    assert_eq!(loaded.smtp.unwrap().password.resolve().unwrap().as_deref(), Some("smtp-secret-0815"));

    let edit = admin.get(&format!("/admin/mailboxes/{}", row.id)).await.body;
    assert!(!edit.contains("secret-") && edit.contains("Leave empty to keep it."));
    let kept = with(fields, &[("imap_password", ""), ("smtp_password", ""), ("display_name", "Renamed")]);
    assert_eq!(admin.post(&format!("/admin/mailboxes/{}", row.id), &kept).await.status, 303);
    assert_eq!(app.services.db.mailbox_by_name("crypt").await.unwrap().unwrap().display_name, "Renamed");
    let kept_password = stored(&app, "crypt").await.imap.unwrap().password.resolve().unwrap();
    assert_eq!(kept_password.as_deref(), Some("imap-secret-4711"));

    // Used: the connection test logs in to the real servers with the decrypted passwords.
    let Some(env) = MailEnv::shared() else { return };
    let address = env.address("crypt");
    let (imaps, submission, ca) =
        (env.imaps_port.to_string(), env.submission_port.to_string(), env.ca_cert.display().to_string());
    let real = with(
        mailbox_fields("real", &address),
        &[
            ("imap_on", "1"),
            ("imap_host", &env.host),
            ("imap_port", &imaps),
            ("imap_username", &address),
            ("imap_password", &env.password),
            ("imap_ca_file", &ca),
            ("smtp_on", "1"),
            ("smtp_host", &env.host),
            ("smtp_port", &submission),
            ("smtp_username", &address),
            ("smtp_password", &env.password),
            ("smtp_ca_file", &ca),
        ],
    );
    let p = admin.post("/admin/mailboxes", &real).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let real_id = mailbox_id(&app, "real").await;
    let report = admin.post(&format!("/admin/mailboxes/{real_id}/test"), &[]).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains(&format!("IMAP {}:{imaps} as {address}: login ok", env.host)), "{}", report.body);
    assert!(
        report.body.contains(&format!("SMTP {}:{submission}: connection and login ok", env.host)),
        "{}",
        report.body
    );
    let wrong = with(real, &[("imap_password", "wrong"), ("smtp_password", "wrong")]);
    assert_eq!(admin.post(&format!("/admin/mailboxes/{real_id}"), &wrong).await.status, 303);
    let report = admin.post(&format!("/admin/mailboxes/{real_id}/test"), &[]).await.body;
    assert!(report.contains("login refused") && !report.contains(": login ok"), "{report}");
}

async fn a_stored_password_is_not_kept_for_another_server_or_username(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let fields = with_servers("moved", "moved@example.test");
    assert_eq!(admin.post("/admin/mailboxes", &fields).await.status, 303);
    let id = mailbox_id(&app, "moved").await;
    let path = format!("/admin/mailboxes/{id}");
    let kept = with(fields, &[("imap_password", ""), ("smtp_password", "")]);
    let changes = [
        ("imap_host", "imap.attacker.example", "imap_password"),
        ("imap_port", "143", "imap_password"),
        ("imap_tls", "none", "imap_password"),
        ("imap_username", "someone", "imap_password"),
        ("smtp_host", "smtp.attacker.example", "smtp_password"),
        ("smtp_username", "someone", "smtp_password"),
    ];
    for (field, value, password) in changes {
        let p = admin.post(&path, &with(kept.clone(), &[(field, value)])).await;
        assert_eq!(p.status, 422, "{field} changed and the stored password was kept");
        assert!(p.body.contains(&format!(r#"id="f-{password}-error""#)), "{field}: {}", p.body);
        assert!(p.body.contains("password again"), "{}", p.body);
    }
    assert_eq!(stored(&app, "moved").await.imap.unwrap().host, "imap.invalid");

    // Unchanged servers keep it; a moved one takes a typed password.
    assert_eq!(admin.post(&path, &with(kept.clone(), &[("display_name", "Renamed")])).await.status, 303);
    let moved = with(kept, &[("imap_host", "imap2.invalid"), ("imap_password", "new-secret")]);
    assert_eq!(admin.post(&path, &moved).await.status, 303);
    let loaded = stored(&app, "moved").await;
    let (imap, smtp) = (loaded.imap.unwrap(), loaded.smtp.unwrap());
    assert_eq!(
        (imap.host.as_str(), imap.password.resolve().unwrap().as_deref()),
        ("imap2.invalid", Some("new-secret"))
    );
    assert_eq!(smtp.password.resolve().unwrap().as_deref(), Some("smtp-secret-0815"));
}

async fn tickets_of(app: &TestApp, mailbox: &str) -> i64 {
    let (status, body) = app.get(&format!("/api/v1/tickets?mailbox={mailbox}&status=new,open,pending")).await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().unwrap_or_default()
}

async fn a_dashboard_mailbox_imports_without_a_restart_and_stops_when_disabled(store: Store) {
    let Some(env) = MailEnv::shared() else { return };
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "root@example.test", Role::Admin).await;
    let address = env.address("live");
    env.send("first@customer.example", &[&address], &test_mail("first@customer.example", &address, "before")).await;
    assert_eq!(wait_inbox(&env, &address, 1, 30).await.len(), 1);
    let (imaps, ca) = (env.imaps_port.to_string(), env.ca_cert.display().to_string());
    let fields = with(
        mailbox_fields("live", &address),
        &[
            ("imap_on", "1"),
            ("imap_host", &env.host),
            ("imap_port", &imaps),
            ("imap_username", &address),
            ("imap_password", &env.password),
            ("imap_ca_file", &ca),
            ("imap_idle", "1"),
            ("imap_poll_interval", "5"),
            ("imap_import_existing", "all"),
        ],
    );
    let p = admin.post("/admin/mailboxes", &fields).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let first = wait_for(20, || async { (tickets_of(&app, "live").await >= 1).then_some(()) }).await;
    assert!(first.is_some(), "the new mailbox imported nothing without a restart");
    let list = admin.get("/admin/mailboxes").await.body;
    assert!(list.contains("state-idle") || list.contains("state-syncing"), "{list}");

    env.send("second@customer.example", &[&address], &test_mail("second@customer.example", &address, "live")).await;
    let second = wait_for(20, || async { (tickets_of(&app, "live").await >= 2).then_some(()) }).await;
    assert!(second.is_some(), "mail arriving later was not imported");

    let id = mailbox_id(&app, "live").await;
    assert_eq!(admin.post(&format!("/admin/mailboxes/{id}/enabled"), &[("enabled", "0")]).await.status, 303);
    let stopped = wait_for(30, || async {
        let (_, h) = app.get("/healthz").await;
        let live = h["mailboxes"].as_array()?.iter().find(|m| m["name"] == "live")?.clone();
        (live["state"] == "disabled").then_some(())
    })
    .await;
    assert!(stopped.is_some(), "the poller did not stop");
    env.send("third@customer.example", &[&address], &test_mail("third@customer.example", &address, "late")).await;
    assert_eq!(wait_inbox(&env, &address, 3, 30).await.len(), 3, "the third mail reached the INBOX");
    // No poller runs for a disabled mailbox, so no event can say it did not import: once the mail is in the INBOX,
    // wait as long as an IDLE poller would take to import it (well under a second).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(tickets_of(&app, "live").await, 2, "a disabled mailbox imported mail");
}
