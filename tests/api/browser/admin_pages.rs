//! An agent who opens admin pages gets the 403 page (never the page), and admin forms refuse their posts.

use super::{Browser, PASSWORD, http_client, http_login, staff};
use crate::helpers::{Store, spawn_app_with};
use deskmail::domain::Role;

/// Admin pages; every one answers agents through the `AdminUser` extractor.
const ADMIN_PAGES: [&str; 7] = [
    "/admin",
    "/admin/mailboxes",
    "/admin/users",
    "/admin/templates",
    "/admin/quarantine",
    "/admin/deliveries",
    "/admin/bounces",
];

#[tokio::test]
async fn an_agent_opening_admin_pages_sees_the_403_page_and_has_no_admin_link() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "boss@example.test", "Bea Boss", Role::Admin).await;
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let (agent, admin) = (http_client(), http_client());
    http_login(&app, &agent, "alice@example.test").await;
    http_login(&app, &admin, "boss@example.test").await;
    for page in ADMIN_PAGES {
        let status = agent.get(format!("{}{page}", app.address)).send().await.unwrap().status().as_u16();
        assert_eq!(status, 403, "agent at {page}");
        let status = admin.get(format!("{}{page}", app.address)).send().await.unwrap().status().as_u16();
        assert!(![403, 404].contains(&status), "admin at {page}: {status}");
    }
    let invite = agent
        .post(format!("{}/admin/users", app.address))
        .header("origin", &app.address)
        .form(&[("name", "Mallory"), ("email", "mallory@example.test"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status().as_u16(), 403, "an agent cannot invite users");
    assert!(app.services.db.user_by_email("mallory@example.test").await.unwrap().is_none());

    let Some(b) = Browser::start(&app).await else { return };
    b.login("alice@example.test", PASSWORD).await;
    assert!(b.texts("header.top nav a[href^='/admin']").await.is_empty(), "agents see no Admin link");
    for page in ["/admin/mailboxes", "/admin/users"] {
        b.goto(page).await;
        assert_eq!(b.path().await, page);
        assert_eq!(b.text("h1").await, "403 — not for your role", "{page}");
        assert!(b.texts(".admin-nav, table").await.is_empty(), "no admin content leaks into the 403 page");
    }
    b.screenshot("forbidden").await;
    b.click_and_wait("main a[href='/tickets']").await;
    assert_eq!(b.path().await, "/tickets", "the 403 page leads back to the tickets");
    b.close().await;
}
