//! Password hashing (argon2id), generated passwords, and API token secrets.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::Rng;

/// Hashes a password with argon2id and a random salt (PHC string). CPU-heavy: call from a blocking thread.
pub fn hash(password: &str) -> String {
    Argon2::default().hash_password(password.as_bytes()).expect("argon2 accepts any password").to_string()
}

/// Whether `password` matches the PHC `hash`.
pub fn verify(password: &str, hash: &str) -> bool {
    match argon2::password_hash::phc::PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A random alphanumeric string of `len` characters.
pub fn random_string(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// A new API token secret (`dm_…`), shown to the user once.
pub fn new_api_token() -> String {
    format!("dm_{}", random_string(40))
}

/// How an API token is stored: sha256 hex (tokens are long and random, so a fast hash suffices).
pub fn token_hash(token: &str) -> String {
    crate::platform::storage::sha256_hex(token.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_api_token(), new_api_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&format!(" {a}\n")));
    }
}
