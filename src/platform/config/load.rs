//! Finding and layering the configuration: file, then environment, then path resolution.

use super::Settings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("invalid configuration: {0}")]
    Rule(String),
}

const DEFAULT_FILE: &str = "config/deskmail.toml";

/// Loads settings from `explicit` (or `DESKMAIL_CONFIG`, or `config/deskmail.toml` when present),
/// applies `DESKMAIL_SECTION__KEY` overrides and resolves relative paths against the file's folder.
pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    load_with_env(explicit, &env)
}

pub(crate) fn load_with_env(explicit: Option<&Path>, env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
    let file = choose_file(explicit, env)?;
    let mut builder = config::Config::builder();
    if let Some(path) = &file {
        builder = builder.add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
    }
    let overrides = config::Environment::with_prefix("DESKMAIL")
        .prefix_separator("_")
        .separator("__")
        // Values stay strings; numbers are parsed where the key is a number. Guessing types would turn a secret like
        // "000123" into the number 123.
        .try_parsing(false)
        .source(Some(env_overrides(env)));
    let mut settings: Settings = builder.add_source(overrides).build()?.try_deserialize()?;
    settings.base_dir = match &file {
        Some(path) => absolute(path.parent().unwrap_or(Path::new("."))),
        None => absolute(Path::new(".")),
    };
    resolve_paths(&mut settings);
    validate(&settings)?;
    Ok(settings)
}

fn choose_file(explicit: Option<&Path>, env: &HashMap<String, String>) -> Result<Option<PathBuf>, ConfigError> {
    let chosen = explicit.map(Path::to_path_buf).or_else(|| env.get("DESKMAIL_CONFIG").map(PathBuf::from));
    match chosen {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(ConfigError::Missing(path)),
        None => Ok(Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file())),
    }
}

/// Only `DESKMAIL_SECTION__KEY` variables are config keys; `DESKMAIL_CONFIG` and friends are not.
fn env_overrides(env: &HashMap<String, String>) -> HashMap<String, String> {
    env.iter()
        .filter(|(k, _)| k.strip_prefix("DESKMAIL_").is_some_and(|rest| rest.contains("__")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn resolve_paths(s: &mut Settings) {
    let base = s.base_dir.clone();
    let join = |p: &Path| {
        if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
    };
    s.storage.dir = resolve(&base, &s.storage.dir);
    s.templates.dir = s.templates.dir.as_deref().map(join);
    s.security.secret_file = s.security.secret_file.as_deref().map(join);
    s.database.url = resolve_sqlite_url(&s.database.url, &base);
    for mb in &mut s.mailboxes {
        if let Some(imap) = &mut mb.imap {
            imap.ca_file = imap.ca_file.as_deref().filter(|p| !p.as_os_str().is_empty()).map(join);
            imap.password.password_file = imap.password.password_file.as_deref().map(join);
        }
        if let Some(smtp) = &mut mb.smtp {
            smtp.ca_file = smtp.ca_file.as_deref().filter(|p| !p.as_os_str().is_empty()).map(join);
            smtp.password.password_file = smtp.password.password_file.as_deref().map(join);
        }
        for oauth in [mb.imap.as_mut().and_then(|i| i.oauth.as_mut()), mb.smtp.as_mut().and_then(|s| s.oauth.as_mut())]
            .into_iter()
            .flatten()
        {
            oauth.resolve_paths(join);
        }
    }
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// `sqlite://relative/x.db` becomes an absolute URL that creates the file when missing.
pub(crate) fn resolve_sqlite_url(url: &str, base: &Path) -> String {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return url.to_string();
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || path.is_empty() {
        return url.to_string();
    }
    let path = Path::new(path);
    let abs = if path.is_absolute() { path.to_path_buf() } else { base.join(path) };
    let query = if query.is_empty() { "mode=rwc".to_string() } else { query.to_string() };
    format!("sqlite://{}?{query}", abs.display())
}

fn validate(s: &Settings) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for mb in &s.mailboxes {
        if !names.insert(mb.name.as_str()) {
            return Err(ConfigError::Rule(format!("mailbox name {:?} is used twice", mb.name)));
        }
        if crate::domain::EmailAddress::parse(&mb.address).is_err() {
            return Err(ConfigError::Rule(format!(
                "mailbox {:?}: address {:?} is not an e-mail address",
                mb.name, mb.address
            )));
        }
        mb.check_oauth().map_err(|e| ConfigError::Rule(format!("mailbox {:?}: {e}", mb.name)))?;
        if let Some(imap) = &mb.imap {
            imap.check_interval().map_err(|e| ConfigError::Rule(format!("mailbox {:?}: {e}", mb.name)))?;
        }
    }
    if s.ingest.batch_size == 0 {
        return Err(ConfigError::Rule("ingest.batch_size must be at least 1".into()));
    }
    if s.retention.closed_ticket_days == Some(0) {
        return Err(ConfigError::Rule(
            "retention.closed_ticket_days must be at least 1 (leave it out to keep all)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let s = load_with_env(None, &env(&[])).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.ingest.max_message_bytes, 52_428_800);
        assert!(s.database.url.starts_with("sqlite:///") && s.database.url.ends_with("data/deskmail.db?mode=rwc"));
    }

    #[test]
    fn file_values_are_overridden_by_section_key_variables() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("deskmail.toml");
        std::fs::write(
            &file,
            r#"
[server]
listen = "0.0.0.0:9000"
[storage]
dir = "spool"
[ingest]
max_message_bytes = 1000
[[mailbox]]
name = "support"
address = "support@example.com"
imap = { host = "imap.example.com", username = "u", password_file = "secrets/pw", after_import = "move:Done" }
"#,
        )
        .unwrap();
        let vars = env(&[("DESKMAIL_INGEST__MAX_MESSAGE_BYTES", "2000"), ("DESKMAIL_CONFIG", "ignored")]);
        let s = load_with_env(Some(&file), &vars).unwrap();
        assert_eq!(s.server.listen, "0.0.0.0:9000");
        assert_eq!(s.ingest.max_message_bytes, 2000);
        assert_eq!(s.storage.dir, dir.path().join("spool"));
        let imap = s.mailboxes[0].imap.as_ref().unwrap();
        assert_eq!(imap.password.password_file.as_deref(), Some(dir.path().join("secrets/pw").as_path()));
        assert_eq!(imap.after_import, crate::platform::config::AfterImport::Move("Done".into()));
        assert_eq!(imap.port, 993);
    }

    #[test]
    fn variables_keep_strings_as_written_and_parse_numbers_where_numbers_belong() {
        let vars = env(&[
            ("DESKMAIL_SECURITY__SECRET", "000123000123000123000123000123"),
            ("DESKMAIL_OUTBOUND__LEASE_SECS", "42"),
            ("DESKMAIL_SERVER__PUBLIC_URL", "https://desk.example"),
        ]);
        let s = load_with_env(None, &vars).unwrap();
        assert_eq!(s.security.secret.as_deref(), Some("000123000123000123000123000123"));
        assert_eq!(s.outbound.lease_secs, 42);
        assert!(load_with_env(None, &env(&[("DESKMAIL_OUTBOUND__LEASE_SECS", "soon")])).is_err());
    }

    #[test]
    fn retention_is_off_by_default_and_set_by_a_variable_of_at_least_one_day() {
        assert_eq!(load_with_env(None, &env(&[])).unwrap().retention.closed_ticket_days, None);
        let s = load_with_env(None, &env(&[("DESKMAIL_RETENTION__CLOSED_TICKET_DAYS", "365")])).unwrap();
        assert_eq!(s.retention.closed_ticket_days, Some(365));
        assert!(load_with_env(None, &env(&[("DESKMAIL_RETENTION__CLOSED_TICKET_DAYS", "0")])).is_err());
    }

    #[test]
    fn an_explicit_missing_file_is_an_error() {
        let err = load_with_env(Some(Path::new("/nonexistent/deskmail.toml")), &env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::Missing(_)));
    }

    #[test]
    fn bad_mailbox_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.toml");
        std::fs::write(&file, "[[mailbox]]\nname = \"a\"\naddress = \"not-an-address\"\n").unwrap();
        assert!(load_with_env(Some(&file), &env(&[])).unwrap_err().to_string().contains("not an e-mail address"));
    }

    #[test]
    fn misspelt_mailbox_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.toml");
        let mailbox = "[[mailbox]]\nname = \"a\"\naddress = \"a@example.com\"\n";
        for (extra, key) in [
            ("plus_adressing = true\n", "plus_adressing"),
            (
                "imap = { host = \"h\", username = \"u\", password = \"p\", poll_intervall_secs = 5 }\n",
                "poll_intervall_secs",
            ),
            ("smtp = { host = \"h\", password_enviroment = \"X\" }\n", "password_enviroment"),
        ] {
            std::fs::write(&file, format!("{mailbox}{extra}")).unwrap();
            let err = load_with_env(Some(&file), &env(&[])).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let good = "imap = { host = \"h\", username = \"u\", password_env = \"P\", poll_interval_secs = 5 }\n";
        std::fs::write(&file, format!("{mailbox}{good}")).unwrap();
        let s = load_with_env(Some(&file), &env(&[])).unwrap();
        assert_eq!(s.mailboxes[0].imap.as_ref().unwrap().password.password_env.as_deref(), Some("P"));
    }

    #[test]
    fn the_quick_check_is_off_or_between_50_ms_and_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.toml");
        let imap = |ms: u64| {
            format!(
                "[[mailbox]]\nname = \"a\"\naddress = \"a@example.com\"\n\
                 imap = {{ host = \"h\", username = \"u\", password_env = \"P\", check_interval_ms = {ms} }}\n"
            )
        };
        for ms in [10, 49, 60_001] {
            std::fs::write(&file, imap(ms)).unwrap();
            let err = load_with_env(Some(&file), &env(&[])).unwrap_err().to_string();
            assert!(err.contains("check_interval_ms is"), "{ms}: {err}");
        }
        for (ms, expected) in [(0, None), (50, Some(50)), (60_000, Some(60_000))] {
            std::fs::write(&file, imap(ms)).unwrap();
            let s = load_with_env(Some(&file), &env(&[])).unwrap();
            let check = s.mailboxes[0].imap.as_ref().unwrap().check_interval().unwrap();
            assert_eq!(check.map(|d| d.as_millis() as u64), expected);
        }
    }

    #[test]
    fn sqlite_urls_resolve_against_the_config_folder() {
        let base = Path::new("/etc/deskmail");
        assert_eq!(resolve_sqlite_url("sqlite://data/x.db", base), "sqlite:///etc/deskmail/data/x.db?mode=rwc");
        assert_eq!(resolve_sqlite_url("sqlite:///var/x.db?mode=rw", base), "sqlite:///var/x.db?mode=rw");
        assert_eq!(resolve_sqlite_url("postgres://h/db", base), "postgres://h/db");
    }
}
