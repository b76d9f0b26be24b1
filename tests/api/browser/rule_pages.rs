//! Rules in a real browser: an admin writes a macro with the form, runs its dry run, then clicks the macro's button
//! on a ticket and sees the change and the rule's name in the history; screenshots.

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, mail, spawn_app_with};
use deskmail::domain::Role;

#[tokio::test]
async fn an_admin_writes_a_macro_sees_its_dry_run_and_runs_it_from_a_ticket() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "root@example.test", "Rita Admin", Role::Admin).await;
    let kim = "Kim <kim@customer.example>";
    let n = app.ingest(&mail(kim, "Refund for order 7", "r1@customer.example", "Money back?")).await.ticket.unwrap();
    let Some(br) = Browser::start(&app).await else { return };
    br.goto("/admin/rules").await;
    br.login("root@example.test", PASSWORD).await;
    assert_eq!(br.path().await, "/admin/rules");
    br.click_and_wait("a[href='/rules/new']").await;

    br.find("#f-name").await.send_keys("Refunds are urgent").await.unwrap();
    br.find("#f-trigger option[value=manual]").await.click().await.unwrap();
    br.find("select[name=c0_field] option[value='ticket.subject']").await.click().await.unwrap();
    br.find("select[name=c0_op] option[value=contains]").await.click().await.unwrap();
    br.find("input[name=c0_value]").await.send_keys("refund").await.unwrap();
    br.find("select[name=a0_type] option[value=set_priority]").await.click().await.unwrap();
    br.find("textarea[name=a0_text]").await.send_keys("asap").await.unwrap();
    br.click_and_wait("#rule-form button[type=submit]").await;
    assert!(br.text("#action-0-error").await.contains("Action 1:"), "the bad value is refused beside its row");
    br.screenshot("rule-form-error").await;
    let text = br.find("textarea[name=a0_text]").await;
    text.clear().await.unwrap();
    text.send_keys("urgent").await.unwrap();
    br.click_and_wait("#rule-form button[type=submit]").await;
    assert!(
        br.flashes().await.iter().any(|f| f.contains("Rule “Refunds are urgent” saved.")),
        "{:?}",
        br.flashes().await
    );

    br.click_and_wait("#dry-run button[type=submit]").await;
    assert_eq!(br.texts(".preview-tickets a").await, vec![format!("#{n}")]);
    assert!(br.text(".preview").await.contains("priority → urgent"));
    br.screenshot("rule-dry-run").await;
    assert_eq!(app.ticket(n).await["priority"], "normal", "the dry run changed nothing");

    br.goto(&format!("/tickets/{n}")).await;
    br.click_and_wait("#macros button.macro").await;
    assert_eq!(br.path().await, format!("/tickets/{n}"));
    assert!(br.flashes().await.iter().any(|f| f.contains("Macro “Refunds are urgent” ran.")));
    assert_eq!(br.find("#priority option[selected]").await.text().await.unwrap(), "urgent");
    let history = br.texts(".history li").await.join("\n");
    assert!(history.contains("Rule “Refunds are urgent”: priority"), "{history}");
    br.screenshot("ticket-macro-ran").await;
    br.close().await;
}
