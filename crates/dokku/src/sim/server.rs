//! The simulator's socket side: accepting connections like socat, the
//! per-connection read loop of `dokku-daemon -c`, the global `flock`, fault
//! injection and `sim:` control lines.
//!
//! Session rules reproduced from dokku-commands §1.2 and §1.6: one reply line
//! per request line, in order; a final line without `\n` is dropped; after
//! the client closes (fully or half), the session ends `close_grace` later
//! (socat's 0.5 s): queued lines are not run and a later reply is lost, while
//! a command already running finishes. Every dokku invocation takes one
//! global lock, so commands from all connections run one at a time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedReadHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

use super::daemon::{self, Redirect};
use super::dokku::{self, COMMANDS};
use super::fault::{self, Fault};
use super::state::SimState;
use super::SimOptions;
use crate::command::MAX_TOKEN_BYTES;

/// What a [`Fault::Garbage`] reply looks like: no daemon prefix, control and invalid bytes.
const GARBAGE: &[u8] = b"\x1b[31mgarbage\x00\xff{\"ok\":maybe\n";
/// The total size of arguments `execve` accepts here (Linux `ARG_MAX` with an 8 MiB stack).
const MAX_ARGS_BYTES: usize = 2 << 20;

/// Data shared by the listener, every connection and the handle.
pub(crate) struct Shared {
    core: Mutex<Core>,
    flock: tokio::sync::Mutex<()>,
    control: watch::Sender<Control>,
    pub(crate) socket: PathBuf,
    options: SimOptions,
}

/// The simulated Dokku, the command log and the active fault.
pub(crate) struct Core {
    pub(crate) state: SimState,
    pub(crate) commands: Vec<String>,
    fault: Option<Fault>,
}

/// Signals from the handle to the tasks.
#[derive(Debug, Clone, Default)]
struct Control {
    /// Not listening (a `Refuse` fault).
    refusing: bool,
    /// Bumped to end every open connection.
    kill_epoch: u64,
    /// Bumped whenever the fault changes (ends a hang early).
    fault_epoch: u64,
    /// Stop everything and remove the socket.
    shutdown: bool,
}

impl Shared {
    pub(crate) fn new(socket: PathBuf, options: SimOptions) -> Self {
        Self {
            core: Mutex::new(Core {
                state: SimState::default(),
                commands: Vec::new(),
                fault: None,
            }),
            flock: tokio::sync::Mutex::new(()),
            control: watch::Sender::new(Control::default()),
            socket,
            options,
        }
    }

    /// The core, even if a panicking test thread poisoned the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (or clears, with `None`) the active fault.
    pub(crate) fn set_fault(&self, fault: Option<Fault>) {
        let refusing = matches!(fault, Some(Fault::Refuse));
        self.lock().fault = fault;
        self.control.send_modify(|c| {
            c.fault_epoch += 1;
            if refusing && !c.refusing {
                c.kill_epoch += 1;
            }
            c.refusing = refusing;
        });
    }

    /// Ends the listener and every connection.
    pub(crate) fn signal_shutdown(&self) {
        self.control.send_modify(|c| {
            c.shutdown = true;
            c.kill_epoch += 1;
        });
    }
}

/// Creates the listening socket, replacing a stale file (the daemon's `rm -f`).
pub(crate) fn bind(path: &Path) -> std::io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    UnixListener::bind(path)
}

/// Accepts connections until shutdown; while refusing, the listener is
/// closed but its socket file stays, so connecting fails with `ECONNREFUSED`.
pub(crate) async fn listen(shared: Arc<Shared>, listener: UnixListener) {
    let mut control = shared.control.subscribe();
    let mut listener = Some(listener);
    loop {
        let now = control.borrow_and_update().clone();
        if now.shutdown {
            break;
        }
        if now.refusing {
            listener = None;
            if control.changed().await.is_err() {
                break;
            }
            continue;
        }
        if listener.is_none() {
            match bind(&shared.socket) {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::error!(error = %e, "dokku-sim cannot listen again");
                    if control.changed().await.is_err() {
                        break;
                    }
                    continue;
                }
            }
        }
        let Some(l) = &listener else { continue };
        tokio::select! {
            accepted = l.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(Arc::clone(&shared), stream));
                }
                Err(e) => tracing::warn!(error = %e, "dokku-sim accept failed"),
            },
            changed = control.changed() => if changed.is_err() { break },
        }
    }
    drop(listener);
    if let Err(e) = std::fs::remove_file(&shared.socket) {
        tracing::debug!(error = %e, "dokku-sim socket already gone");
    }
}

/// Resolves when the connection must end (refuse or shutdown).
async fn killed(control: &mut watch::Receiver<Control>, epoch: u64) {
    loop {
        {
            let c = control.borrow_and_update();
            if c.shutdown || c.kill_epoch != epoch {
                return;
            }
        }
        if control.changed().await.is_err() {
            return;
        }
    }
}

/// What to send back for one line.
enum Response {
    /// A whole reply line.
    Line(Vec<u8>),
    /// The first part of a reply, after which the connection is closed.
    Die(Vec<u8>),
}

async fn connection(shared: Arc<Shared>, stream: UnixStream) {
    let mut control = shared.control.subscribe();
    let epoch = control.borrow().kill_epoch;
    let (read, mut write) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let closed_at = Arc::new(Mutex::new(None));
    let reader = tokio::spawn(read_lines(
        read,
        tx,
        Arc::clone(&closed_at),
        shared.options.max_line_bytes,
    ));
    let grace = shared.options.close_grace;
    let session_over = || {
        closed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t: Instant| t.elapsed() > grace)
    };
    // The daemon's `status` variable: redirected commands report it stale.
    let mut last_ok = true;
    loop {
        let line = tokio::select! {
            line = rx.recv() => match line { Some(l) => l, None => break },
            () = killed(&mut control, epoch) => break,
        };
        if session_over() {
            break;
        }
        let response = tokio::select! {
            r = process(&shared, &line, &mut last_ok) => r,
            () = killed(&mut control, epoch) => break,
        };
        if session_over() {
            break;
        }
        match response {
            Response::Line(bytes) => {
                if write.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            Response::Die(bytes) => {
                let _ = write.write_all(&bytes).await;
                let _ = write.shutdown().await;
                break;
            }
        }
    }
    reader.abort();
}

/// Reads `\n`-terminated lines; a final unterminated line is dropped (bash `read`
/// fails at EOF). Records when the client closed its side.
async fn read_lines(
    read: OwnedReadHalf,
    tx: mpsc::UnboundedSender<Vec<u8>>,
    closed_at: Arc<Mutex<Option<Instant>>>,
    max: usize,
) {
    let mut reader = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        match (&mut reader).take(limit).read_until(b'\n', &mut line).await {
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                if tx.send(line).is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    *closed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
}

/// The command log keeps the newest half of this many lines once full, so a
/// long-running `serve --dokku-sim` stays bounded; tests send far fewer.
const COMMAND_LOG_CAP: usize = 20_000;

async fn process(shared: &Arc<Shared>, raw: &[u8], last_ok: &mut bool) -> Response {
    let line = daemon::read_line(raw);
    if line.starts_with("sim:") {
        let (text, ok) = control_line(shared, &line);
        return Response::Line(daemon::json_encode(text.as_bytes(), ok));
    }
    tracing::info!(command = %line, "dokku-sim received");
    let fault = {
        let mut core = shared.lock();
        if core.commands.len() >= COMMAND_LOG_CAP {
            core.commands.drain(..COMMAND_LOG_CAP / 2);
        }
        core.commands.push(line.clone());
        core.fault.clone()
    };
    if fault == Some(Fault::Garbage) {
        return Response::Line(GARBAGE.to_vec());
    }
    let die = fault == Some(Fault::DieMidReply) || take_death(shared, &line);
    let (output, ok) = daemon_line(shared, &line, last_ok).await;
    let encoded = daemon::json_encode(output.as_bytes(), ok);
    if die {
        return Response::Die(encoded[..encoded.len() / 2].to_vec());
    }
    Response::Line(encoded)
}

/// `connection()` of dokku-daemon for one line: built-ins, validation, the
/// `apps:destroy` rule, redirections, then dokku under the global lock.
async fn daemon_line(shared: &Arc<Shared>, line: &str, last_ok: &mut bool) -> (String, bool) {
    let glob_dir = shared
        .options
        .glob
        .then(|| shared.socket.parent())
        .flatten();
    let words = daemon::split_words(line, glob_dir);
    let (output, ok) = match words.first().map(String::as_str) {
        Some("enter" | "shell") => ("Not implemented".to_owned(), false),
        Some("commands") => (COMMANDS.join("\n"), true),
        Some("refresh") => ("Refreshed commands".to_owned(), true),
        _ if !daemon::is_valid(&words, COMMANDS) => ("Invalid command".to_owned(), false),
        _ if words.iter().any(|w| w == "apps:destroy") && !words.iter().any(|w| w == "--force") => {
            ("Requires --force flag".to_owned(), false)
        }
        _ => {
            let (dokku_words, redirect) = daemon::redirect(&words);
            let _flock = shared.flock.lock().await;
            let (output, ok) = run_dokku(shared, &dokku_words, redirect.as_ref()).await;
            return match redirect {
                None => {
                    *last_ok = ok;
                    (output, ok)
                }
                Some(Redirect::Input(_)) => (output, *last_ok),
                Some(Redirect::Output(path)) => {
                    if let Err(e) = std::fs::write(&path, output.as_bytes()) {
                        tracing::warn!(path, error = %e, "dokku-sim could not write redirected output");
                    }
                    (String::new(), *last_ok)
                }
            };
        }
    };
    *last_ok = ok;
    (output, ok)
}

/// Runs one dokku invocation (the caller holds the global lock): hang and
/// fail faults first, then the exec limits, then the command itself.
async fn run_dokku(
    shared: &Arc<Shared>,
    words: &[String],
    redirect: Option<&Redirect>,
) -> (String, bool) {
    let fault = shared.lock().fault.clone();
    let hang = match fault {
        Some(Fault::Hang(d)) => Some(d),
        Some(Fault::HangOn { prefix, duration }) if command_text(words).starts_with(&prefix) => {
            Some(duration)
        }
        _ => None,
    };
    if let Some(d) = hang {
        let mut control = shared.control.subscribe();
        let epoch = control.borrow_and_update().fault_epoch;
        let fault_changed = async {
            while control.changed().await.is_ok() {
                if control.borrow_and_update().fault_epoch != epoch {
                    break;
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = fault_changed => {}
        }
    }
    if let Some(message) = take_failure(shared, words) {
        return (format!(" !     {message}"), false);
    }
    let total: usize = words.iter().map(|w| w.len() + 1).sum();
    if words.iter().any(|w| w.len() > MAX_TOKEN_BYTES) || total > MAX_ARGS_BYTES {
        return (
            "/bin/bash: line 1: /usr/bin/flock: Argument list too long".into(),
            false,
        );
    }
    let stdin = match redirect {
        Some(Redirect::Input(path)) => match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(_) => return (String::new(), false),
        },
        _ => None,
    };
    let outcome = dokku::execute(&mut shared.lock().state, words, stdin, Utc::now());
    if let Some(d) = outcome.delay {
        tokio::time::sleep(d).await;
    }
    (outcome.output, outcome.status == 0)
}

/// Consumes one failure of an active [`Fault::FailNext`] matching `words`.
fn take_failure(shared: &Shared, words: &[String]) -> Option<String> {
    let mut core = shared.lock();
    let Some(Fault::FailNext {
        count,
        prefix,
        message,
    }) = &mut core.fault
    else {
        return None;
    };
    let command = command_text(words);
    if prefix
        .as_ref()
        .is_some_and(|p| !command.starts_with(p.as_str()))
    {
        return None;
    }
    let message = message.clone();
    *count = count.saturating_sub(1);
    let exhausted = *count == 0;
    drop(core);
    if exhausted {
        shared.set_fault(None);
    }
    Some(message)
}

/// The words of a command after its leading global flags, joined by blanks:
/// what fault prefixes are matched against.
fn command_text(words: &[String]) -> String {
    words
        .iter()
        .skip_while(|w| w.starts_with("--"))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Consumes one death of an active [`Fault::DieNext`] matching `line`;
/// true if this command's reply is to be cut short.
fn take_death(shared: &Shared, line: &str) -> bool {
    let mut core = shared.lock();
    let Some(Fault::DieNext { count, prefix }) = &mut core.fault else {
        return false;
    };
    let words = daemon::split_words(line, None);
    if prefix
        .as_ref()
        .is_some_and(|p| !command_text(&words).starts_with(p.as_str()))
    {
        return false;
    }
    *count = count.saturating_sub(1);
    let exhausted = *count == 0;
    drop(core);
    if exhausted {
        shared.set_fault(None);
    }
    true
}

/// Handles a `sim:` control line; returns the reply text and `ok`.
fn control_line(shared: &Arc<Shared>, line: &str) -> (String, bool) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.first().copied() {
        Some("sim:clear") => {
            shared.set_fault(None);
            ("fault cleared".into(), true)
        }
        Some("sim:fault") => match fault::parse(&words[1..]) {
            Ok((fault, clear_after)) => {
                shared.set_fault(Some(fault.clone()));
                if let Some(after) = clear_after {
                    let shared = Arc::clone(shared);
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        if shared.lock().fault.as_ref() == Some(&fault) {
                            shared.set_fault(None);
                        }
                    });
                }
                ("fault set".into(), true)
            }
            Err(usage) => (usage, false),
        },
        _ => (
            "unknown sim control command; try sim:fault or sim:clear".into(),
            false,
        ),
    }
}

/// The default grace after a client closes, as socat's.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_millis(500);
