//! TLS certificates as uploaded to `/v2/certs`: a PEM chain plus its private key.
//!
//! [`CertificateInfo::from_pem`] checks that both parse, that the key belongs to
//! the first certificate, and extracts the fields the reference returns
//! (`common_name`, `san`, `fingerprint`, `starts`, `expires`, `issuer`,
//! `subject`). It also normalises the chain and the key into the PEM handed to
//! Dokku. Expired or not-yet-valid certificates are accepted, as the reference
//! does; [`CertificateInfo::is_currently_valid`] lets the caller warn about them.
//!
//! Storage, attaching to domains and talking to Dokku belong elsewhere.

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, Utc};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::{X509NameRef, X509};
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::name::DomainName;
use crate::DomainError;

/// Largest RSA modulus accepted: the consistency check's cost grows with
/// the key's size, and a 65 536-bit key made it take minutes.
pub const MAX_RSA_BITS: u32 = 8192;
/// Most certificates in an uploaded chain.
pub const MAX_CHAIN_LEN: usize = 10;
/// Largest certificate chain PEM accepted, in bytes.
pub const MAX_CHAIN_PEM: usize = 64 * 1024;
/// Largest private key PEM accepted, in bytes (an 8192-bit RSA key is about 6.5 KiB).
pub const MAX_KEY_PEM: usize = 16 * 1024;

const CERTIFICATE_FIELD: &str = "certificate";
const KEY_FIELD: &str = "key";
const NO_CERTIFICATE: &str =
    "Could not load certificate: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)";
const ENCRYPTED_KEY: &str =
    "Could not load private key: the key is encrypted; upload it without a passphrase (openssl pkey -in encrypted.key -out plain.key)";

/// A private key in PEM. A newtype so that it can never leak through `Debug`
/// into a log line; read it with [`PrivateKeyPem::expose`] only to hand it to Dokku.
#[derive(Clone)]
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    /// The PEM text (unencrypted PKCS#8), for the platform and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

/// Why an upload was refused, as `(field, message)` pairs with `certificate`
/// before `key`. Usually one pair; both when neither field can be read, which
/// the reference reports in one response. `?` turns it into a single-field
/// [`DomainError`]; [`CertificateError::into_fields`] gives every pair for the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateError {
    first: (String, String),
    rest: Vec<(String, String)>,
}

impl CertificateError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            first: (field.to_owned(), message.into()),
            rest: Vec::new(),
        }
    }

    /// Every `(field, message)` pair, in the order checked.
    pub fn into_fields(self) -> Vec<(String, String)> {
        std::iter::once(self.first).chain(self.rest).collect()
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, message) = &self.first;
        write!(f, "{field}: {message}")?;
        for (field, message) in &self.rest {
            write!(f, "; {field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CertificateError {}

impl From<CertificateError> for DomainError {
    fn from(err: CertificateError) -> Self {
        let (field, message) = err.first;
        DomainError::field(field, message)
    }
}

/// A certificate chain and matching private key that passed validation, with
/// the fields the API reports. Only [`CertificateInfo::from_pem`] builds one, so
/// holding it proves the pair is usable.
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    common_name: String,
    san: Vec<String>,
    fingerprint: String,
    starts: DateTime<Utc>,
    expires: DateTime<Utc>,
    issuer: String,
    subject: String,
    chain_pem: String,
    key_pem: PrivateKeyPem,
}

impl CertificateInfo {
    /// Parses an uploaded certificate chain (leaf first; intermediates may
    /// follow) and its unencrypted RSA or EC private key (PKCS#1, SEC1 or PKCS#8).
    ///
    /// Errors name the `certificate` or `key` field; when neither can be read
    /// the error carries both, as the reference answers.
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<Self, CertificateError> {
        let (chain, key) = match (load_chain(certificate_pem), load_key(key_pem)) {
            (Ok(chain), Ok(key)) => (chain, key),
            (Err(cert_err), Err(key_err)) => {
                return Err(CertificateError {
                    first: (CERTIFICATE_FIELD.to_owned(), cert_err),
                    rest: vec![(KEY_FIELD.to_owned(), key_err)],
                })
            }
            (Err(cert_err), Ok(_)) => {
                return Err(CertificateError::new(CERTIFICATE_FIELD, cert_err))
            }
            (Ok(_), Err(key_err)) => return Err(CertificateError::new(KEY_FIELD, key_err)),
        };
        let Some((leaf, leaf_der)) = chain.first() else {
            return Err(CertificateError::new(CERTIFICATE_FIELD, NO_CERTIFICATE));
        };

        let leaf_key = leaf.public_key().map_err(|e| cert_error(&e))?;
        if !leaf_key.public_eq(&key) {
            return Err(CertificateError::new(
                KEY_FIELD,
                "Certificate and private key do not match! The key must belong to the first certificate in the chain.",
            ));
        }

        let (_, parsed) = X509Certificate::from_der(leaf_der).map_err(|e| {
            CertificateError::new(
                CERTIFICATE_FIELD,
                format!("Could not load certificate: {e}"),
            )
        })?;
        let san = san_dns_names(&parsed)?;
        let validity = parsed.validity();
        let starts = timestamp(validity.not_before.timestamp())?;
        let expires = timestamp(validity.not_after.timestamp())?;

        let common_name = leaf
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .map(|entry| entry_text(entry.data()))
            .unwrap_or_default();

        let mut chain_pem = String::new();
        for (cert, _) in &chain {
            let pem = cert.to_pem().map_err(|e| cert_error(&e))?;
            chain_pem.push_str(&String::from_utf8_lossy(&pem));
        }
        let key_pem = key
            .private_key_to_pem_pkcs8()
            .map_err(|e| CertificateError::new(KEY_FIELD, key_error(&e)))?;

        Ok(Self {
            common_name,
            san,
            fingerprint: colon_hex(&Sha256::digest(leaf_der)),
            starts,
            expires,
            issuer: oneline(leaf.issuer_name()),
            subject: oneline(leaf.subject_name()),
            chain_pem,
            key_pem: PrivateKeyPem(String::from_utf8_lossy(&key_pem).into_owned()),
        })
    }

    /// The subject's first common name, or empty when it has none.
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// The DNS names of the subjectAltName extension, in certificate order.
    pub fn san(&self) -> &[String] {
        &self.san
    }

    /// SHA-256 of the leaf's DER as uppercase hex pairs joined by `:`, as
    /// `openssl x509 -fingerprint -sha256` prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The leaf's notBefore.
    pub fn starts(&self) -> DateTime<Utc> {
        self.starts
    }

    /// The leaf's notAfter.
    pub fn expires(&self) -> DateTime<Utc> {
        self.expires
    }

    /// The leaf's issuer in OpenSSL's legacy `/C=US/ST=CA/…/CN=bar.com` form, as the reference shows it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The leaf's subject in the same form as [`CertificateInfo::issuer`].
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The chain re-encoded as PEM certificates in upload order (leaf first),
    /// without any text around them: what Dokku installs as the certificate.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// The private key as unencrypted PKCS#8 PEM, for Dokku only.
    pub fn key_pem(&self) -> &PrivateKeyPem {
        &self.key_pem
    }

    /// Whether `now` lies within the leaf's validity period; uploads outside it
    /// are accepted, so the caller can log a warning.
    pub fn is_currently_valid(&self, now: DateTime<Utc>) -> bool {
        self.starts <= now && now <= self.expires
    }

    /// Whether the leaf names `domain` in its common name or a SAN DNS entry,
    /// exactly or through a wildcard one level deep: `*.foo.com` covers
    /// `www.foo.com` but neither `foo.com` nor `a.b.foo.com`.
    pub fn covers(&self, domain: &DomainName) -> bool {
        std::iter::once(&self.common_name)
            .chain(&self.san)
            .any(|name| name_covers(name, &domain.fold()))
    }
}

/// Whether one certificate name matches a (lowercase) hostname.
fn name_covers(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return false;
    }
    if name == domain {
        return true;
    }
    match (name.strip_prefix("*."), domain.split_once('.')) {
        (Some(parent), Some((label, rest))) => {
            !parent.is_empty() && label != "*" && !label.is_empty() && rest == parent
        }
        _ => false,
    }
}

/// The DNS entries of the subjectAltName extension; other kinds (IP, email) are skipped.
fn san_dns_names(cert: &X509Certificate<'_>) -> Result<Vec<String>, CertificateError> {
    let ext = cert.subject_alternative_name().map_err(|e| {
        CertificateError::new(
            CERTIFICATE_FIELD,
            format!("Could not load certificate: invalid subjectAltName extension: {e}"),
        )
    })?;
    Ok(ext
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(escape_controls(dns)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Reads every `CERTIFICATE` block, keeping each one's DER; other PEM blocks are ignored.
fn load_chain(pem: &str) -> Result<Vec<(X509, Vec<u8>)>, String> {
    if pem.len() > MAX_CHAIN_PEM
        || pem.matches("-----BEGIN CERTIFICATE-----").count() > MAX_CHAIN_LEN
    {
        return Err(format!(
            "Could not load certificate: a chain may hold at most {MAX_CHAIN_LEN} certificates in {} KiB",
            MAX_CHAIN_PEM / 1024
        ));
    }
    let certs = X509::stack_from_pem(pem.as_bytes())
        .map_err(|e| format!("Could not load certificate: {}", reasons(&e)))?;
    if certs.is_empty() {
        return Err(NO_CERTIFICATE.to_owned());
    }
    certs
        .into_iter()
        .map(|cert| {
            let der = cert
                .to_der()
                .map_err(|e| format!("Could not load certificate: {}", reasons(&e)))?;
            Ok((cert, der))
        })
        .collect()
}

/// Loads an unencrypted RSA or EC private key and checks its consistency.
fn load_key(pem: &str) -> Result<PKey<Private>, String> {
    if pem.len() > MAX_KEY_PEM {
        return Err(format!(
            "Could not load private key: larger than {} KiB",
            MAX_KEY_PEM / 1024
        ));
    }
    if !pem.contains("-----BEGIN ") || !pem.contains("PRIVATE KEY-----") {
        return Err(
            "Could not load private key: no PEM private key found (expected -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)"
                .to_owned(),
        );
    }
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || pem.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(ENCRYPTED_KEY.to_owned());
    }
    // Never let OpenSSL fall back to prompting on a terminal for a passphrase:
    // answer with an empty one and remember that it was asked.
    let asked = Cell::new(false);
    let key = PKey::private_key_from_pem_callback(pem.as_bytes(), |_| {
        asked.set(true);
        Ok(0)
    })
    .map_err(|e| {
        if asked.get() {
            ENCRYPTED_KEY.to_owned()
        } else {
            key_error(&e)
        }
    })?;
    if key.id() == Id::RSA && key.bits() > MAX_RSA_BITS {
        return Err(format!(
            "Could not load private key: RSA keys larger than {MAX_RSA_BITS} bits are not accepted"
        ));
    }
    let consistent =
        match key.id() {
            Id::RSA => key.rsa().and_then(|rsa| rsa.check_key()).unwrap_or(false),
            Id::EC => key.ec_key().and_then(|ec| ec.check_key()).is_ok(),
            _ => return Err(
                "Could not load private key: unsupported key type; use an RSA or EC (ECDSA) key"
                    .to_owned(),
            ),
        };
    if !consistent {
        return Err(
            "Could not load private key: the key is corrupt (consistency check failed)".to_owned(),
        );
    }
    Ok(key)
}

/// A `certificate` field error from an OpenSSL failure.
fn cert_error(e: &ErrorStack) -> CertificateError {
    CertificateError::new(
        CERTIFICATE_FIELD,
        format!("Could not load certificate: {}", reasons(e)),
    )
}

/// The `key` field message for an OpenSSL failure.
fn key_error(e: &ErrorStack) -> String {
    format!(
        "Could not load private key: {} (expected an unencrypted RSA or EC key in PEM)",
        reasons(e)
    )
}

/// OpenSSL's reason strings only: no source paths or function names.
fn reasons(e: &ErrorStack) -> String {
    let reasons: Vec<&str> = e.errors().iter().filter_map(|err| err.reason()).collect();
    if reasons.is_empty() {
        "unreadable data".to_owned()
    } else {
        reasons.join("; ")
    }
}

/// Seconds since the epoch as a UTC time, refusing what chrono cannot represent.
fn timestamp(secs: i64) -> Result<DateTime<Utc>, CertificateError> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        CertificateError::new(
            CERTIFICATE_FIELD,
            "Could not load certificate: validity date out of range",
        )
    })
}

/// A name in OpenSSL's legacy one-line form: `/SN=value` per entry, values as UTF-8.
fn oneline(name: &X509NameRef) -> String {
    name.entries()
        .map(|entry| {
            let object = entry.object();
            let key = match object.nid() {
                Nid::UNDEF => object.to_string(),
                nid => nid
                    .short_name()
                    .map_or_else(|_| object.to_string(), str::to_owned),
            };
            format!("/{key}={}", entry_text(entry.data()))
        })
        .collect()
}

/// An ASN.1 string as UTF-8, whatever its encoded type, with control
/// characters escaped as OpenSSL does (`\x00`) so that no NUL reaches storage.
fn entry_text(data: &openssl::asn1::Asn1StringRef) -> String {
    let text = data
        .to_string()
        .unwrap_or_else(|_| String::from_utf8_lossy(data.as_slice()).into_owned());
    escape_controls(&text)
}

/// Replaces each control character by its UTF-8 bytes as `\xHH`.
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes as uppercase hex pairs joined by `:`.
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_level_only() {
        let cases = [
            ("foo.com", "foo.com", true),
            ("FOO.com", "foo.com", true),
            ("foo.com.", "foo.com", true),
            ("*.foo.com", "www.foo.com", true),
            ("*.foo.com", "*.foo.com", true),
            ("*.foo.com", "foo.com", false),
            ("*.foo.com", "a.b.foo.com", false),
            ("*.foo.com", "*.b.foo.com", false),
            ("*.foo.com", "www.bar.com", false),
            ("www.foo.com", "*.foo.com", false),
            ("", "foo.com", false),
            ("*.", "a.", false),
        ];
        for (name, domain, want) in cases {
            assert_eq!(name_covers(name, domain), want, "{name} vs {domain}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("good.com\0.evil.com"),
            "good.com\\x00.evil.com"
        );
        assert_eq!(escape_controls("a\u{85}b\tc"), "a\\xC2\\x85b\\x09c");
        assert_eq!(escape_controls("Zürich"), "Zürich");
    }

    #[test]
    fn key_debug_is_redacted() {
        let key = PrivateKeyPem("-----BEGIN PRIVATE KEY-----\nsecret".into());
        assert_eq!(format!("{key:?}"), "PrivateKeyPem(<redacted>)");
    }
}
