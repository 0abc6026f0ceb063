//! JSON as Go's `json.Marshal` writes it, for the sim's `--format json`
//! reports: compact, keys sorted, and HTML-safe escapes (`<` → `\u003c`,
//! `>`, `&`, U+2028, U+2029), control bytes as `\u00XX` except `\n \r \t`.
//! The adapter must read exactly this through the daemon's encoder.

use std::fmt::Write;

/// A Go-escaped JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A compact JSON object of string values, in the iterator's order.
pub fn object<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let body: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{}:{}", string(k), string(v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        assert_eq!(
            string("a\"b\\c\n<&>\u{1}\t"),
            r#""a\"b\\c\n\u003c\u0026\u003e\u0001\t""#
        );
        let v: serde_json::Value = serde_json::from_str(&object([("k", "<x>")])).unwrap();
        assert_eq!(v["k"], "<x>");
    }
}
