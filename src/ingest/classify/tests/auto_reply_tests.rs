//! Automatic replies that are not bounces: RFC 3834, vendor headers, subjects, receipts.

use super::{classify_raw, plain_mail};

#[test]
fn vacation_reply_with_auto_submitted_is_an_auto_reply() {
    let raw = plain_mail("Auto-Submitted: auto-replied\n", "Re: [#12] Your request", "I am on vacation until Monday.");
    let classification = classify_raw(&raw);
    assert!(classification.auto_reply);
    assert_eq!(classification.bounce, None);
}

#[test]
fn auto_submitted_no_is_not_automatic() {
    let raw = plain_mail("Auto-Submitted: no\n", "Printer broken", "It shows error E42.");
    assert!(!classify_raw(&raw).is_automatic());
}

#[test]
fn outlook_automatic_reply_subject_alone_is_an_auto_reply() {
    let raw = plain_mail("", "Automatic reply: [#12] Your request", "I am out of the office until 14 March.");
    assert!(classify_raw(&raw).auto_reply);
}

#[test]
fn german_abwesenheitsnotiz_is_an_auto_reply() {
    let raw = plain_mail("", "Abwesenheitsnotiz: Ihre Anfrage", "Ich bin bis zum 14. März nicht im Haus.");
    assert!(classify_raw(&raw).auto_reply);
}

#[test]
fn out_of_office_subjects_in_other_languages_are_auto_replies() {
    let subjects = [
        "Réponse automatique : Votre demande",
        "Respuesta automática: Su consulta",
        "Fuori sede: richiesta",
        "Afwezig: uw vraag",
        "Автоответ: ваш запрос",
        "自動応答: お問い合わせ",
        "Auto: Lotus Notes user is out of the office",
        "Out of Office: question",
        "Re: your question (Automatic Response)",
        "[Auto-Reply] Re: your question",
        "Automatische Antwort: Ihre Anfrage",
    ];
    for subject in subjects {
        assert!(classify_raw(&plain_mail("", subject, "away")).auto_reply, "{subject}");
    }
}

#[test]
fn ordinary_subjects_are_not_auto_replies() {
    for subject in ["Question about my office chair", "Absenteeism report is wrong", "Re: replying to your answer"] {
        assert!(!classify_raw(&plain_mail("", subject, "Hello")).is_automatic(), "{subject}");
    }
}

#[test]
fn vendor_auto_reply_headers_and_bulk_precedence_are_auto_replies() {
    for header in [
        "X-Autoreply: yes\n",
        "X-Autorespond: vacation\n",
        "Precedence: bulk\n",
        "Precedence: junk\n",
        "Precedence: auto_reply\n",
    ] {
        assert!(classify_raw(&plain_mail(header, "Re: hello", "text")).auto_reply, "{header}");
    }
}

#[test]
fn bulk_precedence_on_list_mail_is_the_list_marker_not_an_auto_reply() {
    let classification =
        classify_raw(&plain_mail("Precedence: bulk\nList-Id: <kernel.vger.example>\n", "[PATCH] fix", "diff"));
    assert!(classification.mailing_list);
    assert!(!classification.auto_reply);
}

#[test]
fn auto_response_suppress_counts_only_when_it_suppresses_auto_replies() {
    assert!(classify_raw(&plain_mail("X-Auto-Response-Suppress: All\n", "Re: hi", "text")).auto_reply);
    assert!(classify_raw(&plain_mail("X-Auto-Response-Suppress: OOF, AutoReply\n", "Re: hi", "text")).auto_reply);
    assert!(!classify_raw(&plain_mail("X-Auto-Response-Suppress: None\n", "Re: hi", "text")).auto_reply);
    assert!(!classify_raw(&plain_mail("X-Auto-Response-Suppress: DR, RN\n", "Re: hi", "text")).auto_reply);
}

#[test]
fn boxbe_challenge_is_an_auto_reply() {
    let raw = "From: noreply@boxbe.com\nTo: support@deskmail.example\nSubject: Re: [#7] Answer\n\n\
               Please confirm you are a real person to get onto my Guest List.\n";
    assert!(classify_raw(raw).auto_reply);
}

#[test]
fn read_receipt_is_automatic_but_not_a_bounce() {
    let raw = "From: Anna <anna@kunde.example>
To: support@deskmail.example
Subject: Read: [#12] Your request
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary=\"M\"

--M
Content-Type: text/plain

Your message was displayed. It could not be delivered faster.

--M
Content-Type: message/disposition-notification

Final-Recipient: rfc822; anna@kunde.example
Disposition: manual-action/MDN-sent-manually; displayed

--M--
";
    let classification = classify_raw(raw);
    assert_eq!(classification.bounce, None);
    assert!(classification.auto_reply);
}
