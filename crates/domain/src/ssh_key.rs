//! SSH public keys as uploaded to `/v2/keys`: one OpenSSH line, `type base64 [comment]`.
//!
//! [`PublicKey::parse`] accepts RSA (2048 to 16384 bits), Ed25519, ECDSA
//! (nistp256/384/521) and the security-key variants, checks that the blob
//! decodes and agrees with the type written before it, and refuses anything
//! that could smuggle more than one key or `authorized_keys` options into
//! Dokku. It computes the MD5 fingerprint the reference reports and the SHA256
//! form `ssh-keygen -l` prints. Storing keys and installing them belong elsewhere.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use md5::Md5;
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcPoint};
use openssl::nid::Nid;
use sha2::{Digest, Sha256};

use crate::DomainError;

const FIELD: &str = "public";
/// Longer than any real key line (a 16384-bit RSA key is under 3 KiB).
const MAX_LINE: usize = 16 * 1024;
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 16384;

/// The key algorithms accepted for `git push`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ssh-rsa`
    Rsa,
    /// `ssh-ed25519`
    Ed25519,
    /// `ecdsa-sha2-nistp256`
    EcdsaP256,
    /// `ecdsa-sha2-nistp384`
    EcdsaP384,
    /// `ecdsa-sha2-nistp521`
    EcdsaP521,
    /// `sk-ecdsa-sha2-nistp256@openssh.com` (FIDO security key)
    SkEcdsaP256,
    /// `sk-ssh-ed25519@openssh.com` (FIDO security key)
    SkEd25519,
}

impl KeyType {
    const ALL: [KeyType; 7] = [
        Self::Rsa,
        Self::Ed25519,
        Self::EcdsaP256,
        Self::EcdsaP384,
        Self::EcdsaP521,
        Self::SkEcdsaP256,
        Self::SkEd25519,
    ];

    /// The OpenSSH name, as written at the start of the line and inside the blob.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "ssh-rsa",
            Self::Ed25519 => "ssh-ed25519",
            Self::EcdsaP256 => "ecdsa-sha2-nistp256",
            Self::EcdsaP384 => "ecdsa-sha2-nistp384",
            Self::EcdsaP521 => "ecdsa-sha2-nistp521",
            Self::SkEcdsaP256 => "sk-ecdsa-sha2-nistp256@openssh.com",
            Self::SkEd25519 => "sk-ssh-ed25519@openssh.com",
        }
    }

    /// The accepted type with this OpenSSH name, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated OpenSSH public key. Its `Display` is the canonical one-line
/// form handed to Dokku, so only a parsed key can reach `authorized_keys`.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_type: KeyType,
    blob: Vec<u8>,
    comment: Option<String>,
}

impl PublicKey {
    /// Parses one public key line as found in `id_ed25519.pub`: surrounding
    /// whitespace is ignored; options, several keys, line breaks inside the
    /// key, bad base64 and blobs that disagree with the written type are refused
    /// under the `public` field. Control characters are dropped from the comment.
    pub fn parse(line: &str) -> Result<Self, DomainError> {
        let bad = |message: &str| DomainError::field(FIELD, message);
        let line = line.trim();
        if line.is_empty() {
            return Err(bad("Public key is empty"));
        }
        if line.contains("PRIVATE KEY") {
            return Err(bad(
                "This is a private key; upload the public key instead (the .pub file)",
            ));
        }
        if line.len() > MAX_LINE {
            return Err(bad("Public key is too long"));
        }
        if line.starts_with("-----") || line.starts_with("---- ") {
            return Err(bad(
                "Public key must be in OpenSSH format (ssh-keygen -i -f key converts PEM or RFC 4716 keys)",
            ));
        }
        if line.contains(['\n', '\r']) {
            return Err(bad(
                "Public key must be a single line holding one key: type, base64 data and an optional comment",
            ));
        }

        let (type_name, rest) = split_word(line);
        // One word is no key at all; the reference reports the missing data as bad base64.
        if rest.is_empty() {
            return Err(bad("Key contains invalid base64 chars"));
        }
        let Some(key_type) = KeyType::from_name(type_name) else {
            return Err(bad(&unsupported_type_message(type_name, rest)));
        };
        let (data, comment) = split_word(rest);
        if holds_another_key(comment) {
            return Err(bad("Only one public key may be uploaded at a time"));
        }

        let blob = STANDARD
            .decode(data)
            .map_err(|_| bad("Key contains invalid base64 chars"))?;
        match blob_type(&blob) {
            Some(inner) if inner == type_name.as_bytes() => {}
            Some(inner) => {
                let inner = std::str::from_utf8(inner)
                    .ok()
                    .and_then(KeyType::from_name)
                    .map_or("another type", KeyType::as_str);
                return Err(bad(&format!(
                    "Key type {type_name} does not match the key data, which is {inner}"
                )));
            }
            None => return Err(bad("Key data is malformed")),
        }
        let decoded = ::ssh_key::PublicKey::from_bytes(&blob)
            .map_err(|e| bad(&format!("Key data is malformed: {e}")))?;
        check_key_data(decoded.key_data()).map_err(|message| bad(&message))?;

        let comment: String = comment.chars().filter(|c| !c.is_control()).collect();
        let comment = comment.trim();
        Ok(Self {
            key_type,
            blob,
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
        })
    }

    /// The key's algorithm.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The comment after the key data (usually `user@host`), control characters removed.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// MD5 of the key blob as lowercase hex pairs joined by `:`: the
    /// `fingerprint` field of the reference (`ssh-keygen -l -E md5` without its `MD5:` prefix).
    pub fn fingerprint_md5(&self) -> String {
        Md5::digest(&self.blob)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    pub fn fingerprint_sha256(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }

    /// The canonical line `type base64 [comment]`, for Dokku and for display.
    pub fn to_openssh(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key_type, STANDARD.encode(&self.blob))?;
        match &self.comment {
            Some(comment) => write!(f, " {comment}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type)
            .field("fingerprint", &self.fingerprint_sha256())
            .field("comment", &self.comment)
            .finish()
    }
}

/// The first space- or tab-separated word and the rest with leading blanks removed.
fn split_word(s: &str) -> (&str, &str) {
    match s.split_once([' ', '\t']) {
        Some((word, rest)) => (word, rest.trim_start_matches([' ', '\t'])),
        None => (s, ""),
    }
}

/// Explains why the first word is not an accepted key type.
fn unsupported_type_message(type_name: &str, rest: &str) -> String {
    if rest
        .split_whitespace()
        .any(|w| KeyType::from_name(w).is_some())
    {
        return "Key options such as command=\"…\" or no-pty are not allowed; upload only the public key".to_owned();
    }
    let supported = KeyType::ALL.map(KeyType::as_str).join(", ");
    if type_name == "ssh-dss" {
        format!("DSA keys are no longer supported; use one of {supported}")
    } else {
        format!("Unsupported key type; use one of {supported}")
    }
}

/// Whether a comment looks like a second key pasted on the same line.
fn holds_another_key(comment: &str) -> bool {
    let mut words = comment.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if KeyType::from_name(word).is_some()
            && words.peek().is_some_and(|next| next.starts_with("AAAA"))
        {
            return true;
        }
    }
    false
}

/// The algorithm name encoded at the start of a key blob (an SSH `string`).
fn blob_type(blob: &[u8]) -> Option<&[u8]> {
    let (len, rest) = blob.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    rest.get(..len)
}

/// Checks beyond the blob's structure: RSA modulus size and ECDSA points on their curve.
fn check_key_data(data: &::ssh_key::public::KeyData) -> Result<(), String> {
    use ::ssh_key::public::KeyData;
    match data {
        KeyData::Rsa(rsa) => {
            let modulus = rsa.n.as_positive_bytes().unwrap_or_default();
            let bits = modulus.first().map_or(0, |first| {
                (modulus.len() - 1) * 8 + (8 - first.leading_zeros() as usize)
            });
            if bits < MIN_RSA_BITS {
                Err(format!(
                    "RSA keys must be at least {MIN_RSA_BITS} bits (this one has {bits}); an Ed25519 key is recommended"
                ))
            } else if bits > MAX_RSA_BITS {
                Err(format!("RSA keys may be at most {MAX_RSA_BITS} bits"))
            } else {
                Ok(())
            }
        }
        KeyData::Ecdsa(ec) => {
            let nid = match ec.curve() {
                ::ssh_key::EcdsaCurve::NistP256 => Nid::X9_62_PRIME256V1,
                ::ssh_key::EcdsaCurve::NistP384 => Nid::SECP384R1,
                ::ssh_key::EcdsaCurve::NistP521 => Nid::SECP521R1,
            };
            check_point(nid, ec.as_sec1_bytes())
        }
        KeyData::SkEcdsaSha2NistP256(sk) => {
            check_point(Nid::X9_62_PRIME256V1, sk.ec_point().as_bytes())
        }
        _ => Ok(()),
    }
}

/// Whether SEC1 bytes are a point on the named curve (OpenSSL checks on decoding).
fn check_point(curve: Nid, sec1: &[u8]) -> Result<(), String> {
    let invalid = |_| "Key data is malformed: the ECDSA point is not on its curve".to_owned();
    let group = EcGroup::from_curve_name(curve).map_err(invalid)?;
    let mut ctx = BigNumContext::new().map_err(invalid)?;
    EcPoint::from_bytes(&group, sec1, &mut ctx).map_err(invalid)?;
    Ok(())
}
