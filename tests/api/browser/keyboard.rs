//! Keyboard shortcuts of `static/app.js`: moving through the list, opening, replying, and the `?` help.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, mail, spawn_app_with};
use deskmail::domain::Role;
use fantoccini::key::Key;

/// Types keys at the page itself (not into a field).
async fn press(b: &Browser, keys: &str) {
    b.find("body").await.send_keys(keys).await.unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
}

async fn focused_id(b: &Browser) -> String {
    b.eval("return document.activeElement && document.activeElement.id;").await.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn keyboard_shortcuts_move_through_the_list_open_a_ticket_and_explain_themselves() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    for (i, subject) in ["First", "Second", "Third"].iter().enumerate() {
        app.ingest(&mail("c@customer.example", subject, &format!("kb-{i}@customer.example"), "Hi")).await;
    }
    let Some(b) = Browser::start(&app).await else { return };
    b.login("alice@example.test", PASSWORD).await;

    press(&b, "?").await;
    assert_eq!(b.eval("return document.getElementById('shortcuts').open;").await, true, "? opens the help");
    let help = b.text("#shortcuts").await;
    assert!(help.contains("Keyboard shortcuts") && help.contains("Write a reply"), "{help}");
    b.screenshot("shortcuts-help").await;
    press(&b, &Key::Escape.to_string()).await;
    assert_eq!(b.eval("return document.getElementById('shortcuts').open;").await, false, "Escape closes it");
    press(&b, "?").await;
    b.find("#shortcuts button").await.click().await.unwrap();
    assert_eq!(b.eval("return document.getElementById('shortcuts').open;").await, false, "so does Close");

    press(&b, "jj").await;
    assert_eq!(b.texts("tr.selected td.subject a").await, ["Second"], "j moves down the newest-first list");
    press(&b, "k").await;
    assert_eq!(b.texts("tr.selected td.subject a").await, ["Third"]);
    press(&b, "/").await;
    assert_eq!(focused_id(&b).await, "global-search");
    b.find("#global-search").await.send_keys(&Key::Escape.to_string()).await.unwrap();
    b.mark_page().await;
    press(&b, "o").await;
    b.wait_new_page().await;
    assert!(b.text("h1").await.ends_with("Third"), "o opens the selected ticket");
    press(&b, "r").await;
    assert_eq!(focused_id(&b).await, "reply-body");
    b.find("#reply-body").await.send_keys(&Key::Escape.to_string()).await.unwrap();
    press(&b, "n").await;
    assert_eq!(focused_id(&b).await, "note-body");
    b.close().await;
}
