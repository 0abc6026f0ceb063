//! Tolerant decoding of dokku-daemon reply lines, and cleaning of Dokku's
//! human output for users.
//!
//! The daemon's "JSON" is `{"ok":true|false,"output":"…"}` where only newlines
//! and double quotes are escaped (dokku-commands §1.7): backslashes, tabs,
//! control bytes and invalid UTF-8 pass through raw, so a strict JSON parser
//! would reject or mis-decode many real replies. This module never loses the
//! `ok` flag: it reads it from the fixed prefix and un-escapes the body by hand.
//! Nothing here does IO.

use drydock_domain::platform::PlatformError;
use serde::de::DeserializeOwned;
use thiserror::Error;

const OK_PREFIX: &[u8] = br#"{"ok":true,"output":""#;
const FAIL_PREFIX: &[u8] = br#"{"ok":false,"output":""#;
const SUFFIX: &[u8] = br#""}"#;

/// Dokku's error line prefix (` !     message`, printed by `dokku_log_fail`).
const ERROR_PREFIX: &str = " !     ";
/// Prefixes of Dokku's informational lines, stripped from user messages.
const INFO_PREFIXES: [&str; 3] = ["-----> ", "=====> ", "       "];

/// A reply line that does not have the daemon's shape; carries the raw bytes
/// so the log shows exactly what arrived.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ReplyError {
    /// What was wrong.
    pub message: String,
    /// The bytes received (the whole line, or the decoded payload for JSON errors).
    pub raw: Vec<u8>,
}

impl From<ReplyError> for PlatformError {
    fn from(e: ReplyError) -> Self {
        PlatformError::Protocol {
            message: e.message,
            raw: e.raw,
        }
    }
}

/// One decoded reply: the `ok` flag and the still-escaped body, so callers can
/// choose the text decoding or the JSON-payload decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    ok: bool,
    body: Vec<u8>,
}

impl Reply {
    /// Parses one reply line (with or without its trailing `\n`).
    pub fn parse(line: &[u8]) -> Result<Self, ReplyError> {
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        let (ok, rest) = if let Some(rest) = trimmed.strip_prefix(OK_PREFIX) {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix(FAIL_PREFIX) {
            (false, rest)
        } else {
            return Err(ReplyError {
                message: "reply does not start with {\"ok\":…,\"output\":\"".into(),
                raw: line.to_vec(),
            });
        };
        let body = rest.strip_suffix(SUFFIX).ok_or_else(|| ReplyError {
            message: "reply does not end with \"}".into(),
            raw: line.to_vec(),
        })?;
        Ok(Self {
            ok,
            body: body.to_vec(),
        })
    }

    /// Whether the daemon reported success (exit status 0 of `dokku`).
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// The output bytes: `\"` → `"` and `\n` → newline; every other byte,
    /// including a lone backslash, kept as is (an original two-character `\n`
    /// is indistinguishable from a newline — the daemon's loss, not ours).
    pub fn output_bytes(&self) -> Vec<u8> {
        unescape(&self.body, true)
    }

    /// The output as text (invalid UTF-8 replaced), for logs and messages.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output_bytes()).into_owned()
    }

    /// The output as a JSON document printed by Dokku (`--format json`,
    /// `ps:inspect`): only `\"` is un-escaped, and `\n` becomes a newline only
    /// outside string literals, so string contents come back byte-for-byte.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ReplyError> {
        let payload = json_payload(&self.body);
        serde_json::from_slice(&payload).map_err(|e| ReplyError {
            message: format!("output is not the expected JSON: {e}"),
            raw: payload,
        })
    }

    /// The output cleaned for a person: ANSI codes, carriage returns and
    /// Dokku's line prefixes removed; if Dokku printed error lines, only those.
    pub fn message(&self) -> String {
        user_message(&self.output())
    }
}

fn unescape(body: &[u8], newlines: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'\\', Some(b'"')) => {
                out.push(b'"');
                i += 2;
            }
            (b'\\', Some(b'n')) if newlines => {
                out.push(b'\n');
                i += 2;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Undoes the daemon's encoding of a JSON document: `\"` → `"` everywhere,
/// `\n` → newline only between tokens (a JSON document has no backslash
/// outside strings, so any `\n` there was a real newline).
fn json_payload(body: &[u8]) -> Vec<u8> {
    let quoted = unescape(body, false);
    let mut out = Vec::with_capacity(quoted.len());
    let mut in_string = false;
    let mut i = 0;
    while i < quoted.len() {
        let b = quoted[i];
        if in_string {
            out.push(b);
            match b {
                b'\\' => {
                    if let Some(&next) = quoted.get(i + 1) {
                        out.push(next);
                        i += 1;
                    }
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'\\' && quoted.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 1;
        } else {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
        i += 1;
    }
    out
}

/// Removes ANSI escape sequences (CSI `ESC [ … final`, and two-byte `ESC x`)
/// and resolves carriage returns the way a terminal shows them: of a line
/// rewritten with `\r` (progress bars) only the last non-empty segment stays.
pub fn strip_terminal_codes(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            plain.push(c);
            continue;
        }
        // CSI: parameters and intermediates up to a final byte; any other
        // escape is two bytes long and the second was just consumed.
        if chars.next() == Some('[') {
            for p in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&p) {
                    break;
                }
            }
        }
    }
    plain
        .split('\n')
        .map(|line| line.split('\r').rfind(|seg| !seg.is_empty()).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns Dokku's output into a message for a user: terminal codes stripped,
/// ` !     `/`-----> `/`=====> ` and detail indentation removed, blank lines
/// dropped. When Dokku printed error lines (` !     …`) only those are kept,
/// since the rest is progress chatter.
pub fn user_message(output: &str) -> String {
    let plain = strip_terminal_codes(output);
    let errors: Vec<&str> = plain
        .lines()
        .filter_map(|l| l.strip_prefix(ERROR_PREFIX))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if !errors.is_empty() {
        return errors.join("\n");
    }
    let lines: Vec<&str> = plain
        .lines()
        .map(|l| {
            INFO_PREFIXES
                .iter()
                .find_map(|p| l.strip_prefix(p))
                .unwrap_or(l)
                .trim()
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

/// Whether Dokku's output contains an error line (` !     …`).
pub fn has_error_line(output: &str) -> bool {
    strip_terminal_codes(output)
        .lines()
        .any(|l| l.starts_with(ERROR_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ok: bool, body: &[u8]) -> Vec<u8> {
        let mut v = if ok { OK_PREFIX } else { FAIL_PREFIX }.to_vec();
        v.extend_from_slice(body);
        v.extend_from_slice(b"\"}\n");
        v
    }

    #[test]
    fn ok_flag_and_plain_output() {
        let r = Reply::parse(&line(true, b"hello")).unwrap();
        assert!(r.ok());
        assert_eq!(r.output(), "hello");
        let r = Reply::parse(&line(false, b"Invalid command")).unwrap();
        assert!(!r.ok());
        assert_eq!(r.message(), "Invalid command");
    }

    #[test]
    fn empty_output() {
        let r = Reply::parse(&line(true, b"")).unwrap();
        assert_eq!(r.output_bytes(), b"");
        assert_eq!(r.message(), "");
    }

    #[test]
    fn escapes_and_raw_bytes() {
        // Raw backslash, tab, control byte, invalid UTF-8, escaped quote, escaped newline.
        let body = b"a\\b\tc\x01d\xffe\\\"f\\ng\\";
        let r = Reply::parse(&line(true, body)).unwrap();
        assert_eq!(r.output_bytes(), b"a\\b\tc\x01d\xffe\"f\ng\\");
        assert!(r.output().contains('\u{fffd}'));
    }

    #[test]
    fn backslash_before_quote_round_trips() {
        // Original output `x\"y`: the encoder escapes only the quote.
        let r = Reply::parse(&line(true, b"x\\\\\"y")).unwrap();
        assert_eq!(r.output_bytes(), b"x\\\"y");
    }

    #[test]
    fn truncated_and_garbage_lines_are_typed_errors() {
        for bad in [
            &b"{\"ok\":true,\"output\":\"no end"[..],
            b"{\"ok\":tru",
            b"",
            b"\x00\xffgarbage\n",
            b"{\"ok\": true, \"output\": \"spaced\"}",
        ] {
            let e = Reply::parse(bad).unwrap_err();
            assert_eq!(e.raw, bad);
            assert!(matches!(
                PlatformError::from(e),
                PlatformError::Protocol { .. }
            ));
        }
    }

    #[test]
    fn one_megabyte_output() {
        let big = vec![b'x'; 1 << 20];
        let r = Reply::parse(&line(true, &big)).unwrap();
        assert_eq!(r.output_bytes().len(), 1 << 20);
    }

    #[test]
    fn json_payload_keeps_string_escapes() {
        // Go's json.Marshal output {"K":"a\nb\\n\"q\"\t<"} as the daemon encodes it.
        let original = br#"{"K":"a\nb\\n\"q\"\t\u003c"}"#;
        let mut encoded = Vec::new();
        for &b in original.iter() {
            if b == b'"' {
                encoded.extend_from_slice(b"\\\"");
            } else {
                encoded.push(b);
            }
        }
        let r = Reply::parse(&line(true, &encoded)).unwrap();
        let v: std::collections::BTreeMap<String, String> = r.json().unwrap();
        assert_eq!(v["K"], "a\nb\\n\"q\"\t<");
    }

    #[test]
    fn pretty_json_newlines_outside_strings() {
        let body =
            br#"[\n    {\n        \"Name\": \"/a.web.1\",\n        \"X\": \"l1\nl2\"\n    }\n]"#;
        let r = Reply::parse(&line(true, body)).unwrap();
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v[0]["Name"], "/a.web.1");
        assert_eq!(v[0]["X"], "l1\nl2");
    }

    #[test]
    fn bad_json_is_protocol_error() {
        let r = Reply::parse(&line(true, b"not json")).unwrap();
        let e = r.json::<serde_json::Value>().unwrap_err();
        assert_eq!(e.raw, b"not json");
    }

    #[test]
    fn ansi_and_carriage_returns() {
        let s = "\u{1b}[36m2024Z app[web.1]:\u{1b}[0m hi\n  1%\r 50%\r100%\r\nend\u{1b}=";
        assert_eq!(strip_terminal_codes(s), "2024Z app[web.1]: hi\n100%\nend");
    }

    #[test]
    fn dokku_prefixes() {
        let out = "-----> Creating app\n=====> Done\n       detail";
        assert_eq!(user_message(out), "Creating app\nDone\ndetail");
        let out = "-----> Working\n \u{1b}[31m!     \u{1b}[0m nope\n !     App foo does not exist";
        assert_eq!(user_message(out), "nope\nApp foo does not exist");
        assert!(has_error_line(out));
        assert!(!has_error_line("fine"));
    }
}
