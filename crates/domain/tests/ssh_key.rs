//! `PublicKey::parse` on a table of valid and invalid lines, with keys made by
//! `ssh-keygen` in a temporary directory and fingerprints compared with
//! `ssh-keygen -l -E md5` / `-E sha256`.

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use drydock_domain::ssh_key::{KeyType, PublicKey};
use drydock_domain::DomainError;

/// The key of the reference's "add key" transcript and the fingerprint it answered.
const TRANSCRIPT_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILZlqn28E9eFRMgjdPCaFEgxFmvOq81dfRKDvr2wTp3N root@vm";
const TRANSCRIPT_MD5: &str = "8b:10:4e:18:ae:5e:3d:4e:62:bf:a8:81:70:e8:df:62";

fn ssh_keygen(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("ssh-keygen")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Generates a key pair `name`/`name.pub` and returns the public line (with its newline).
fn generate(dir: &Path, name: &str, key_args: &[&str]) -> String {
    let mut args = vec!["-q", "-N", "", "-C", "alice@laptop", "-f", name];
    args.extend_from_slice(key_args);
    ssh_keygen(dir, &args);
    std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap()
}

/// `ssh-keygen -l -E hash` on a line: the fingerprint without `MD5:` (sha256 keeps `SHA256:`).
fn keygen_fingerprint(dir: &Path, line: &str, hash: &str) -> String {
    let file = dir.join("probe.pub");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let out = ssh_keygen(dir, &["-l", "-E", hash, "-f", file.to_str().unwrap()]);
    let fingerprint = out.split_whitespace().nth(1).unwrap();
    fingerprint
        .strip_prefix("MD5:")
        .unwrap_or(fingerprint)
        .to_owned()
}

/// An SSH wire-format `string`.
fn ssh_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

fn blob_of(line: &str) -> Vec<u8> {
    STANDARD
        .decode(line.split_whitespace().nth(1).unwrap())
        .unwrap()
}

fn line_of(key_type: &str, blob: &[u8], comment: &str) -> String {
    format!("{key_type} {} {comment}", STANDARD.encode(blob))
        .trim_end()
        .to_owned()
}

/// The SEC1 point inside an `ecdsa-sha2-nistp256` blob (type, curve, point).
fn p256_point(blob: &[u8]) -> Vec<u8> {
    let skip = 4 + 19 + 4 + 8;
    let len = u32::from_be_bytes(blob[skip..skip + 4].try_into().unwrap()) as usize;
    blob[skip + 4..skip + 4 + len].to_vec()
}

enum Expect {
    /// Accepted; the canonical line expected back.
    Valid(String),
    /// Refused under `public` with a message containing this text.
    Invalid(&'static str),
}

#[test]
fn transcript_key_has_the_reference_fingerprint() {
    let key = PublicKey::parse(TRANSCRIPT_KEY).unwrap();
    assert_eq!(key.fingerprint_md5(), TRANSCRIPT_MD5);
    assert_eq!(
        key.fingerprint_sha256(),
        "SHA256:xfEcdWwFC8dQi1Ov9xsvnZkwqJr9J4+NTdhkd53C4rg"
    );
    assert_eq!(key.key_type(), KeyType::Ed25519);
    assert_eq!(key.comment(), Some("root@vm"));
    assert_eq!(key.to_openssh(), TRANSCRIPT_KEY);
    assert_eq!(key.to_string(), TRANSCRIPT_KEY);
    let debug = format!("{key:?}");
    assert!(debug.contains("SHA256:xfEc"), "{debug}");
}

#[test]
fn key_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rsa2048 = generate(dir, "rsa2048", &["-t", "rsa", "-b", "2048"]);
    let rsa3072 = generate(dir, "rsa3072", &["-t", "rsa", "-b", "3072"]);
    let rsa1024 = generate(dir, "rsa1024", &["-t", "rsa", "-b", "1024"]);
    let ed25519 = generate(dir, "ed25519", &["-t", "ed25519"]);
    let p256 = generate(dir, "p256", &["-t", "ecdsa", "-b", "256"]);
    let p384 = generate(dir, "p384", &["-t", "ecdsa", "-b", "384"]);
    let p521 = generate(dir, "p521", &["-t", "ecdsa", "-b", "521"]);
    let ed_private = std::fs::read_to_string(dir.join("ed25519")).unwrap();
    let rfc4716 = ssh_keygen(dir, &["-e", "-f", "ed25519.pub"]);
    let pem_public = ssh_keygen(dir, &["-e", "-m", "PKCS8", "-f", "p256.pub"]);

    let ed_blob = blob_of(&ed25519);
    let p256_blob = blob_of(&p256);
    let ed_b64 = STANDARD.encode(&ed_blob);
    let p256_b64 = STANDARD.encode(&p256_blob);
    assert!(
        p256_b64.ends_with('='),
        "the padding case needs a padded blob"
    );

    // Security-key variants, built from the generated keys' public parts.
    let sk_ecdsa = line_of(
        "sk-ecdsa-sha2-nistp256@openssh.com",
        &[
            ssh_string(b"sk-ecdsa-sha2-nistp256@openssh.com"),
            ssh_string(b"nistp256"),
            ssh_string(&p256_point(&p256_blob)),
            ssh_string(b"ssh:"),
        ]
        .concat(),
        "yubikey",
    );
    let sk_ed25519 = line_of(
        "sk-ssh-ed25519@openssh.com",
        &[
            ssh_string(b"sk-ssh-ed25519@openssh.com"),
            ssh_string(&ed_blob[ed_blob.len() - 32..]),
            ssh_string(b"ssh:"),
        ]
        .concat(),
        "",
    );

    let mut trailing = ed_blob.clone();
    trailing.push(0);
    let mut off_curve = p256_blob.clone();
    *off_curve.last_mut().unwrap() ^= 0x01;
    let short_ed = [
        ssh_string(b"ssh-ed25519"),
        ssh_string(&ed_blob[ed_blob.len() - 31..]),
    ]
    .concat();

    let valid = |line: &str| Expect::Valid(line.trim().to_owned());
    let cases: Vec<(&str, String, Expect)> = vec![
        ("transcript", TRANSCRIPT_KEY.into(), valid(TRANSCRIPT_KEY)),
        ("rsa 2048", rsa2048.clone(), valid(&rsa2048)),
        ("rsa 3072", rsa3072.clone(), valid(&rsa3072)),
        ("ed25519", ed25519.clone(), valid(&ed25519)),
        ("ecdsa p256", p256.clone(), valid(&p256)),
        ("ecdsa p384", p384.clone(), valid(&p384)),
        ("ecdsa p521", p521.clone(), valid(&p521)),
        ("sk ecdsa", sk_ecdsa.clone(), valid(&sk_ecdsa)),
        ("sk ed25519", sk_ed25519.clone(), valid(&sk_ed25519)),
        (
            "no comment",
            format!("ssh-ed25519 {ed_b64}"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64}")),
        ),
        (
            "comment with spaces",
            format!("ssh-ed25519 {ed_b64} alice on her laptop"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64} alice on her laptop")),
        ),
        (
            "extra blanks",
            format!("  ssh-ed25519\t {ed_b64} \t alice@x  \n"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64} alice@x")),
        ),
        (
            "crlf ending",
            format!("ssh-ed25519 {ed_b64} alice@x\r\n"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64} alice@x")),
        ),
        (
            "control chars in comment",
            format!("ssh-ed25519 {ed_b64} ali\u{7}ce\u{1b}[31m\u{0}"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64} alice[31m")),
        ),
        (
            "comment of control chars only",
            format!("ssh-ed25519 {ed_b64} \u{1b}\u{7f}"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64}")),
        ),
        (
            "unicode comment",
            format!("ssh-ed25519 {ed_b64} jürgen@büro"),
            Expect::Valid(format!("ssh-ed25519 {ed_b64} jürgen@büro")),
        ),
        ("empty", String::new(), Expect::Invalid("empty")),
        ("blank", "  \t\n".into(), Expect::Invalid("empty")),
        (
            "type only",
            "ssh-ed25519".into(),
            Expect::Invalid("Key contains invalid base64 chars"),
        ),
        (
            "one word",
            "garbage".into(),
            Expect::Invalid("Key contains invalid base64 chars"),
        ),
        (
            "not base64",
            "ssh-ed25519 !!!notbase64!!! x".into(),
            Expect::Invalid("invalid base64"),
        ),
        (
            "base64 junk appended",
            format!("ssh-ed25519 {ed_b64}x"),
            Expect::Invalid("invalid base64"),
        ),
        (
            "padding stripped",
            format!("ecdsa-sha2-nistp256 {}", p256_b64.trim_end_matches('=')),
            Expect::Invalid("invalid base64"),
        ),
        (
            "rsa prefix on ed25519 blob",
            format!("ssh-rsa {ed_b64} x"),
            Expect::Invalid("does not match the key data, which is ssh-ed25519"),
        ),
        (
            "p384 prefix on p256 blob",
            format!("ecdsa-sha2-nistp384 {p256_b64}"),
            Expect::Invalid("does not match"),
        ),
        (
            "trailing bytes in blob",
            line_of("ssh-ed25519", &trailing, ""),
            Expect::Invalid("malformed"),
        ),
        (
            "truncated blob",
            line_of("ssh-ed25519", &ed_blob[..40], ""),
            Expect::Invalid("malformed"),
        ),
        (
            "ed25519 key of 31 bytes",
            line_of("ssh-ed25519", &short_ed, ""),
            Expect::Invalid("malformed"),
        ),
        (
            "point off the curve",
            line_of("ecdsa-sha2-nistp256", &off_curve, ""),
            Expect::Invalid("not on its curve"),
        ),
        (
            "two lines",
            format!("{ed25519}{p256}"),
            Expect::Invalid("single line"),
        ),
        (
            "carriage return inside",
            format!("ssh-ed25519 {ed_b64}\rx"),
            Expect::Invalid("single line"),
        ),
        (
            "two keys on one line",
            format!("{} {}", ed25519.trim(), p256.trim()),
            Expect::Invalid("one public key"),
        ),
        (
            "no-pty option",
            format!("no-pty {}", ed25519.trim()),
            Expect::Invalid("options"),
        ),
        (
            "command option",
            format!("command=\"ls -la\",no-port-forwarding {}", ed25519.trim()),
            Expect::Invalid("options"),
        ),
        (
            "dsa",
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP1 x".into(),
            Expect::Invalid("DSA keys are no longer supported"),
        ),
        ("private key", ed_private, Expect::Invalid("private key")),
        ("rfc 4716", rfc4716, Expect::Invalid("OpenSSH format")),
        (
            "pem public key",
            pem_public,
            Expect::Invalid("OpenSSH format"),
        ),
        (
            "rsa 1024",
            rsa1024,
            Expect::Invalid("at least 2048 bits (this one has 1024)"),
        ),
        (
            "unknown type",
            format!("ssh-foo {ed_b64}"),
            Expect::Invalid("Unsupported key type"),
        ),
        (
            "certificate type",
            format!("ssh-ed25519-cert-v01@openssh.com {ed_b64}"),
            Expect::Invalid("Unsupported key type"),
        ),
        (
            "too long",
            format!("ssh-ed25519 {ed_b64} {}", "a".repeat(20_000)),
            Expect::Invalid("too long"),
        ),
    ];
    assert!(cases.len() >= 30);

    for (name, line, expect) in cases {
        let result = PublicKey::parse(&line);
        match expect {
            Expect::Valid(canonical) => {
                let key = result.unwrap_or_else(|e| panic!("{name}: refused: {e}"));
                assert_eq!(key.to_openssh(), canonical, "{name}");
                assert_eq!(
                    key.fingerprint_md5(),
                    keygen_fingerprint(dir, &canonical, "md5"),
                    "{name}"
                );
                assert_eq!(
                    key.fingerprint_sha256(),
                    keygen_fingerprint(dir, &canonical, "sha256"),
                    "{name}"
                );
                assert_eq!(
                    PublicKey::parse(&key.to_openssh()).unwrap(),
                    key,
                    "{name}: canonical form re-parses"
                );
            }
            Expect::Invalid(needle) => match result {
                Err(DomainError::Field { field, message }) => {
                    assert_eq!(field, "public", "{name}");
                    assert!(message.contains(needle), "{name}: {message:?}");
                }
                other => panic!("{name}: expected a field error, got {other:?}"),
            },
        }
    }
}

#[test]
fn key_types_and_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (args, key_type) in [
        (&["-t", "rsa", "-b", "2048"][..], KeyType::Rsa),
        (&["-t", "ed25519"][..], KeyType::Ed25519),
        (&["-t", "ecdsa", "-b", "256"][..], KeyType::EcdsaP256),
        (&["-t", "ecdsa", "-b", "384"][..], KeyType::EcdsaP384),
        (&["-t", "ecdsa", "-b", "521"][..], KeyType::EcdsaP521),
    ] {
        let line = generate(dir, key_type.as_str(), args);
        let key = PublicKey::parse(&line).unwrap();
        assert_eq!(key.key_type(), key_type);
        assert_eq!(key.comment(), Some("alice@laptop"));
        assert!(line.starts_with(&format!("{key_type} ")));
    }
    let bare = TRANSCRIPT_KEY.trim_end_matches(" root@vm");
    assert_eq!(PublicKey::parse(bare).unwrap().comment(), None);
}
