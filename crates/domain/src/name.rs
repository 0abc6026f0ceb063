//! Validated names. Each newtype can only be built through `parse`, so code that
//! holds one knows it is safe to pass to Dokku as a single shell-free word.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::DomainError;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

static APP_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([a-z0-9-]*[a-z0-9])?$").expect("static regex"));
static PROC_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").expect("static regex"));
static KEY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("static regex"));
static SLUG_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$").expect("static regex"));
static SSH_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$").expect("static regex"));
static POD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.-]*$").expect("static regex"));

/// Names the platform keeps for itself; an app may not take them.
pub const RESERVED_APP_NAMES: &[&str] = &["drycc", "deis", "dokku", "drydock", "kube-system"];

name_type!(
    /// An application id: lowercase letters, digits and dashes, starting with a
    /// letter, at most 63 characters (a DNS label, as Dokku's vhosts need).
    AppName
);

impl AppName {
    /// Validates an app id with the reference's message.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.chars().count() > 63 {
            return Err(DomainError::field(
                "id",
                "Ensure this field has no more than 63 characters.",
            ));
        }
        if !APP_RE.is_match(s) {
            return Err(DomainError::field(
                "id",
                "App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Whether the platform reserves this name.
    pub fn is_reserved(&self) -> bool {
        RESERVED_APP_NAMES.contains(&self.0.as_str())
    }
}

/// The reference's message for a process type it refuses, wherever one is named.
pub const PROCTYPE_MISMATCH: &str =
    "Process types can only contain lowercase alphanumeric characters";

name_type!(
    /// A process type from a Procfile (`web`, `worker`, `cmd`, …).
    ProcessType
);

impl ProcessType {
    /// Validates a process type as the reference's Procfile rules do.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() || s.len() > 63 || !PROC_RE.is_match(s) {
            return Err(DomainError::field("procfile", PROCTYPE_MISMATCH));
        }
        Ok(Self(s.to_owned()))
    }

    /// The type an image without a Procfile runs as.
    pub fn cmd() -> Self {
        Self("cmd".into())
    }

    /// The conventional web process type.
    pub fn web() -> Self {
        Self("web".into())
    }
}

name_type!(
    /// An environment variable name.
    ConfigKey
);

impl ConfigKey {
    /// Validates a config key with the reference's message.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() > 1024 || !KEY_RE.is_match(s) {
            return Err(DomainError::field(
                "values",
                "Config keys must start with a letter or underscore and only contain [A-z0-9_]",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

name_type!(
    /// A hostname routed to an app, as the reference keeps it: one trailing
    /// dot dropped, each label in its ACE (punycode) form with ASCII case as
    /// written, a `*` allowed only as the whole first label, at most 253
    /// characters. [`DomainName::fold`] is the form names are compared and
    /// sent to Dokku in.
    DomainName
);

/// One label in its ACE form, or why it has none (worded as Python's idna,
/// which the reference reports).
fn ace_label(label: &str) -> Result<String, String> {
    let not_a_label = || format!("The label b'{label}' is not a valid A-label");
    if label.is_empty() {
        return Err("Empty Label".into());
    }
    let ace = if label.is_ascii() {
        let lower = label.to_ascii_lowercase();
        let ldh = lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !lower.starts_with('-')
            && !lower.ends_with('-');
        let punycode = lower.starts_with("xn--");
        if !ldh || (lower.get(2..4) == Some("--") && !punycode) {
            return Err(not_a_label());
        }
        if punycode && idna::domain_to_ascii_strict(&lower).ok().as_deref() != Some(lower.as_str())
        {
            return Err(not_a_label());
        }
        label.to_owned()
    } else {
        // IDNA2008 admits letters, digits and marks (which Unicode counts as
        // alphabetic) and hyphens; UTS 46, which the idna crate applies, also
        // admits symbols such as ✓, which the reference refuses.
        let refused = label
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '-'));
        let codepoint = |(at, c): (usize, char)| {
            format!(
                "Codepoint U+{:04X} at position {} of '{label}' not allowed",
                c as u32,
                at + 1
            )
        };
        if let Some(found) = refused {
            return Err(codepoint(found));
        }
        idna::domain_to_ascii_strict(label).map_err(|_| not_a_label())?
    };
    if ace.len() > 63 {
        return Err("Label too long".into());
    }
    Ok(ace)
}

impl DomainName {
    /// Validates a hostname as the reference does, converting IDN labels to ACE.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = |m: String| DomainError::field("domain", m);
        let value = s.strip_suffix('.').unwrap_or(s);
        if value == "*" {
            return Err(bad("Hostname can't only be a wildcard".into()));
        }
        let mut labels: Vec<&str> = value.split('.').collect();
        let wildcard = labels.first() == Some(&"*");
        if wildcard {
            labels.remove(0);
        }
        let mut ace = labels
            .iter()
            .map(|l| ace_label(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| {
                bad(format!(
                    "Hostname does not look valid, could not convert to ACE {value}: {why}"
                ))
            })?;
        // RFC 3696: a top-level domain is never all digits, which also keeps IP addresses out.
        if ace
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad("Hostname does not look valid.".into()));
        }
        if wildcard {
            ace.insert(0, "*".into());
        }
        let ace = ace.join(".");
        if ace.len() > 253 {
            return Err(bad("Hostname must be 253 characters or less.".into()));
        }
        Ok(Self(ace))
    }

    /// Whether this is a wildcard (`*.example.com`).
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// The name in lower case: how names are compared (`MYDOMAIN.NET` is
    /// `mydomain.net` to DNS and to nginx) and how Dokku is given them.
    pub fn fold(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

name_type!(
    /// A certificate's name: a slug of lowercase letters, digits and dashes.
    CertName
);

impl CertName {
    /// Validates a certificate name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() > 253 || !SLUG_RE.is_match(s) {
            return Err(DomainError::field(
                "name",
                "Certificate names can only contain lowercase alphanumeric characters and dashes, and must start and end with an alphanumeric character",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

name_type!(
    /// The name under which a public key is registered with Dokku's ssh-keys.
    SshKeyName
);

impl SshKeyName {
    /// Validates a key name: letters, digits, `.`, `_`, `@`, `-`, at most 128 characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() > 128 || !SSH_NAME_RE.is_match(s) {
            return Err(DomainError::field(
                "id",
                "Key ids can only contain letters, digits, '.', '_', '@' and '-', and must start with a letter or digit",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

name_type!(
    /// A container (pod) name as Dokku reports it, e.g. `myapp.web.1`.
    PodName
);

impl PodName {
    /// Validates a pod name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() > 253 || !POD_RE.is_match(s) {
            return Err(DomainError::NotFound(format!(
                "Container {s} does not exist in application"
            )));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for ok in ["a", "myapp", "my-app-2", "a1"] {
            assert!(AppName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "My_App",
            "1app",
            "app-",
            "-app",
            "a b",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad}");
        }
        assert!(AppName::parse("drycc").unwrap().is_reserved());
    }

    #[test]
    fn config_keys() {
        assert!(ConfigKey::parse("_A1").is_ok());
        assert!(ConfigKey::parse("1BAD-KEY").is_err());
        assert!(ConfigKey::parse("A B").is_err());
    }

    #[test]
    fn domains() {
        let long_label = "a".repeat(63);
        let max_len = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(61));
        assert_eq!(max_len.len(), 253);
        let valid: &[&str] = &[
            "myapp",
            "foo.example.com",
            "*.example.com",
            "a-b.c0.io",
            "a",
            "a.b",
            "1.example.com",
            "123abc.com",
            "x1",
            "www.foo-bar.co.uk",
            "xn--bcher-kva.de",
            "a--b.example.com",
            "*.com",
            "foo.b1",
            &format!("{long_label}.com"),
            &max_len,
        ];
        for ok in valid {
            let parsed = DomainName::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(parsed.as_str(), *ok);
            assert_eq!(parsed.is_wildcard(), ok.starts_with("*."), "{ok}");
        }
        // As the reference keeps them: case as written, one trailing dot
        // dropped, IDN labels in ACE.
        for (given, kept, folded) in [
            ("MYDOMAIN.NET", "MYDOMAIN.NET", "mydomain.net"),
            ("foo.com.", "foo.com", "foo.com"),
            ("bücher.de", "xn--bcher-kva.de", "xn--bcher-kva.de"),
            (
                "*.домена.испытание",
                "*.xn--80ahd1agd.xn--80akhbyknj4f",
                "*.xn--80ahd1agd.xn--80akhbyknj4f",
            ),
        ] {
            let parsed = DomainName::parse(given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!((parsed.as_str(), parsed.fold().as_str()), (kept, folded));
        }
        for (bad, message) in [
            ("*", "Hostname can't only be a wildcard"),
            ("django.pa--assandbox", "Hostname does not look valid, could not convert to ACE django.pa--assandbox: The label b'pa--assandbox' is not a valid A-label"),
            ("this-is-an.invalid.1", "Hostname does not look valid."),
            (&".".repeat(0).chars().chain("a.".repeat(127).chars()).chain("a".chars()).collect::<String>(), "Hostname must be 253 characters or less."),
        ] {
            assert_eq!(DomainName::parse(bad), Err(DomainError::field("domain", message)));
        }
        let invalid: &[&str] = &[
            "",
            "bad_domain!",
            "a..b",
            "*",
            "*.",
            "a.*.b",
            "*.*.foo.com",
            "**.foo.com",
            "*foo.com",
            "foo*.com",
            "-a.com",
            "a-.com",
            "a b.com",
            " foo.com",
            "foo.com ",
            ".foo.com",
            "foo..com",
            "_dmarc.foo.com",
            "foo_bar.com",
            "foo.com/path",
            "foo.com:80",
            "user@foo.com",
            "1.2.3.4",
            "123",
            "foo.123",
            "[::1]",
            "foo.com\n",
            "foo.com\0",
            &format!("{}a.com", long_label),
            &format!("a{max_len}"),
        ];
        for bad in invalid {
            match DomainName::parse(bad) {
                Err(DomainError::Field { field, message }) => {
                    assert_eq!(field, "domain", "{bad:?}");
                    assert!(message.starts_with("Hostname"), "{bad:?}: {message}");
                }
                other => panic!("{bad:?}: expected a domain error, got {other:?}"),
            }
        }
        assert!(valid.len() + invalid.len() >= 30);
    }
}
