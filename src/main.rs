//! `drydock`: the Drycc/Deis Workflow controller API for a Dokku host.
//!
//! Subcommands: `serve`, `migrate`, `createsuperuser`, `reconcile`, `openapi`.

mod config;
mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use drydock_api::usecase::{accounts, reconcile};
use drydock_api::{AppState, Settings};
use drydock_dokku::DokkuPlatform;
use drydock_domain::platform::Platform;
use drydock_entity::store::connect::Databases;
use migration::{Migrator, MigratorTrait};

use config::{DbArgs, DokkuArgs, LogFormat, ServeArgs};

#[derive(Parser)]
#[command(
    name = "drydock",
    version,
    about = "Drycc/Deis Workflow controller API (v2.3) for a Dokku host"
)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "DRYDOCK_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations.
    Migrate(DbArgs),
    /// Create an admin account.
    Createsuperuser {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Email address.
        #[arg(long, default_value = "")]
        email: String,
        /// Password (or set DRYDOCK_SUPERUSER_PASSWORD).
        #[arg(long, env = "DRYDOCK_SUPERUSER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Settle interrupted releases and, with --reapply, push every app's current release to Dokku again.
    Reconcile {
        /// Re-create apps, releases, domains and scale on a Dokku that lost them.
        #[arg(long)]
        reapply: bool,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dokku: DokkuArgs,
    },
    /// Print the OpenAPI document.
    Openapi,
}

async fn open_db(db: &DbArgs) -> anyhow::Result<Databases> {
    if let Some(path) = db.database_url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    let conn = drydock_entity::store::connect::connect(&db.database_url, &db.pool())
        .await
        .with_context(|| format!("connecting to {}", config::redact_url(&db.database_url)))?;
    Migrator::up(&conn.writer, None)
        .await
        .context("running migrations")?;
    Ok(conn)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    config::warn_unknown_env();
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(db) => {
            open_db(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Createsuperuser {
            username,
            email,
            password,
            db,
        } => {
            let conn = open_db(&db).await?;
            let state = AppState::new(
                conn,
                Arc::new(DokkuPlatform::new(Default::default())),
                Settings::default(),
            );
            accounts::create_superuser(&state, &username, &email, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("superuser {username} created");
            Ok(())
        }
        Command::Reconcile { reapply, db, dokku } => {
            let conn = open_db(&db).await?;
            let state = AppState::new(
                conn,
                Arc::new(DokkuPlatform::new(dokku.daemon_settings())),
                Settings::default(),
            );
            // `--reapply` exists for a Dokku that lost apps, which is also
            // when settling can fail; so it runs whatever settling said.
            let settled = reconcile::settle_pending(&state).await;
            let mut report = settled.as_ref().map_or_else(|_| Vec::new(), Clone::clone);
            let reapplied = if reapply {
                reconcile::reapply_all(&state).await
            } else {
                Ok(Vec::new())
            };
            if let Ok(lines) = &reapplied {
                report.extend(lines.iter().cloned());
            }
            if report.is_empty() && settled.is_ok() && reapplied.is_ok() {
                println!("nothing to reconcile");
            }
            for line in report {
                println!("{line}");
            }
            settled.map_err(|e| anyhow::anyhow!("settling pending releases: {e}"))?;
            reapplied.map_err(|e| anyhow::anyhow!("re-applying releases: {e}"))?;
            Ok(())
        }
        Command::Openapi => {
            println!("{}", drydock_api::openapi_service().spec());
            Ok(())
        }
    }
}

/// Settles releases a previous process left pending (those created before
/// `started`), logging what changed.
async fn settle_once(
    state: &AppState,
    started: DateTime<Utc>,
) -> Result<(), drydock_api::error::ApiError> {
    let report = reconcile::settle_interrupted(state, started).await?;
    report
        .iter()
        .for_each(|l| tracing::info!(change = %l, "reconciled"));
    Ok(())
}

/// Retries [`settle_once`] with pauses doubling up to a minute, so a Dokku
/// host that comes back later needs no manual `drydock reconcile`; the server
/// answers requests meanwhile (each app is settled under its lock).
async fn settle_until_done(state: AppState, started: DateTime<Utc>) {
    let mut pause = Duration::from_secs(1);
    loop {
        tokio::time::sleep(pause).await;
        match settle_once(&state, started).await {
            Ok(()) => break,
            Err(e) => {
                pause = (pause * 2).min(Duration::from_secs(60));
                tracing::warn!(error = %e, retry_in_s = pause.as_secs(), "could not settle pending releases yet");
            }
        }
    }
    tracing::info!("pending releases settled");
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send), so
/// requests in flight finish before the process exits.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let conn = open_db(&args.db).await?;
    tracing::info!(database = %config::redact_url(&args.db.database_url), "database ready");
    let mut daemon = args.dokku.daemon_settings();
    let _sim = if args.dokku.dokku_sim {
        let dir = tempfile::Builder::new().prefix("drydock-sim-").tempdir()?;
        let socket = dir.path().join("dokku-daemon.sock");
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool)?;
        let handle =
            drydock_dokku::sim::Sim::start(&socket, drydock_dokku::sim::SimOptions::default())
                .await?;
        tracing::warn!(socket = %socket.display(), "DOKKU SIMULATOR IN USE: nothing is deployed anywhere; this is for demos and tests only");
        daemon.socket = socket;
        daemon.spool_dir = spool;
        Some((dir, handle))
    } else {
        None
    };
    let dokku = DokkuPlatform::new(daemon);
    let swept = dokku.sweep_spool();
    if swept > 0 {
        tracing::info!(files = swept, "removed stale spool files");
    }
    let platform: Arc<dyn Platform> = Arc::new(dokku);
    let settings = args.api_settings();
    let header_timeout = settings.header_timeout;
    let state = AppState::new(conn, platform, settings);
    // One pass before serving, so a restarted server answers with settled
    // releases; if Dokku or the database is not there yet, keep trying behind.
    let started = Utc::now();
    if let Err(e) = settle_once(&state, started).await {
        tracing::warn!(error = %e, "could not settle pending releases at start-up; retrying in the background");
        tokio::spawn(settle_until_done(state.clone(), started));
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(bind = %args.bind, "drydock listening");
    drydock_api::server::serve(
        listener,
        drydock_api::routes(state),
        header_timeout,
        shutdown_signal(),
    )
    .await;
    Ok(())
}
