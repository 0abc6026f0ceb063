//! Django-compatible password hashes (`pbkdf2_sha256$<iterations>$<salt>$<base64>`),
//! so a user table exported from a Drycc or Deis database still logs in.
//!
//! Hashing is deliberately slow; callers run these functions on a blocking
//! thread (`tokio::task::spawn_blocking`), never on the async executor.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The iteration count new hashes get (Django 5's default is 870 000; OWASP asks for ≥ 600 000).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

const ALGORITHM: &str = "pbkdf2_sha256";

/// Hashes `password` with a fresh 22-character salt.
pub fn hash(password: &str, iterations: u32) -> String {
    let salt: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(22)
        .map(char::from)
        .collect();
    hash_with_salt(password, &salt, iterations)
}

fn hash_with_salt(password: &str, salt: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    format!("{ALGORITHM}${iterations}${salt}${}", STANDARD.encode(out))
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password, or a hash this module cannot read (e.g. Django's unusable `!…`).
    Mismatch,
    /// Right password, hash current.
    Match,
    /// Right password, but the hash used fewer iterations than wanted: store a new one.
    MatchNeedsRehash,
}

/// Checks `password` against `encoded` in constant time.
pub fn verify(password: &str, encoded: &str, wanted_iterations: u32) -> Verification {
    let mut parts = encoded.splitn(4, '$');
    let (Some(ALGORITHM), Some(iter), Some(salt), Some(expected)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verification::Mismatch;
    };
    let Ok(iterations) = iter.parse::<u32>() else {
        return Verification::Mismatch;
    };
    if iterations == 0 {
        return Verification::Mismatch;
    }
    let computed = hash_with_salt(password, salt, iterations);
    let computed_hash = computed.rsplit('$').next().unwrap_or_default();
    if computed_hash.as_bytes().ct_eq(expected.as_bytes()).into() {
        if iterations < wanted_iterations {
            Verification::MatchNeedsRehash
        } else {
            Verification::Match
        }
    } else {
        Verification::Mismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with Python's hashlib, exactly as Django does:
    /// `base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"alicepw", b"seasalt123", 36000)).decode()`
    const DJANGO_HASH: &str =
        "pbkdf2_sha256$36000$seasalt123$nP7Uomp1MTrdasxIt1kxbBxs5/JWSDeDdBoZrYiFL1I=";

    #[test]
    fn verifies_a_django_hash_and_asks_for_rehash() {
        assert_eq!(
            verify("alicepw", DJANGO_HASH, DEFAULT_ITERATIONS),
            Verification::MatchNeedsRehash
        );
        assert_eq!(verify("alicepw", DJANGO_HASH, 36_000), Verification::Match);
        assert_eq!(verify("wrong", DJANGO_HASH, 36_000), Verification::Mismatch);
    }

    #[test]
    fn round_trips() {
        let h = hash("s3cret with spaces ✓", 1000);
        assert!(h.starts_with("pbkdf2_sha256$1000$"));
        assert_eq!(
            verify("s3cret with spaces ✓", &h, 1000),
            Verification::Match
        );
        assert_eq!(verify("s3cret", &h, 1000), Verification::Mismatch);
    }

    #[test]
    fn rejects_foreign_formats() {
        for bad in [
            "",
            "!unusable",
            "md5$x$y",
            "pbkdf2_sha256$abc$salt$hash",
            "pbkdf2_sha256$0$s$h",
        ] {
            assert_eq!(verify("x", bad, 1), Verification::Mismatch, "{bad}");
        }
    }
}
