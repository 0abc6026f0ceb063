//! `CertificateInfo::from_pem` against certificates made by the `openssl`
//! command in a temporary directory, every parsed field checked against what
//! `openssl x509 -noout -fingerprint -sha256 -subject -issuer -dates -nameopt compat`
//! prints for the same file.

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use drydock_domain::certificate::{CertificateError, CertificateInfo};
use drydock_domain::name::DomainName;
use drydock_domain::DomainError;

const BAR_SUBJECT: &str =
    "/C=US/ST=CA/L=San Francisco/O=Drycc/OU=Engineering/CN=bar.com/emailAddress=engineering@drycc.cc";
/// The original Deis controller test suite's certificates (expired, as the reference accepts).
const REFERENCE_CERTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/reference-certs"
);

/// A scratch directory where the `openssl` command runs.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path(name), contents).unwrap();
    }

    /// Runs `openssl args…` in the directory and returns its stdout.
    fn openssl(&self, args: &[&str]) -> String {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.0.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A self-signed certificate `{name}.crt` with its key `{name}.key` (PKCS#8).
    fn self_signed(&self, name: &str, key_args: &[&str], subject: &str, san: Option<&str>) {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj", subject];
        args.extend_from_slice(key_args);
        args.extend_from_slice(&["-keyout", &key, "-out", &crt]);
        let san_ext = san.map(|s| format!("subjectAltName={s}"));
        if let Some(ext) = &san_ext {
            args.extend_from_slice(&["-addext", ext]);
        }
        self.openssl(&args);
    }

    fn parse(&self, crt: &str, key: &str) -> Result<CertificateInfo, CertificateError> {
        CertificateInfo::from_pem(&self.read(crt), &self.read(key))
    }
}

const RSA: &[&str] = &["-newkey", "rsa:2048"];
const EC_P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// What the openssl command says about a certificate file (its first certificate).
#[derive(Debug)]
struct OpensslView {
    fingerprint: String,
    subject: String,
    issuer: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    san: Vec<String>,
}

fn openssl_view(dir: &Dir, crt: &str) -> OpensslView {
    let out = dir.openssl(&[
        "x509",
        "-in",
        crt,
        "-noout",
        "-fingerprint",
        "-sha256",
        "-subject",
        "-issuer",
        "-dates",
        "-nameopt",
        "compat",
    ]);
    let field = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {out}"))
            .to_owned()
    };
    let date = |prefix: &str| {
        let text = field(prefix)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        NaiveDateTime::parse_from_str(&text, "%b %d %H:%M:%S %Y GMT")
            .unwrap()
            .and_utc()
    };
    let ext = dir.openssl(&["x509", "-in", crt, "-noout", "-ext", "subjectAltName"]);
    let san = ext
        .lines()
        .skip(1)
        .flat_map(|l| l.split(','))
        .filter_map(|entry| entry.trim().strip_prefix("DNS:"))
        .map(str::to_owned)
        .collect();
    OpensslView {
        fingerprint: field("sha256 Fingerprint="),
        subject: field("subject="),
        issuer: field("issuer="),
        not_before: date("notBefore="),
        not_after: date("notAfter="),
        san,
    }
}

/// Asserts every parsed field equals openssl's view of `crt`.
fn assert_matches_openssl(info: &CertificateInfo, dir: &Dir, crt: &str) {
    let view = openssl_view(dir, crt);
    assert_eq!(info.fingerprint(), view.fingerprint, "fingerprint of {crt}");
    assert_eq!(info.subject(), view.subject, "subject of {crt}");
    assert_eq!(info.issuer(), view.issuer, "issuer of {crt}");
    assert_eq!(info.starts(), view.not_before, "starts of {crt}");
    assert_eq!(info.expires(), view.not_after, "expires of {crt}");
    assert_eq!(info.san(), view.san, "san of {crt}");
    let cn = view
        .subject
        .split('/')
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or("");
    assert_eq!(info.common_name(), cn, "common name of {crt}");
}

fn domain(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

/// The single `(field, message)` of an error, checking it converts to the same `DomainError`.
fn field_error(err: CertificateError) -> (String, String) {
    let domain_error = DomainError::from(err.clone());
    let mut fields = err.into_fields();
    assert_eq!(fields.len(), 1, "expected one field error, got {fields:?}");
    let (field, message) = fields.remove(0);
    assert_eq!(domain_error, DomainError::field(&field, &message));
    (field, message)
}

fn pem_blocks(pem: &str, label: &str) -> usize {
    pem.matches(&format!("-----BEGIN {label}-----")).count()
}

#[test]
fn rsa_without_san_matches_openssl() {
    let dir = Dir::new();
    dir.self_signed("bar", RSA, BAR_SUBJECT, None);
    let info = dir.parse("bar.crt", "bar.key").unwrap();

    assert_matches_openssl(&info, &dir, "bar.crt");
    assert_eq!(info.common_name(), "bar.com");
    assert_eq!(info.subject(), BAR_SUBJECT);
    assert_eq!(info.issuer(), BAR_SUBJECT);
    assert!(info.san().is_empty());
    assert_eq!(info.fingerprint().len(), 32 * 3 - 1);
    assert_eq!(info.expires() - info.starts(), Duration::days(30));
    assert!(info.is_currently_valid(Utc::now()));
    assert_eq!(info.chain_pem(), dir.openssl(&["x509", "-in", "bar.crt"]));
    assert!(info
        .key_pem()
        .expose()
        .starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(info.covers(&domain("bar.com")));
    assert!(!info.covers(&domain("www.bar.com")));
}

#[test]
fn pkcs1_and_pkcs8_rsa_keys_are_equivalent() {
    let dir = Dir::new();
    dir.self_signed("rsa", RSA, "/CN=rsa.example.com", None);
    dir.openssl(&[
        "rsa",
        "-in",
        "rsa.key",
        "-traditional",
        "-out",
        "rsa.pkcs1.key",
    ]);
    assert!(dir
        .read("rsa.key")
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(dir
        .read("rsa.pkcs1.key")
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));

    let pkcs8 = dir.parse("rsa.crt", "rsa.key").unwrap();
    let pkcs1 = dir.parse("rsa.crt", "rsa.pkcs1.key").unwrap();
    assert_matches_openssl(&pkcs1, &dir, "rsa.crt");
    assert_eq!(pkcs1.key_pem().expose(), pkcs8.key_pem().expose());
    assert_eq!(pkcs1.key_pem().expose(), dir.read("rsa.key"));
}

#[test]
fn ec_p256_with_sans_in_sec1_and_pkcs8() {
    let dir = Dir::new();
    dir.self_signed(
        "ec",
        EC_P256,
        "/O=Drycc/CN=foo.example.com",
        Some("DNS:foo.example.com,DNS:www.foo.example.com,IP:127.0.0.1,email:ops@example.com"),
    );
    dir.openssl(&["ec", "-in", "ec.key", "-out", "ec.sec1.key"]);
    assert!(dir
        .read("ec.sec1.key")
        .starts_with("-----BEGIN EC PRIVATE KEY-----"));

    for key in ["ec.key", "ec.sec1.key"] {
        let info = dir.parse("ec.crt", key).unwrap();
        assert_matches_openssl(&info, &dir, "ec.crt");
        assert_eq!(info.san(), ["foo.example.com", "www.foo.example.com"]);
        assert_eq!(info.key_pem().expose(), dir.read("ec.key"));
        assert!(info.covers(&domain("www.foo.example.com")));
        assert!(!info.covers(&domain("api.foo.example.com")));
    }
}

#[test]
fn ecparam_key_with_parameters_block_is_accepted() {
    let dir = Dir::new();
    dir.openssl(&[
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-out",
        "p384.key",
    ]);
    assert!(dir
        .read("p384.key")
        .starts_with("-----BEGIN EC PARAMETERS-----"));
    dir.openssl(&[
        "req",
        "-x509",
        "-key",
        "p384.key",
        "-days",
        "5",
        "-subj",
        "/CN=p384.example.com",
        "-out",
        "p384.crt",
    ]);
    let info = dir.parse("p384.crt", "p384.key").unwrap();
    assert_matches_openssl(&info, &dir, "p384.crt");
    assert_eq!(info.common_name(), "p384.example.com");
}

#[test]
fn wildcard_covers_one_level() {
    let dir = Dir::new();
    dir.self_signed(
        "wild",
        EC_P256,
        "/CN=*.foo.com",
        Some("DNS:*.foo.com,DNS:foo.com"),
    );
    let info = dir.parse("wild.crt", "wild.key").unwrap();
    assert_matches_openssl(&info, &dir, "wild.crt");
    assert_eq!(info.common_name(), "*.foo.com");
    assert_eq!(info.san(), ["*.foo.com", "foo.com"]);
    for (name, covered) in [
        ("www.foo.com", true),
        ("api.foo.com", true),
        ("foo.com", true),
        ("*.foo.com", true),
        ("a.b.foo.com", false),
        ("*.b.foo.com", false),
        ("foo.org", false),
        ("www.foo.org", false),
        ("xfoo.com", false),
    ] {
        assert_eq!(info.covers(&domain(name)), covered, "{name}");
    }
}

/// A CA and a leaf it signed: `ca.crt`/`ca.key`, `leaf.crt`/`leaf.key`.
fn ca_and_leaf(dir: &Dir) {
    dir.openssl(&[
        "req",
        "-x509",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-days",
        "60",
        "-subj",
        "/C=US/O=Drycc/CN=Drycc Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    dir.openssl(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-subj",
        "/CN=leaf.example.com",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    dir.write(
        "leaf.ext",
        "subjectAltName=DNS:leaf.example.com,DNS:alt.example.com\n",
    );
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "10",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.crt",
    ]);
}

#[test]
fn chain_keeps_intermediates_after_the_leaf() {
    let dir = Dir::new();
    ca_and_leaf(&dir);
    // Text around the blocks, as `openssl x509 -text` or a bundle may carry, is dropped.
    let bundle = format!(
        "subject=/CN=leaf.example.com\n{}\nissuer=/C=US/O=Drycc/CN=Drycc Test CA\n{}",
        dir.read("leaf.crt"),
        dir.read("ca.crt")
    );
    dir.write("bundle.crt", &bundle);
    let info = dir.parse("bundle.crt", "leaf.key").unwrap();

    assert_matches_openssl(&info, &dir, "leaf.crt");
    assert_eq!(info.issuer(), "/C=US/O=Drycc/CN=Drycc Test CA");
    assert_eq!(info.subject(), "/CN=leaf.example.com");
    assert_eq!(info.san(), ["leaf.example.com", "alt.example.com"]);
    assert_eq!(pem_blocks(info.chain_pem(), "CERTIFICATE"), 2);
    assert_eq!(
        info.chain_pem(),
        format!("{}{}", dir.read("leaf.crt"), dir.read("ca.crt"))
    );
    assert!(!info.chain_pem().contains("subject="));
}

#[test]
fn chain_is_taken_as_given_and_the_key_must_match_its_first_certificate() {
    let dir = Dir::new();
    ca_and_leaf(&dir);
    dir.write(
        "reversed.crt",
        &format!("{}{}", dir.read("ca.crt"), dir.read("leaf.crt")),
    );
    let (field, message) = field_error(dir.parse("reversed.crt", "leaf.key").unwrap_err());
    assert_eq!(field, "key");
    assert!(message.contains("do not match"), "{message}");

    let info = dir.parse("reversed.crt", "ca.key").unwrap();
    assert_matches_openssl(&info, &dir, "ca.crt");
    assert_eq!(info.common_name(), "Drycc Test CA");
    assert!(info.chain_pem().starts_with(&dir.read("ca.crt")));
}

#[test]
fn expired_reference_fixtures_are_accepted() {
    let dir = Dir::new();
    for name in [
        "autotest.example.com",
        "bar.com",
        "foo.com",
        "self-signed",
        "wildcard.foo.com",
        "www.foo.com",
    ] {
        for ext in ["cert", "key"] {
            let file = format!("{name}.{ext}");
            let text = std::fs::read_to_string(format!("{REFERENCE_CERTS}/{file}")).unwrap();
            dir.write(&file, &text);
        }
        let crt = format!("{name}.cert");
        let info = dir.parse(&crt, &format!("{name}.key")).unwrap();
        assert_matches_openssl(&info, &dir, &crt);
        assert!(
            !info.is_currently_valid(Utc::now()),
            "{name} should be expired"
        );
    }

    let bar = dir.parse("bar.com.cert", "bar.com.key").unwrap();
    // The fingerprint the API v2.3 documentation shows for this very certificate.
    assert_eq!(
        bar.fingerprint(),
        "7A:CA:B8:50:FF:8D:EB:03:3D:AC:AD:13:4F:EE:03:D5:5D:EB:5E:37:51:8C:E0:98:F8:1B:36:2B:20:83:0D:C0"
    );
    assert_eq!(bar.starts().to_rfc3339(), "2016-01-15T23:57:57+00:00");
    assert_eq!(bar.expires().to_rfc3339(), "2017-01-14T23:57:57+00:00");
    assert_eq!(
        dir.parse("self-signed.cert", "self-signed.key")
            .unwrap()
            .common_name(),
        ""
    );
    let wildcard = dir
        .parse("wildcard.foo.com.cert", "wildcard.foo.com.key")
        .unwrap();
    assert_eq!(wildcard.san(), ["foo.com"]);
    assert!(wildcard.covers(&domain("www.foo.com")));
}

#[test]
fn validity_window_is_inclusive() {
    let dir = Dir::new();
    dir.self_signed("v", EC_P256, "/CN=v.example.com", None);
    let info = dir.parse("v.crt", "v.key").unwrap();
    let second = Duration::seconds(1);
    assert!(info.is_currently_valid(info.starts()));
    assert!(info.is_currently_valid(info.expires()));
    assert!(!info.is_currently_valid(info.starts() - second));
    assert!(!info.is_currently_valid(info.expires() + second));
}

#[test]
fn encrypted_keys_are_refused() {
    let dir = Dir::new();
    dir.self_signed("enc", RSA, "/CN=enc.example.com", None);
    dir.openssl(&[
        "pkey",
        "-in",
        "enc.key",
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        "enc.pkcs8.key",
    ]);
    dir.openssl(&[
        "rsa",
        "-in",
        "enc.key",
        "-traditional",
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        "enc.pkcs1.key",
    ]);
    assert!(dir
        .read("enc.pkcs8.key")
        .contains("BEGIN ENCRYPTED PRIVATE KEY"));
    assert!(dir.read("enc.pkcs1.key").contains("Proc-Type: 4,ENCRYPTED"));
    for key in ["enc.pkcs8.key", "enc.pkcs1.key"] {
        let (field, message) = field_error(dir.parse("enc.crt", key).unwrap_err());
        assert_eq!(field, "key");
        assert!(message.contains("encrypted"), "{message}");
    }
}

#[test]
fn mismatched_key_is_refused() {
    let dir = Dir::new();
    dir.self_signed("a", EC_P256, "/CN=a.example.com", None);
    dir.self_signed("b", EC_P256, "/CN=b.example.com", None);
    dir.self_signed("r", RSA, "/CN=r.example.com", None);
    for (crt, key) in [("a.crt", "b.key"), ("a.crt", "r.key"), ("r.crt", "a.key")] {
        let (field, message) = field_error(dir.parse(crt, key).unwrap_err());
        assert_eq!(field, "key", "{crt} + {key}");
        assert_eq!(
            message,
            "Certificate and private key do not match! The key must belong to the first certificate in the chain."
        );
    }
}

#[test]
fn unsupported_key_types_are_refused() {
    let dir = Dir::new();
    dir.self_signed("ed", &["-newkey", "ed25519"], "/CN=ed.example.com", None);
    let (field, message) = field_error(dir.parse("ed.crt", "ed.key").unwrap_err());
    assert_eq!(field, "key");
    assert!(message.contains("unsupported key type"), "{message}");
}

#[test]
fn garbage_is_refused_under_the_right_fields() {
    let dir = Dir::new();
    dir.self_signed("g", EC_P256, "/CN=g.example.com", None);
    let crt = dir.read("g.crt");
    let key = dir.read("g.key");

    let both = CertificateInfo::from_pem("garbage", "garbage").unwrap_err();
    assert!(both
        .to_string()
        .starts_with("certificate: Could not load certificate: "));
    // `?` into the domain error keeps the certificate's message.
    assert!(matches!(
        DomainError::from(both.clone()),
        DomainError::Field { ref field, .. } if field == "certificate"
    ));
    let fields = both.into_fields();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].0, "certificate");
    assert!(fields[0].1.starts_with("Could not load certificate: "));
    assert_eq!(fields[1].0, "key");
    assert!(fields[1].1.starts_with("Could not load private key: "));
    assert_eq!(
        CertificateInfo::from_pem("", "")
            .unwrap_err()
            .into_fields()
            .len(),
        2
    );
    // Swapped fields: neither holds what it should.
    assert_eq!(
        CertificateInfo::from_pem(&key, &crt)
            .unwrap_err()
            .into_fields()
            .len(),
        2
    );

    let (field, message) = field_error(CertificateInfo::from_pem("garbage", &key).unwrap_err());
    assert_eq!(field, "certificate");
    assert!(message.contains("no PEM certificate found"), "{message}");

    let (field, message) = field_error(CertificateInfo::from_pem(&crt, "garbage").unwrap_err());
    assert_eq!(field, "key");
    assert!(message.contains("no PEM private key found"), "{message}");

    // A certificate with a line of its base64 missing.
    let mut lines: Vec<&str> = crt.lines().collect();
    lines.remove(3);
    let truncated = lines.join("\n");
    let (field, message) = field_error(CertificateInfo::from_pem(&truncated, &key).unwrap_err());
    assert_eq!(field, "certificate");
    assert!(
        message.starts_with("Could not load certificate: "),
        "{message}"
    );

    // Valid PEM armour around something that is not a key.
    let fake_key = "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n";
    let (field, message) = field_error(CertificateInfo::from_pem(&crt, fake_key).unwrap_err());
    assert_eq!(field, "key");
    assert!(
        message.starts_with("Could not load private key: "),
        "{message}"
    );
    assert!(
        !message.contains(".c:"),
        "no OpenSSL source paths: {message}"
    );
}

#[test]
fn crlf_line_endings_are_accepted() {
    let dir = Dir::new();
    dir.self_signed("crlf", RSA, "/CN=crlf.example.com", None);
    let crt = dir.read("crlf.crt").replace('\n', "\r\n");
    let key = dir.read("crlf.key").replace('\n', "\r\n");
    let info = CertificateInfo::from_pem(&crt, &key).unwrap();
    assert_matches_openssl(&info, &dir, "crlf.crt");
    assert_eq!(info.chain_pem(), dir.read("crlf.crt"));
}

#[test]
fn debug_never_shows_the_private_key() {
    let dir = Dir::new();
    dir.self_signed("dbg", RSA, "/CN=dbg.example.com", None);
    let info = dir.parse("dbg.crt", "dbg.key").unwrap();
    let debug = format!("{info:?} {info:#?}");
    assert!(debug.contains("PrivateKeyPem(<redacted>)"), "{debug}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    for line in dir
        .read("dbg.key")
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!debug.contains(line), "key material in Debug output");
    }
    assert!(debug.contains("dbg.example.com"));
}

/// A private key with a `bits`-bit modulus and made-up factors: OpenSSL
/// reads it at once, and its consistency check would then run for minutes.
fn bogus_rsa_key(bits: i32) -> String {
    use openssl::bn::BigNum;
    use openssl::rsa::Rsa;
    let big = |bits: i32| {
        let mut n = BigNum::new().unwrap();
        n.rand(bits, openssl::bn::MsbOption::ONE, true).unwrap();
        n
    };
    let rsa = Rsa::from_private_components(
        big(bits),
        BigNum::from_u32(65_537).unwrap(),
        big(bits - 1),
        big(bits / 2),
        big(bits / 2),
        big(bits / 2 - 1),
        big(bits / 2 - 1),
        big(bits / 2 - 1),
    )
    .unwrap();
    String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap()
}

#[test]
fn oversized_keys_and_chains_are_refused_before_any_check() {
    let d = Dir::new();
    d.self_signed("big", RSA, "/CN=big.example.com", None);
    let crt = d.read("big.crt");
    for (bits, refusal) in [
        (65_536, "larger than 16 KiB"),
        (12_288, "larger than 8192 bits"),
    ] {
        let key = bogus_rsa_key(bits);
        assert!(key.len() < 64 * 1024, "small enough for the body limit");
        let fields = CertificateInfo::from_pem(&crt, &key)
            .unwrap_err()
            .into_fields();
        assert!(
            fields
                .iter()
                .any(|(f, m)| f == "key" && m.contains(refusal)),
            "{bits}: {fields:?}"
        );
    }
    let many = crt.repeat(11);
    let err = CertificateInfo::from_pem(&many, &d.read("big.key")).unwrap_err();
    assert!(err
        .into_fields()
        .iter()
        .any(|(f, m)| f == "certificate" && m.contains("at most 10")),);
}
