//! API tokens: 40 random hex characters shown once, stored only as SHA-256.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A token in clear, as handed to the client once. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// A new random token: 20 bytes from the OS generator, hex encoded.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Wraps a token presented by a client.
    pub fn from_client(s: &str) -> Self {
        Self(s.to_owned())
    }

    /// The clear text, to send to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form that is stored and looked up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

/// SHA-256 of a token, hex encoded: the only form the database holds.
///
/// Lookups go by this value through a unique index; since the input is a
/// uniformly random 160-bit secret, the index lookup leaks nothing useful about
/// it, and [`TokenHash::matches`] re-checks in constant time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hex text to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored: &str) -> bool {
        subtle::ConstantTimeEq::ct_eq(self.0.as_bytes(), stored.as_bytes()).into()
    }
}

/// The secret the operator shares between Drydock and its Dokku plugin, which
/// opens the builder hooks (`X-Drycc-Builder-Auth`). Its `Debug` is redacted
/// and it is only ever compared in constant time.
#[derive(Clone)]
pub struct BuilderKey(String);

impl BuilderKey {
    /// Shortest key accepted: it guards every app's deploys.
    pub const MIN_LEN: usize = 32;

    /// Whether `presented` is this key. Both sides are hashed first, so the
    /// comparison takes the same time whatever the presented length.
    pub fn matches(&self, presented: &str) -> bool {
        let want = Sha256::digest(self.0.as_bytes());
        let got = Sha256::digest(presented.as_bytes());
        subtle::ConstantTimeEq::ct_eq(want.as_slice(), got.as_slice()).into()
    }
}

impl std::str::FromStr for BuilderKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() < Self::MIN_LEN || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "the builder key must be at least {} printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)",
                Self::MIN_LEN
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for BuilderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BuilderKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_40_hex_and_hash_stably() {
        let t = PlainToken::generate();
        assert_eq!(t.expose().len(), 40);
        assert!(t.expose().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t.hash(), PlainToken::from_client(t.expose()).hash());
        assert!(t.hash().matches(t.hash().as_str()));
        assert_ne!(t, PlainToken::generate());
        assert_eq!(format!("{t:?}"), "PlainToken(<redacted>)");
    }

    #[test]
    fn builder_keys_are_long_compared_whole_and_never_shown() {
        let key: BuilderKey = "k".repeat(32).parse().expect("long enough");
        assert!(key.matches(&"k".repeat(32)));
        for wrong in ["", "k", &"k".repeat(31), &"k".repeat(33), &"K".repeat(32)] {
            assert!(!key.matches(wrong), "{wrong:?}");
        }
        assert_eq!(format!("{key:?}"), "BuilderKey(<redacted>)");
        assert!("short".parse::<BuilderKey>().is_err());
        assert!(format!("{} x", "k".repeat(32))
            .parse::<BuilderKey>()
            .is_err());
    }
}
