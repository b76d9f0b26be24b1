//! Commands in an agent's e-mail: `#note` on the first line, and `#status`, `#priority`, `#assign` lines.

use crate::domain::{Priority, Status};

/// Who `#assign` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignTo {
    Me,
    Nobody,
    Email(String),
}

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Status(Status),
    Priority(Priority),
    Assign(AssignTo),
}

/// An agent's mail split into commands and the text for the customer (or the note).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMail {
    pub note: bool,
    pub commands: Vec<Command>,
    /// Lines that looked like commands but were not understood, with why.
    pub errors: Vec<String>,
    /// The text without command lines, trimmed.
    pub body: String,
}

/// Reads commands from the visible text of an agent's mail. Command lines start with `#` and a known word;
/// other `#` lines (e.g. `#1 priority item`) stay in the text.
pub fn parse(visible: &str) -> AgentMail {
    let mut out = AgentMail::default();
    let mut body = Vec::new();
    let mut first = true;
    for line in visible.lines() {
        let trimmed = line.trim();
        if first && !trimmed.is_empty() {
            first = false;
            if trimmed.eq_ignore_ascii_case("#note") {
                out.note = true;
                continue;
            }
        }
        match command(trimmed) {
            Some(Ok(c)) => out.commands.push(c),
            Some(Err(e)) => out.errors.push(e),
            None => body.push(line),
        }
    }
    out.body = body.join("\n").trim().to_string();
    out
}

fn command(line: &str) -> Option<Result<Command, String>> {
    let rest = line.strip_prefix('#')?;
    let (word, arg) = rest.split_once(char::is_whitespace).map(|(w, a)| (w, a.trim())).unwrap_or((rest, ""));
    let parsed = match word.to_ascii_lowercase().as_str() {
        "status" => Status::parse(arg).map(Command::Status),
        "priority" => Priority::parse(arg).map(Command::Priority),
        "assign" => Ok(Command::Assign(match arg.to_ascii_lowercase().as_str() {
            "me" => AssignTo::Me,
            "nobody" | "none" => AssignTo::Nobody,
            "" => return Some(Err("#assign needs an e-mail address, me or nobody".into())),
            email => AssignTo::Email(email.to_string()),
        })),
        "note" => return Some(Err("#note must be the first line".into())),
        _ => return None,
    };
    Some(parsed.map_err(|e| format!("{line}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_with_commands_is_split() {
        let m = parse("Hi José,\n\nthe part is on its way.\n#status resolved\n#priority low\n#assign me\n");
        assert!(!m.note);
        assert_eq!(m.body, "Hi José,\n\nthe part is on its way.");
        assert_eq!(
            m.commands,
            vec![Command::Status(Status::Resolved), Command::Priority(Priority::Low), Command::Assign(AssignTo::Me)]
        );
        assert!(m.errors.is_empty());
    }

    #[test]
    fn note_on_the_first_line_makes_an_internal_note() {
        let m = parse("\n#note\nCustomer called, wants a refund.\n#assign bo@example.com");
        assert!(m.note);
        assert_eq!(m.body, "Customer called, wants a refund.");
        assert_eq!(m.commands, vec![Command::Assign(AssignTo::Email("bo@example.com".into()))]);
    }

    #[test]
    fn command_only_mail_has_no_body() {
        let m = parse("#status pending\n");
        assert_eq!((m.body.as_str(), m.commands.len()), ("", 1));
    }

    #[test]
    fn bad_values_are_errors_and_other_hashes_stay_text() {
        let m = parse("#status done\n#1 is the shade, #2 the cable\n#note\n#assign");
        assert_eq!(m.body, "#1 is the shade, #2 the cable");
        assert_eq!(m.errors.len(), 3, "{:?}", m.errors);
        assert!(m.errors[0].contains("#status done"));
    }
}
