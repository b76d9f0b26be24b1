//! Mailing-list and spam flags.

use super::{classify_raw, plain_mail};

#[test]
fn list_id_marks_mailing_list_mail() {
    let classification = classify_raw(&plain_mail("List-Id: Users <users.lists.example>\n", "[users] hi", "text"));
    assert!(classification.mailing_list);
    assert!(!classification.is_automatic());
}

#[test]
fn precedence_list_and_list_unsubscribe_mark_mailing_list_mail() {
    assert!(classify_raw(&plain_mail("Precedence: list\n", "hi", "text")).mailing_list);
    assert!(classify_raw(&plain_mail("List-Unsubscribe: <mailto:leave@news.example>\n", "News", "text")).mailing_list);
}

#[test]
fn person_to_person_mail_is_not_list_mail() {
    assert!(!classify_raw(&plain_mail("", "hi", "text")).mailing_list);
}

#[test]
fn spam_flag_yes_marks_spam_in_any_case() {
    assert!(classify_raw(&plain_mail("X-Spam-Flag: YES\n", "Win", "text")).spam);
    assert!(classify_raw(&plain_mail("X-Spam-Flag: yes\n", "Win", "text")).spam);
}

#[test]
fn spam_status_yes_marks_spam_and_no_does_not() {
    assert!(classify_raw(&plain_mail("X-Spam-Status: Yes, score=9.1 required=5.0\n", "Win", "text")).spam);
    assert!(!classify_raw(&plain_mail("X-Spam-Status: No, score=0.1 required=5.0\n", "Hi", "text")).spam);
    assert!(!classify_raw(&plain_mail("X-Spam-Flag: NO\n", "Hi", "text")).spam);
}
