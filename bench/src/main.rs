//! `drydock-bench`: starts Drydock (SQLite and PostgreSQL back-ends, `dokku-sim`
//! as the daemon) in a child process, seeds it through the API, drives load over
//! loopback with its own keep-alive HTTP client, samples the server's RSS from
//! `/proc/<pid>/status`, and prints one table.
//!
//! Needs the release server binary: `cargo build --release -p drydock` first
//! (or point `DRYDOCK_BIN` at it).
//!
//! `drydock-bench soak` runs the bounded reliability soak instead (see `soak.rs`).

mod soak;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

#[derive(Parser, Debug)]
#[command(name = "drydock-bench", about = "Load benchmark for Drydock")]
struct Args {
    /// Without a subcommand the throughput scenarios run.
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Seconds of load per measured scenario.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Back-ends to run, comma separated: sqlite, postgres.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    backends: Vec<String>,
    /// Scenarios, comma separated: list, releases, config-write, history, login, rss.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "list,releases,config-write,history,login,rss"
    )]
    scenarios: Vec<String>,
    /// Releases seeded on the largest history app (10000 is the full run).
    #[arg(long, default_value_t = 2000)]
    history: usize,
    /// Concurrent connections for the concurrent scenarios.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// PostgreSQL server URL (a fresh database is created and dropped on it).
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// PBKDF2 iterations the server hashes with (default: the server's default, 600000).
    #[arg(long, global = true)]
    password_iterations: Option<u32>,
}

/// Runs that are not the throughput table.
#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Bounded open-loop soak: a fixed request rate of mixed reads and writes
    /// over 20 apps and 5 users, then release-version and RSS checks.
    Soak(soak::SoakArgs),
}

impl Args {
    fn wants(&self, s: &str) -> bool {
        self.scenarios.iter().any(|x| x == s)
    }
}

// ---------------------------------------------------------------- measurement

/// What one load run measured.
#[derive(Default, Clone)]
struct Stats {
    /// Latencies in microseconds, sorted.
    lat: Vec<u64>,
    errors: u64,
    elapsed: Duration,
}

impl Stats {
    fn rps(&self) -> f64 {
        (self.lat.len() as u64 + self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn pct(&self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        let i = ((self.lat.len() as f64 * p).ceil() as usize).clamp(1, self.lat.len()) - 1;
        self.lat[i] as f64 / 1000.0
    }
    fn mean_ms(&self) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        self.lat.iter().sum::<u64>() as f64 / self.lat.len() as f64 / 1000.0
    }
    fn merge(parts: Vec<Stats>, elapsed: Duration) -> Stats {
        let mut out = Stats {
            elapsed,
            ..Default::default()
        };
        for p in parts {
            out.lat.extend(p.lat);
            out.errors += p.errors;
        }
        out.lat.sort_unstable();
        out
    }
}

/// One request a load task sends.
#[derive(Clone)]
enum Req {
    Get(String),
    /// POST a config change; `{n}` in the value is replaced by a counter.
    ConfigPost(String),
    Login(String, String),
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()
        .expect("http client")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

async fn send(c: &reqwest::Client, base: &str, token: &str, r: &Req) -> bool {
    let res = match r {
        Req::Get(path) => {
            c.get(format!("{base}{path}"))
                .header("Authorization", format!("token {token}"))
                .send()
                .await
        }
        Req::ConfigPost(path) => {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            c.post(format!("{base}{path}"))
                .header("Authorization", format!("token {token}"))
                .json(&json!({"values": {"BENCH": format!("v{n}")}}))
                .send()
                .await
        }
        Req::Login(u, p) => {
            c.post(format!("{base}/v2/auth/login/"))
                .json(&json!({"username": u, "password": p}))
                .send()
                .await
        }
    };
    match res {
        Ok(resp) => {
            let ok = resp.status().is_success();
            ok && resp.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}

/// Runs `reqs.len()` tasks (each its own keep-alive connection) until `stop`
/// is set or each task has sent `max_per_task` requests.
async fn load(
    base: &str,
    token: &str,
    reqs: Vec<Req>,
    dur: Duration,
    max_per_task: Option<usize>,
) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut handles = Vec::new();
    for r in reqs {
        let (base, token, stop) = (base.to_owned(), token.to_owned(), stop.clone());
        handles.push(tokio::spawn(async move {
            let c = client();
            let mut s = Stats::default();
            // One warm-up request opens the connection.
            send(&c, &base, &token, &r).await;
            loop {
                if stop.load(Ordering::Relaxed) || max_per_task.is_some_and(|m| s.lat.len() >= m) {
                    break;
                }
                let t = Instant::now();
                if send(&c, &base, &token, &r).await {
                    s.lat.push(t.elapsed().as_micros() as u64);
                } else {
                    s.errors += 1;
                }
            }
            s
        }));
    }
    if max_per_task.is_none() {
        tokio::time::sleep(dur).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut parts = Vec::new();
    for h in handles {
        parts.push(h.await.unwrap_or_default());
    }
    Stats::merge(parts, start.elapsed())
}

/// Peak VmRSS sampled since the last reset, plus reads of the server's /proc status.
struct RssProbe {
    pid: u32,
    peak_kb: Arc<AtomicU64>,
}

fn proc_status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

impl RssProbe {
    fn start(pid: u32) -> RssProbe {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let p = peak_kb.clone();
        tokio::spawn(async move {
            loop {
                let v = proc_status_kb(pid, "VmRSS:");
                if v == 0 {
                    break;
                }
                p.fetch_max(v, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        RssProbe { pid, peak_kb }
    }
    /// Peak sampled RSS in MB since the last call, and resets it.
    fn take_peak_mb(&self) -> f64 {
        let now = proc_status_kb(self.pid, "VmRSS:");
        let v = self.peak_kb.swap(0, Ordering::Relaxed).max(now);
        v as f64 / 1024.0
    }
}

// ---------------------------------------------------------------- table

struct Row {
    scenario: String,
    backend: String,
    stats: Option<Stats>,
    rss_mb: f64,
    note: String,
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| {:<44} | {:<8} | {:>9} | {:>8} | {:>8} | {:>8} | {:>6} | {:>8} | note",
        "scenario", "backend", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "RSS MB"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|---",
        "-".repeat(46),
        "-".repeat(10),
        "-".repeat(11),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(8),
        "-".repeat(10)
    );
    for r in rows {
        let (rps, p50, p90, p99, err) = match &r.stats {
            Some(s) => (
                format!("{:.0}", s.rps()),
                format!("{:.2}", s.pct(0.50)),
                format!("{:.2}", s.pct(0.90)),
                format!("{:.2}", s.pct(0.99)),
                s.errors.to_string(),
            ),
            None => Default::default(),
        };
        let rss = if r.rss_mb.is_nan() {
            "-".to_owned()
        } else {
            format!("{:.1}", r.rss_mb)
        };
        println!(
            "| {:<44} | {:<8} | {:>9} | {:>8} | {:>8} | {:>8} | {:>6} | {:>8} | {}",
            r.scenario, r.backend, rps, p50, p90, p99, err, rss, r.note
        );
    }
}

// ---------------------------------------------------------------- server

struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Server {
    /// The server's stderr so far (its log, at `RUST_LOG=warn`).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn drydock_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("DRYDOCK_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let p = exe
        .parent()
        .context("bench binary has no directory")?
        .join("drydock");
    if !p.exists() {
        bail!(
            "{} not found: run `cargo build --release -p drydock` first (same target dir) or set DRYDOCK_BIN",
            p.display()
        );
    }
    Ok(p)
}

/// Starts `drydock serve` with its in-process `dokku-sim`, or, with
/// `external_sim`, against the daemon socket and spool directory of a
/// separately started one.
async fn start_server(
    db_url: &str,
    iterations: Option<u32>,
    external_sim: Option<(&Path, &Path)>,
) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let mut cmd = Command::new(drydock_bin()?);
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    match external_sim {
        Some((socket, spool)) => cmd
            .env("DRYDOCK_DOKKU_SOCKET", socket)
            .env("DRYDOCK_SPOOL_DIR", spool),
        None => cmd
            .arg("--dokku-sim")
            .env("DRYDOCK_SPOOL_DIR", dir.path().join("spool")),
    };
    if let Some(i) = iterations {
        cmd.env("DRYDOCK_PASSWORD_ITERATIONS", i.to_string());
    }
    let child = cmd.spawn().context("spawning drydock")?;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    let t = Instant::now();
    loop {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if t.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            bail!("drydock did not come up in 60 s; log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Server { child, base, dir })
}

async fn call(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut rb = c.request(method, &url).json(&body);
    if let Some(t) = token {
        rb = rb.header("Authorization", format!("token {t}"));
    }
    let resp = rb.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("{url}: {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

const USER: &str = "bench";
const PASSWORD: &str = "bench-password-1";

/// Registers the bench user and logs in.
async fn login(base: &str) -> anyhow::Result<String> {
    let c = client();
    call(
        &c,
        reqwest::Method::POST,
        format!("{base}/v2/auth/register/"),
        None,
        json!({"username": USER, "password": PASSWORD, "email": "bench@example.com"}),
    )
    .await?;
    let v = call(
        &c,
        reqwest::Method::POST,
        format!("{base}/v2/auth/login/"),
        None,
        json!({"username": USER, "password": PASSWORD}),
    )
    .await?;
    v["token"]
        .as_str()
        .map(str::to_owned)
        .context("login answered no token")
}

/// Sequential config POSTs until the app has `n` more releases.
async fn seed_releases(base: String, token: String, app: String, n: usize) -> anyhow::Result<()> {
    let c = client();
    for i in 0..n {
        call(
            &c,
            reqwest::Method::POST,
            format!("{base}/v2/apps/{app}/config/"),
            Some(&token),
            json!({"values": {"SEED": format!("s{i}")}}),
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- ceiling

/// A bare poem server that checks a token header and answers a fixed body.
async fn start_ceiling(body: String, token: String) -> anyhow::Result<String> {
    use poem::{get, handler, http::StatusCode, web::Data, EndpointExt, Request, Response};
    #[handler]
    fn list(req: &Request, data: Data<&Arc<(String, String)>>) -> Response {
        let want = &data.0 .1;
        match req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
        {
            Some(h) if h.strip_prefix("token ") == Some(want.as_str()) => Response::builder()
                .content_type("application/json")
                .body(data.0 .0.clone()),
            _ => Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .body("{\"detail\":\"Invalid token.\"}"),
        }
    }
    let port = free_port()?;
    let app = poem::Route::new()
        .at("/v2/apps/", get(list))
        .data(Arc::new((body, token)));
    let listener = poem::listener::TcpListener::bind(format!("127.0.0.1:{port}"));
    tokio::spawn(poem::Server::new(listener).run(app));
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    for _ in 0..100 {
        if c.get(format!("{base}/v2/apps/")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(base)
}

// ---------------------------------------------------------------- scenarios

async fn run_backend(
    args: &Args,
    backend: &str,
    db_url: &str,
    rows: &mut Vec<Row>,
    ceiling: &mut Option<Stats>,
) -> anyhow::Result<()> {
    let dur = Duration::from_secs(args.duration);
    let conns = args.connections;
    let mut server = start_server(db_url, args.password_iterations, None).await?;
    let pid = server.child.id().context("server pid")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_mb = proc_status_kb(pid, "VmRSS:") as f64 / 1024.0;
    let probe = RssProbe::start(pid);
    let base = server.base.clone();
    let token = login(&base).await?;
    let c = client();
    eprintln!("[{backend}] seeding 50 apps");
    let apps: Vec<String> = (0..50).map(|i| format!("bench-{i:02}")).collect();
    for a in &apps {
        call(
            &c,
            reqwest::Method::POST,
            format!("{base}/v2/apps/"),
            Some(&token),
            json!({"id": a}),
        )
        .await?;
    }
    // Builds (so config changes deploy to dokku-sim) and a config on the first 20 apps.
    for a in apps.iter().take(20) {
        call(
            &c,
            reqwest::Method::POST,
            format!("{base}/v2/apps/{a}/builds/"),
            Some(&token),
            json!({"image": "nginx:1.25"}),
        )
        .await?;
        call(
            &c,
            reqwest::Method::POST,
            format!("{base}/v2/apps/{a}/config/"),
            Some(&token),
            json!({"values": {"DATABASE_URL": "postgres://db/app", "LOG_LEVEL": "info", "WORKERS": "4"}}),
        )
        .await?;
    }
    let list_body = c
        .get(format!("{base}/v2/apps/"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await?
        .text()
        .await?;
    probe.take_peak_mb();

    if args.wants("list") {
        if ceiling.is_none() {
            eprintln!("[ceiling] bare poem list");
            let cbase = start_ceiling(list_body.clone(), token.clone()).await?;
            let s = load(
                &cbase,
                &token,
                vec![Req::Get("/v2/apps/".into()); conns],
                dur,
                None,
            )
            .await;
            rows.push(Row {
                scenario: "0 ceiling: bare poem GET /v2/apps/ (50)".into(),
                backend: "-".into(),
                stats: Some(s.clone()),
                rss_mb: f64::NAN,
                note: format!("{} B body", list_body.len()),
            });
            *ceiling = Some(s);
        }
        for (name, path) in [
            ("1 GET /v2/apps/ (50 apps)", "/v2/apps/".to_owned()),
            (
                "1 GET /v2/apps/<id>/config/",
                format!("/v2/apps/{}/config/", apps[0]),
            ),
            ("1 GET /v2/apps/<id>/", format!("/v2/apps/{}/", apps[0])),
        ] {
            eprintln!("[{backend}] {name}");
            let s = load(
                &base,
                &token,
                vec![Req::Get(path.clone()); conns],
                dur,
                None,
            )
            .await;
            let note = match (path == "/v2/apps/", ceiling.as_ref()) {
                (true, Some(ce)) => format!("{:.1}% of ceiling", 100.0 * s.rps() / ce.rps()),
                _ => String::new(),
            };
            rows.push(Row {
                scenario: name.into(),
                backend: backend.into(),
                stats: Some(s),
                rss_mb: probe.take_peak_mb(),
                note,
            });
        }
    }

    if args.wants("config-write") {
        eprintln!("[{backend}] 3 config POST sequential");
        let s = load(
            &base,
            &token,
            vec![Req::ConfigPost(format!("/v2/apps/{}/config/", apps[0]))],
            dur,
            None,
        )
        .await;
        rows.push(Row {
            scenario: "3 POST config, 1 client sequential".into(),
            backend: backend.into(),
            stats: Some(s),
            rss_mb: probe.take_peak_mb(),
            note: "releases/s, deployed to dokku-sim".into(),
        });
        eprintln!("[{backend}] 3 config POST x16 apps");
        let reqs = apps
            .iter()
            .take(16)
            .map(|a| Req::ConfigPost(format!("/v2/apps/{a}/config/")))
            .collect();
        let s = load(&base, &token, reqs, dur, None).await;
        rows.push(Row {
            scenario: "3 POST config, 16 clients over 16 apps".into(),
            backend: backend.into(),
            stats: Some(s),
            rss_mb: probe.take_peak_mb(),
            note: "releases/s, deployed to dokku-sim".into(),
        });
    }

    if args.wants("history") || args.wants("releases") {
        // Apps 16..19 have a build and one config release already (v3).
        let sizes = [10usize, 1000.min(args.history), args.history];
        let hist_apps = [&apps[16], &apps[17], &apps[18]];
        eprintln!(
            "[{backend}] seeding release history {sizes:?} (sequential config POSTs, apps in parallel)"
        );
        let t = Instant::now();
        let mut seeds = Vec::new();
        for (a, n) in hist_apps.iter().zip(sizes) {
            seeds.push(tokio::spawn(seed_releases(
                base.clone(),
                token.clone(),
                (*a).clone(),
                n.saturating_sub(3),
            )));
        }
        for s in seeds {
            s.await??;
        }
        eprintln!("[{backend}] seeded in {:.1} s", t.elapsed().as_secs_f64());
        probe.take_peak_mb();
        let mut page = Vec::new();
        let mut post = Vec::new();
        for (a, n) in hist_apps.iter().zip(sizes) {
            let path = format!("/v2/apps/{a}/releases/");
            let s = load(&base, &token, vec![Req::Get(path); conns], dur, None).await;
            let label = if n == args.history && args.wants("releases") {
                format!("2 GET releases page of 100 ({n} releases)")
            } else {
                format!("4 GET releases page of 100 at {n}")
            };
            rows.push(Row {
                scenario: label,
                backend: backend.into(),
                stats: Some(s.clone()),
                rss_mb: probe.take_peak_mb(),
                note: String::new(),
            });
            page.push(s);
        }
        if args.wants("history") {
            for (a, n) in hist_apps.iter().zip(sizes) {
                // A bounded number of POSTs so the history size barely moves.
                let s = load(
                    &base,
                    &token,
                    vec![Req::ConfigPost(format!("/v2/apps/{a}/config/"))],
                    dur,
                    Some(100),
                )
                .await;
                rows.push(Row {
                    scenario: format!("4 POST config (100 seq) at {n}"),
                    backend: backend.into(),
                    stats: Some(s.clone()),
                    rss_mb: probe.take_peak_mb(),
                    note: String::new(),
                });
                post.push(s);
            }
            let ratio = |v: &[Stats]| v[2].mean_ms() / v[0].mean_ms();
            rows.push(Row {
                scenario: format!("4 ratio mean latency {}/10", args.history),
                backend: backend.into(),
                stats: None,
                rss_mb: f64::NAN,
                note: format!(
                    "releases page x{:.2}, config POST x{:.2}",
                    ratio(&page),
                    ratio(&post)
                ),
            });
        }
    }

    if args.wants("login") {
        eprintln!("[{backend}] 5 login storm");
        let mut reqs = vec![Req::Get("/v2/apps/".into()); conns];
        let readers = reqs.len();
        reqs.extend(vec![Req::Login(USER.into(), PASSWORD.into()); conns]);
        // Run both groups together but keep their stats apart.
        let (rd, lg) = tokio::join!(
            load(&base, &token, reqs[..readers].to_vec(), dur, None),
            load(&base, &token, reqs[readers..].to_vec(), dur, None)
        );
        let rss = probe.take_peak_mb();
        let iters = args
            .password_iterations
            .map_or("600000 (default)".to_owned(), |i| i.to_string());
        rows.push(Row {
            scenario: "5 login storm: readers GET /v2/apps/".into(),
            backend: backend.into(),
            stats: Some(rd),
            rss_mb: rss,
            note: format!("16 readers + 16 logins, PBKDF2 {iters}"),
        });
        rows.push(Row {
            scenario: "5 login storm: POST /v2/auth/login/".into(),
            backend: backend.into(),
            stats: Some(lg),
            rss_mb: rss,
            note: String::new(),
        });
    }

    if args.wants("rss") {
        rows.push(Row {
            scenario: "6 RSS idle (after start) / peak (VmHWM)".into(),
            backend: backend.into(),
            stats: None,
            rss_mb: proc_status_kb(pid, "VmHWM:") as f64 / 1024.0,
            note: format!("idle {idle_mb:.1} MB, peak VmHWM shown"),
        });
    }

    server.child.start_kill().ok();
    server.child.wait().await.ok();
    Ok(())
}

async fn pg_admin(url: &str, sql: &str) -> anyhow::Result<()> {
    // psql keeps the bench free of a database driver; trust auth is assumed.
    let out = Command::new("psql")
        .args([
            &format!("{url}/postgres"),
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ])
        .output()
        .await
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// A throw-away database for one back-end: a temp SQLite file, or a fresh
/// PostgreSQL database that [`Database::drop_db`] removes again.
struct Database {
    url: String,
    /// PostgreSQL server URL and database name, to drop it afterwards.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    async fn create(backend: &str, postgres: &str) -> anyhow::Result<Database> {
        match backend {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                Ok(Database {
                    url,
                    pg: None,
                    _dir: Some(dir),
                })
            }
            "postgres" => {
                let name = format!("drydock_bench_{}", std::process::id());
                let pg = postgres.trim_end_matches('/').to_owned();
                pg_admin(&pg, &format!("CREATE DATABASE {name}"))
                    .await
                    .context("creating the bench database")?;
                Ok(Database {
                    url: format!("{pg}/{name}"),
                    pg: Some((pg, name)),
                    _dir: None,
                })
            }
            other => bail!("unknown back-end {other:?} (sqlite, postgres)"),
        }
    }

    async fn drop_db(self) -> anyhow::Result<()> {
        if let Some((pg, name)) = &self.pg {
            pg_admin(pg, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .context("dropping the bench database")?;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    drydock_bin()?;
    if let Some(Cmd::Soak(soak_args)) = &args.command {
        return soak::run(&args, soak_args).await;
    }
    let mut rows = Vec::new();
    let mut ceiling = None;
    for backend in &args.backends {
        let db = Database::create(backend, &args.postgres).await?;
        let res = run_backend(&args, backend, &db.url, &mut rows, &mut ceiling).await;
        db.drop_db().await?;
        res?;
    }
    print_table(&rows);
    Ok(())
}
