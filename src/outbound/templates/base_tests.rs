//! The shared layout `base.html`: each kind's HTML is it with the blocks filled in; overridden from a file or the
//! database; checked with every kind; a kind's HTML that does not extend it still works.

use serde_json::json;

use super::*;

/// The text between `open` and the next `{% endblock %}`.
fn block<'a>(source: &'a str, open: &str) -> &'a str {
    let start = source.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let len = source[start..].find("{% endblock %}").expect("an endblock");
    &source[start..start + len]
}

/// A kind rendered by the built-in templates with its sample context.
fn builtin_render(kind: &str) -> Rendered {
    Templates::load(None, &[]).unwrap().render(kind, &sample_context(kind)).unwrap()
}

#[test]
fn each_kinds_html_renders_as_the_base_with_its_blocks_pasted_in() {
    let templates = Templates::load(None, &[]).unwrap();
    let base = Templates::default_source(BASE).unwrap();
    for kind in KINDS {
        let source = Templates::default_source(&format!("{kind}.html")).unwrap();
        assert!(source.starts_with("{% extends \"base.html\" %}\n"), "{kind}.html does not extend base.html");
        // Pasted together (trim_blocks eats the newline after `{% block body %}` and after the base's
        // `{% endblock %}`), base and blocks give back byte for byte the page each kind was before base.html.
        let flat = base
            .replace("{% block title %}{% endblock %}", block(&source, "{% block title %}"))
            .replace("{% block body %}{% endblock %}\n", block(&source, "{% block body %}\n"));
        let over = [(format!("{kind}.html"), flat)];
        let one_page = Templates::load(None, &over).unwrap();
        for ctx in [sample_context(kind), json!({ "ticket": { "number": 7 } }), json!({})] {
            let (through_base, flat) = (templates.render(kind, &ctx).unwrap(), one_page.render(kind, &ctx).unwrap());
            assert_eq!(through_base.html, flat.html, "{kind} with {ctx}");
        }
    }
}

#[test]
fn an_override_of_base_changes_the_html_of_every_kind_and_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(BASE), "<main title=\"{{ ticket.subject }}\">{% block body %}{% endblock %}</main>")
        .unwrap();
    let templates = Templates::load(Some(dir.path()), &[]).unwrap();
    assert_eq!(templates.origin(BASE), Some(&Origin::File(dir.path().join(BASE))));
    for kind in KINDS {
        let mail = templates.render(kind, &sample_context(kind)).unwrap();
        assert!(mail.html.starts_with("<main") && mail.html.ends_with("</main>"), "{kind}:\n{}", mail.html);
        assert!(!mail.html.contains("<!DOCTYPE"), "{kind}:\n{}", mail.html);
        assert_eq!(mail.text, builtin_render(kind).text, "{kind}: the text part changed");
    }
    let mut ctx = sample_context("ack");
    ctx["ticket"]["subject"] = json!("\"><script>x()</script>");
    let html = templates.render("ack", &ctx).unwrap().html;
    assert!(html.starts_with("<main title=\"&quot;&gt;&lt;script&gt;"), "{html}");

    let db = [(BASE.to_owned(), "<div>{% block body %}{% endblock %}</div>".to_owned())];
    let templates = Templates::load(Some(dir.path()), &db).unwrap();
    assert_eq!(templates.origin(BASE), Some(&Origin::Database));
    assert!(templates.render("resolved", &sample_context("resolved")).unwrap().html.starts_with("<div><p>Hello"));
}

#[test]
fn a_kinds_html_that_does_not_extend_base_is_rendered_as_it_is() {
    let db = [
        ("ack.html".to_owned(), "<p>Case #{{ ticket.number }} for {{ customer.name }}</p>".to_owned()),
        (BASE.to_owned(), "<div>{% block body %}{% endblock %}</div>".to_owned()),
    ];
    let templates = Templates::load(None, &db).unwrap();
    assert_eq!(templates.render("ack", &sample_context("ack")).unwrap().html, "<p>Case #1042 for José Pérez</p>");
    assert!(templates.render("resolved", &sample_context("resolved")).unwrap().html.starts_with("<div>"));
    assert!(Templates::check("ack.html", "<p>#{{ ticket.number }}</p>").is_ok());
}

#[test]
fn a_broken_base_is_refused_with_its_name_and_line() {
    assert!(Templates::check(BASE, &Templates::default_source(BASE).unwrap()).is_ok());
    let err = Templates::check(BASE, "<html>\n{% block body %}\n").expect_err("an unclosed block accepted");
    assert!(matches!(&err, TemplateError::Template { name, line: Some(_), .. } if name == BASE), "{err:?}");
    // Only a render shows an unknown filter: every kind's HTML is rendered through the draft.
    let err =
        Templates::check(BASE, "{{ ticket.number | shout }}{% block body %}{% endblock %}").expect_err("accepted");
    assert!(err.to_string().starts_with("template base.html, line 1: unknown filter"), "{err}");
    let db = [(BASE.to_owned(), "{% block body %}{% endblock %}\n{{ 1 | shout }}".to_owned())];
    let shown = Templates::load(None, &db).expect_err("loaded").to_string();
    assert!(shown.starts_with("template base.html (from the database), line 2: unknown filter"), "{shown}");
    assert!(matches!(Templates::check("base.txt", "x"), Err(TemplateError::Unknown(_))));
}
