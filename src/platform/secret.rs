//! The installation secret: from config, from a file, or generated into the storage dir on first start.

use crate::platform::config::Settings;
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Loads the signing secret, creating `{storage.dir}/secret.key` (mode 0600) when none is configured.
pub fn load_or_create(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = settings.security.secret.as_deref().filter(|s| !s.is_empty()) {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = match &settings.security.secret_file {
        Some(p) => p.clone(),
        None => settings.storage.dir.join("secret.key"),
    };
    if path.exists() {
        let s =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read secret file {}", path.display()))?;
        anyhow::ensure!(s.trim().len() >= 32, "secret file {} holds fewer than 32 characters", path.display());
        return Ok(s.trim().as_bytes().to_vec());
    }
    let secret = crate::platform::password::random_string(64);
    write_private(&path, &secret).with_context(|| format!("cannot create secret file {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new installation secret");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::default();
        s.storage.dir = dir.path().to_path_buf();
        let first = load_or_create(&s).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create(&s).unwrap(), first);
        s.security.secret = Some("configured".into());
        assert_eq!(load_or_create(&s).unwrap(), b"configured");
    }
}
