//! The admin token: a bearer token (RFC 6750).
//!
//! 32 bytes written as 64 hexadecimal digits to `data_dir/admin-token`
//! (mode 0600, written to a temporary file, synced, then renamed, like the
//! identity file). A standalone node draws them at random at first start.
//! A cluster member derives them from the cluster secret
//! (`ClusterSecret::admin_token`), so every member accepts the same token
//! and `cairn cluster init` can hand it to the operator; the member writes
//! it to its data directory at every start. Whoever can read that file may
//! use the admin API; the token is never logged or printed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Name of the token file in the data directory.
pub const TOKEN_FILE: &str = "admin-token";

/// Shortest token accepted from a file (a hand-written one must not be
/// guessable).
const TOKEN_LEN_MIN: usize = 32;

/// A bearer token.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token from text (a file's content or an environment variable):
    /// surrounding whitespace removed, at least 32 visible ASCII characters.
    pub fn parse(text: &str) -> anyhow::Result<Token> {
        let t = text.trim();
        anyhow::ensure!(
            t.len() >= TOKEN_LEN_MIN && t.bytes().all(|b| b.is_ascii_graphic()),
            "an admin token is at least {TOKEN_LEN_MIN} visible ASCII characters"
        );
        Ok(Token(t.to_string()))
    }

    /// The token of 32 key bytes (64 hexadecimal digits).
    pub fn of_key(key: &[u8; 32]) -> Token {
        Token(key.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The token's text, for an `Authorization: Bearer` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token, in time independent of where
    /// they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Read the token at `path`.
    pub fn read(path: &Path) -> anyhow::Result<Token> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the admin token {}", path.display()))?;
        Token::parse(&text)
            .with_context(|| format!("{} holds no valid admin token", path.display()))
    }

    /// The token of `data_dir`, created with mode 0600 if there is none
    /// yet. Returns it and the file's path.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<(Token, PathBuf)> {
        let path = data_dir.join(TOKEN_FILE);
        if path.exists() {
            warn_if_readable_by_others(&path);
            return Ok((Token::read(&path)?, path));
        }
        let token = Token::of_key(&rand::random());
        token.save(&path)?;
        Ok((token, path))
    }

    /// Make `dir/admin-token` hold this token (mode 0600), unless it does
    /// already. Returns the file's path.
    pub fn install(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let path = dir.join(TOKEN_FILE);
        match Token::read(&path) {
            Ok(t) if t.matches(self.expose()) => warn_if_readable_by_others(&path),
            _ => self.save(&path)?,
        }
        Ok(path)
    }

    fn save(&self, path: &Path) -> anyhow::Result<()> {
        write_private(path, &format!("{}\n", self.0))
    }
}

/// Write `text` to `path` with mode 0600, durably: a temporary file next
/// to it, synced, renamed over `path`, and the directory synced.
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the admin token file is accessible to other users; chmod 600 it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let (t, path) = Token::load_or_create(dir.path()).expect("create");
        assert_eq!(t.expose().len(), 64);
        assert!(t.expose().bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, _) = Token::load_or_create(dir.path()).expect("load");
        assert!(again.matches(t.expose()), "the same token at the next start");
        assert!(!t.matches(&t.expose()[1..]));
        assert!(!t.matches(&format!("{}0", t.expose())));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(..)", "never printed");
    }

    #[test]
    fn an_installed_token_replaces_another_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let (random, _) = Token::load_or_create(dir.path()).expect("create");
        let derived = Token::of_key(&[7; 32]);
        let path = derived.install(dir.path()).expect("install");
        let (read, _) = Token::load_or_create(dir.path()).expect("load");
        assert!(read.matches(derived.expose()) && !read.matches(random.expose()));
        assert_eq!(derived.expose(), "07".repeat(32));
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        derived.install(dir.path()).expect("installed again: unchanged");
        assert!(Token::read(&path).expect("read").matches(derived.expose()));
    }

    #[test]
    fn short_or_blank_tokens_are_refused() {
        assert!(Token::parse("  \n").is_err());
        assert!(Token::parse("short").is_err());
        assert!(Token::parse(&"x y".repeat(20)).is_err());
        assert!(Token::parse(&format!("  {}\n", "a".repeat(40))).is_ok());
    }
}
