//! Staff passwords for the operator pages: argon2id, like PINs, but long. Hashing and
//! checking are deliberately slow: call them off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_CHARS: usize = 10;
/// Long enough for a passphrase; bounded so a login form cannot make argon2 chew megabytes.
pub const MAX_CHARS: usize = 128;

/// Why a new password is refused (said to the admin who sets it).
pub fn validate(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
        return Err(format!(
            "a password is {MIN_CHARS} to {MAX_CHARS} characters, got {n}"
        ));
    }
    if password.trim() != password {
        return Err("a password does not begin or end with spaces".into());
    }
    Ok(())
}

/// The PHC string stored (argon2id, random salt).
pub fn hash(password: &str) -> Result<String, String> {
    validate(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches `hash`. With no hash (unknown user, or no password set) it
/// still does the work of one check, so a login's timing does not tell which usernames exist.
pub fn verify(hash: Option<&str>, password: &str) -> bool {
    let ok_len = password.chars().count() <= MAX_CHARS;
    let checked = hash.unwrap_or(DECOY);
    let matched = ok_len
        && Argon2::default()
            .verify_password(password.as_bytes(), checked)
            .is_ok();
    matched && hash.is_some()
}

/// A hash of a random string nobody knows, checked when there is nothing else to check.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0dQ3Kf5mKJ3uN2g9o2QyBrS6gM3lZ1o8cL3sY7rGv0Q";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_refuse() {
        let h = hash("kata sandi panjang").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify(Some(&h), "kata sandi panjang"));
        assert!(!verify(Some(&h), "kata sandi panjanG"));
        assert!(!verify(None, "kata sandi panjang"));
    }

    #[test]
    fn length_and_spaces_are_checked() {
        assert!(hash("short").is_err());
        assert!(hash(&"x".repeat(MAX_CHARS + 1)).is_err());
        assert!(hash(" leading space x").is_err());
        assert!(validate(&"é".repeat(MIN_CHARS)).is_ok());
    }

    #[test]
    fn the_decoy_is_a_valid_hash() {
        // If the decoy did not parse, an unknown username would answer faster than a known one.
        assert!(argon2::PasswordHash::new(DECOY).is_ok());
    }
}
