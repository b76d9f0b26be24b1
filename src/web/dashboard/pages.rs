//! Page rendering: the minijinja environment of `templates/web/*.html` (auto-escaped), flash messages, the layout context.

use crate::web::Error;
use axum::response::Html;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tower_sessions::Session;

#[derive(rust_embed::Embed)]
#[folder = "templates/web"]
struct WebTemplates;

/// The page templates, compiled once at start.
#[derive(Clone)]
pub struct Pages {
    env: Arc<Environment<'static>>,
}

impl Pages {
    /// Loads and compiles every page template; a broken one is a start-up error.
    pub fn load() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        let syntax = minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
        env.set_syntax(syntax.expect("default delimiters are valid"));
        minijinja_contrib_filters(&mut env);
        for name in WebTemplates::iter() {
            let file = WebTemplates::get(&name).expect("listed template exists");
            let source = String::from_utf8_lossy(&file.data).into_owned();
            env.add_template_owned(name.to_string(), source)?;
        }
        Ok(Self { env: Arc::new(env) })
    }

    /// Renders a page; rendering errors are internal errors (logged with their cause).
    pub fn render(&self, name: &str, ctx: Value) -> Result<Html<String>, Error> {
        let tmpl = self.env.get_template(name).map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
        tmpl.render(ctx)
            .map(Html)
            .map_err(|e| Error::Internal(anyhow::Error::new(e).context(format!("rendering {name}"))))
    }
}

fn minijinja_contrib_filters(env: &mut Environment<'static>) {
    env.add_filter("datetime", |ts: i64| {
        crate::domain::rfc3339(ts).replace('T', " ").trim_end_matches('Z').chars().take(16).collect::<String>()
    });
    env.add_filter("filesize", |n: i64| match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / 1048576.0),
    });
    env.add_filter("ago", |ts: i64| {
        let d = (crate::domain::now() - ts).max(0);
        match d {
            d if d < 60 => "just now".to_string(),
            d if d < 3600 => format!("{} min ago", d / 60),
            d if d < 86_400 => format!("{} h ago", d / 3600),
            d => format!("{} d ago", d / 86_400),
        }
    });
}

/// Any serialisable value as a template value.
pub fn sv<T: Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// A message shown once on the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: String,
    pub text: String,
}

const FLASH_KEY: &str = "flash";

/// Queues a flash message for the next page.
pub async fn flash(session: &Session, kind: &str, text: impl Into<String>) {
    let mut list: Vec<Flash> = session.get(FLASH_KEY).await.ok().flatten().unwrap_or_default();
    list.push(Flash { kind: kind.into(), text: text.into() });
    let _ = session.insert(FLASH_KEY, list).await;
}

/// Takes the queued flash messages.
pub async fn take_flashes(session: &Session) -> Vec<Flash> {
    refresh_expiry(session).await;
    // Reading first: removing an absent key would still mark the session changed and write it back.
    match session.get::<Vec<Flash>>(FLASH_KEY).await.ok().flatten() {
        Some(list) => {
            let _ = session.remove::<Vec<Flash>>(FLASH_KEY).await;
            list
        }
        None => Vec::new(),
    }
}

const SEEN_KEY: &str = "seen_at";

/// Sessions expire after 7 days without activity; writing a timestamp at most hourly keeps an active
/// session alive without a database write on every page view.
async fn refresh_expiry(session: &Session) {
    // Only a signed-in session is worth keeping alive; writing to an anonymous one would create it.
    if session.get::<i64>(super::auth::USER_KEY).await.ok().flatten().is_none() {
        return;
    }
    let now = crate::domain::now();
    let seen: i64 = session.get(SEEN_KEY).await.ok().flatten().unwrap_or(0);
    if now - seen > 3600 {
        let _ = session.insert(SEEN_KEY, now).await;
    }
}

/// The context every page's layout needs: the user, flashes, and the page's own values under `page`.
pub fn layout(user: Option<&crate::db::UserRow>, flashes: Vec<Flash>, nav: &str, page: Value) -> Value {
    let user = user
        .map(|u| context! { id => u.id, name => u.name.clone(), email => u.email.clone(), is_admin => u.is_admin() });
    context! { user => user, flashes => sv(flashes), nav => nav, page => page }
}
