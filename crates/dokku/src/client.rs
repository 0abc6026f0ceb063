//! The dokku-daemon socket client: one connection, one command in flight,
//! timeouts on everything, and a fresh connection after any trouble.
//!
//! Rules from dokku-commands §1.2 and §1.6: every command is one line ending
//! in `\n` (a final line without it is silently dropped); the reply is one
//! line; the client never half-closes (socat would tear the session down 0.5 s
//! later and lose the reply); a connection that failed, timed out or returned
//! garbage is dropped, because its reply stream can no longer be trusted.
//! Transport failures map to [`PlatformError::Unavailable`], malformed replies
//! to [`PlatformError::Protocol`]; `ok:false` is left to the caller
//! ([`DaemonClient::execute`]) or mapped to [`PlatformError::Rejected`]
//! ([`DaemonClient::execute_ok`]).

use std::io::ErrorKind;
use std::time::Duration;

use drydock_domain::platform::PlatformError;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::Mutex;
use tokio::time::{timeout_at, Instant};

use crate::command::CommandLine;
use crate::reply::Reply;
use crate::settings::DaemonSettings;

/// How a command that got no answer in time is reported: the daemon was
/// reached but is busy (its one-command-at-a-time lock) or hung.
pub(crate) const NO_ANSWER: &str = "dokku-daemon did not answer within";

/// A client for one dokku-daemon socket, safe to share between tasks.
#[derive(Debug)]
pub struct DaemonClient {
    settings: DaemonSettings,
    conn: Mutex<Option<BufReader<UnixStream>>>,
}

impl DaemonClient {
    /// A client that connects lazily, on the first command.
    pub fn new(settings: DaemonSettings) -> Self {
        Self {
            settings,
            conn: Mutex::new(None),
        }
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &DaemonSettings {
        &self.settings
    }

    /// Sends one command and returns the reply, whatever its `ok` flag. The
    /// whole exchange, including waiting for a previous command on this client,
    /// must finish within `timeout`.
    pub async fn execute(
        &self,
        line: &CommandLine,
        timeout: Duration,
    ) -> Result<Reply, PlatformError> {
        let deadline = Instant::now() + timeout;
        let timed_out = || PlatformError::Unavailable(format!("{NO_ANSWER} {timeout:?}: {line}"));
        let mut guard = timeout_at(deadline, self.conn.lock())
            .await
            .map_err(|_| timed_out())?;
        let result = timeout_at(deadline, self.exchange(&mut guard, line, deadline)).await;
        match result {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => {
                *guard = None;
                tracing::warn!(command = %line, error = %e, "dokku-daemon exchange failed; connection dropped");
                Err(e)
            }
            Err(_) => {
                *guard = None;
                tracing::warn!(command = %line, "dokku-daemon timed out; connection dropped");
                Err(timed_out())
            }
        }
    }

    /// Like [`execute`](Self::execute), but `ok:false` becomes
    /// [`PlatformError::Rejected`] with Dokku's cleaned message.
    pub async fn execute_ok(
        &self,
        line: &CommandLine,
        timeout: Duration,
    ) -> Result<Reply, PlatformError> {
        let reply = self.execute(line, timeout).await?;
        if reply.ok() {
            Ok(reply)
        } else {
            Err(rejected(&reply))
        }
    }

    async fn exchange(
        &self,
        slot: &mut Option<BufReader<UnixStream>>,
        line: &CommandLine,
        deadline: Instant,
    ) -> Result<Reply, PlatformError> {
        if slot.as_ref().is_some_and(|c| !is_idle_and_open(c)) {
            *slot = None;
        }
        let conn = match slot {
            Some(conn) => conn,
            None => slot.insert(BufReader::new(self.connect(deadline).await?)),
        };
        let mut request = Vec::with_capacity(line.as_str().len() + 1);
        request.extend_from_slice(line.as_str().as_bytes());
        request.push(b'\n');
        tracing::debug!(command = %line, "dokku-daemon request");
        conn.get_mut()
            .write_all(&request)
            .await
            .map_err(|e| unavailable("writing to dokku-daemon failed", &e))?;
        let raw = read_line(conn, self.settings.max_reply_bytes).await?;
        Ok(Reply::parse(&raw)?)
    }

    async fn connect(&self, deadline: Instant) -> Result<UnixStream, PlatformError> {
        let socket = &self.settings.socket;
        let connect_deadline = deadline.min(Instant::now() + self.settings.connect_timeout);
        match timeout_at(connect_deadline, UnixStream::connect(socket)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(unavailable(
                &format!("cannot connect to {}", socket.display()),
                &e,
            )),
            Err(_) => Err(PlatformError::Unavailable(format!(
                "connecting to {} timed out",
                socket.display()
            ))),
        }
    }
}

/// Whether a pooled connection is still usable: nothing unread and not closed
/// by the peer (a daemon restart closes idle connections).
fn is_idle_and_open(conn: &BufReader<UnixStream>) -> bool {
    if !conn.buffer().is_empty() {
        return false;
    }
    let mut probe = [0u8; 1];
    matches!(conn.get_ref().try_read(&mut probe), Err(e) if e.kind() == ErrorKind::WouldBlock)
}

async fn read_line(conn: &mut BufReader<UnixStream>, max: usize) -> Result<Vec<u8>, PlatformError> {
    let mut line = Vec::new();
    loop {
        let chunk = conn
            .fill_buf()
            .await
            .map_err(|e| unavailable("reading from dokku-daemon failed", &e))?;
        if chunk.is_empty() {
            return Err(PlatformError::Unavailable(format!(
                "dokku-daemon closed the connection after {} bytes of a reply",
                line.len()
            )));
        }
        let (taken, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        line.extend_from_slice(&chunk[..taken]);
        conn.consume(taken);
        if line.len() > max {
            return Err(PlatformError::Protocol {
                message: format!("reply longer than {max} bytes"),
                raw: line[..line.len().min(4096)].to_vec(),
            });
        }
        if done {
            return Ok(line);
        }
    }
}

fn unavailable(what: &str, e: &std::io::Error) -> PlatformError {
    PlatformError::Unavailable(format!("{what}: {e}"))
}

/// The typed error for an `ok:false` reply.
pub fn rejected(reply: &Reply) -> PlatformError {
    let message = reply.message();
    PlatformError::Rejected(if message.is_empty() {
        "Dokku reported a failure without a message".into()
    } else {
        message
    })
}
