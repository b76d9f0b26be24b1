//! E-mail templates (minijinja): built in, overridden from templates.dir and from the database; compiled at start.
//!
//! Each kind in [`KINDS`] has three templates, named by file: `{kind}.subject.txt`, `{kind}.txt`
//! and `{kind}.html`. Only `.html` is auto-escaped. Block tags eat their own line (`trim_blocks`,
//! `lstrip_blocks`). An absent variable renders as nothing, and so does any attribute of it.
//! Each built-in `{kind}.html` extends [`BASE`] (`base.html`: the document head and body wrapper) and fills its
//! blocks `title` and `body`. `base.html` is no kind (no mail is rendered from it alone) but is overridden like the
//! other templates; an overriding `{kind}.html` need not extend it.
//!
//! Context variables:
//! ```text
//! ticket:     { number, subject, status, priority, url, created_at }
//!             subject is cleaned of Re:/Fwd:/[#N]; url is the dashboard link (agents only);
//!             created_at is RFC 3339
//! customer:   { name, email }            the requester; name may be empty
//! agent:      { name, email, signature } who replied / who assigned / who acted by mail; may be absent
//! recipient:  { name, email }            whom this mail goes to (the agent, for notifications)
//! message:    { body, from_name, from_email, created_at }
//!             agent_reply: the agent's text; notify_*: the customer's latest visible text
//! mailbox:    { name, address, display_name }
//! links:      { orders: [{ number, status, total, currency, url }],
//!               order_lines: [{ ref, title, quantity, status }],
//!               products: [{ ref, title, url }] }     each list may be empty
//! portal_url: string, may be absent      where the customer can follow the request
//! command:    { results: [string], errors: [string], note: bool }   agent_command_result only
//! rule:       { name, body }                  rule_notice only: the rule and its rendered text
//! ```
//! `agent_reply` sets `message.first` when it opens the ticket (the subject then has no `Re:`).
//! `resolved` may also have `rating_good_url` and `rating_bad_url` (the portal's "How did we do?" answers).
//! The mails to staff users about their account (`user_invite`, `password_reset`) concern no ticket:
//! ```text
//! user:          { name, email }
//! link:          the single-use link (invitation or password reset)
//! expires_hours: how long the link works
//! mailbox:       { display_name, address }   the mailbox the mail is sent from
//! ```
//! `portal_login` (a customer's sign-in link to the portal) has `link`, `expires_minutes`, `mailbox` and
//! `user: { name, email }` (the customer; the name may be empty).
//! `mailbox_alert` (to admins: a mailbox's OAuth2 grant cannot be refreshed) has `user: { name, email }`,
//! `mailbox` (the sending mailbox) and `alert: { mailbox, error, failing_since, link }`.
//! Filters besides minijinja's built-ins: `linebreaks` (plain text to escaped HTML paragraphs,
//! for `.html`) and `quote` (prefixes each line with "> ", for `.txt`).

#[cfg(test)]
mod base_tests;
mod filters;
mod sample;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};

pub use sample::sample_context;

/// The kinds of outbound mail; each has a subject, a text and an HTML template.
pub const KINDS: &[&str] = &[
    "ack",
    "agent_reply",
    "resolved",
    "notify_new_ticket",
    "notify_customer_replied",
    "notify_assigned",
    "agent_command_result",
    "user_invite",
    "password_reset",
    "portal_login",
    "rule_reply",
    "rule_notice",
    "mailbox_alert",
];

/// The three parts of a kind, as file-name suffixes.
const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

/// The layout the built-in HTML of every kind extends; a template like the others, but not a kind.
pub const BASE: &str = "base.html";

#[derive(rust_embed::Embed)]
#[folder = "templates/email"]
struct Builtin;

/// Where the effective source of a template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    File(PathBuf),
    Database,
    /// A source being checked before it is saved.
    Draft,
}

/// Why templates cannot be loaded, checked or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A template does not compile, or fails to render.
    #[error("template {name}{}: {message}", place(.origin, *.line))]
    Template { name: String, origin: Origin, line: Option<usize>, message: String },
    /// A kind or template name that does not exist.
    #[error("no e-mail template is called {0:?}")]
    Unknown(String),
    /// The override directory or a file in it cannot be read.
    #[error("cannot read e-mail templates from {}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

fn place(origin: &Origin, line: Option<usize>) -> String {
    let from = match origin {
        Origin::File(path) => format!(" (from {})", path.display()),
        Origin::Database => " (from the database)".to_owned(),
        Origin::Builtin | Origin::Draft => String::new(),
    };
    let line = line.map(|n| format!(", line {n}")).unwrap_or_default();
    format!("{from}{line}")
}

impl TemplateError {
    fn from_minijinja(err: &minijinja::Error, name: &str, origin: &Origin) -> Self {
        // minijinja's Display appends " (in name:line)"; the kind and detail are rebuilt instead.
        let mut message = match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        };
        let mut cause = std::error::Error::source(err);
        while let Some(inner) = cause {
            message.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        Self::Template { name: name.to_owned(), origin: origin.clone(), line: err.line(), message }
    }
}

/// The three rendered parts of one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates and where each came from.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    sources: BTreeMap<String, (String, Origin)>,
}

impl Templates {
    /// Built-in templates, then files in `dir` (same names) override, then `db_overrides` (name, source) override both.
    /// Every template is compiled now; the first broken one is the error (start-up stops with it).
    /// Each kind is also rendered once with [`sample_context`], so an unknown filter fails here, not when mail is sent.
    pub fn load(dir: Option<&Path>, db_overrides: &[(String, String)]) -> Result<Self, TemplateError> {
        let mut sources: BTreeMap<String, (String, Origin)> = names()
            .map(|name| {
                let source = builtin(&name);
                (name, (source, Origin::Builtin))
            })
            .collect();
        if let Some(dir) = dir {
            read_dir_overrides(dir, &mut sources)?;
        }
        for (name, source) in db_overrides {
            match sources.get_mut(name) {
                Some(slot) => *slot = (source.clone(), Origin::Database),
                None => tracing::warn!(template = %name, "ignoring a stored override for an unknown e-mail template"),
            }
        }
        let mut env = environment();
        for (name, (source, origin)) in &sources {
            env.add_template_owned(name.clone(), source.clone())
                .map_err(|e| TemplateError::from_minijinja(&e, name, origin))?;
        }
        let templates = Self { env, sources };
        for kind in KINDS {
            templates.render(kind, &sample_context(kind))?;
        }
        Ok(templates)
    }

    /// Renders the three parts of `kind` with `ctx`. The subject is trimmed and newlines in it are replaced by spaces.
    pub fn render(&self, kind: &str, ctx: &serde_json::Value) -> Result<Rendered, TemplateError> {
        if !KINDS.contains(&kind) {
            return Err(TemplateError::Unknown(kind.to_owned()));
        }
        let ctx = Value::from(Serde(ctx));
        let subject = self.render_one(&format!("{kind}.subject.txt"), &ctx)?;
        Ok(Rendered {
            subject: one_line(&subject),
            text: self.render_one(&format!("{kind}.txt"), &ctx)?,
            html: self.render_one(&format!("{kind}.html"), &ctx)?,
        })
    }

    /// Checks one template source (e.g. an override typed in the dashboard) by compiling AND rendering it with
    /// `sample_context()`, the other templates built in. [`BASE`] is rendered as the layout of every kind's HTML.
    pub fn check(name: &str, source: &str) -> Result<(), TemplateError> {
        let pages: Vec<(&str, String)> = match kind_of(name) {
            Some(kind) => vec![(kind, name.to_owned())],
            None if name == BASE => KINDS.iter().map(|kind| (*kind, format!("{kind}.html"))).collect(),
            None => return Err(TemplateError::Unknown(name.to_owned())),
        };
        let mut env = environment();
        for other in names().filter(|other| other != name) {
            let source = builtin(&other);
            env.add_template_owned(other, source).expect("built-in templates compile");
        }
        let draft = |e: minijinja::Error| TemplateError::from_minijinja(&e, name, &Origin::Draft);
        env.add_template_owned(name.to_owned(), source.to_owned()).map_err(draft)?;
        for (kind, page) in pages {
            let ctx = Value::from(Serde(sample_context(kind)));
            env.get_template(&page).and_then(|t| t.render(ctx)).map_err(draft)?;
        }
        Ok(())
    }

    /// The effective source of a template (for the dashboard editor).
    pub fn source(&self, name: &str) -> Option<String> {
        self.sources.get(name).map(|(source, _)| source.clone())
    }

    /// Where the effective source of `name` came from.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.sources.get(name).map(|(_, origin)| origin)
    }

    /// The built-in default of a template.
    pub fn default_source(name: &str) -> Option<String> {
        let file = Builtin::get(name)?;
        Some(String::from_utf8_lossy(&file.data).into_owned())
    }

    fn render_one(&self, name: &str, ctx: &Value) -> Result<String, TemplateError> {
        self.env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| {
            // The error may come from an included template; name the one that failed.
            let failed = e.name().filter(|n| self.sources.contains_key(*n)).unwrap_or(name);
            TemplateError::from_minijinja(&e, failed, &self.sources[failed].1)
        })
    }
}

/// All template names: the three of each kind in `KINDS` order, then [`BASE`].
pub fn names() -> impl Iterator<Item = String> {
    let parts = KINDS.iter().flat_map(|kind| PARTS.iter().map(move |part| format!("{kind}.{part}")));
    parts.chain(std::iter::once(BASE.to_owned()))
}

fn kind_of(name: &str) -> Option<&'static str> {
    KINDS.iter().copied().find(|kind| PARTS.iter().any(|part| name == format!("{kind}.{part}")))
}

fn builtin(name: &str) -> String {
    Templates::default_source(name).unwrap_or_else(|| panic!("built-in template {name} is missing"))
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build();
    env.set_syntax(syntax.expect("default delimiters are valid"));
    env.add_filter("linebreaks", filters::linebreaks);
    env.add_filter("quote", filters::quote);
    // Admins edit these templates in the dashboard: an endless loop must fail the render, not hang a worker.
    // Generous, since output counts too (a unit per 64 bytes) and notices quote whole messages.
    env.set_fuel(Some(1_000_000));
    env
}

/// Reads the files in `dir` whose names are template names; warns about the others.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TemplateError + '_ {
    move |source| TemplateError::Io { path: path.to_owned(), source }
}

fn read_dir_overrides(dir: &Path, sources: &mut BTreeMap<String, (String, Origin)>) -> Result<(), TemplateError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        match sources.get_mut(name) {
            Some(slot) => *slot = (std::fs::read_to_string(&path).map_err(io(&path))?, Origin::File(path)),
            None if path.is_file() && !name.starts_with('.') => {
                tracing::warn!(file = %path.display(), "ignoring a file that is not an e-mail template name");
            }
            None => {}
        }
    }
    Ok(())
}

/// Trims a subject and puts it on one line (a header cannot hold a bare newline).
fn one_line(subject: &str) -> String {
    subject.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("built in"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Database => f.write_str("database"),
            Origin::Draft => f.write_str("draft"),
        }
    }
}
