//! The portal's admin page and headers, on both stores: switch, title, colour and logo (bad values answered
//! beside the field), the strict CSP on portal pages, the Secure cookie under HTTPS.

use crate::helpers::{Store, mail, spawn_app, spawn_app_with};
use crate::portal::portal_customer;
use crate::store_tests;
use crate::web_client::{Browser, signed_in_staff};
use deskmail::domain::Role;
use reqwest::multipart::{Form, Part};

store_tests!(
    an_admin_sets_title_colour_and_logo_and_bad_values_are_refused_beside_the_field,
    portal_pages_carry_the_strict_csp_and_the_cookie_is_secure_under_https,
);

fn png() -> Part {
    // The 8-byte PNG signature is enough: the logo is served as stored, never decoded.
    Part::bytes(b"\x89PNG\r\n\x1a\nfake".to_vec()).file_name("logo.png").mime_str("image/png").unwrap()
}

async fn an_admin_sets_title_colour_and_logo_and_bad_values_are_refused_beside_the_field(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let admin = signed_in_staff(&app, "boss@example.test", Role::Admin).await;
    let agent = signed_in_staff(&app, "agent@example.test", Role::Agent).await;
    assert_eq!(agent.get("/admin/portal").await.status, 403, "admins only");
    let page = admin.get("/admin/portal").await;
    assert!(page.status == 200 && page.body.contains("name=\"enabled\" checked"), "on by default");
    let bad = Form::new().text("enabled", "on").text("color", "red;}body{x").text("title", "Lamps");
    let p = admin.post_multipart("/admin/portal", bad).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"field-error\"") && p.body.contains("A colour like"), "{}", p.body);
    let svg = Part::bytes(b"<svg onload=alert(1)>".to_vec()).file_name("x.svg").mime_str("image/svg+xml").unwrap();
    let p = admin.post_multipart("/admin/portal", Form::new().text("enabled", "on").part("logo", svg)).await;
    assert_eq!(p.status, 422, "no SVG logos");
    let good =
        Form::new().text("enabled", "on").text("color", "#aa3300").text("title", "Lamps & Co.").part("logo", png());
    assert_eq!(admin.post_multipart("/admin/portal", good).await.status, 303);
    let anyone = Browser::new(&app);
    assert!(anyone.get("/portal/theme.css").await.body.contains("--brand: #aa3300"));
    let logo = anyone.get("/portal/logo").await;
    assert_eq!((logo.status, logo.header("content-type")), (200, "image/png"));
    let signin = anyone.get("/portal").await.body;
    assert!(signin.contains("Lamps &amp; Co.") && signin.contains("src=\"/portal/logo\""), "{signin}");
    let off = Form::new().text("title", "Lamps");
    assert_eq!(admin.post_multipart("/admin/portal", off).await.status, 303);
    assert_eq!(anyone.get("/portal").await.status, 404, "switched off");
}

async fn portal_pages_carry_the_strict_csp_and_the_cookie_is_secure_under_https(store: Store) {
    let Some(app) = spawn_app(store).await else { return };
    let n = app.ingest(&mail("Kim <kim@customer.example>", "CSP", "c1@customer.example", "Hi")).await.ticket.unwrap();
    let kim = portal_customer(&app, "kim@customer.example").await;
    for path in ["/portal".to_string(), "/portal/tickets".to_string(), format!("/portal/tickets/{n}")] {
        let p = kim.get(&path).await;
        assert!(p.header("content-security-policy").contains("script-src 'self'"), "{path}");
        assert_eq!(p.header("x-frame-options"), "DENY", "{path}");
        assert!(!p.body.contains("<script"), "{path}: the portal needs no JavaScript");
    }
    drop(app);
    let Some(https) = spawn_app_with(store, |s| s.server.public_url = "https://help.example.test".into()).await else {
        return;
    };
    let token = "S".repeat(43);
    let now = deskmail::domain::now();
    let hash = deskmail::platform::password::token_hash(&token);
    https.services.db.portal_token_create("kim@customer.example", &hash, now, now + 1800).await.unwrap();
    let p = Browser::new(&https).get(&format!("/portal/login/{token}")).await;
    assert_eq!(p.status, 303);
    assert!(p.header("set-cookie").contains("Secure"), "{}", p.header("set-cookie"));
}
