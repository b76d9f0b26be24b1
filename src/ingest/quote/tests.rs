//! Unit tests for the reply quote stripper, on short fixtures written for this module.

use super::{ReplySplit, split_reply, visible_text};

/// Asserts the visible part and that the removed part contains `removed_marker`.
fn assert_split(input: &str, visible: &str, removed_marker: &str) {
    let split = split_reply(input);
    assert_eq!(split.visible, visible, "visible part of:\n{input}");
    let quoted = split.quoted.unwrap_or_else(|| panic!("nothing removed from:\n{input}"));
    assert!(quoted.contains(removed_marker), "removed part {quoted:?} lacks {removed_marker:?}");
}

/// Asserts that nothing at all is removed.
fn assert_untouched(input: &str) {
    assert_eq!(split_reply(input), ReplySplit { visible: input.trim().to_owned(), quoted: None });
}

#[test]
fn empty_and_blank_input_give_empty_output() {
    assert_eq!(split_reply(""), ReplySplit { visible: String::new(), quoted: None });
    assert_eq!(split_reply(" \r\n\t\n"), ReplySplit { visible: String::new(), quoted: None });
}

#[test]
fn text_without_quote_is_kept_whole() {
    assert_untouched("Hello,\n\nmy printer shows error E-42 since Monday.\nCan you help?\n\nThanks,\nAnna");
}

#[test]
fn gmail_attribution_and_quote_are_removed() {
    let input = "Thanks, that fixed it!\n\nOn Mon, Mar 4, 2024 at 10:15 AM Support Team <support@deskmail.example> wrote:\n\n> Hello Anna,\n>\n> Please restart the router.\n";
    assert_split(input, "Thanks, that fixed it!", "Please restart the router.");
}

#[test]
fn gmail_attribution_wrapped_over_two_lines() {
    let input = "Works now.\n\nOn Mon, Mar 4, 2024 at 10:15 AM Very Long Support Team Name <\nsupport@deskmail.example> wrote:\n\n> Did you try turning it off and on again?\n";
    assert_split(input, "Works now.", "support@deskmail.example> wrote:");
}

#[test]
fn french_attribution_wrapped_over_three_lines() {
    let input = "Merci beaucoup !\nLe lun. 4 mars 2024 à 10:15, Équipe Support\n<support@deskmail.example>\na écrit :\n\n> Bonjour,\n> votre commande est partie.\n";
    assert_split(input, "Merci beaucoup !", "Le lun. 4 mars 2024");
}

#[test]
fn outlook_original_message_block_is_removed() {
    let input = "Please cancel my order.\n\n-----Original Message-----\nFrom: Shop Support [mailto:support@shop.example]\nSent: Tuesday, March 5, 2024 9:02 AM\nTo: Bob Miller\nSubject: Your order #1234\n\nDear Bob, your order has shipped.\n";
    assert_split(input, "Please cancel my order.", "Your order #1234");
}

#[test]
fn outlook_underscore_rule_and_header_block_are_removed() {
    let input = "I still have the problem.\n\n________________________________\nFrom: Support <support@deskmail.example>\nSent: Tuesday, March 5, 2024 9:02:11 AM\nTo: bob@example.com <bob@example.com>\nSubject: RE: Login fails\n\nHi Bob, please clear your cache.\n";
    assert_split(input, "I still have the problem.", "clear your cache");
}

#[test]
fn german_outlook_header_block_is_removed() {
    let input = "Vielen Dank, das hat geholfen.\n\nVon: Support <support@deskmail.example>\nGesendet: Dienstag, 5. März 2024 09:02\nAn: Max Mustermann <max@example.de>\nBetreff: AW: Rechnung fehlt\n\nHallo Herr Mustermann,\n";
    assert_split(input, "Vielen Dank, das hat geholfen.", "Betreff: AW: Rechnung fehlt");
}

#[test]
fn french_outlook_header_block_with_spaced_colons_is_removed() {
    let input = "Toujours pas reçu.\n\nDe : Support <support@deskmail.example>\nEnvoyé : mardi 5 mars 2024 09:02\nÀ : Claire <claire@example.fr>\nObjet : RE: Livraison\n\nBonjour Claire,\n";
    assert_split(input, "Toujours pas reçu.", "Objet : RE: Livraison");
}

#[test]
fn spanish_outlook_header_block_is_removed() {
    let input = "Gracias.\n\nDe: Soporte <soporte@deskmail.example>\nEnviado el: martes, 5 de marzo de 2024 9:02\nPara: Lucía <lucia@example.es>\nAsunto: RE: Factura\n\nHola Lucía,\n";
    assert_split(input, "Gracias.", "Asunto: RE: Factura");
}

#[test]
fn apple_mail_attribution_is_removed() {
    let input = "Sounds good.\n\n> On 4 Mar 2024, at 10:15, Support <support@deskmail.example> wrote:\n> \n> We will call you tomorrow.\n";
    assert_split(input, "Sounds good.", "We will call you tomorrow.");
}

#[test]
fn thunderbird_german_attribution_without_address_is_removed() {
    let input =
        "Passt, danke!\n\nAm 04.03.2024 um 10:15 schrieb Support Team:\n> Bitte prüfen Sie die Einstellungen.\n";
    assert_split(input, "Passt, danke!", "Am 04.03.2024 um 10:15 schrieb");
}

#[test]
fn attributions_in_other_languages_and_formats_are_removed() {
    let cases = [
        "El lun, 4 mar 2024 a las 10:15, Soporte (<soporte@deskmail.example>) escribió:",
        "пн, 4 мар. 2024 г. в 10:15, Support <support@deskmail.example>:",
        "2024年3月4日(月) 10:15 Support <support@deskmail.example>:",
        "在 2024年3月4日，上午10:15，Support <support@deskmail.example> 写道：",
        "Den 4. mar. 2024 kl. 10.15 skrev Support <support@deskmail.example>:",
        "2024-03-04 10:15 GMT+01:00 Support Team",
        "Support Team wrote:",
        "Support (04.03.2024 10:15):",
    ];
    for header in cases {
        let input = format!("New text.\n\n{header}\n\n> old text\n");
        assert_split(&input, "New text.", "old text");
    }
}

#[test]
fn attribution_whose_address_bracket_wrapped_onto_the_next_line_is_removed() {
    let input = "Takk!\n\ntir. 5. mar. 2024 kl. 10:15 skrev Support <support@deskmail.example\n>:\n\n> Hei\n";
    assert_split(input, "Takk!", "skrev Support");
}

#[test]
fn trailing_quote_without_attribution_is_removed() {
    let input = "Yes, that is my address.\n\n> What is your shipping address?\n> We need it to send the part.\n";
    assert_split(input, "Yes, that is my address.", "shipping address");
}

#[test]
fn quote_followed_by_answer_is_kept_as_context() {
    assert_untouched("> Can you send the serial number?\n\nIt is SN-0042.");
}

#[test]
fn inline_answers_between_quotes_keep_the_quotes() {
    let input = "See below.\n\nOn Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\n> Which model do you have?\n\nThe X200.\n\n> Since when?\n\nSince Friday.\n";
    assert_split(
        input,
        "See below.\n\n> Which model do you have?\n\nThe X200.\n\n> Since when?\n\nSince Friday.",
        "wrote:",
    );
}

#[test]
fn inline_answers_below_a_leading_attribution_keep_the_quotes() {
    let input = "On Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\n> Which model?\n\nX200.\n\n> Since when?\n\nFriday.\n";
    assert_split(input, "> Which model?\n\nX200.\n\n> Since when?\n\nFriday.", "wrote:");
}

#[test]
fn bottom_posted_reply_is_found_below_the_quote() {
    let input = "On Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\n> Is the issue solved?\n\nNo, it still crashes.\n";
    assert_split(input, "No, it still crashes.", "Is the issue solved?");
}

#[test]
fn text_after_an_embedded_quote_is_kept() {
    let input = "Hi,\n\nOn Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\n> Is the issue solved?\n\nNo, it still crashes.\n";
    assert_split(input, "Hi,\n\nNo, it still crashes.", "Is the issue solved?");
}

#[test]
fn reply_that_is_only_a_quote_has_no_visible_text() {
    let split = split_reply("\n> Your ticket #77 was updated.\n> Reply above this line.\n");
    assert_eq!(split.visible, "");
    assert_eq!(split.quoted.as_deref(), Some("> Your ticket #77 was updated.\n> Reply above this line."));
}

#[test]
fn signature_below_dash_dash_space_is_removed() {
    assert_split("The invoice is attached.\n\n-- \nBob Miller\nACME Corp", "The invoice is attached.", "ACME Corp");
}

#[test]
fn signature_below_bare_dash_dash_is_removed() {
    assert_split("See you then.\n--\nBob", "See you then.", "Bob");
}

#[test]
fn attribution_does_not_swallow_the_line_above_it() {
    let input = "On it.\nOn Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\n> Can you check?\n";
    assert_split(input, "On it.", "Can you check?");
}

#[test]
fn mobile_signature_ends_the_visible_part() {
    assert_split("On my way.\n\nSent from my iPhone", "On my way.", "Sent from my iPhone");
    assert_split(
        "Bin unterwegs.\n\nVon meinem iPhone gesendet\n\nAm 04.03.2024 um 10:15 schrieb Support:\n> Hallo",
        "Bin unterwegs.",
        "Hallo",
    );
    assert_split("OK\n\nGet Outlook for Android<https://aka.ms/ghei36>\n", "OK", "Get Outlook");
}

#[test]
fn sent_from_in_a_sentence_is_not_a_signature() {
    assert_untouched("Sent from my desk, which is easier than my mobile phone.\nPlease call back.");
}

#[test]
fn crlf_and_cr_line_endings_are_normalised() {
    let crlf = "Fixed, thanks.\r\n\r\nOn Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\r\n> Try again\r\n";
    assert_eq!(visible_text(crlf), "Fixed, thanks.");
    let cr =
        "Fixed, thanks.\r\rOn Mon, Mar 4, 2024 at 10:15 AM Support <support@deskmail.example> wrote:\r> Try again\r";
    assert_eq!(visible_text(cr), "Fixed, thanks.");
}

#[test]
fn prose_that_resembles_headers_is_kept() {
    assert_untouched("On the other hand, the update helped.\nOn Monday I will test again.");
    assert_untouched("My colleague wrote:\nthe device is broken.\n\nIs that covered by warranty?");
    assert_untouched("I'm writing because of:\n-- the login page\n-- the invoice");
    assert_untouched("Part one\n\n----\n\nPart two\n\n====\n\nPart three");
}

#[test]
fn forwarded_message_marker_starts_the_history() {
    let input = "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Carrier <noreply@carrier.example>\nDate: Mon, Mar 4, 2024 at 10:15 AM\nSubject: Delivery failed\nTo: bob@example.com\n\nWe could not deliver your parcel.\n";
    assert_split(input, "FYI, see below.", "We could not deliver your parcel.");
}

#[test]
fn a_bare_forward_shows_the_forwarded_text() {
    let input = "________________________________\nFrom: Billing <billing@vendor.example>\nSent: Tuesday, March 5, 2024 9:02 AM\nTo: Bob\nSubject: Invoice 88\n\nPlease find invoice 88 attached.\n";
    assert_split(input, "Please find invoice 88 attached.", "Subject: Invoice 88");
}

#[test]
fn localized_original_message_markers_and_markdown_headers_start_the_history() {
    let german = "Danke!\n\n----- Original Nachricht ----\nVon: Support\n\nHallo";
    assert_split(german, "Danke!", "Hallo");
    let markdown = "Done.\n\n**From:** Support <support@deskmail.example>\n**Sent**: Tuesday, March 5, 2024\n**To**: Bob\n**Subject**: Ticket\n\nHi Bob";
    assert_split(markdown, "Done.", "Hi Bob");
}

#[test]
fn code_fences_are_never_taken_for_signatures() {
    assert_untouched("Here is my config:\n\n```\n--\n> not a quote\n```\n\nWhat is wrong?");
}

#[test]
fn pathological_input_is_handled() {
    let long_quote = format!("Hi\n{}\n", ">".repeat(500_000));
    let wide_line = format!("On {} wrote:\n", "x, 2024 10:00 ".repeat(20_000));
    let many_lines = "On Mon, 2024 at 10:00\n".repeat(20_000);
    assert_eq!(visible_text(&long_quote), "Hi");
    let _ = visible_text(&wide_line);
    let _ = visible_text(&many_lines);
    let _ = visible_text("é\u{feff}\r\r\n>\u{a0}ᐧ\n--\n");
}
