//! dokku-daemon's own behaviour, byte for byte (dokku-commands §1): how a
//! line becomes words, which lines it accepts, redirections, and its
//! not-quite-JSON encoder. Pure functions; the server module does the IO.

use std::collections::VecDeque;
use std::path::Path;

use regex::Regex;

/// Flags `remove_flags` drops (with `--app`, which also drops its value).
const STRIPPED_FLAGS: [&str; 6] = [
    "--quiet",
    "--detach",
    "--trace",
    "--rm-container",
    "--rm",
    "--force",
];

/// What `read` leaves of a line: NUL bytes dropped (bash cannot hold them),
/// leading and trailing blanks trimmed, backslashes kept (`read -r`).
pub fn read_line(raw: &[u8]) -> String {
    let bytes: Vec<u8> = raw.iter().copied().filter(|&b| b != 0).collect();
    let text = String::from_utf8_lossy(&bytes);
    text.trim_matches([' ', '\t']).to_owned()
}

/// `cmd=($input)`: split on blanks, then pathname expansion against `glob_dir`
/// (the daemon's cwd, the socket directory) when given. A pattern is matched
/// only against names in that directory (`*`, `?`; `[` is kept literal here);
/// unmatched patterns stay as they are, as bash does without `nullglob`.
pub fn split_words(line: &str, glob_dir: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    for word in line.split([' ', '\t']).filter(|w| !w.is_empty()) {
        match glob_dir.filter(|_| word.contains(['*', '?']) && !word.contains('/')) {
            Some(dir) => {
                let matches = glob(dir, word);
                if matches.is_empty() {
                    out.push(word.to_owned());
                } else {
                    out.extend(matches);
                }
            }
            None => out.push(word.to_owned()),
        }
    }
    out
}

fn glob(dir: &Path, pattern: &str) -> Vec<String> {
    let mut re = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    let Ok(re) = Regex::new(&re) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') || pattern.starts_with('.'))
        .filter(|n| re.is_match(n))
        .collect();
    names.sort();
    names
}

/// The daemon's `remove_flags`, bug included: it iterates over the original
/// words but `shift`s the positional list, so a stripped flag anywhere removes
/// the *first* remaining word (§1.4). `shift 2` with fewer than two words left
/// changes nothing, as in bash.
pub fn remove_flags(words: &[String]) -> Vec<String> {
    let mut positional: VecDeque<String> = words.iter().cloned().collect();
    for word in words {
        if STRIPPED_FLAGS.contains(&word.as_str()) {
            positional.pop_front();
        } else if word == "--app" && positional.len() >= 2 {
            positional.pop_front();
            positional.pop_front();
        }
    }
    positional.into()
}

/// `is_valid_command`: the remaining words become grep patterns against the
/// cached command list — the first anchored at the start, the last at the end
/// (a single word at both), the middle ones anywhere — and any match makes the
/// line valid; so does a line ending in `help`. Patterns are compared as
/// literal text here, not as regular expressions.
pub fn is_valid(words: &[String], commands: &[&str]) -> bool {
    let rest = remove_flags(words);
    if rest.join("\n").ends_with("help") {
        return true;
    }
    let n = rest.len();
    if n == 0 {
        return false;
    }
    commands.iter().any(|line| {
        rest.iter()
            .enumerate()
            .any(|(i, w)| match (i == 0, i == n - 1) {
                (true, true) => line == w,
                (true, false) => line.starts_with(w.as_str()),
                (false, true) => line.ends_with(w.as_str()),
                (false, false) => line.contains(w.as_str()),
            })
    })
}

/// A redirection the daemon would perform: if the second-to-last word
/// contains `<` (or `>`), the last word is a host path (§1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `dokku … < path`.
    Input(String),
    /// `dokku … > path 2>&1`.
    Output(String),
}

/// Splits a redirection off the words, returning the words dokku runs with.
pub fn redirect(words: &[String]) -> (Vec<String>, Option<Redirect>) {
    let n = words.len();
    if n >= 2 {
        let marker = &words[n - 2];
        let path = words[n - 1].clone();
        if marker.contains('<') {
            return (words[..n - 2].to_vec(), Some(Redirect::Input(path)));
        }
        if marker.contains('>') {
            return (words[..n - 2].to_vec(), Some(Redirect::Output(path)));
        }
    }
    (words.to_vec(), None)
}

/// `json_encode`: `$(…)` drops trailing newlines (and bash drops NULs),
/// `echo -n "$1"` prints nothing when the output is itself an echo option,
/// then only `\n` and `"` are escaped; a newline ends the reply line.
pub fn json_encode(output: &[u8], ok: bool) -> Vec<u8> {
    let mut body: Vec<u8> = output.iter().copied().filter(|&b| b != 0).collect();
    while body.last() == Some(&b'\n') {
        body.pop();
    }
    if is_echo_option(&body) {
        body.clear();
    }
    let mut line = Vec::with_capacity(body.len() + 32);
    line.extend_from_slice(if ok {
        br#"{"ok":true,"output":""#
    } else {
        br#"{"ok":false,"output":""#
    });
    for b in body {
        match b {
            b'\n' => line.extend_from_slice(b"\\n"),
            b'"' => line.extend_from_slice(b"\\\""),
            b => line.push(b),
        }
    }
    line.extend_from_slice(b"\"}\n");
    line
}

fn is_echo_option(body: &[u8]) -> bool {
    body.len() >= 2 && body[0] == b'-' && body[1..].iter().all(|b| matches!(b, b'n' | b'e' | b'E'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn reading_and_splitting() {
        assert_eq!(read_line(b"  a\0 b\t"), "a b");
        assert_eq!(
            split_words("echo 'c d' \"e\tf\"", None),
            w("echo 'c d' \"e f\"")
        );
        assert!(split_words("", None).is_empty());
    }

    #[test]
    fn globbing_in_the_socket_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dokku-daemon.sock"), b"").unwrap();
        assert_eq!(
            split_words("x *.sock", Some(dir.path())),
            w("x dokku-daemon.sock")
        );
        assert_eq!(
            split_words("*.example.com", Some(dir.path())),
            w("*.example.com")
        );
    }

    #[test]
    fn flag_removal_bug() {
        assert_eq!(
            remove_flags(&w("--force apps:destroy a")),
            w("apps:destroy a")
        );
        assert_eq!(remove_flags(&w("apps:destroy a --force")), w("a --force"));
        assert_eq!(remove_flags(&w("--app a logs")), w("logs"));
    }

    #[test]
    fn validation() {
        let cache = ["apps:destroy", "apps:list", "logs"];
        assert!(is_valid(&w("--force apps:destroy myapp"), &cache));
        assert!(!is_valid(&w("apps:destroy myapp --force"), &cache));
        // Loose: the first remaining word is only a prefix pattern.
        assert!(is_valid(&w("apps:destroy a --force"), &cache));
        assert!(is_valid(&w("logs"), &cache));
        assert!(!is_valid(&w("log"), &cache));
        assert!(!is_valid(&[], &cache));
        assert!(is_valid(&w("anything help"), &cache));
    }

    #[test]
    fn redirections() {
        assert_eq!(
            redirect(&w("certs:add a < /x")),
            (w("certs:add a"), Some(Redirect::Input("/x".into())))
        );
        assert_eq!(
            redirect(&w("x a<b /y")).1,
            Some(Redirect::Input("/y".into()))
        );
        assert_eq!(
            redirect(&w("report a > /o")).1,
            Some(Redirect::Output("/o".into()))
        );
        assert_eq!(redirect(&w("plain a")).1, None);
    }

    #[test]
    fn encoder_quirks() {
        assert_eq!(
            json_encode(b"a\"b\\c\td\n\n", true),
            b"{\"ok\":true,\"output\":\"a\\\"b\\c\td\"}\n".to_vec()
        );
        assert_eq!(
            json_encode(b"l1\nl2", false),
            b"{\"ok\":false,\"output\":\"l1\\nl2\"}\n".to_vec()
        );
        assert_eq!(
            json_encode(b"-n", true),
            b"{\"ok\":true,\"output\":\"\"}\n".to_vec()
        );
    }
}
