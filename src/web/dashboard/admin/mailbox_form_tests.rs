//! Unit tests of the mailbox form: checking fields, and when a stored password is kept.

use super::*;
use crate::platform::config::MailboxAuth;

fn filled() -> MailboxForm {
    MailboxForm {
        name: "sales".into(),
        address: "Sales@Example.com".into(),
        imap_on: Some("1".into()),
        imap_host: "imap.example.com".into(),
        imap_username: "sales".into(),
        imap_password: "pw".into(),
        ..MailboxForm::new_mailbox()
    }
}

#[test]
fn a_complete_form_becomes_settings() {
    let s = filled().check(None).unwrap();
    assert_eq!(s.address, "sales@example.com");
    let imap = s.imap.unwrap();
    assert_eq!((imap.port, imap.tls, imap.folder.as_str()), (993, TlsMode::Implicit, "INBOX"));
    assert_eq!(imap.password.password.as_deref(), Some("pw"));
    assert!(s.smtp.is_none());
}

#[test]
fn each_bad_field_gets_its_own_error() {
    let f = MailboxForm {
        name: "no spaces".into(),
        imap_port: "99999".into(),
        imap_after_import: "archive".into(),
        ..filled()
    };
    let errors = f.check(None).unwrap_err();
    assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["imap_after_import", "imap_port", "name"]);
}

#[test]
fn an_empty_password_keeps_the_stored_one() {
    let stored = filled().check(None).unwrap();
    let edit = MailboxForm { imap_password: String::new(), ..MailboxForm::from_settings(&stored) };
    let again = edit.check(Some(&stored)).unwrap();
    assert_eq!(again.imap.unwrap().password.password.as_deref(), Some("pw"));
    assert!(MailboxForm { imap_password: String::new(), ..filled() }.check(None).is_err());
}

/// A stored mailbox with both servers, and its form as the edit page fills it (passwords empty).
fn stored_with_smtp() -> (MailboxSettings, MailboxForm) {
    let f = MailboxForm {
        smtp_on: Some("1".into()),
        smtp_host: "smtp.example.com".into(),
        smtp_username: "sales".into(),
        smtp_password: "smtp-pw".into(),
        ..filled()
    };
    let stored = f.check(None).unwrap();
    let edit = MailboxForm::from_settings(&stored);
    (stored, edit)
}

#[test]
fn a_stored_password_is_kept_only_for_the_same_server_and_account() {
    let (stored, edit) = stored_with_smtp();
    let same = MailboxForm { imap_host: " IMAP.example.com ".into(), display_name: "Renamed".into(), ..edit.clone() };
    let kept = same.check(Some(&stored)).unwrap();
    assert_eq!(kept.smtp.unwrap().password.password.as_deref(), Some("smtp-pw"));
    let moved = [
        MailboxForm { imap_host: "imap.evil.example".into(), ..edit.clone() },
        MailboxForm { imap_port: "143".into(), ..edit.clone() },
        MailboxForm { imap_tls: "none".into(), ..edit.clone() },
        MailboxForm { imap_username: "someone-else".into(), ..edit.clone() },
    ];
    for form in moved {
        let errors = form.check(Some(&stored)).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["imap_password"], "{form:?}");
        assert!(errors["imap_password"].contains("again"), "{errors:?}");
    }
    let moved = [
        MailboxForm { smtp_host: "smtp.evil.example".into(), ..edit.clone() },
        MailboxForm { smtp_port: "25".into(), ..edit.clone() },
        MailboxForm { smtp_tls: "none".into(), ..edit.clone() },
        MailboxForm { smtp_username: "other".into(), ..edit.clone() },
    ];
    for form in moved {
        let errors = form.check(Some(&stored)).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["smtp_password"], "{form:?}");
    }
}

#[test]
fn a_moved_server_takes_a_typed_password() {
    let (stored, edit) = stored_with_smtp();
    let form = MailboxForm { imap_host: "imap2.example.com".into(), imap_password: "new-pw".into(), ..edit };
    let imap = form.check(Some(&stored)).unwrap().imap.unwrap();
    assert_eq!((imap.host.as_str(), imap.password.password.as_deref()), ("imap2.example.com", Some("new-pw")));
}

#[test]
fn a_connected_mailbox_keeps_its_grant_until_its_server_moves() {
    let (mut stored, edit) = stored_with_smtp();
    let grant = crate::platform::config::OAuthSettings {
        provider: Some(crate::platform::config::Provider::Google),
        ..Default::default()
    };
    let imap = stored.imap.as_mut().unwrap();
    (imap.auth, imap.oauth, imap.password) = (MailboxAuth::Xoauth2, Some(grant), Default::default());
    let smtp = stored.smtp.as_mut().unwrap();
    (smtp.auth, smtp.password) = (MailboxAuth::Xoauth2, Default::default());
    let kept = MailboxForm { display_name: "Renamed".into(), ..edit.clone() }.check(Some(&stored)).unwrap();
    assert_eq!(kept.imap.as_ref().unwrap().auth, MailboxAuth::Xoauth2);
    assert_eq!(kept.oauth(), stored.oauth());
    assert_eq!(kept.smtp.unwrap().auth, MailboxAuth::Xoauth2);
    let moved = MailboxForm { imap_host: "imap.evil.example".into(), ..edit.clone() }.check(Some(&stored));
    assert_eq!(moved.unwrap_err().keys().copied().collect::<Vec<_>>(), ["imap_password"]);
    let typed = MailboxForm { imap_password: "pw".into(), smtp_password: "pw".into(), ..edit }.check(Some(&stored));
    let typed = typed.unwrap();
    assert!(typed.oauth().is_none() && typed.imap.unwrap().auth == MailboxAuth::Password);
}
