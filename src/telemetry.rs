//! Tracing set up in one place: text or JSON lines on stderr, filtered by `RUST_LOG`.
//!
//! Logged values carry text from outside (Dokku's replies, request paths), so
//! text lines go through [`Escaping`]: a newline in a value cannot forge a
//! second log line and a terminal escape cannot reach the operator's
//! terminal. JSON lines are escaped by the encoder already.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(false)
            .with_writer(Escaping(io::stderr))
            .compact()
            .try_init(),
        LogFormat::Json => builder
            .with_writer(io::stderr)
            .json()
            .flatten_event(true)
            .try_init(),
    };
}

/// A writer factory whose writers escape every control character of an
/// event but the newline that ends it.
#[derive(Clone, Copy)]
pub struct Escaping<F>(pub F);

impl<'a, F, W> MakeWriter<'a> for Escaping<F>
where
    F: Fn() -> W + 'static,
    W: Write,
{
    type Writer = EscapingWriter<W>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter((self.0)())
    }
}

/// Writes one formatted event with its control characters escaped.
pub struct EscapingWriter<W>(W);

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(escape(buf).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `buf` as text with control characters (C0, DEL, C1) written as `\n`,
/// `\r`, `\t` or `\u{…}`; a final newline is kept as the line's end.
fn escape(buf: &[u8]) -> String {
    let text = String::from_utf8_lossy(buf);
    let (body, end) = match text.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (text.as_ref(), ""),
    };
    let mut out = String::with_capacity(body.len() + 1);
    for c in body.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_cannot_forge_a_line_or_drive_the_terminal() {
        let event = "WARN dokku said: ok\n2026-12-01 INFO admin logged in\u{1b}[2J\u{9b}31m\r\n";
        let out = escape(event.as_bytes());
        assert_eq!(out.matches('\n').count(), 1, "{out}");
        assert!(out.ends_with("\\r\n"), "{out}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{9b}'), "{out}");
        assert!(out.contains("ok\\n2026-12-01 INFO admin logged in\\u{1b}[2J\\u{9b}31m"));
        assert_eq!(escape("plain é line\n".as_bytes()), "plain é line\n");
        let mut w = EscapingWriter(Vec::new());
        w.write_all(b"a\x07b\n").unwrap();
        assert_eq!(String::from_utf8(w.0).unwrap(), "a\\u{7}b\n");
    }
}
