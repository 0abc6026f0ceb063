//! `drydock-bench soak`: the bounded reliability soak. For each back-end it
//! starts the server, registers users and apps through the API, then sends a
//! fixed rate of mixed reads and writes for a few minutes (open loop: every
//! request is due at `start + n / rate` whether or not earlier ones have
//! answered, so a slow server cannot lower the offered load), and checks:
//!
//! - no 5xx and no transport failure (4xx are reported: the mix intends none);
//! - every app's release versions are exactly `1..=N`, and `N` matches the
//!   release-creating writes the server acknowledged;
//! - the server's mean RSS in the last minute is within `--max-rss-growth`
//!   percent of the first minute's (VmRSS sampled every 5 s).
//!
//! Latency is measured from the moment a request was due, so queueing behind
//! a slow server (or a late generator) counts against it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::sync::{RwLock, Semaphore};

use super::{
    call, client, drydock_bin, print_table, proc_status_kb, start_server, Args, Database, Row,
    Stats,
};

/// Options of `drydock-bench soak` (back-ends and PostgreSQL as for the main run).
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// Minutes of load per back-end; 2 or more keeps the first and last minute apart.
    #[arg(long, default_value_t = 3.0)]
    minutes: f64,
    /// Requests per second, each due on a fixed schedule whatever the latency.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Users registered through the API (the first becomes admin).
    #[arg(long, default_value_t = 5)]
    users: usize,
    /// Apps, owned round-robin by the users; every other one gets a collaborator.
    #[arg(long, default_value_t = 20)]
    apps: usize,
    /// Most requests outstanding; one due beyond that is shed (counted, not
    /// sent), so a stalled server cannot make the bench open sockets without bound.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Largest growth of mean RSS from the first to the last minute, in percent,
    /// before the soak fails.
    #[arg(long, default_value_t = 10.0)]
    max_rss_growth: f64,
    /// Seed of the request mix, so two runs send the same sequence.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run `dokku-sim` as its own process (next to `drydock`; build it with
    /// `cargo build --release -p drydock-dokku --bin dokku-sim`) instead of
    /// `serve --dokku-sim`: the simulator keeps every command it received, so
    /// in-process its bookkeeping grows the server's RSS.
    #[arg(long)]
    external_sim: bool,
}

/// How often the server's RSS is sampled.
const RSS_EVERY: Duration = Duration::from_secs(5);
/// Config keys the writes cycle through, so the config stays small.
const KEYS: usize = 8;
/// Domains an app holds at most before the mix removes instead of adding.
const MAX_DOMAINS: usize = 3;
/// Images the builds alternate between.
const IMAGES: [&str; 3] = [
    "nginx:1.25",
    "nginx:1.27",
    "registry.example.com/soak/web:2",
];
const PASSWORD: &str = "soak-password-1";

/// One kind of request of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    ListApps,
    GetApp,
    GetConfig,
    GetReleases,
    GetBuilds,
    GetDomains,
    GetPerms,
    Whoami,
    SetConfig,
    UnsetConfig,
    PostBuild,
    AddDomain,
    DeleteDomain,
    Rollback,
}

/// The mix in percent: 70 reads, 30 writes. An unset becomes a set when the
/// app has no key known to be set, and a domain add becomes a removal once the
/// app has domains, so every request is one the server should accept.
const MIX: [(Op, u32); 13] = [
    (Op::ListApps, 10),
    (Op::GetApp, 12),
    (Op::GetConfig, 12),
    (Op::GetReleases, 12),
    (Op::GetBuilds, 8),
    (Op::GetDomains, 8),
    (Op::GetPerms, 4),
    (Op::Whoami, 4),
    (Op::SetConfig, 12),
    (Op::UnsetConfig, 5),
    (Op::PostBuild, 4),
    (Op::AddDomain, 7),
    (Op::Rollback, 2),
];

const _: () = {
    let mut sum = 0;
    let mut i = 0;
    while i < MIX.len() {
        sum += MIX[i].1;
        i += 1;
    }
    assert!(sum == 100, "the mix is in percent");
};

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::ListApps => "GET /v2/apps/",
            Op::GetApp => "GET /v2/apps/<id>/",
            Op::GetConfig => "GET …/config/",
            Op::GetReleases => "GET …/releases/ (page of 100)",
            Op::GetBuilds => "GET …/builds/",
            Op::GetDomains => "GET …/domains/",
            Op::GetPerms => "GET …/perms/",
            Op::Whoami => "GET /v2/auth/whoami/",
            Op::SetConfig => "POST …/config/ set",
            Op::UnsetConfig => "POST …/config/ unset",
            Op::PostBuild => "POST …/builds/ image",
            Op::AddDomain => "POST …/domains/",
            Op::DeleteDomain => "DELETE …/domains/<domain>",
            Op::Rollback => "POST …/releases/rollback/",
        }
    }

    fn writes(self) -> bool {
        matches!(
            self,
            Op::SetConfig
                | Op::UnsetConfig
                | Op::PostBuild
                | Op::AddDomain
                | Op::DeleteDomain
                | Op::Rollback
        )
    }

    /// Whether a 2xx answer means the app got a new release.
    fn releases(self) -> bool {
        matches!(
            self,
            Op::SetConfig | Op::UnsetConfig | Op::PostBuild | Op::Rollback
        )
    }
}

/// SplitMix64: a seeded generator, so the mix is repeatable without another dependency.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn op(&mut self) -> Op {
        let mut x = (self.next() % 100) as u32;
        for (op, weight) in MIX {
            if x < weight {
                return op;
            }
            x -= weight;
        }
        Op::GetApp
    }
}

/// Poisoning only follows a panic elsewhere; the counters stay usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An app of the soak and what the bench knows about it.
struct SoakApp {
    name: String,
    /// Users allowed to use it: the owner, then its collaborator if any.
    users: Vec<usize>,
    track: Mutex<Track>,
    /// Config writes hold it shared, a rollback alone: a rollback brings back an
    /// older config, so the keys known to be set are forgotten under it and no
    /// unset can race it into a 422.
    gate: RwLock<()>,
}

/// What the server confirmed about one app, plus what requests in flight reserved.
#[derive(Default)]
struct Track {
    keys_set: BTreeSet<usize>,
    keys_busy: BTreeSet<usize>,
    domains: Vec<String>,
    domains_adding: usize,
    /// Release-creating writes answered 2xx.
    releases_ok: u64,
    /// Release-creating writes answered otherwise (each may or may not have written one).
    releases_unsure: u64,
}

/// What a request reserved in its app's [`Track`], released when it settles.
enum Claim {
    Nothing,
    Key(usize),
    Domain(String),
}

/// One request, resolved against the app's state.
struct Prepared {
    op: Op,
    method: Method,
    path: String,
    body: Option<Value>,
    claim: Claim,
}

/// Everything the soak measured, shared by the request tasks.
#[derive(Default)]
struct Tally {
    /// Latencies (µs, from the due time) of 2xx answers, per request kind.
    ok_us: BTreeMap<Op, Vec<u64>>,
    /// Non-2xx answers and transport failures, per request kind.
    failed: BTreeMap<Op, u64>,
    /// Answers by status code; 0 is a transport failure (no answer, timeout).
    status: BTreeMap<u16, u64>,
    /// The first non-2xx answers, with their bodies.
    samples: Vec<String>,
}

/// The soak of one back-end: the server, the users' tokens, the apps.
struct Soak {
    base: String,
    http: reqwest::Client,
    tokens: Vec<String>,
    apps: Vec<SoakApp>,
    tally: Mutex<Tally>,
}

impl Soak {
    /// Sends one due request and records its outcome.
    async fn execute(&self, op: Op, app: usize, user: usize, seq: u64, due: Instant) {
        let app = &self.apps[app];
        let _shared = if matches!(op, Op::SetConfig | Op::UnsetConfig) {
            Some(app.gate.read().await)
        } else {
            None
        };
        let _alone = if op == Op::Rollback {
            Some(app.gate.write().await)
        } else {
            None
        };
        let p = prepare(op, app, seq);
        let mut rb = self
            .http
            .request(p.method.clone(), format!("{}{}", self.base, p.path))
            .header("Authorization", format!("token {}", self.tokens[user]));
        if let Some(body) = &p.body {
            rb = rb.json(body);
        }
        let answer = match rb.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                resp.text()
                    .await
                    .map(|text| (status, text))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let lat_us = due.elapsed().as_micros() as u64;
        let ok = matches!(answer, Ok((s, _)) if (200..300).contains(&s));
        settle(app, &p, ok);
        let mut t = lock(&self.tally);
        match answer {
            Ok((status, _)) if ok => {
                *t.status.entry(status).or_default() += 1;
                t.ok_us.entry(p.op).or_default().push(lat_us);
            }
            Ok((status, text)) => {
                *t.status.entry(status).or_default() += 1;
                *t.failed.entry(p.op).or_default() += 1;
                if t.samples.len() < 20 {
                    let body: String = text.chars().take(300).collect();
                    t.samples
                        .push(format!("{} {} -> {status}: {body}", p.method, p.path));
                }
            }
            Err(e) => {
                *t.status.entry(0).or_default() += 1;
                *t.failed.entry(p.op).or_default() += 1;
                if t.samples.len() < 20 {
                    t.samples
                        .push(format!("{} {} -> transport: {e}", p.method, p.path));
                }
            }
        }
    }
}

/// Resolves `op` against what the bench knows of the app and reserves what it touches.
fn prepare(op: Op, app: &SoakApp, seq: u64) -> Prepared {
    let a = &app.name;
    let mut t = lock(&app.track);
    let unset = match op {
        Op::UnsetConfig => t.keys_set.difference(&t.keys_busy).next().copied(),
        _ => None,
    };
    let add_domain =
        t.domains.is_empty() || (t.domains.len() + t.domains_adding < MAX_DOMAINS && seq & 1 == 0);
    let get = |path: String| Prepared {
        op,
        method: Method::GET,
        path,
        body: None,
        claim: Claim::Nothing,
    };
    match (op, unset) {
        (Op::ListApps, _) => get("/v2/apps/".into()),
        (Op::GetApp, _) => get(format!("/v2/apps/{a}/")),
        (Op::GetConfig, _) => get(format!("/v2/apps/{a}/config/")),
        (Op::GetReleases, _) => get(format!("/v2/apps/{a}/releases/")),
        (Op::GetBuilds, _) => get(format!("/v2/apps/{a}/builds/")),
        (Op::GetDomains, _) => get(format!("/v2/apps/{a}/domains/")),
        (Op::GetPerms, _) => get(format!("/v2/apps/{a}/perms/")),
        (Op::Whoami, _) => get("/v2/auth/whoami/".into()),
        (Op::UnsetConfig, Some(k)) => {
            t.keys_busy.insert(k);
            Prepared {
                op,
                method: Method::POST,
                path: format!("/v2/apps/{a}/config/"),
                body: Some(json!({"values": {format!("SOAK_{k}"): null}})),
                claim: Claim::Key(k),
            }
        }
        (Op::SetConfig | Op::UnsetConfig, _) => {
            // A key no request in flight touches; the value is new every time,
            // so the change is never a no-op (409).
            let free = (0..KEYS)
                .map(|i| (seq as usize + i) % KEYS)
                .find(|k| !t.keys_busy.contains(k));
            let (key, claim) = match free {
                Some(k) => {
                    t.keys_busy.insert(k);
                    (format!("SOAK_{k}"), Claim::Key(k))
                }
                None => (format!("SOAK_EXTRA_{seq}"), Claim::Nothing),
            };
            Prepared {
                op: Op::SetConfig,
                method: Method::POST,
                path: format!("/v2/apps/{a}/config/"),
                body: Some(json!({"values": {key: format!("v{seq}")}})),
                claim,
            }
        }
        (Op::PostBuild, _) => Prepared {
            op,
            method: Method::POST,
            path: format!("/v2/apps/{a}/builds/"),
            body: Some(json!({"image": IMAGES[seq as usize % IMAGES.len()]})),
            claim: Claim::Nothing,
        },
        (Op::AddDomain | Op::DeleteDomain, _) if add_domain => {
            let d = format!("d{seq}.{a}.soak.test");
            t.domains_adding += 1;
            Prepared {
                op: Op::AddDomain,
                method: Method::POST,
                path: format!("/v2/apps/{a}/domains/"),
                body: Some(json!({ "domain": d })),
                claim: Claim::Domain(d),
            }
        }
        (Op::AddDomain | Op::DeleteDomain, _) => {
            let d = t.domains.remove(0);
            Prepared {
                op: Op::DeleteDomain,
                method: Method::DELETE,
                path: format!("/v2/apps/{a}/domains/{d}"),
                body: None,
                claim: Claim::Domain(d),
            }
        }
        (Op::Rollback, _) => Prepared {
            op,
            method: Method::POST,
            path: format!("/v2/apps/{a}/releases/rollback/"),
            body: Some(json!({})),
            claim: Claim::Nothing,
        },
    }
}

/// Updates the app's state with a request's outcome. A failed write leaves the
/// server's state unknown, so what it touched is forgotten rather than reused.
fn settle(app: &SoakApp, p: &Prepared, ok: bool) {
    let mut t = lock(&app.track);
    match (&p.claim, p.op) {
        (Claim::Key(k), Op::SetConfig) => {
            t.keys_busy.remove(k);
            if ok {
                t.keys_set.insert(*k);
            } else {
                t.keys_set.remove(k);
            }
        }
        (Claim::Key(k), _) => {
            t.keys_busy.remove(k);
            t.keys_set.remove(k);
        }
        (Claim::Domain(d), Op::AddDomain) => {
            t.domains_adding -= 1;
            if ok {
                t.domains.push(d.clone());
            }
        }
        (_, Op::Rollback) => t.keys_set.clear(),
        _ => {}
    }
    if p.op.releases() {
        if ok {
            t.releases_ok += 1;
        } else {
            t.releases_unsure += 1;
        }
    }
}

/// GET with a token, the JSON answer or an error carrying status and body.
async fn get_json(c: &reqwest::Client, url: String, token: &str) -> anyhow::Result<Value> {
    let resp = c
        .get(&url)
        .header("Authorization", format!("token {token}"))
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("{url}: {status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// One app's release history as the API lists it.
struct History {
    /// The list's `count`.
    count: u64,
    /// Versions in the order the pages gave them (newest first).
    versions: Vec<i64>,
    /// Releases per `state`.
    states: BTreeMap<String, u64>,
}

/// Every release of an app, page by page with `?limit=&offset=`.
async fn history(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    app: &str,
) -> anyhow::Result<History> {
    let mut h = History {
        count: 0,
        versions: Vec::new(),
        states: BTreeMap::new(),
    };
    loop {
        let url = format!(
            "{base}/v2/apps/{app}/releases/?limit=100&offset={}",
            h.versions.len()
        );
        let page = get_json(c, url, token).await?;
        h.count = page["count"]
            .as_u64()
            .context("releases page without count")?;
        let results = page["results"]
            .as_array()
            .context("releases page without results")?;
        for r in results {
            h.versions
                .push(r["version"].as_i64().context("release without version")?);
            let state = r["state"].as_str().unwrap_or("?").to_owned();
            *h.states.entry(state).or_default() += 1;
        }
        if results.is_empty() || h.versions.len() as u64 >= h.count {
            return Ok(h);
        }
    }
}

/// What is wrong with a history's versions, if anything: they must be exactly
/// `1..=N`, newest first, with `count` = N.
fn version_problems(h: &History) -> Vec<String> {
    let mut out = Vec::new();
    if h.count != h.versions.len() as u64 {
        out.push(format!("count {} but {} listed", h.count, h.versions.len()));
    }
    if h.versions.windows(2).any(|w| w[0] <= w[1]) {
        out.push("not strictly newest first".into());
    }
    let mut sorted = h.versions.clone();
    sorted.sort_unstable();
    let dups: Vec<i64> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    if !dups.is_empty() {
        out.push(format!("duplicate versions {dups:?}"));
    }
    sorted.dedup();
    let top = sorted.last().copied().unwrap_or(0);
    let missing: Vec<i64> = (1..=top)
        .filter(|v| sorted.binary_search(v).is_err())
        .collect();
    if !missing.is_empty() {
        out.push(format!("missing versions {missing:?}"));
    }
    if sorted.first().is_some_and(|v| *v < 1) {
        out.push(format!("versions below 1: first is {}", sorted[0]));
    }
    out
}

/// VmRSS (kB) every [`RSS_EVERY`] from `start` to `start + total`, keyed by
/// the nominal second of each sample.
async fn sample_rss(pid: u32, start: Instant, total: Duration) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for k in 0u32.. {
        let offset = RSS_EVERY * k;
        if offset > total {
            break;
        }
        tokio::time::sleep_until((start + offset).into()).await;
        out.push((offset.as_secs(), proc_status_kb(pid, "VmRSS:")));
    }
    out
}

/// A log line without its terminal colour codes (the server colours its text log).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// A `dokku-sim` process of its own: socket and spool in `dir`, killed on drop.
struct ExternalSim {
    child: Child,
    dir: tempfile::TempDir,
}

impl ExternalSim {
    fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("dokku-daemon.sock")
    }

    fn spool(&self) -> std::path::PathBuf {
        self.dir.path().join("spool")
    }

    async fn start() -> anyhow::Result<ExternalSim> {
        let bin = drydock_bin()?.with_file_name("dokku-sim");
        if !bin.exists() {
            bail!(
                "{} not found: run `cargo build --release -p drydock-dokku --bin dokku-sim` (same target dir)",
                bin.display()
            );
        }
        let dir = tempfile::tempdir()?;
        let log = std::fs::File::create(dir.path().join("sim.log"))?;
        let sim = ExternalSim {
            child: Command::new(bin)
                .arg("--socket")
                .arg(dir.path().join("dokku-daemon.sock"))
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .context("spawning dokku-sim")?,
            dir,
        };
        std::fs::create_dir_all(sim.spool())?;
        let t = Instant::now();
        while !sim.socket().exists() {
            if t.elapsed() > Duration::from_secs(30) {
                bail!("dokku-sim did not create its socket in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(sim)
    }
}

fn mean_mb(samples: &[(u64, u64)], keep: impl Fn(u64) -> bool) -> f64 {
    let v: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| keep(*t))
        .map(|(_, kb)| *kb)
        .collect();
    v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 / 1024.0
}

/// The result of one back-end's soak.
struct Outcome {
    rows: Vec<Row>,
    /// Findings printed under the table.
    details: String,
    /// Why the soak fails, if it does.
    failures: Vec<String>,
}

fn row(scenario: String, backend: &str, stats: Option<Stats>, rss_mb: f64, note: String) -> Row {
    Row {
        scenario,
        backend: backend.into(),
        stats,
        rss_mb,
        note,
    }
}

/// Registers the users and creates the apps (a build, a config release, and a
/// collaborator on every other app), all through the API.
async fn seed(base: &str, soak: &SoakArgs) -> anyhow::Result<(Vec<String>, Vec<SoakApp>)> {
    let c = client();
    let mut names = Vec::new();
    let mut tokens = Vec::new();
    for u in 0..soak.users {
        let name = format!("soak{u}");
        call(
            &c,
            Method::POST,
            format!("{base}/v2/auth/register/"),
            None,
            json!({"username": name, "password": PASSWORD, "email": format!("{name}@example.com")}),
        )
        .await?;
        let v = call(
            &c,
            Method::POST,
            format!("{base}/v2/auth/login/"),
            None,
            json!({"username": name, "password": PASSWORD}),
        )
        .await?;
        tokens.push(
            v["token"]
                .as_str()
                .context("login answered no token")?
                .to_owned(),
        );
        names.push(name);
    }
    let mut apps = Vec::new();
    for i in 0..soak.apps {
        let name = format!("soak-{i:02}");
        let owner = i % soak.users;
        let mut users = vec![owner];
        let (c, tokens) = (&c, &tokens);
        let post = move |path: String, user: usize, body: Value| {
            call(
                c,
                Method::POST,
                format!("{base}{path}"),
                Some(&tokens[user]),
                body,
            )
        };
        post("/v2/apps/".into(), owner, json!({ "id": name })).await?;
        if i % 2 == 0 && soak.users > 1 {
            let collaborator = (owner + 1) % soak.users;
            post(
                format!("/v2/apps/{name}/perms/"),
                owner,
                json!({"username": names[collaborator]}),
            )
            .await?;
            users.push(collaborator);
        }
        post(
            format!("/v2/apps/{name}/builds/"),
            owner,
            json!({"image": IMAGES[0]}),
        )
        .await?;
        post(
            format!("/v2/apps/{name}/config/"),
            users[users.len() - 1],
            json!({"values": {"SOAK_SEEDED": "1"}}),
        )
        .await?;
        apps.push(SoakApp {
            name,
            users,
            track: Mutex::default(),
            gate: RwLock::new(()),
        });
    }
    Ok((tokens, apps))
}

async fn run_backend(
    args: &Args,
    soak: &SoakArgs,
    backend: &str,
    db_url: &str,
) -> anyhow::Result<Outcome> {
    let sim = if soak.external_sim {
        Some(ExternalSim::start().await?)
    } else {
        None
    };
    let paths = sim.as_ref().map(|s| (s.socket(), s.spool()));
    let external = paths.as_ref().map(|(a, b)| (a.as_path(), b.as_path()));
    let mut server = start_server(db_url, args.password_iterations, external).await?;
    let pid = server.child.id().context("server pid")?;
    let sim_pid = sim.as_ref().and_then(|s| s.child.id());
    let base = server.base.clone();
    eprintln!(
        "[{backend}] soak: registering {} users, creating {} apps",
        soak.users, soak.apps
    );
    let (tokens, apps) = seed(&base, soak).await?;
    let c = client();
    let mut seeded = Vec::new();
    for a in &apps {
        let page = get_json(
            &c,
            format!("{base}/v2/apps/{}/releases/?limit=1", a.name),
            &tokens[a.users[0]],
        )
        .await?;
        seeded.push(
            page["count"]
                .as_u64()
                .context("releases page without count")?,
        );
    }
    let ctx = Arc::new(Soak {
        base: base.clone(),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(soak.max_in_flight)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?,
        tokens,
        apps,
        tally: Mutex::default(),
    });

    let total = Duration::from_secs_f64(soak.minutes * 60.0);
    let due_count = (soak.rate * total.as_secs_f64()).floor() as u64;
    eprintln!(
        "[{backend}] soak: {due_count} requests at {}/s over {:.0} s",
        soak.rate,
        total.as_secs_f64()
    );
    let slots = Arc::new(Semaphore::new(soak.max_in_flight));
    let mut mix = Mix(soak.seed);
    let mut shed = 0u64;
    let mut max_lag = Duration::ZERO;
    let start = Instant::now();
    let sampler = tokio::spawn(sample_rss(pid, start, total));
    let sim_sampler = sim_pid.map(|p| tokio::spawn(sample_rss(p, start, total)));
    for seq in 0..due_count {
        let due = start + Duration::from_secs_f64(seq as f64 / soak.rate);
        tokio::time::sleep_until(due.into()).await;
        max_lag = max_lag.max(due.elapsed());
        let op = mix.op();
        let app = mix.below(ctx.apps.len());
        let user = match op {
            Op::ListApps | Op::Whoami => mix.below(ctx.tokens.len()),
            _ => {
                let allowed = &ctx.apps[app].users;
                allowed[mix.below(allowed.len())]
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shed += 1;
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            ctx.execute(op, app, user, seq, due).await;
            drop(slot);
        });
    }
    let _drained = slots
        .acquire_many(u32::try_from(soak.max_in_flight)?)
        .await?;
    let elapsed = start.elapsed();
    let rss = sampler.await?;
    let sim_rss = match sim_sampler {
        Some(h) => h.await?,
        None => Vec::new(),
    };
    let hwm_mb = proc_status_kb(pid, "VmHWM:") as f64 / 1024.0;

    eprintln!("[{backend}] soak: checking release versions");
    let mut failures = Vec::new();
    let mut details = String::new();
    let mut releases = 0u64;
    let mut contiguous = 0usize;
    let mut matching = 0usize;
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    for (a, base_count) in ctx.apps.iter().zip(&seeded) {
        let h = history(&c, &base, &ctx.tokens[a.users[0]], &a.name).await?;
        let n = h.versions.len() as u64;
        releases += n;
        for (s, k) in &h.states {
            *states.entry(s.clone()).or_default() += k;
        }
        let problems = version_problems(&h);
        if problems.is_empty() {
            contiguous += 1;
        } else {
            failures.push(format!("{}: {}", a.name, problems.join("; ")));
        }
        let t = lock(&a.track);
        let (low, high) = (
            base_count + t.releases_ok,
            base_count + t.releases_ok + t.releases_unsure,
        );
        if (low..=high).contains(&n) {
            matching += 1;
        } else {
            failures.push(format!(
                "{}: {n} releases, but {base_count} seeded + {} acknowledged writes (+{} unanswered) expect {low}..={high}",
                a.name, t.releases_ok, t.releases_unsure
            ));
        }
    }
    let not_succeeded: u64 = states
        .iter()
        .filter(|(s, _)| s.as_str() != "succeeded")
        .map(|(_, k)| k)
        .sum();
    if not_succeeded > 0 {
        failures.push(format!("releases not succeeded at the end: {states:?}"));
    }

    let tally = std::mem::take(&mut *lock(&ctx.tally));
    let class = |lo: u16, hi: u16| -> u64 { tally.status.range(lo..hi).map(|(_, k)| k).sum() };
    let (c2, c4, c5, transport) = (
        class(200, 300),
        class(400, 500),
        class(500, 600),
        class(0, 1),
    );
    let other = tally.status.values().sum::<u64>() - c2 - c4 - c5 - transport;
    if c5 > 0 {
        failures.push(format!("{c5} unexpected 5xx answers"));
    }
    if transport > 0 {
        failures.push(format!(
            "{transport} requests got no answer (transport error or 30 s timeout)"
        ));
    }
    if let Ok(Some(status)) = server.child.try_wait() {
        failures.push(format!("the server exited during the soak: {status}"));
    }

    let window = (total.as_secs() / 3).min(60);
    let end = total.as_secs();
    let first_mb = mean_mb(&rss, |t| t > 0 && t <= window);
    let last_mb = mean_mb(&rss, |t| t + window >= end);
    let growth = 100.0 * (last_mb - first_mb) / first_mb;
    // The first window includes warm-up (caches and pools filling); growth from
    // the second is what a leak would show. Reported, not checked.
    let second_mb = mean_mb(&rss, |t| t > window && t <= 2 * window);
    let settled = 100.0 * (last_mb - second_mb) / second_mb;
    let peak_mb = rss.iter().map(|(_, kb)| *kb).max().unwrap_or(0) as f64 / 1024.0;
    if growth > soak.max_rss_growth {
        failures.push(format!(
            "mean RSS grew {growth:.1}% from the first to the last {window} s (limit {}%)",
            soak.max_rss_growth
        ));
    }

    let stats_of = |keep: &dyn Fn(Op) -> bool| -> Stats {
        let parts = tally
            .ok_us
            .iter()
            .filter(|(op, _)| keep(**op))
            .map(|(_, lat)| Stats {
                lat: lat.clone(),
                ..Default::default()
            })
            .chain(
                tally
                    .failed
                    .iter()
                    .filter(|(op, _)| keep(**op))
                    .map(|(_, n)| Stats {
                        errors: *n,
                        ..Default::default()
                    }),
            )
            .collect();
        Stats::merge(parts, elapsed)
    };
    let max_note = |s: &Stats| format!("max {:.1} ms", s.pct(1.0));
    let all = stats_of(&|_| true);
    let reads = stats_of(&|op| !op.writes());
    let writes = stats_of(&|op| op.writes());
    let mut rows = vec![
        row(
            "7 soak: all requests (achieved rate)".into(),
            backend,
            Some(all.clone()),
            peak_mb,
            format!(
                "offered {}/s for {} s: {due_count} due, {shed} shed; {}; generator late by at most {:.1} ms",
                soak.rate,
                end,
                max_note(&all),
                max_lag.as_secs_f64() * 1000.0
            ),
        ),
        row(
            "7 soak: reads".into(),
            backend,
            Some(reads.clone()),
            f64::NAN,
            max_note(&reads),
        ),
        row(
            "7 soak: writes".into(),
            backend,
            Some(writes.clone()),
            f64::NAN,
            max_note(&writes),
        ),
    ];
    let ops: BTreeSet<Op> = tally
        .ok_us
        .keys()
        .chain(tally.failed.keys())
        .copied()
        .collect();
    for op in ops {
        let s = stats_of(&|o| o == op);
        let note = max_note(&s);
        rows.push(row(
            format!("7 soak   {}", op.label()),
            backend,
            Some(s),
            f64::NAN,
            note,
        ));
    }
    rows.push(row(
        "7 soak: answers by status class".into(),
        backend,
        None,
        f64::NAN,
        format!("2xx {c2}, 4xx {c4}, 5xx {c5}, transport {transport}, other {other}"),
    ));
    rows.push(row(
        format!("7 soak: RSS mean first / last {window} s"),
        backend,
        None,
        last_mb,
        format!(
            "first {first_mb:.1} MB, second {second_mb:.1} MB, last {last_mb:.1} MB ({growth:+.1}% on first, {settled:+.1}% on second), peak sample {peak_mb:.1} MB, VmHWM {hwm_mb:.1} MB"
        ),
    ));
    let sim_note = if sim_rss.is_empty() {
        "dokku-sim in-process (its state counts here)".to_owned()
    } else {
        format!(
            "external dokku-sim: first {:.1} MB, last {:.1} MB",
            mean_mb(&sim_rss, |t| t > 0 && t <= window),
            mean_mb(&sim_rss, |t| t + window >= end)
        )
    };
    rows.push(row(
        "7 soak: where the simulator ran".into(),
        backend,
        None,
        f64::NAN,
        sim_note,
    ));
    rows.push(row(
        "7 soak: release versions".into(),
        backend,
        None,
        f64::NAN,
        format!(
            "{} apps, {releases} releases: 1..=N contiguous on {contiguous}, count = seeded + 2xx writes on {matching}; states {states:?}",
            ctx.apps.len()
        ),
    ));

    writeln!(
        details,
        "[{backend}] status codes: {:?} (0 = transport failure)",
        tally.status
    )?;
    let series: Vec<String> = rss
        .iter()
        .map(|(t, kb)| format!("{t}s {:.1}", *kb as f64 / 1024.0))
        .collect();
    writeln!(
        details,
        "[{backend}] VmRSS MB every 5 s: {}",
        series.join(", ")
    )?;
    for s in &tally.samples {
        writeln!(details, "[{backend}] non-2xx: {s}")?;
    }
    // The simulator's start-up banner is a WARN by design; anything else is a finding.
    let noisy: Vec<String> = server
        .log()
        .lines()
        .map(strip_ansi)
        .filter(|l| {
            (l.contains(" WARN ") || l.contains(" ERROR ")) && !l.contains("DOKKU SIMULATOR IN USE")
        })
        .collect();
    writeln!(
        details,
        "[{backend}] server log: {} WARN/ERROR lines",
        noisy.len()
    )?;
    for l in noisy.iter().take(10) {
        writeln!(details, "[{backend}]   {l}")?;
    }

    server.child.start_kill().ok();
    server.child.wait().await.ok();
    if let Some(mut sim) = sim {
        sim.child.start_kill().ok();
        sim.child.wait().await.ok();
    }
    Ok(Outcome {
        rows,
        details,
        failures,
    })
}

/// Runs the soak on every requested back-end, prints the table and findings,
/// and fails if any back-end had a 5xx, a transport failure, a version
/// anomaly, a release not `succeeded`, or RSS growth above the limit.
pub async fn run(args: &Args, soak: &SoakArgs) -> anyhow::Result<()> {
    if !(soak.rate > 0.0 && soak.minutes > 0.0 && soak.users > 0 && soak.apps > 0) {
        bail!("--rate, --minutes, --users and --apps must be positive");
    }
    let mut rows = Vec::new();
    let mut details = String::new();
    let mut failures = Vec::new();
    for backend in &args.backends {
        let db = Database::create(backend, &args.postgres).await?;
        let res = run_backend(args, soak, backend, &db.url).await;
        db.drop_db().await?;
        let out = res?;
        rows.extend(out.rows);
        details.push_str(&out.details);
        failures.extend(out.failures.into_iter().map(|f| format!("{backend}: {f}")));
    }
    print_table(&rows);
    println!();
    print!("{details}");
    if !failures.is_empty() {
        bail!("soak failed:\n  {}", failures.join("\n  "));
    }
    println!(
        "soak passed: no 5xx, versions contiguous, RSS within {}%",
        soak.max_rss_growth
    );
    Ok(())
}
