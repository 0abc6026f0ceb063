//! `dokku-sim`: runs the simulated dokku-daemon on a Unix socket until
//! interrupted, logging every received command. Faults can be set at start
//! with flags, or later with `sim:fault …` / `sim:clear` lines on the socket.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use drydock_dokku::sim::fault::DEFAULT_FAILURE;
use drydock_dokku::sim::{Fault, Sim, SimOptions};

/// A protocol-faithful, in-memory dokku-daemon for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "dokku-sim", version)]
struct Args {
    /// The socket to listen on (replaced if it exists).
    #[arg(
        long,
        env = "DOKKU_SOCK_PATH",
        default_value = "/var/run/dokku-daemon/dokku-daemon.sock"
    )]
    socket: PathBuf,
    /// Refuse connections (socket present, nobody listening) for this many seconds after start.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["hang", "fail_next", "garbage", "die_mid_reply"])]
    refuse_for: Option<f64>,
    /// Every command waits this many seconds before running.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["fail_next", "garbage", "die_mid_reply"])]
    hang: Option<f64>,
    /// The next N commands fail with a Dokku-style error.
    #[arg(long, value_name = "N", conflicts_with_all = ["garbage", "die_mid_reply"])]
    fail_next: Option<u32>,
    /// With --fail-next: only commands starting with this text fail.
    #[arg(long, value_name = "PREFIX", requires = "fail_next")]
    fail_prefix: Option<String>,
    /// With --fail-next: the error message.
    #[arg(long, value_name = "TEXT", requires = "fail_next", default_value = DEFAULT_FAILURE)]
    fail_message: String,
    /// Answer every command with garbage.
    #[arg(long, conflicts_with = "die_mid_reply")]
    garbage: bool,
    /// Run every command, then close the connection halfway through the reply.
    #[arg(long)]
    die_mid_reply: bool,
    /// Do not glob `*`/`?` tokens against the socket directory.
    #[arg(long)]
    no_glob: bool,
}

impl Args {
    fn fault(&self) -> Result<Option<Fault>, String> {
        if self.refuse_for.is_some() {
            return Ok(Some(Fault::Refuse));
        }
        if let Some(s) = self.hang {
            return Ok(Some(Fault::Hang(seconds("--hang", s)?)));
        }
        if let Some(count) = self.fail_next {
            return Ok(Some(Fault::FailNext {
                count,
                prefix: self.fail_prefix.clone(),
                message: self.fail_message.clone(),
            }));
        }
        if self.garbage {
            return Ok(Some(Fault::Garbage));
        }
        Ok(self.die_mid_reply.then_some(Fault::DieMidReply))
    }
}

fn seconds(flag: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s >= 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!("{flag} needs a non-negative number of seconds"))
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot wait for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => if let Err(e) = r {
            tracing::error!(error = %e, "cannot wait for Ctrl-C");
            std::future::pending::<()>().await;
        },
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let fault = match args.fault() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let refuse_for = match args
        .refuse_for
        .map(|s| seconds("--refuse-for", s))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let options = SimOptions {
        fault,
        glob: !args.no_glob,
        ..SimOptions::default()
    };
    let sim = match Sim::start(args.socket.clone(), options).await {
        Ok(sim) => sim,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(socket = %args.socket.display(), "dokku-sim listening");
    let stop = stop_signal();
    tokio::pin!(stop);
    if let Some(d) = refuse_for {
        tokio::select! {
            () = &mut stop => {
                sim.shutdown().await;
                return ExitCode::SUCCESS;
            }
            () = tokio::time::sleep(d) => {
                sim.clear_fault();
                tracing::info!("dokku-sim accepting connections");
            }
        }
    }
    stop.await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
