use std::path::Path;

use serde_json::json;

use super::*;

const CUSTOMER_KINDS: [&str; 4] = ["ack", "agent_reply", "resolved", "rule_reply"];
const AGENT_KINDS: [&str; 5] =
    ["notify_new_ticket", "notify_customer_replied", "notify_assigned", "agent_command_result", "rule_notice"];
const USER_KINDS: [&str; 2] = ["user_invite", "password_reset"];

/// The kinds about a ticket (all but the account mails).
fn ticket_kinds() -> impl Iterator<Item = &'static str> {
    CUSTOMER_KINDS.into_iter().chain(AGENT_KINDS)
}

fn builtins() -> Templates {
    Templates::load(None, &[]).unwrap_or_else(|e| panic!("built-in templates fail: {e}"))
}

fn write(dir: &Path, name: &str, source: &str) {
    std::fs::write(dir.join(name), source).unwrap();
}

#[test]
fn every_kind_renders_with_its_sample_context() {
    let templates = builtins();
    assert_eq!(
        KINDS.len(),
        CUSTOMER_KINDS.len() + AGENT_KINDS.len() + USER_KINDS.len() + 2,
        "+ portal_login, mailbox_alert"
    );
    for kind in ticket_kinds() {
        let mail = templates.render(kind, &sample_context(kind)).unwrap();
        assert!(!mail.subject.is_empty() && !mail.subject.contains(['\n', '\r']), "{kind}: {:?}", mail.subject);
        assert!(mail.subject.contains("[#1042]"), "{kind}: {:?}", mail.subject);
        assert!(mail.text.contains("#1042") && mail.html.contains("#1042"), "{kind} lacks the ticket number");
        assert!(mail.text.contains("Order 100023") || mail.text.contains("Order:    100023"), "{kind}: no order");
        assert!(!mail.text.contains("{{") && !mail.html.contains("{%"), "{kind}: template syntax leaked");
    }
}

#[test]
fn every_template_has_a_built_in_default_that_is_the_source_when_nothing_overrides() {
    let templates = builtins();
    assert_eq!(names().count(), 40, "three per kind, and base.html");
    for name in names() {
        let default = Templates::default_source(&name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(templates.source(&name).as_deref(), Some(default.as_str()));
        assert_eq!(templates.origin(&name), Some(&Origin::Builtin));
    }
    assert_eq!(Templates::default_source("ack"), None);
    assert_eq!(templates.source("ack.md"), None);
}

#[test]
fn non_ascii_survives_in_every_part() {
    let mut ctx = sample_context("agent_reply");
    ctx["ticket"]["subject"] = json!("Lámpara rota 日本語 🎉");
    ctx["message"]["body"] = json!("Ça marche — 日本語のテキスト 👍");
    let mail = builtins().render("agent_reply", &ctx).unwrap();
    assert_eq!(mail.subject, "Re: [#1042] Lámpara rota 日本語 🎉");
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("Ça marche — 日本語のテキスト 👍"), "{part}");
        assert!(part.contains("Ana García"), "{part}");
    }
}

#[test]
fn markup_from_the_context_is_escaped_in_html_and_verbatim_in_text() {
    let body = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let templates = builtins();
    for kind in ticket_kinds() {
        let mut ctx = sample_context(kind);
        ctx["message"]["body"] = json!(body);
        ctx["customer"]["name"] = json!("<b>José</b>");
        ctx["ticket"]["subject"] = json!("</title><script>x()</script>");
        let mail = templates.render(kind, &ctx).unwrap();
        for tag in ["<script", "<img", "<b>", "</title><"] {
            assert!(!mail.html.contains(tag), "{kind}: {tag} unescaped in\n{}", mail.html);
        }
        assert!(mail.subject.contains("</title><script>x()</script>"), "{kind}: {}", mail.subject);
        if kind.ends_with("_reply") || kind.starts_with("notify_") {
            assert!(mail.text.contains(body), "{kind}: body not verbatim in\n{}", mail.text);
            assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;"), "{kind}: body missing in\n{}", mail.html);
        }
        if !kind.ends_with("_reply") {
            assert!(mail.text.contains("<b>José</b>"), "{kind}: name not verbatim in\n{}", mail.text);
            assert!(mail.html.contains("&lt;b&gt;José&lt;"), "{kind}: name missing in\n{}", mail.html);
        }
    }
}

#[test]
fn missing_optional_variables_render_without_traces() {
    let templates = builtins();
    for kind in ticket_kinds() {
        let mut ctx = sample_context(kind);
        let obj = ctx.as_object_mut().unwrap();
        obj.remove("agent");
        obj.remove("portal_url");
        ctx["links"] = json!({ "orders": [], "order_lines": [], "products": [] });
        ctx["customer"]["name"] = json!("");
        let mail = templates.render(kind, &ctx).unwrap_or_else(|e| panic!("{kind}: {e}"));
        for part in [&mail.text, &mail.html] {
            for trace in ["undefined", "none", "None", "Order", "()", "online", "assigned ticket"] {
                assert!(!part.contains(trace), "{kind}: {trace:?} in\n{part}");
            }
        }
        if kind == "ack" {
            assert!(mail.text.starts_with("Hello,\n"), "{}", mail.text);
        }
    }
    let mut ctx = sample_context("notify_assigned");
    ctx.as_object_mut().unwrap().remove("agent");
    let mail = templates.render("notify_assigned", &ctx).unwrap();
    assert!(mail.text.starts_with("Ticket #1042 was assigned to you."), "{}", mail.text);
    let bare = json!({ "ticket": { "number": 7 } });
    for kind in ticket_kinds() {
        let mail = templates.render(kind, &bare).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(mail.subject.contains("[#7]") && mail.text.contains("#7"), "{kind}: {mail:?}");
    }
}

#[test]
fn an_agent_reply_that_opens_the_ticket_has_no_re_prefix() {
    let templates = builtins();
    let mut ctx = sample_context("agent_reply");
    assert_eq!(templates.render("agent_reply", &ctx).unwrap().subject, "Re: [#1042] Lamp arrived broken");
    ctx["message"]["first"] = json!(true);
    assert_eq!(templates.render("agent_reply", &ctx).unwrap().subject, "[#1042] Lamp arrived broken");
}

#[test]
fn account_mails_carry_the_link_and_its_lifetime_with_markup_escaped() {
    let templates = builtins();
    for kind in USER_KINDS {
        let mut ctx = sample_context(kind);
        let mail = templates.render(kind, &ctx).unwrap();
        let link = ctx["link"].as_str().unwrap().to_owned();
        // minijinja escapes `/` in HTML, which browsers read back in an href.
        let escaped = link.replace('/', "&#x2f;");
        assert!(mail.text.contains(&link) && mail.html.contains(&escaped), "{kind}: no link\n{}", mail.text);
        let hours = ctx["expires_hours"].to_string();
        assert!(mail.text.contains(&format!("expires in {hours} hour")), "{kind}:\n{}", mail.text);
        assert!(mail.text.starts_with("Hello Bruno Keller,") && !mail.subject.is_empty(), "{kind}: {mail:?}");
        ctx["user"]["name"] = json!("<b>Bruno</b>");
        let mail = templates.render(kind, &ctx).unwrap();
        assert!(mail.text.contains("<b>Bruno</b>") && mail.html.contains("&lt;b&gt;Bruno"), "{kind}:\n{}", mail.html);
        let bare = templates.render(kind, &json!({ "link": "https://x.example/l" })).unwrap();
        assert!(bare.text.starts_with("Hello,\n") && !bare.text.contains("undefined"), "{kind}:\n{}", bare.text);
    }
}

#[test]
fn the_portal_sign_in_mail_carries_its_link_and_lifetime_and_escapes_the_name() {
    let templates = builtins();
    let mut ctx = sample_context("portal_login");
    let mail = templates.render("portal_login", &ctx).unwrap();
    let link = ctx["link"].as_str().unwrap().to_owned();
    assert!(mail.text.contains(&link) && mail.html.contains(&link.replace('/', "&#x2f;")), "{}", mail.text);
    assert!(mail.text.starts_with("Hello Kim Weber,") && mail.text.contains("expires in 30 minutes"), "{}", mail.text);
    assert!(mail.subject.contains("Lamps & Co. Support"), "{}", mail.subject);
    ctx["user"]["name"] = json!("<b>Kim</b>");
    let mail = templates.render("portal_login", &ctx).unwrap();
    assert!(mail.html.contains("&lt;b&gt;Kim") && !mail.html.contains("<b>Kim"), "{}", mail.html);
    let bare = templates.render("portal_login", &json!({ "link": "https://x.example/l" })).unwrap();
    assert!(bare.text.starts_with("Hello,\n") && !bare.text.contains("undefined"), "{}", bare.text);
}

#[test]
fn customer_mails_show_no_dashboard_or_shop_admin_links() {
    let templates = builtins();
    for kind in CUSTOMER_KINDS {
        let mail = templates.render(kind, &sample_context(kind)).unwrap();
        for part in [&mail.text, &mail.html] {
            assert!(!part.contains("desk.lamps.example") && !part.contains("/admin/"), "{kind}:\n{part}");
        }
    }
}

#[test]
fn agent_mails_have_no_line_that_reads_as_a_command_when_quoted_without_prefix() {
    let templates = builtins();
    for kind in AGENT_KINDS {
        let mail = templates.render(kind, &sample_context(kind)).unwrap();
        assert!(mail.text.contains("https://desk.lamps.example/tickets/1042"), "{kind}: no ticket link");
        let command = mail.text.lines().find(|line| line.trim_start().starts_with('#'));
        assert_eq!(command, None, "{kind}:\n{}", mail.text);
    }
}

#[test]
fn the_subject_is_trimmed_onto_one_line() {
    let over = [("ack.subject.txt".to_owned(), "  [#{{ ticket.number }}]\r\n{{ ticket.subject }}\n\n".to_owned())];
    let mail = Templates::load(None, &over).unwrap().render("ack", &sample_context("ack")).unwrap();
    assert_eq!(mail.subject, "[#1042] Lamp arrived broken");
}

#[test]
fn a_file_in_the_directory_overrides_the_built_in() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ack.subject.txt", "Custom {{ ticket.number }}");
    write(dir.path(), "README.md", "not a template");
    let templates = Templates::load(Some(dir.path()), &[]).unwrap();
    assert_eq!(templates.render("ack", &sample_context("ack")).unwrap().subject, "Custom 1042");
    assert_eq!(templates.origin("ack.subject.txt"), Some(&Origin::File(dir.path().join("ack.subject.txt"))));
    assert_eq!(templates.source("ack.txt"), Templates::default_source("ack.txt"));
}

#[test]
fn a_broken_file_stops_loading_with_its_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ack.html", "<p>one</p>\n<p>two</p>\n{% if %}\n");
    let err = Templates::load(Some(dir.path()), &[]).expect_err("broken override loaded");
    let path = dir.path().join("ack.html");
    assert!(
        matches!(&err, TemplateError::Template { name, origin: Origin::File(p), line: Some(3), .. }
        if name == "ack.html" && *p == path),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("template ack.html (from {}), line 3: syntax error", path.display())),
        "{shown}"
    );
}

#[test]
fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Templates::load(Some(&dir.path().join("nope")), &[]).expect_err("loaded");
    assert!(matches!(err, TemplateError::Io { .. }), "{err:?}");
}

#[test]
fn a_database_override_beats_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "resolved.subject.txt", "From dir");
    let db = [("resolved.subject.txt".to_owned(), "From db #{{ ticket.number }}".to_owned())];
    let templates = Templates::load(Some(dir.path()), &db).unwrap();
    assert_eq!(templates.render("resolved", &sample_context("resolved")).unwrap().subject, "From db #1042");
    assert_eq!(templates.origin("resolved.subject.txt"), Some(&Origin::Database));
    assert_eq!(templates.source("resolved.subject.txt").as_deref(), Some("From db #{{ ticket.number }}"));
}

#[test]
fn an_unknown_filter_fails_at_load_not_at_send() {
    let db = [("ack.txt".to_owned(), "Hi\n{{ customer.name | shout }}".to_owned())];
    let shown = Templates::load(None, &db).expect_err("loaded").to_string();
    assert!(shown.starts_with("template ack.txt (from the database), line 2: unknown filter"), "{shown}");
    assert!(shown.contains("shout"), "{shown}");
}

#[test]
fn a_render_error_names_the_template_and_line() {
    let db = [("ack.txt".to_owned(), "Hi\n{% if command.errors %}{{ 1 | shout }}{% endif %}".to_owned())];
    let templates = Templates::load(None, &db).unwrap();
    let mut ctx = sample_context("ack");
    ctx["command"] = json!({ "errors": ["x"] });
    let err = templates.render("ack", &ctx).expect_err("rendered");
    assert!(matches!(&err, TemplateError::Template { name, line: Some(2), .. } if name == "ack.txt"), "{err:?}");
    assert!(matches!(templates.render("welcome", &ctx), Err(TemplateError::Unknown(_))));
}

#[test]
fn check_refuses_broken_sources_and_accepts_good_ones() {
    assert!(Templates::check("ack.txt", "Hello {{ customer.name }}, #{{ ticket.number }}").is_ok());
    assert!(Templates::check("ack.html", &Templates::default_source("ack.html").unwrap()).is_ok());
    let err = Templates::check("ack.html", "<p>\n{% if %}").expect_err("syntax error accepted");
    assert!(matches!(&err, TemplateError::Template { line: Some(2), .. }), "{err:?}");
    assert!(err.to_string().starts_with("template ack.html, line 2: syntax error"), "{err}");
    let err = Templates::check("notify_assigned.txt", "{{ agent.name | nosuchfilter }}").expect_err("accepted");
    assert!(err.to_string().contains("unknown filter"), "{err}");
    assert!(matches!(Templates::check("ack", "x"), Err(TemplateError::Unknown(_))));
}

#[test]
fn an_endless_override_is_refused_instead_of_hanging() {
    let endless = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}";
    let shown = Templates::check("ack.txt", endless).expect_err("an endless template").to_string();
    assert!(shown.contains("fuel"), "{shown}");
}
