//! `TestApp`: a Drydock server on a random loopback port with its own database
//! (a SQLite file, or a fresh PostgreSQL database) and its own dokku-sim.

use std::sync::Arc;
use std::time::Duration;

use drydock_api::{AppState, Settings};
use drydock_dokku::sim::{Sim, SimHandle, SimOptions, SimState};
use drydock_dokku::{DaemonSettings, DokkuPlatform};
use drydock_entity::store::connect::Databases;
use migration::{Migrator, MigratorTrait};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
fn pg_base() -> String {
    std::env::var("DRYDOCK_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A connection to the PostgreSQL server's maintenance database, for tests
/// that act on the server itself (terminating backends, creating databases).
pub async fn pg_admin() -> DatabaseConnection {
    sea_orm::Database::connect(format!("{}/postgres", pg_base()))
        .await
        .expect("PostgreSQL reachable")
}

/// A running server and the handles a test needs.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub sim: SimHandle,
    pub db: DatabaseConnection,
    dbs: Databases,
    url: String,
    daemon: DaemonSettings,
    _dir: tempfile::TempDir,
}

/// A response: status, headers and parsed JSON body (Null when empty or not JSON).
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Res {
    /// `field` of every object in a list answer's `results`, in order.
    pub fn column(&self, field: &str) -> Vec<String> {
        self.body["results"]
            .as_array()
            .expect("a list answer")
            .iter()
            .filter_map(|row| row[field].as_str().map(str::to_owned))
            .collect()
    }
}

impl TestApp {
    /// Starts a server with default test settings.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server after letting the test adjust its settings.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_with_daemon(backend, tweak, |_| {}).await
    }

    /// Starts a server after letting the test adjust its settings and the
    /// adapter's daemon settings (timeouts; the socket and spool are the test's).
    pub async fn spawn_with_daemon(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
        tweak_daemon: impl FnOnce(&mut DaemonSettings),
    ) -> Self {
        init_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let url = fresh_database(backend, dir.path()).await;
        let db = drydock_entity::store::connect::connect(&url, &test_pool())
            .await
            .expect("connect");
        Migrator::up(&db.writer, None).await.expect("migrate");

        let socket = dir.path().join("dokku.sock");
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool).expect("spool");
        let sim = Sim::start(&socket, SimOptions::default())
            .await
            .expect("sim");
        let mut daemon = DaemonSettings {
            socket,
            spool_dir: spool,
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(5),
            deploy_timeout: Duration::from_secs(10),
            ..DaemonSettings::default()
        };
        tweak_daemon(&mut daemon);
        let mut settings = test_settings();
        tweak(&mut settings);
        let base = serve(db.clone(), &daemon, settings).await;
        let dbs = db.clone();
        let db = db.writer;
        Self {
            base,
            client: reqwest::Client::new(),
            sim,
            db,
            dbs,
            url,
            daemon,
            _dir: dir,
        }
    }

    /// Starts a second, independent Drydock process-equivalent on the same
    /// database and daemon (its own pool, its own in-process locks).
    pub async fn second_instance(&self) -> String {
        let db = drydock_entity::store::connect::connect(&self.url, &test_pool())
            .await
            .expect("connect");
        serve(db, &self.daemon, test_settings()).await
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("token {t}"));
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        Self::read(rb.send().await.expect("request")).await
    }

    /// Reads a response.
    pub async fn read(resp: reqwest::Response) -> Res {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Registers a user and logs in; returns the token.
    pub async fn user(&self, name: &str) -> String {
        let r = self
            .call(Method::POST, "/v2/auth/register/", None, Some(json!({"username": name, "password": format!("{name}-pw"), "email": format!("{name}@example.com")})))
            .await;
        assert_eq!(r.status, 201, "register {name}: {}", r.text);
        self.login(name, &format!("{name}-pw")).await
    }

    /// Logs in; returns the token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/v2/auth/login/",
                None,
                Some(json!({"username": name, "password": password})),
            )
            .await;
        assert_eq!(r.status, 200, "login {name}: {}", r.text);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Creates an app; returns its name.
    pub async fn app(&self, token: &str, name: &str) -> String {
        let r = self.post("/v2/apps/", token, json!({"id": name})).await;
        assert_eq!(r.status, 201, "create app {name}: {}", r.text);
        name.to_owned()
    }

    /// An `AppState` like the server's, for calling use-cases directly.
    pub fn state(&self) -> AppState {
        AppState::new(
            self.dbs.clone(),
            Arc::new(DokkuPlatform::new(self.daemon.clone())),
            test_settings(),
        )
    }

    /// A snapshot of the simulated Dokku.
    pub fn dokku(&self) -> SimState {
        self.sim.state()
    }
}

/// Defines a test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! dual_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::harness::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await).await
            }
        }
    };
}

/// The pool every test server uses.
pub fn test_pool() -> drydock_entity::store::connect::PoolSettings {
    drydock_entity::store::connect::PoolSettings {
        max_connections: 40,
        ..Default::default()
    }
}

/// The URL of a database of the test's own: a SQLite file in `dir`, or a
/// freshly created (empty, unmigrated) PostgreSQL database.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("drydock.db").display()),
        Backend::Postgres => {
            let admin = sea_orm::Database::connect(format!("{}/postgres", pg_base()))
                .await
                .expect("PostgreSQL reachable");
            let name = format!("drydock_t_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            format!("{}/{name}", pg_base())
        }
    }
}

/// The builder key every test server is configured with.
pub const BUILDER_KEY: &str = "test-builder-key-0123456789abcdef0123456789";

/// Settings every test server starts from (cheap password hashing, the builder hooks open to [`BUILDER_KEY`]).
fn test_settings() -> Settings {
    Settings {
        password_iterations: 1_000,
        platform_domain: "example.test".into(),
        builder_key: BUILDER_KEY.parse().ok(),
        ..Settings::default()
    }
}

/// Serves the API for `db` on a random loopback port; returns its base URL.
async fn serve(db: Databases, daemon: &DaemonSettings, settings: Settings) -> String {
    let header_timeout = settings.header_timeout;
    let state = AppState::new(db, Arc::new(DokkuPlatform::new(daemon.clone())), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("local address").port();
    let routes = drydock_api::routes(state);
    tokio::spawn(drydock_api::server::serve(
        listener,
        routes,
        header_timeout,
        std::future::pending(),
    ));
    format!("http://127.0.0.1:{port}")
}

/// Every log line the servers in this test binary wrote (debug and up), so tests
/// can prove secrets never reach the log. Set `TEST_LOG=1` to also print them.
static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=warn,sea_orm=warn,hyper=warn,reqwest=warn")
            .with_writer(move || sink.clone())
            .try_init();
        buf
    });
}

/// The log text captured so far.
pub fn captured_logs() -> String {
    init_logs();
    let buf = LOGS
        .get()
        .map(|b| b.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .unwrap_or_default();
    String::from_utf8_lossy(&buf).into_owned()
}
