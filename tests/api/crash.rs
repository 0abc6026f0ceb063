//! Crash safety: the real `drydock` binary is killed with SIGKILL while the
//! simulated daemon holds its deploy, then started again on the same database
//! and daemon. Start-up reconciliation must leave no release pending, the
//! database and Dokku agreeing, and no version reused.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use drydock_dokku::sim::{Fault, Sim, SimHandle, SimOptions};
use drydock_entity::store::{apps, releases};
use reqwest::Method;
use serde_json::{json, Value};

use crate::faults::dokku_disagreement;
use crate::harness::{fresh_database, Backend, Res, TestApp};

const APP: &str = "crashy";
/// How long the daemon holds the deploy unless the test lets it go first.
const HELD: Duration = Duration::from_secs(600);
/// The longest a test waits for the server or the daemon.
const PATIENCE: Duration = Duration::from_secs(60);

/// One run of the real binary; killed (SIGKILL) and reaped when dropped, so a
/// failing test leaves no server behind.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every run shares: the database, the daemon's socket and the spool.
struct Site {
    dir: tempfile::TempDir,
    url: String,
    sim: SimHandle,
    client: reqwest::Client,
    runs: u32,
}

impl Site {
    async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = fresh_database(backend, dir.path()).await;
        std::fs::create_dir_all(dir.path().join("spool")).expect("spool");
        let sim = Sim::start(dir.path().join("dokku.sock"), SimOptions::default())
            .await
            .expect("sim");
        Self {
            dir,
            url,
            sim,
            client: reqwest::Client::new(),
            runs: 0,
        }
    }

    /// Starts `drydock serve` on a free port and waits until it is ready;
    /// start-up reconciliation runs before it listens.
    async fn start(&mut self) -> Server {
        self.runs += 1;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = self.dir.path().join(format!("drydock-{}.log", self.runs));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drydock"));
        for (k, _) in std::env::vars() {
            if k.starts_with("DRYDOCK_") || k == "DATABASE_URL" {
                cmd.env_remove(k);
            }
        }
        cmd.arg("serve")
            .env("DATABASE_URL", &self.url)
            .env("DRYDOCK_BIND", format!("127.0.0.1:{port}"))
            .env("DRYDOCK_DOKKU_SOCKET", self.sim.socket_path())
            .env("DRYDOCK_SPOOL_DIR", self.dir.path().join("spool"))
            .env("DRYDOCK_PASSWORD_ITERATIONS", "1000")
            .env("DRYDOCK_DOKKU_TIMEOUT", "10")
            .env("DRYDOCK_DEPLOY_TIMEOUT", "600")
            .env("DRYDOCK_PLATFORM_DOMAIN", "example.test")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut server = Server {
            child: cmd.spawn().expect("start drydock"),
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("drydock exited with {status}:\n{}", server.logs());
            }
            let ready = self
                .client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return server;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "drydock not ready:\n{}",
                server.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A fresh connection to the database, as a second process would see it.
    async fn db(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(&self.url)
            .await
            .expect("connect")
    }

    async fn call(
        &self,
        server: &Server,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        let mut rb = self
            .client
            .request(method, format!("{}{path}", server.base));
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("token {t}"));
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        TestApp::read(rb.send().await.expect("request")).await
    }

    /// Registers alice and logs her in.
    async fn alice(&self, server: &Server) -> String {
        let r = self
            .call(
                server,
                Method::POST,
                "/v2/auth/register",
                None,
                Some(json!({"username": "alice", "password": "alice-pw", "email": "alice@example.com"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        self.login(server).await
    }

    async fn login(&self, server: &Server) -> String {
        let r = self
            .call(
                server,
                Method::POST,
                "/v2/auth/login",
                None,
                Some(json!({"username": "alice", "password": "alice-pw"})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Creates app `name` with a build (v2, one web container) and `A=1` (v3).
    async fn app_at_v3(&self, server: &Server, token: &str, name: &str) {
        for (path, body) in [
            ("/v2/apps".to_owned(), json!({"id": name})),
            (
                format!("/v2/apps/{name}/builds"),
                json!({"image": "img:1", "procfile": {"web": "serve"}}),
            ),
            (
                format!("/v2/apps/{name}/config"),
                json!({"values": {"A": "1"}}),
            ),
        ] {
            let r = self
                .call(server, Method::POST, &path, Some(token), Some(body))
                .await;
            assert_eq!(r.status, 201, "{path}: {}", r.text);
        }
        assert_eq!(agreed(self, server, token, name).await, 3);
    }

    /// Sends a config change in the background; it gets no answer if the
    /// server dies first.
    fn set_in_background(
        &self,
        server: &Server,
        token: &str,
        name: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        tokio::spawn(
            self.client
                .post(format!("{}/v2/apps/{name}/config", server.base))
                .header("Authorization", format!("token {token}"))
                .json(&json!({"values": {"B": "in flight"}}))
                .send(),
        )
    }

    /// Waits until release `version` of app `name` is committed pending.
    async fn wait_for_pending(&self, name: &str, version: i32) {
        let db = self.db().await;
        let start = Instant::now();
        loop {
            let app = apps::by_name(&db, name).await.unwrap().unwrap();
            let rel = releases::by_version(&db, app.id, version).await.unwrap();
            if rel.is_some_and(|r| r.state == releases::PENDING) {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{name} v{version} never pending"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the daemon has received one more command starting with
    /// `prefix` than `before`.
    async fn wait_for_command(&self, prefix: &str, before: usize) {
        let start = Instant::now();
        while count(&self.sim, prefix) <= before {
            assert!(
                start.elapsed() < PATIENCE,
                "the daemon never received {prefix}: {:?}",
                self.sim.commands()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Server {
    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no destructor, no cleanup, no graceful shutdown.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("reap");
        assert!(!status.success(), "killed, not exited: {status}");
    }
}

/// How many received commands (after leading global flags) start with `prefix`.
fn count(sim: &SimHandle, prefix: &str) -> usize {
    sim.commands()
        .iter()
        .filter(|c| {
            c.split(' ')
                .skip_while(|w| w.starts_with("--"))
                .collect::<Vec<_>>()
                .join(" ")
                .starts_with(prefix)
        })
        .count()
}

/// What the write in flight is.
#[derive(Clone, Copy)]
enum Write {
    /// A config change: deployed with `ps:restart`.
    Config,
    /// A new build: deployed with `git:from-archive`.
    Build,
}

impl Write {
    fn deploy_command(self) -> &'static str {
        match self {
            Write::Config => "ps:restart",
            Write::Build => "git:from-archive",
        }
    }

    fn request(self) -> (String, Value) {
        match self {
            Write::Config => (
                format!("/v2/apps/{APP}/config"),
                json!({"values": {"B": "in flight"}}),
            ),
            Write::Build => (
                format!("/v2/apps/{APP}/builds"),
                json!({"image": "img:2", "procfile": {"web": "serve"}}),
            ),
        }
    }
}

/// What the daemon does with the held deploy once Drydock is dead.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    /// It completes: Dokku runs v4.
    Completes,
    /// It fails: Dokku still runs v3's containers.
    Fails,
}

/// The whole scenario: v2 build, v3 config, v4 held in the daemon while the
/// server is SIGKILLed; the daemon then finishes v4 one way or the other, and
/// a second server reconciles at start-up.
async fn crash_during_deploy(backend: Backend, write: Write, outcome: Outcome) {
    let mut site = Site::new(backend).await;
    let first = site.start().await;
    let alice = site.alice(&first).await;
    site.app_at_v3(&first, &alice, APP).await;

    let deploy = write.deploy_command();
    let before = count(&site.sim, deploy);
    site.sim.set_fault(Fault::HangOn {
        prefix: deploy.into(),
        duration: HELD,
    });
    let (path, body) = write.request();
    let in_flight = tokio::spawn(
        site.client
            .post(format!("{}{path}", first.base))
            .header("Authorization", format!("token {alice}"))
            .json(&body)
            .send(),
    );
    site.wait_for_command(deploy, before).await;
    {
        let db = site.db().await;
        let row = apps::by_name(&db, APP).await.unwrap().unwrap();
        let v4 = releases::by_version(&db, row.id, 4).await.unwrap();
        assert_eq!(
            v4.map(|r| r.state).as_deref(),
            Some(releases::PENDING),
            "v4 is committed pending while Dokku deploys it"
        );
    }
    first.kill();
    assert!(
        in_flight.await.expect("join").is_err(),
        "the client never got an answer"
    );

    // The daemon finishes what it was doing, with nobody listening.
    match outcome {
        Outcome::Completes => site.sim.clear_fault(),
        Outcome::Fails => site.sim.set_fault(Fault::FailNext {
            count: 1,
            prefix: Some(deploy.into()),
            message: "container failed to start".into(),
        }),
    }

    let second = site.start().await;
    let alice = site.login(&second).await;
    let db = site.db().await;
    assert!(
        releases::pending(&db).await.unwrap().is_empty(),
        "start-up reconciliation left a release pending:\n{}",
        second.logs()
    );
    let r = site
        .call(
            &second,
            Method::GET,
            &format!("/v2/apps/{APP}/releases/v4"),
            Some(&alice),
            None,
        )
        .await;
    match outcome {
        Outcome::Completes => {
            assert_eq!(r.body["state"], "succeeded", "{}", r.text);
        }
        Outcome::Fails => {
            assert_eq!(r.body["state"], "failed", "{}", r.text);
            assert_eq!(r.body["exception"], "interrupted before Dokku confirmed it");
        }
    }
    let current = agreed(&site, &second, &alice, APP).await;
    assert_eq!(
        current,
        if outcome == Outcome::Completes { 4 } else { 3 },
        "{}",
        second.logs()
    );
    let d = site.sim.state();
    let a = d.app(APP).unwrap();
    match (write, outcome) {
        (Write::Config, Outcome::Completes) => assert_eq!(a.config["B"], "in flight"),
        (Write::Config, Outcome::Fails) => assert!(!a.config.contains_key("B")),
        (Write::Build, Outcome::Completes) => {
            assert_eq!(a.deploy.as_ref().unwrap().image, "img:2");
        }
        (Write::Build, Outcome::Fails) => {
            assert_eq!(a.deploy.as_ref().unwrap().image, "img:1");
        }
    }

    // The next change gets the next version: v4 is never reused.
    let r = site
        .call(
            &second,
            Method::POST,
            &format!("/v2/apps/{APP}/config"),
            Some(&alice),
            Some(json!({"values": {"C": "after"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}\n{}", r.text, second.logs());
    assert_eq!(agreed(&site, &second, &alice, APP).await, 5);
    assert_eq!(site.sim.state().app(APP).unwrap().config["C"], "after");
}

/// Two apps are mid-release when the server dies; meanwhile Dokku loses the
/// first one (an operator destroyed it on the host). Its release cannot be
/// settled, but that must not leave the other app's release pending with
/// Dokku half-changed.
async fn one_app_that_cannot_be_settled(backend: Backend) {
    let mut site = Site::new(backend).await;
    let first = site.start().await;
    let alice = site.alice(&first).await;
    site.app_at_v3(&first, &alice, "lost").await;
    site.app_at_v3(&first, &alice, APP).await;

    // `lost` v4 reaches its restart, which the daemon holds; `crashy` v4 is
    // committed pending and waits for the daemon behind it.
    let restarts = count(&site.sim, "ps:restart");
    site.sim.set_fault(Fault::HangOn {
        prefix: "ps:restart".into(),
        duration: HELD,
    });
    let lost = site.set_in_background(&first, &alice, "lost");
    site.wait_for_command("ps:restart", restarts).await;
    let crashy = site.set_in_background(&first, &alice, APP);
    site.wait_for_pending(APP, 4).await;
    first.kill();
    assert!(lost.await.expect("join").is_err());
    assert!(crashy.await.expect("join").is_err());

    // Dokku loses `lost`; then the daemon runs what it held: `lost`'s restart
    // fails. Nothing of `crashy` v4 reached Dokku.
    site.sim.update_state(|s| {
        s.apps.remove("lost");
    });
    site.sim.clear_fault();

    let second = site.start().await;
    let alice = site.login(&second).await;
    assert!(
        second
            .logs()
            .contains("could not settle pending releases at start-up"),
        "{}",
        second.logs()
    );
    let db = site.db().await;
    let pending: Vec<(String, i32)> = {
        let mut out = Vec::new();
        for r in releases::pending(&db).await.unwrap() {
            let app = apps::all(&db)
                .await
                .unwrap()
                .into_iter()
                .find(|a| a.id == r.app_id)
                .unwrap();
            out.push((app.name, r.version));
        }
        out
    };
    assert_eq!(
        pending,
        [("lost".to_owned(), 4)],
        "only the release Dokku cannot account for stays pending:\n{}",
        second.logs()
    );
    let r = site
        .call(
            &second,
            Method::GET,
            &format!("/v2/apps/{APP}/releases/v4"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.body["state"], "failed", "{}", r.text);
    assert_eq!(agreed(&site, &second, &alice, APP).await, 3);
    let r = site
        .call(
            &second,
            Method::POST,
            &format!("/v2/apps/{APP}/config"),
            Some(&alice),
            Some(json!({"values": {"C": "after"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(agreed(&site, &second, &alice, APP).await, 5);
}

/// Checks that versions are 1..=n, none pending, the app's current release is
/// the newest succeeded one and Dokku runs it with its config; returns it.
async fn agreed(site: &Site, server: &Server, token: &str, name: &str) -> i32 {
    let r = site
        .call(
            server,
            Method::GET,
            &format!("/v2/apps/{name}/releases"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let results = r.body["results"].as_array().unwrap();
    let versions: Vec<i64> = results
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    let n = i64::try_from(versions.len()).unwrap();
    assert_eq!(versions, (1..=n).rev().collect::<Vec<_>>(), "contiguous");
    assert!(
        results
            .iter()
            .all(|x| x["state"] == "succeeded" || x["state"] == "failed"),
        "{}",
        r.text
    );
    let newest_ok = results
        .iter()
        .find(|x| x["state"] == "succeeded")
        .and_then(|x| x["version"].as_i64())
        .unwrap();
    let db = site.db().await;
    let current = apps::by_name(&db, name)
        .await
        .unwrap()
        .unwrap()
        .current_version
        .unwrap();
    assert_eq!(i64::from(current), newest_ok, "{}", r.text);
    let r = site
        .call(
            server,
            Method::GET,
            &format!("/v2/apps/{name}/config"),
            Some(token),
            None,
        )
        .await;
    let values = r.body["values"].as_object().expect("values");
    if let Err(e) = dokku_disagreement(&site.sim.state(), name, current, values) {
        panic!("Drydock and Dokku disagree: {e}\n{}", server.logs());
    }
    current
}

mod one_app_that_cannot_be_settled_does_not_block_the_others {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        one_app_that_cannot_be_settled(Backend::Postgres).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        one_app_that_cannot_be_settled(Backend::Sqlite).await
    }
}

macro_rules! crash_test {
    ($name:ident, $write:expr, $outcome:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crash_during_deploy(Backend::Postgres, $write, $outcome).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crash_during_deploy(Backend::Sqlite, $write, $outcome).await
            }
        }
    };
}

crash_test!(
    killed_during_restart_that_then_completes,
    Write::Config,
    Outcome::Completes
);
crash_test!(
    killed_during_restart_that_then_fails,
    Write::Config,
    Outcome::Fails
);
crash_test!(
    killed_during_archive_deploy_that_then_completes,
    Write::Build,
    Outcome::Completes
);
crash_test!(
    killed_during_archive_deploy_that_then_fails,
    Write::Build,
    Outcome::Fails
);

/// v4's config reaches Dokku, then the daemon dies mid-reply: v4 is failed
/// and the client answered at once, and the re-apply of v3 runs in the
/// background. The server is SIGKILLed while that re-apply is held in the
/// daemon, which then fails it: Dokku keeps v4's config. The next start must
/// see that the re-apply is still owed, and make it.
async fn crash_during_restore(backend: Backend) {
    let mut site = Site::new(backend).await;
    let first = site.start().await;
    let alice = site.alice(&first).await;
    site.app_at_v3(&first, &alice, APP).await;

    let before = count(&site.sim, "config:unset");
    site.sim.set_fault(Fault::DieNext {
        count: 2,
        prefix: Some("config:".into()),
    });
    let r = site
        .call(
            &first,
            Method::POST,
            &format!("/v2/apps/{APP}/config"),
            Some(&alice),
            Some(json!({"values": {"B": "failed release"}})),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    site.sim.set_fault(Fault::HangOn {
        prefix: "config:unset".into(),
        duration: HELD,
    });
    site.wait_for_command("config:unset", before).await;
    assert_eq!(
        site.sim.state().app(APP).unwrap().config["B"],
        "failed release",
        "Dokku holds the failed release's config while the re-apply is held"
    );
    first.kill();
    site.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("config:unset".into()),
        message: "the host went down".into(),
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    site.sim.clear_fault();
    assert!(site.sim.state().app(APP).unwrap().config.contains_key("B"));

    let second = site.start().await;
    let alice = site.login(&second).await;
    assert_eq!(
        agreed(&site, &second, &alice, APP).await,
        3,
        "{}",
        second.logs()
    );
    assert!(!site.sim.state().app(APP).unwrap().config.contains_key("B"));
    let db = site.db().await;
    assert!(
        !apps::by_name(&db, APP)
            .await
            .unwrap()
            .unwrap()
            .needs_reapply
    );
}

mod killed_while_restoring_the_previous_release {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        crash_during_restore(Backend::Postgres).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        crash_during_restore(Backend::Sqlite).await
    }
}
