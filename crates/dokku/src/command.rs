//! The only way to form a dokku-daemon command line — a security boundary.
//!
//! dokku-daemon splits each line on blanks with no quoting, globs tokens that
//! contain `*?[`, treats a `<`/`>` in the second-to-last token as a
//! redirection, and takes a newline as the next command (dokku-commands §1.3–1.5).
//! So a [`Command`] only accepts typed arguments: words chosen by code
//! (`&'static str`), validated names from `drydock_domain::name`, base64 values,
//! numbers, limits, release labels and paths of spool files the adapter wrote.
//! [`Command::build`] re-checks every token anyway:
//!
//! * printable ASCII only (no whitespace, newline, NUL or other control byte),
//!   no `<`, `>`, `\`, and never empty;
//! * no glob character `*?[` — except the leading `*.` of a validated wildcard
//!   [`DomainName`], which the daemon leaves literal unless a file in its
//!   socket directory happens to match (there is none: only the socket);
//! * tokens derived from values (everything but code-chosen words) are limited
//!   to `A-Z a-z 0-9 . _ : / = + @ , -` and never start with `-`;
//! * flags placed after the command word may not be one of the daemon's
//!   stripped global flags (`--quiet --detach --trace --rm-container --rm
//!   --force --app`), whose buggy removal would mangle the line (§1.4); global
//!   flags are typed ([`GlobalFlag`]) and always placed first;
//! * a token is at most 131 071 bytes (Linux's per-argument limit when the
//!   daemon execs `dokku`) and a line at most 1 MiB.
//!
//! The builder never emits a redirection: files reach Dokku as path or
//! `file://` URL arguments, which keep the exit status reliable.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use drydock_domain::limits::{CpuLimit, MemoryLimit};
use drydock_domain::name::{AppName, ConfigKey, DomainName, PodName, ProcessType, SshKeyName};
use drydock_domain::platform::PlatformError;
use thiserror::Error;

use crate::spool::SpoolFile;

/// Linux `MAX_ARG_STRLEN` (32 pages) minus the terminating NUL.
pub const MAX_TOKEN_BYTES: usize = 32 * 4096 - 1;
/// The longest line the builder produces, well under `ARG_MAX` with Dokku's environment.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Flags the daemon strips (buggily) wherever they appear; only valid before the command word.
const DAEMON_STRIPPED_FLAGS: [&str; 7] = [
    "--quiet",
    "--detach",
    "--trace",
    "--rm-container",
    "--rm",
    "--force",
    "--app",
];

/// Why a command line could not be formed; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CommandError {
    /// A token would not survive the daemon's word splitting unchanged.
    #[error("argument {position} ({kind}) is unsafe for dokku-daemon: {reason}")]
    UnsafeArgument {
        /// Zero-based token position in the line.
        position: usize,
        /// What kind of argument it was.
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The whole line is longer than the builder allows.
    #[error("command line of {0} bytes exceeds the {MAX_LINE_BYTES}-byte limit")]
    LineTooLong(usize),
}

impl From<CommandError> for PlatformError {
    fn from(e: CommandError) -> Self {
        PlatformError::InvalidArgument(e.to_string())
    }
}

/// A global Dokku flag, always placed before the command word (dokku-commands §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalFlag {
    /// `--quiet`: suppresses `----->` chatter and the echo of config values.
    Quiet,
    /// `--force`: required by `apps:destroy` (and force-pulls for `git:from-image`).
    Force,
}

impl GlobalFlag {
    fn as_str(self) -> &'static str {
        match self {
            GlobalFlag::Quiet => "--quiet",
            GlobalFlag::Force => "--force",
        }
    }
}

/// A token and where it came from, so the checks know how strict to be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A word chosen by code: the command word, flags, fixed values, the run script.
    Literal(&'static str),
    /// Derived from a value (names, base64, numbers, paths).
    Value { kind: &'static str, text: String },
    /// A validated wildcard domain (`*.example.com`).
    Wildcard(String),
    /// A flag composed by code from a fixed name and a number (`--label=…=v7`).
    Flag(String),
}

/// A command under construction. Every method takes a typed value; nothing
/// accepts a free-form string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    globals: Vec<GlobalFlag>,
    tokens: Vec<Token>,
}

impl Command {
    /// Starts a command with its Dokku command word (`config:set`, `ps:scale`, …).
    pub fn new(word: &'static str) -> Self {
        Self {
            globals: Vec::new(),
            tokens: vec![Token::Literal(word)],
        }
    }

    /// Adds a global flag; it is placed before the command word.
    pub fn global(mut self, flag: GlobalFlag) -> Self {
        if !self.globals.contains(&flag) {
            self.globals.push(flag);
        }
        self
    }

    /// Adds a fixed word or flag chosen by code (`--no-restart`, `deploy`, `hsts`).
    pub fn literal(mut self, word: &'static str) -> Self {
        self.tokens.push(Token::Literal(word));
        self
    }

    /// Adds an app name.
    pub fn app(self, app: &AppName) -> Self {
        self.value("app name", app.as_str())
    }

    /// Adds a process type.
    pub fn process_type(self, t: &ProcessType) -> Self {
        self.value("process type", t.as_str())
    }

    /// Adds a hostname, in lower case as DNS and nginx read it; a wildcard is
    /// accepted as the one allowed glob token.
    pub fn domain(mut self, d: &DomainName) -> Self {
        if d.is_wildcard() {
            self.tokens.push(Token::Wildcard(d.fold()));
            self
        } else {
            self.value("domain", &d.fold())
        }
    }

    /// Adds an ssh key name.
    pub fn ssh_key_name(self, n: &SshKeyName) -> Self {
        self.value("ssh key name", n.as_str())
    }

    /// Adds a container name (`run:logs --container`, `run:stop --container`).
    pub fn container(self, name: &PodName) -> Self {
        self.value("container name", name.as_str())
    }

    /// Adds a bare config key (`config:unset`).
    pub fn config_key(self, key: &ConfigKey) -> Self {
        self.value("config key", key.as_str())
    }

    /// Adds `KEY=<base64 of value>` for `config:set --encoded` (empty values included).
    pub fn encoded_pair(self, key: &ConfigKey, value: &[u8]) -> Self {
        let text = format!("{}={}", key.as_str(), STANDARD.encode(value));
        self.value("encoded config value", &text)
    }

    /// Adds `NAME=<base64 of value>` for a variable name chosen by code (`run -e`).
    pub fn encoded_env(self, name: &'static str, value: &[u8]) -> Self {
        let text = format!("{name}={}", STANDARD.encode(value));
        self.value("encoded environment value", &text)
    }

    /// Adds `TYPE=COUNT` for `ps:scale`.
    pub fn scale(self, t: &ProcessType, count: u32) -> Self {
        let text = format!("{}={count}", t.as_str());
        self.value("scale", &text)
    }

    /// Adds a decimal number.
    pub fn number(self, n: u64) -> Self {
        self.value("number", &n.to_string())
    }

    /// Adds a memory limit in Docker's notation (`512m`, `1g`, `64b`; `0` for none).
    pub fn memory(self, m: &MemoryLimit) -> Self {
        self.value("memory limit", &memory_value(m))
    }

    /// Adds a CPU limit in cores (`500m` → `0.5`).
    pub fn cpu(self, c: &CpuLimit) -> Self {
        self.value("cpu limit", &c.cores())
    }

    /// Adds the Docker label option that tags containers with a release number.
    pub fn release_label(mut self, version: u32) -> Self {
        self.tokens.push(Token::Flag(release_label(version)));
        self
    }

    /// Adds the absolute path of a file the adapter wrote to the spool directory.
    pub fn spool_path(self, f: &SpoolFile) -> Self {
        self.value("spool path", &f.path().to_string_lossy())
    }

    /// Adds a `file://` URL of a file the adapter wrote to the spool directory.
    pub fn spool_url(self, f: &SpoolFile) -> Self {
        let text = format!("file://{}", f.path().to_string_lossy());
        self.value("spool url", &text)
    }

    fn value(mut self, kind: &'static str, text: &str) -> Self {
        self.tokens.push(Token::Value {
            kind,
            text: text.to_owned(),
        });
        self
    }

    /// Checks every token and joins them into a line (without the newline).
    pub fn build(&self) -> Result<CommandLine, CommandError> {
        let mut words: Vec<&str> = self.globals.iter().map(|g| g.as_str()).collect();
        let mut shown: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        let offset = words.len();
        for (i, token) in self.tokens.iter().enumerate() {
            let position = offset + i;
            check_token(position, i == 0, token)?;
            let word = match token {
                Token::Literal(w) => w,
                Token::Value { text, .. } | Token::Wildcard(text) | Token::Flag(text) => {
                    text.as_str()
                }
            };
            words.push(word);
            shown.push(match token {
                Token::Value { kind, text } if kind.starts_with("encoded") => {
                    let key = text.split_once('=').map_or("", |(k, _)| k);
                    format!("{key}=<redacted>")
                }
                _ => word.to_owned(),
            });
        }
        let line = words.join(" ");
        if line.len() > MAX_LINE_BYTES {
            return Err(CommandError::LineTooLong(line.len()));
        }
        Ok(CommandLine {
            line,
            shown: shown.join(" "),
        })
    }
}

/// A memory limit as Docker and `resource:limit` take it: the hard limit,
/// lowercase, with one unit letter (`20MB` → `20m`); `0` (no limit) stays `0`.
pub fn memory_value(m: &MemoryLimit) -> String {
    let limit = m.limit().to_ascii_lowercase();
    match limit.strip_suffix('b') {
        Some(n) if n.ends_with(['k', 'm', 'g']) => n.to_owned(),
        _ => limit,
    }
}

/// The Docker option for a release label; also how the adapter recognises its own labels.
pub fn release_label(version: u32) -> String {
    format!("--label={RELEASE_LABEL}=v{version}")
}

/// The container label carrying the Drycc release number.
pub const RELEASE_LABEL: &str = "com.drycc.release";

fn check_token(position: usize, is_command_word: bool, token: &Token) -> Result<(), CommandError> {
    let (kind, text) = match token {
        Token::Literal(w) => ("literal", *w),
        Token::Value { kind, text } => (*kind, text.as_str()),
        Token::Wildcard(text) => ("wildcard domain", text.as_str()),
        Token::Flag(text) => ("flag", text.as_str()),
    };
    let fail = |reason: String| CommandError::UnsafeArgument {
        position,
        kind,
        reason,
    };
    if text.is_empty() {
        return Err(fail("it is empty".into()));
    }
    if text.len() > MAX_TOKEN_BYTES {
        return Err(fail(format!(
            "it is {} bytes long; the limit is {MAX_TOKEN_BYTES}",
            text.len()
        )));
    }
    if let Some(b) = text.bytes().find(|b| !(0x21..=0x7e).contains(b)) {
        return Err(fail(format!(
            "byte 0x{b:02x} (whitespace, control or non-ASCII) would split or end the line"
        )));
    }
    if let Some(c) = text.chars().find(|c| matches!(c, '<' | '>' | '\\')) {
        return Err(fail(format!(
            "{c:?} could become a redirection or confuse the daemon"
        )));
    }
    let glob_free = match token {
        Token::Wildcard(t) => t.strip_prefix("*.").unwrap_or(t),
        _ => text,
    };
    if glob_free.contains(['*', '?', '[']) {
        return Err(fail(
            "glob characters would be expanded by the daemon".into(),
        ));
    }
    match token {
        Token::Literal(w) => {
            if is_command_word
                && !w
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b':' || b == b'-')
            {
                return Err(fail(
                    "a command word is lowercase letters, ':' and '-'".into(),
                ));
            }
            if !is_command_word && DAEMON_STRIPPED_FLAGS.contains(w) {
                return Err(fail(
                    "the daemon strips this flag after the command word; use a global flag".into(),
                ));
            }
        }
        Token::Value { text, .. } | Token::Wildcard(text) | Token::Flag(text) => {
            let is_flag = matches!(token, Token::Flag(_));
            if text.starts_with('-') != is_flag {
                return Err(fail(if is_flag {
                    "a composed flag must start with '-'".into()
                } else {
                    "a value may not look like a flag".into()
                }));
            }
            if let Some(c) = text.chars().find(|c| !is_value_char(*c)) {
                return Err(fail(format!("{c:?} is not allowed in a value")));
            }
        }
    }
    Ok(())
}

fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | ':' | '/' | '=' | '+' | '@' | ',' | '-' | '*')
}

/// A checked command line, ready to send; only [`Command::build`] makes one.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandLine {
    line: String,
    shown: String,
}

impl CommandLine {
    /// The line, without its terminating newline.
    pub fn as_str(&self) -> &str {
        &self.line
    }
}

impl fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandLine({:?})", self.shown)
    }
}

/// Shows the line with encoded values (config values, run commands) replaced
/// by `<redacted>`, so logs never carry secrets in a trivially decodable form.
impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AppName {
        AppName::parse("myapp").unwrap()
    }

    #[test]
    fn display_redacts_encoded_values() {
        let key = ConfigKey::parse("SECRET").unwrap();
        let line = Command::new("config:set")
            .app(&app())
            .encoded_pair(&key, b"hunter2")
            .build()
            .unwrap();
        assert!(line.as_str().contains("SECRET=aHVudGVyMg=="));
        assert_eq!(line.to_string(), "config:set myapp SECRET=<redacted>");
        assert!(!format!("{line:?}").contains("aHVudGVyMg"));
    }

    #[test]
    fn global_flags_come_first() {
        let line = Command::new("apps:destroy")
            .app(&app())
            .global(GlobalFlag::Force)
            .build()
            .unwrap();
        assert_eq!(line.as_str(), "--force apps:destroy myapp");
    }

    #[test]
    fn config_values_are_base64() {
        let key = ConfigKey::parse("MSG").unwrap();
        let line = Command::new("config:set")
            .global(GlobalFlag::Quiet)
            .literal("--encoded")
            .literal("--no-restart")
            .app(&app())
            .encoded_pair(&key, b"a b\n<c>")
            .encoded_pair(&ConfigKey::parse("EMPTY").unwrap(), b"")
            .build()
            .unwrap();
        assert_eq!(
            line.as_str(),
            "--quiet config:set --encoded --no-restart myapp MSG=YSBiCjxjPg== EMPTY="
        );
    }

    #[test]
    fn stripped_flags_after_the_command_word_are_refused() {
        for flag in DAEMON_STRIPPED_FLAGS {
            let err = Command::new("logs")
                .app(&app())
                .literal(flag)
                .build()
                .unwrap_err();
            assert!(matches!(
                err,
                CommandError::UnsafeArgument { position: 2, .. }
            ));
        }
    }

    #[test]
    fn unsafe_literals_are_refused() {
        for bad in [
            "a b",
            "a\nb",
            "x<y",
            ">",
            "a*",
            "?",
            "[x",
            "back\\slash",
            "",
            "é",
            "\0",
        ] {
            assert!(
                Command::new("logs").literal(bad).build().is_err(),
                "{bad:?}"
            );
        }
        assert!(Command::new("Logs").build().is_err());
    }

    #[test]
    fn wildcard_domain_is_the_only_glob() {
        let d = DomainName::parse("*.example.com").unwrap();
        let line = Command::new("domains:add")
            .app(&app())
            .domain(&d)
            .build()
            .unwrap();
        assert_eq!(line.as_str(), "domains:add myapp *.example.com");
    }

    #[test]
    fn limits_and_labels() {
        let t = ProcessType::web();
        let line = Command::new("resource:limit")
            .literal("--process-type")
            .process_type(&t)
            .literal("--memory")
            .memory(&MemoryLimit::parse("256M/1G").unwrap())
            .literal("--cpu")
            .cpu(&CpuLimit::parse("500m").unwrap())
            .app(&app())
            .build()
            .unwrap();
        assert_eq!(
            line.as_str(),
            "resource:limit --process-type web --memory 1g --cpu 0.5 myapp"
        );
        for (given, sent) in [
            ("20MB", "20m"),
            ("1KB", "1k"),
            ("64B", "64b"),
            ("0", "0"),
            ("0/2GB", "2g"),
        ] {
            let c = Command::new("x")
                .memory(&MemoryLimit::parse(given).unwrap())
                .build()
                .unwrap();
            assert_eq!(c.as_str(), format!("x {sent}"), "{given}");
        }
        let l = Command::new("docker-options:add")
            .app(&app())
            .literal("deploy")
            .release_label(7)
            .build()
            .unwrap();
        assert_eq!(
            l.as_str(),
            "docker-options:add myapp deploy --label=com.drycc.release=v7"
        );
    }

    #[test]
    fn oversized_tokens_and_lines() {
        let key = ConfigKey::parse("BIG").unwrap();
        let err = Command::new("config:set")
            .encoded_pair(&key, &vec![b'x'; 100_000])
            .build()
            .unwrap_err();
        assert!(matches!(err, CommandError::UnsafeArgument { .. }));
        let mut c = Command::new("config:set");
        for _ in 0..12 {
            c = c.encoded_pair(&key, &vec![b'x'; 90_000]);
        }
        assert!(matches!(c.build(), Err(CommandError::LineTooLong(_))));
    }
}
