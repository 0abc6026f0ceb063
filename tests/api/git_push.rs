//! `git push` under Drydock's permissions: the builder hooks over HTTP, and
//! the Dokku plugin's triggers (`dokku-plugin/`) executed by bash with the
//! arguments and environment Dokku gives them, against a live Drydock. The
//! key name and fingerprint a session carries are the ones dokku-sim recorded
//! when Drydock installed the key, as sshcommand would write them into
//! `authorized_keys`. A stand-in `docker` on PATH records what the plugin asks
//! of Docker.

use std::path::PathBuf;
use std::process::Output;

use reqwest::Method;
use serde_json::{json, Value};

use crate::dual_test;
use crate::harness::{captured_logs, Res, TestApp, BUILDER_KEY};
use crate::keys_perms::gen_key;

const PLUGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/dokku-plugin");
const SHA: &str = "ecdff91c57a0b9ab82e89634df87e293d259a3aa";
const SHA2: &str = "0123456789abcdef0123456789abcdef01234567";

/// A Dokku host around the plugin: its settings file, state directory, a
/// stand-in `docker`, and the Drydock it reports to.
struct Host {
    dir: tempfile::TempDir,
}

/// A user's ssh key as Dokku holds it after Drydock installed it.
struct Key {
    /// `NAME` in the key's authorized_keys line.
    name: String,
    /// `FINGERPRINT` in that line (`SHA256:…`).
    fingerprint: String,
}

impl Host {
    fn new(app: &TestApp) -> Self {
        Self::with_settings(&format!(
            "DRYDOCK_URL={}\nDRYDOCK_BUILDER_KEY={BUILDER_KEY}\nDRYDOCK_TIMEOUT=5\nDRYDOCK_SSH_OPERATORS=ops-laptop\n",
            app.base
        ))
    }

    fn with_settings(settings: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("plugin.env"), settings).expect("settings");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let docker = bin.join("docker");
        std::fs::write(
            &docker,
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >>\"$DOCKER_LOG\"\n[[ ! -e \"$DOCKER_LOG.fail\" ]]\n",
        )
        .expect("docker");
        std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        Self { dir }
    }

    fn docker_log(&self) -> PathBuf {
        self.dir.path().join("docker.log")
    }

    fn docker_calls(&self) -> String {
        std::fs::read_to_string(self.docker_log()).unwrap_or_default()
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("lib/data/drydock")
    }

    /// Runs one trigger as Dokku would: `bash <plugin>/<trigger> ARGS…`, with
    /// Dokku's environment plus `env`, and nothing inherited from the test.
    async fn run(&self, trigger: &str, args: &[&str], env: &[(&str, String)]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = tokio::process::Command::new("bash");
        c.arg(format!("{PLUGIN}/{trigger}"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("DRYDOCK_PLUGIN_ENV", self.dir.path().join("plugin.env"))
            .env("DOKKU_LIB_ROOT", self.dir.path().join("lib"))
            .env("DOCKER_LOG", self.docker_log());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().await.expect("bash runs")
    }

    /// `user-auth` for a command sent over ssh with `key`.
    async fn ssh(&self, key: &Key, command: &[&str]) -> Output {
        let mut args = vec!["dokku", key.name.as_str()];
        args.extend_from_slice(command);
        self.run("user-auth", &args, &session(key)).await
    }

    /// What Dokku does for `git push` of `sha` with `key`: user-auth for
    /// `git-receive-pack`, then for its own `git-hook` from the pre-receive
    /// hook, post-extract with the pushed tree, and builds-record-finalize
    /// with the deploy's exit code. Returns finalize's output.
    async fn push(
        &self,
        key: &Key,
        app: &str,
        sha: &str,
        procfile: Option<&str>,
        exit_code: u32,
    ) -> Output {
        let out = self
            .ssh(key, &["git-receive-pack", &format!("'{app}'")])
            .await;
        assert_allowed(&out);
        let mut hook_env = session(key);
        hook_env.push(("GIT_DIR", ".".into()));
        hook_env.push(("GIT_QUARANTINE_PATH", "./objects/tmp".into()));
        let out = self
            .run(
                "user-auth",
                &["dokku", &key.name, "git-hook", app],
                &hook_env,
            )
            .await;
        assert_allowed(&out);

        let tree = tempfile::tempdir().expect("tree");
        if let Some(p) = procfile {
            std::fs::write(tree.path().join("Procfile"), p).expect("Procfile");
        }
        let build_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let mut build_env = session(key);
        build_env.push(("DOKKU_BUILD_ID", build_id.clone()));
        build_env.push(("DOKKU_BUILD_SOURCE", "git-hook".into()));
        let tree_path = tree.path().display().to_string();
        let out = self
            .run("post-extract", &[app, &tree_path, sha], &build_env)
            .await;
        assert_allowed(&out);
        let code = exit_code.to_string();
        self.run(
            "builds-record-finalize",
            &[app, &build_id, &code],
            &build_env,
        )
        .await
    }
}

/// The environment of a Dokku command run through a user's ssh key.
fn session(key: &Key) -> Vec<(&'static str, String)> {
    vec![
        ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22".into()),
        ("SSH_USER", "dokku".into()),
        ("USER", "dokku".into()),
        ("NAME", key.name.clone()),
        ("SSH_NAME", key.name.clone()),
        ("FINGERPRINT", key.fingerprint.clone()),
    ]
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_allowed(out: &Output) {
    assert!(
        out.status.success(),
        "refused: {}{}",
        stdout(out),
        stderr(out)
    );
}

fn assert_refused(out: &Output, reason: &str) {
    assert_eq!(out.status.code(), Some(1), "allowed: {}", stdout(out));
    let err = stderr(out);
    assert!(err.contains(reason), "{err:?} should say {reason:?}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with(" !     Drydock: "), "{err:?}");
}

/// Adds a key for `token`'s user through the API; returns it as Dokku holds it.
async fn add_key(app: &TestApp, token: &str, id: &str) -> Key {
    let dir = tempfile::tempdir().expect("tempdir");
    let (public, _) = gen_key(dir.path(), id, id);
    let r = app
        .post("/v2/keys", token, json!({"id": id, "public": public}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let blob = public.split_whitespace().nth(1).expect("blob").to_owned();
    let (name, k) = app
        .dokku()
        .ssh_keys
        .into_iter()
        .find(|(_, k)| k.key.contains(&blob))
        .expect("Drydock installed the key on Dokku");
    Key {
        name,
        fingerprint: k.fingerprint,
    }
}

/// A call with the builder key in `header`.
async fn hook(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Res {
    hook_as(app, "X-Drycc-Builder-Auth", BUILDER_KEY, method, path, body).await
}

async fn hook_as(
    app: &TestApp,
    header: &str,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Res {
    let mut rb = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header(header, key);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    TestApp::read(rb.send().await.expect("request")).await
}

/// An admin (the first user), then alice who owns `web`, carol who
/// collaborates on it and dave who is a stranger to it; each with a key.
struct Cast {
    admin: String,
    alice: String,
    admin_key: Key,
    alice_key: Key,
    carol_key: Key,
    dave_key: Key,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.user("root-admin").await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    app.app(&alice, "web").await;
    let r = app
        .post("/v2/apps/web/perms", &alice, json!({"username": "carol"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    Cast {
        admin_key: add_key(app, &admin, "admin-laptop").await,
        alice_key: add_key(app, &alice, "alice-laptop").await,
        carol_key: add_key(app, &carol, "carol-laptop").await,
        dave_key: add_key(app, &dave, "dave-laptop").await,
        admin,
        alice,
    }
}

async fn releases(app: &TestApp, token: &str, name: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/v2/apps/{name}/releases?limit=100"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["results"].as_array().cloned().unwrap_or_default()
}

dual_test!(
    owners_collaborators_and_admins_push_strangers_do_not,
    |app| {
        let c = cast(&app).await;
        let host = Host::new(&app);
        for key in [&c.alice_key, &c.carol_key, &c.admin_key] {
            for form in ["'web'", "'/web'"] {
                for command in ["git-receive-pack", "git-upload-pack"] {
                    assert_allowed(&host.ssh(key, &[command, form]).await);
                }
            }
        }
        for command in ["git-receive-pack", "git-upload-pack"] {
            let out = host.ssh(&c.dave_key, &[command, "'web'"]).await;
            assert_refused(&out, "dave may not push to or fetch from web");
        }
        let out = host
            .ssh(&c.alice_key, &["git-receive-pack", "'nothere'"])
            .await;
        assert_refused(&out, "there is no app called nothere");
        // Dokku reads `'web.git'` as an app called `web.git`: not a Drydock app.
        let out = host
            .ssh(&c.alice_key, &["git-receive-pack", "'web.git'"])
            .await;
        assert_refused(&out, "is not an app name");
        assert_eq!(releases(&app, &c.alice, "web").await.len(), 1);
    }
);

dual_test!(a_revoked_collaborator_is_refused_on_the_next_push, |app| {
    let c = cast(&app).await;
    let host = Host::new(&app);
    assert_allowed(&host.ssh(&c.carol_key, &["git-receive-pack", "'web'"]).await);
    let r = app.delete("/v2/apps/web/perms/carol", &c.alice).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let out = host.ssh(&c.carol_key, &["git-receive-pack", "'web'"]).await;
    assert_refused(&out, "carol may not push to or fetch from web");
    // A key removed through the API is no longer anyone's.
    let r = app.delete("/v2/keys/carol-laptop", &c.alice).await;
    assert_eq!(r.status, 404, "alice cannot remove carol's key");
    let carol = app.login("carol", "carol-pw").await;
    assert_eq!(
        app.delete("/v2/keys/carol-laptop", &carol).await.status,
        204
    );
    let out = host.ssh(&c.carol_key, &["git-upload-pack", "'web'"]).await;
    assert_refused(&out, "not registered with Drydock");
});

dual_test!(
    every_other_ssh_command_is_refused_for_every_drydock_user,
    |app| {
        let c = cast(&app).await;
        let host = Host::new(&app);
        let commands: [&[&str]; 9] = [
            &["config:show", "web"],
            &["config:set", "web", "A=1"],
            &["apps:destroy", "web"],
            &["--force", "apps:destroy", "web"],
            &["run", "web", "cat", "/etc/passwd"],
            &["ssh-keys:list"],
            &["ssh-keys:add", "mine", "/tmp/k.pub"],
            &["git-hook", "web"],
            &["plugin:install", "https://example.com/evil.tar.gz"],
        ];
        for key in [&c.admin_key, &c.alice_key, &c.carol_key, &c.dave_key] {
            for command in commands {
                let out = host.ssh(key, command).await;
                assert_eq!(
                    out.status.code(),
                    Some(1),
                    "{command:?} allowed for {}",
                    key.name
                );
                let err = stderr(&out);
                assert!(
                    err.starts_with(" !     Drydock: ") && err.lines().count() == 1,
                    "{err:?}"
                );
            }
        }
        // Root (dokku-daemon, which Drydock drives), the dokku user's own shell and
        // the operator's named key pass untouched.
        let out = host
            .run("user-auth", &["root", "default", "config:show", "web"], &[])
            .await;
        assert_allowed(&out);
        let out = host
            .run("user-auth", &["dokku", "default", "apps:list"], &[])
            .await;
        assert_allowed(&out);
        let operator = Key {
            name: "ops-laptop".into(),
            fingerprint: "SHA256:operatorkeyoperatorkeyoperatorkeyoperatork".into(),
        };
        assert_allowed(&host.ssh(&operator, &["config:show", "web"]).await);
        // A key Drydock does not know is refused, whatever its name.
        let stranger = Key {
            name: "alice.alice-laptop".into(),
            fingerprint: "SHA256:notakeyDrydockknowsnotakeyDrydockknowsnot".into(),
        };
        assert_refused(
            &host.ssh(&stranger, &["git-receive-pack", "'web'"]).await,
            "not registered with Drydock",
        );
        let cfg = app.get("/v2/apps/web/config", &c.alice).await;
        assert_eq!(cfg.body["values"], json!({}), "nothing changed");
    }
);

dual_test!(a_push_is_a_release_that_rolls_back_and_forward, |app| {
    let c = cast(&app).await;
    let host = Host::new(&app);
    let r = app
        .post(
            "/v2/apps/web/builds",
            &c.alice,
            json!({"image": "nginx:1.25"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let out = host
        .push(
            &c.carol_key,
            "web",
            SHA,
            Some("web: node server.js\r\n# a comment\n\nworker: node worker.js\n"),
            0,
        )
        .await;
    assert!(
        stdout(&out).contains("recorded as release v3"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let docker = host.docker_calls();
    let tag_line = docker.lines().next().unwrap_or_default().to_owned();
    assert!(
        tag_line.starts_with(&format!(
            "image tag dokku/web:latest dokku/web:git-{}-",
            &SHA[..12]
        )),
        "{docker}"
    );
    let image = tag_line.rsplit(' ').next().unwrap_or_default().to_owned();

    let rel = releases(&app, &c.alice, "web").await;
    assert_eq!(rel[0]["version"], 3);
    assert_eq!(rel[0]["summary"], "carol deployed ecdff91");
    assert_eq!(rel[0]["state"], "succeeded");
    assert_eq!(rel[0]["owner"], "carol");
    let builds = app.get("/v2/apps/web/builds", &c.alice).await;
    let b = &builds.body["results"][0];
    assert_eq!(b["sha"], SHA);
    assert_eq!(b["image"], image.as_str());
    assert_eq!(b["owner"], "carol");
    assert_eq!(
        b["procfile"],
        json!({"web": "node server.js", "worker": "node worker.js"})
    );
    let a = app.get("/v2/apps/web", &c.alice).await;
    assert_eq!(
        a.body["structure"],
        json!({"web": 1, "worker": 0}),
        "{}",
        a.text
    );
    let before = app.dokku().app("web").expect("web").deploy_count;
    assert!(
        !std::fs::read_dir(host.state_dir().join("web"))
            .expect("state")
            .any(|_| true),
        "the record is gone once reported"
    );

    // Roll back to the image build, then forward to the push: Dokku runs
    // exactly the pushed image again, with its process types.
    let r = app
        .post(
            "/v2/apps/web/releases/rollback",
            &c.alice,
            json!({"version": 2}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = app
        .dokku()
        .app("web")
        .expect("web")
        .deploy
        .clone()
        .expect("deployed");
    assert_eq!(d.image, "nginx:1.25");
    let a = app.get("/v2/apps/web", &c.alice).await;
    assert_eq!(
        a.body["structure"],
        json!({"cmd": 1, "worker": 0}),
        "web's one container runs the image as cmd again; worker keeps its count, as the reference keeps it"
    );
    let r = app
        .post(
            "/v2/apps/web/releases/rollback",
            &c.alice,
            json!({"version": 3}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let web = app.dokku().app("web").cloned().expect("web");
    let d = web.deploy.expect("deployed");
    assert_eq!(d.image, image);
    assert_eq!(
        d.process_types(),
        vec!["web".to_owned(), "worker".to_owned()]
    );
    assert_eq!(d.release, Some(5));
    assert_eq!(web.deploy_count, before + 2);
    let rel = releases(&app, &c.alice, "web").await;
    assert_eq!(rel[0]["summary"], "alice rolled back to v3");
    let a = app.get("/v2/apps/web", &c.alice).await;
    assert_eq!(
        a.body["structure"],
        json!({"web": 1, "worker": 0}),
        "{}",
        a.text
    );

    // A config change keeps the pushed code: it is the current release's build.
    let r = app
        .post(
            "/v2/apps/web/config",
            &c.alice,
            json!({"values": {"HELLO": "world"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = app
        .dokku()
        .app("web")
        .and_then(|a| a.deploy.clone())
        .expect("deployed");
    assert_eq!(d.image, image);
});

dual_test!(
    a_failed_deploy_is_a_failed_release_and_the_current_one_is_restored,
    |app| {
        let c = cast(&app).await;
        let host = Host::new(&app);
        let r = app
            .post(
                "/v2/apps/web/builds",
                &c.alice,
                json!({"image": "nginx:1.25"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let deploys = app.dokku().app("web").expect("web").deploy_count;

        let out = host.push(&c.alice_key, "web", SHA2, None, 1).await;
        assert!(
            stdout(&out).contains("recorded as a failed release; the app still runs v2"),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_eq!(
            host.docker_calls(),
            "",
            "a failed deploy's image is not kept"
        );
        let rel = releases(&app, &c.alice, "web").await;
        assert_eq!(rel[0]["version"], 3);
        assert_eq!(rel[0]["state"], "failed");
        assert_eq!(rel[0]["failed"], true);
        let summary = rel[0]["summary"].as_str().unwrap_or_default().to_owned();
        assert!(
            summary.starts_with("alice deployed ") && summary.ends_with(" which failed"),
            "{summary}"
        );
        assert!(
            rel[0]["exception"]
                .as_str()
                .unwrap_or_default()
                .contains("exited with status 1"),
            "{}",
            rel[0]
        );
        let a = app.get("/v2/apps/web", &c.alice).await;
        assert_eq!(a.status, 200);
        // Dokku may have tagged the failed build as the app's latest: the current
        // release (v2) is deployed again in the background.
        let mut restored = false;
        for _ in 0..100 {
            let web = app.dokku().app("web").cloned().expect("web");
            if web.deploy_count > deploys {
                assert_eq!(web.deploy.clone().expect("deployed").image, "nginx:1.25");
                assert_eq!(web.deployed_release(), Some(2));
                restored = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(restored, "the current release was not re-applied");
        let r = app
            .post(
                "/v2/apps/web/releases/rollback",
                &c.alice,
                json!({"version": 3}),
            )
            .await;
        assert_eq!(
            r.status, 400,
            "a failed push cannot be rolled back to: {}",
            r.text
        );
    }
);

dual_test!(the_hooks_open_to_the_builder_key_alone, |app| {
    let c = cast(&app).await;
    let body = json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx:1.25"});
    let routes: [(Method, &str, Option<Value>); 5] = [
        (Method::GET, "/v2/hooks/key/ab:cd", None),
        (Method::GET, "/v2/hooks/keys/web", None),
        (Method::GET, "/v2/hooks/keys/web/alice", None),
        (Method::POST, "/v2/hooks/build", Some(body.clone())),
        (
            Method::POST,
            "/v2/hooks/config",
            Some(json!({"receive_user": "alice", "receive_repo": "web"})),
        ),
    ];
    for (method, path, body) in &routes {
        let r = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
        assert_eq!(
            r.body["detail"],
            "Authentication credentials were not provided."
        );
        let r = app
            .call(method.clone(), path, Some(&c.admin), body.clone())
            .await;
        assert_eq!(
            r.status, 403,
            "an admin's token does not open {path}: {}",
            r.text
        );
        for wrong in [
            "",
            "x",
            &BUILDER_KEY[..BUILDER_KEY.len() - 1],
            &format!("{BUILDER_KEY}x"),
        ] {
            let r = hook_as(
                &app,
                "X-Drycc-Builder-Auth",
                wrong,
                method.clone(),
                path,
                body.clone(),
            )
            .await;
            assert_eq!(r.status, 401, "{path} with {wrong:?}: {}", r.text);
        }
    }
    assert_eq!(
        releases(&app, &c.alice, "web").await.len(),
        1,
        "nothing was built"
    );
    let r = hook_as(
        &app,
        "X-Deis-Builder-Auth",
        BUILDER_KEY,
        Method::POST,
        "/v2/hooks/build",
        Some(body),
    )
    .await;
    assert_eq!(r.status, 200, "the Deis header works too: {}", r.text);
    assert_eq!(r.body, json!({"release": {"version": 2}}));
    assert!(
        !captured_logs().contains(BUILDER_KEY),
        "the builder key reached the log"
    );

    // A plugin holding the wrong key is refused at the door, never let through.
    let host = Host::with_settings(&format!(
        "DRYDOCK_URL={}\nDRYDOCK_BUILDER_KEY=wrong-key-wrong-key-wrong-key-wrong\n",
        app.base
    ));
    let out = host.ssh(&c.alice_key, &["git-receive-pack", "'web'"]).await;
    assert_refused(&out, "refused the plugin's builder key");
    // Drydock unreachable: refused, not allowed.
    let host = Host::with_settings(&format!(
        "DRYDOCK_URL=http://127.0.0.1:9\nDRYDOCK_BUILDER_KEY={BUILDER_KEY}\nDRYDOCK_TIMEOUT=2\n"
    ));
    let out = host.ssh(&c.alice_key, &["git-receive-pack", "'web'"]).await;
    assert_refused(&out, "cannot reach Drydock");
    // No settings file: refused.
    let host = Host::new(&app);
    std::fs::remove_file(host.dir.path().join("plugin.env")).expect("rm");
    let out = host.ssh(&c.alice_key, &["git-receive-pack", "'web'"]).await;
    assert_refused(&out, "not configured");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_builder_key_the_hooks_do_not_exist() {
    let app = TestApp::spawn_with(crate::harness::Backend::Sqlite, |s| s.builder_key = None).await;
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    for key in ["", BUILDER_KEY, "anything-at-all-anything-at-all-anything"] {
        let r = hook_as(
            &app,
            "X-Drycc-Builder-Auth",
            key,
            Method::POST,
            "/v2/hooks/build",
            Some(json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx"})),
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = hook_as(
            &app,
            "X-Drycc-Builder-Auth",
            key,
            Method::GET,
            "/v2/hooks/keys/web",
            None,
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    assert_eq!(releases(&app, &alice, "web").await.len(), 1);
}

dual_test!(hostile_input_is_refused_before_it_reaches_dokku, |app| {
    let c = cast(&app).await;
    let host = Host::new(&app);
    let commands_before = app.sim.commands().len();
    for name in [
        "'../etc'",
        "'web;id'",
        "'$(id)'",
        "'web' 'other'",
        "'WEB'",
        "'-web'",
        "'web\nx'",
    ] {
        let args: Vec<&str> = name.split(' ').collect();
        let mut command = vec!["git-receive-pack"];
        command.extend(args);
        let out = host.ssh(&c.alice_key, &command).await;
        assert_eq!(out.status.code(), Some(1), "{name:?} allowed");
    }
    // A fingerprint that tries to walk the API is just an unknown key.
    let walker = Key {
        name: c.alice_key.name.clone(),
        fingerprint: "../../v2/users".into(),
    };
    assert_refused(
        &host.ssh(&walker, &["git-receive-pack", "'web'"]).await,
        "not registered",
    );

    // post-extract refuses before Dokku builds anything.
    let tree = tempfile::tempdir().expect("tree");
    let tree_path = tree.path().display().to_string();
    let mut env = session(&c.alice_key);
    env.push(("DOKKU_BUILD_ID", "b1".into()));
    for (app_name, sha) in [
        ("web", "not-a-sha"),
        ("web", "abc; rm -rf /"),
        ("../web", SHA),
        ("web x", SHA),
    ] {
        let out = host
            .run("post-extract", &[app_name, &tree_path, sha], &env)
            .await;
        assert_eq!(out.status.code(), Some(1), "{app_name} {sha}");
    }
    for procfile in [
        "Web: run",
        "we b: run",
        "web:",
        "web: ok\n$(id): x",
        "just text",
    ] {
        std::fs::write(tree.path().join("Procfile"), procfile).expect("Procfile");
        let out = host
            .run("post-extract", &["web", &tree_path, SHA], &env)
            .await;
        assert_eq!(out.status.code(), Some(1), "{procfile:?}: {}", stderr(&out));
    }
    let mut bad_id = session(&c.alice_key);
    bad_id.push(("DOKKU_BUILD_ID", "../../x".into()));
    std::fs::remove_file(tree.path().join("Procfile")).expect("rm");
    let out = host
        .run("post-extract", &["web", &tree_path, SHA], &bad_id)
        .await;
    assert_eq!(out.status.code(), Some(1));
    // A stranger's push stops at post-extract too.
    let mut dave = session(&c.dave_key);
    dave.push(("DOKKU_BUILD_ID", "b2".into()));
    let out = host
        .run("post-extract", &["web", &tree_path, SHA], &dave)
        .await;
    assert_refused(&out, "dave may not push");
    assert!(
        !host.state_dir().join("web").exists()
            || std::fs::read_dir(host.state_dir().join("web"))
                .expect("dir")
                .next()
                .is_none(),
        "nothing remembered"
    );

    // The build hook itself refuses hostile bodies and writes nothing.
    let bodies = [
        json!({"receive_user": "alice", "receive_repo": "web;id", "image": "nginx", "outcome": "succeeded"}),
        json!({"receive_user": "alice\u{0}", "receive_repo": "web", "image": "nginx", "outcome": "succeeded"}),
        json!({"receive_user": "../alice", "receive_repo": "web", "image": "nginx", "outcome": "succeeded"}),
        json!({"receive_user": "dave", "receive_repo": "web", "image": "nginx", "outcome": "succeeded"}),
        json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx", "sha": "zz", "outcome": "succeeded"}),
        json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx\nRUN id", "outcome": "succeeded"}),
        json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx", "procfile": {"Web": "x"}, "outcome": "succeeded"}),
        json!({"receive_user": "alice", "receive_repo": "web", "image": "nginx", "procfile": {"web": "a\nb"}}),
        json!({"receive_user": "alice", "receive_repo": "web", "image": "dokku/other:latest"}),
        json!({"receive_repo": "web", "image": "nginx"}),
        json!({"receive_user": "alice", "image": "nginx"}),
    ];
    for body in bodies {
        let r = hook(&app, Method::POST, "/v2/hooks/build", Some(body.clone())).await;
        assert!(
            matches!(r.status.as_u16(), 400 | 403 | 404),
            "{body}: {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(
        releases(&app, &c.alice, "web").await.len(),
        1,
        "nothing was recorded"
    );
    let b = app.get("/v2/apps/web/builds", &c.alice).await;
    assert_eq!(b.body["count"], 0);
    assert_eq!(
        app.sim.commands().len(),
        commands_before,
        "nothing reached Dokku"
    );
});

dual_test!(users_cannot_deploy_the_hosts_own_images, |app| {
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    app.app(&alice, "victim").await;
    app.app(&mallory, "thief").await;
    for image in [
        "dokku/victim:latest",
        "docker.io/dokku/victim:latest",
        "dokku/thief:latest",
    ] {
        let r = app
            .post("/v2/apps/thief/builds", &mallory, json!({"image": image}))
            .await;
        assert_eq!(r.status, 400, "{image}: {}", r.text);
        assert!(
            r.body["image"][0]
                .as_str()
                .unwrap_or_default()
                .contains("dokku/ namespace"),
            "{}",
            r.text
        );
    }
    assert!(app
        .dokku()
        .app("thief")
        .and_then(|a| a.deploy.clone())
        .is_none());
});

// What the reference's own hook tests assert (rootfs/api/tests/test_hooks.py).
dual_test!(the_hooks_answer_like_the_reference, |app| {
    let c = cast(&app).await;
    let alice_md5 = {
        let r = app.get("/v2/keys", &c.alice).await;
        r.body["results"][0]["fingerprint"]
            .as_str()
            .expect("fp")
            .to_owned()
    };
    let alice_public = app.get("/v2/keys", &c.alice).await.body["results"][0]["public"].clone();

    let r = hook(&app, Method::GET, "/v2/hooks/keys/doesnotexist", None).await;
    assert_eq!(r.status, 404);
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let users: Vec<&String> = r.body.as_object().expect("object").keys().collect();
    assert_eq!(
        users,
        ["carol"],
        "collaborators only, as the reference: not the owner, admins or strangers"
    );
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web/foooooo", None).await;
    assert_eq!(r.status, 404);
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web/dave", None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web/alice", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"alice": [{"key": alice_public, "fingerprint": alice_md5}]})
    );
    app.user("nokeys").await;
    let r = app
        .post(
            "/v2/apps/web/perms",
            &c.alice,
            json!({"username": "nokeys"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web/nokeys", None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body, json!({"detail": "No Keys match the given query."}));
    let r = hook(&app, Method::GET, "/v2/hooks/keys/web/foooooo", None).await;
    assert_eq!(r.body, json!("No User matches the given query."));
    app.app(&c.alice, "lonely").await;
    let r = hook(&app, Method::GET, "/v2/hooks/keys/lonely", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (200, json!({})),
        "no collaborators"
    );

    for fp in [alice_md5.clone(), c.alice_key.fingerprint.clone()] {
        let path = format!(
            "/v2/hooks/key/{}",
            fp.replace('/', "%2F").replace('+', "%2B")
        );
        let r = hook(&app, Method::GET, &path, None).await;
        assert_eq!(r.status, 200, "{fp}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"username": "alice", "apps": ["lonely", "web"]})
        );
    }
    let r = hook(
        &app,
        Method::GET,
        "/v2/hooks/key/54:6d:da:1f:91:b5:2b:6f:a2:83:90:c4:f9:73:76:wooooo",
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = hook(&app, Method::GET, "/v2/hooks/key/nope", None).await;
    assert_eq!(r.status, 404);

    // Config: the same values GET config shows.
    let r = app
        .post(
            "/v2/apps/web/config",
            &c.alice,
            json!({"values": {"HELLO": "world"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = hook(
        &app,
        Method::POST,
        "/v2/hooks/config",
        Some(json!({"receive_user": "carol", "receive_repo": "/web.git"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["values"], json!({"HELLO": "world"}));
    let r = hook(
        &app,
        Method::POST,
        "/v2/hooks/config",
        Some(json!({"receive_user": "dave", "receive_repo": "web"})),
    )
    .await;
    assert_eq!(r.status, 403);

    // A build handed over by a builder is deployed by Drydock, with its sha and
    // procfile; an admin may build on anyone's app.
    let body = json!({"receive_user": "alice", "receive_repo": "'web.git'", "image": "registry.example.com/web:v2",
        "sha": SHA, "procfile": {"web": "node server.js", "worker": "node worker.js"}});
    let r = hook(&app, Method::POST, "/v2/hooks/build", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"release": {"version": 3}}));
    let b = app.get("/v2/apps/web/builds", &c.alice).await;
    assert_eq!(b.body["results"][0]["sha"], SHA);
    assert_eq!(
        b.body["results"][0]["procfile"],
        json!({"web": "node server.js", "worker": "node worker.js"})
    );
    let rel = releases(&app, &c.alice, "web").await;
    assert_eq!(rel[0]["summary"], "alice deployed ecdff91");
    let pods = app.get("/v2/apps/web/pods/web", &c.alice).await;
    assert_eq!(pods.body["results"][0]["release"], "v3", "{}", pods.text);
    let d = app
        .dokku()
        .app("web")
        .and_then(|a| a.deploy.clone())
        .expect("deployed");
    assert_eq!(d.image, "registry.example.com/web:v2");
    let r = hook(
        &app,
        Method::POST,
        "/v2/hooks/build",
        Some(json!({"receive_user": "root-admin", "receive_repo": "web",
        "image": "registry.example.com/web:v3", "dockerfile": "FROM busybox\nCMD /bin/true"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["release"]["version"], 4);
    let b = app.get("/v2/apps/web/builds", &c.admin).await;
    assert_eq!(
        b.body["results"][0]["dockerfile"],
        "FROM busybox\nCMD /bin/true"
    );
    assert_eq!(b.body["results"][0]["owner"], "root-admin");
});

#[tokio::test]
async fn the_git_account_hands_dokku_the_app_name_it_expects() {
    for (sent, seen) in [
        ("git-receive-pack '/web.git'", "git-receive-pack 'web'"),
        ("git-receive-pack 'web.git'", "git-receive-pack 'web'"),
        ("git-upload-pack '/web'", "git-upload-pack 'web'"),
        ("git-upload-pack 'web'", "git-upload-pack 'web'"),
        ("config:show web", "config:show web"),
        ("git-receive-pack '/Web.git'", "git-receive-pack '/Web.git'"),
        (
            "git-receive-pack '/web.git'; id",
            "git-receive-pack '/web.git'; id",
        ),
    ] {
        let out = tokio::process::Command::new("bash")
            .arg(format!("{PLUGIN}/git-shell"))
            .args(["-c", "printf '%s' \"$SSH_ORIGINAL_COMMAND\""])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SSH_ORIGINAL_COMMAND", sent)
            .output()
            .await
            .expect("bash runs");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), seen, "{sent}");
    }
    let out = tokio::process::Command::new("bash")
        .arg(format!("{PLUGIN}/git-shell"))
        .env_clear()
        .output()
        .await
        .expect("bash runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "an interactive login is refused"
    );
}

#[test]
fn every_trigger_is_executable_and_parses() {
    for trigger in [
        "user-auth",
        "post-extract",
        "builds-record-finalize",
        "install",
        "git-shell",
        "functions",
    ] {
        let path = format!("{PLUGIN}/{trigger}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).expect("exists").permissions(),
        );
        assert!(mode & 0o111 != 0, "{trigger} is not executable");
        let out = std::process::Command::new("bash")
            .args(["-n", &path])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{trigger}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let toml = std::fs::read_to_string(format!("{PLUGIN}/plugin.toml")).expect("plugin.toml");
    assert!(toml.contains("[plugin]") && toml.contains("version"));
}

/// Runs `pre-build dockerfile <app>` over a source tree holding `dockerfile`.
async fn pre_build(host: &Host, app: &str, dockerfile: &str) -> Output {
    let src = host.dir.path().join(format!("src-{app}"));
    std::fs::create_dir_all(&src).expect("src");
    std::fs::write(src.join("Dockerfile"), dockerfile).expect("Dockerfile");
    let src = src.to_string_lossy().into_owned();
    host.run("pre-build", &["dockerfile", app, &src], &[]).await
}

#[tokio::test]
async fn every_image_a_dockerfile_names_is_pulled_and_no_other_apps_image_is_used() {
    let host = Host::with_settings("");
    // Drydock's own release archive, a multi-stage Dockerfile, an app's own pushes.
    let out = pre_build(&host, "web", "FROM nginx:1.25\n").await;
    assert_allowed(&out);
    let out = pre_build(
        &host,
        "web",
        "FROM --platform=linux/amd64 golang:1.22 AS Build\nRUN --mount=type=cache,from=tools:2,target=/t go build\nFROM registry.example.com/base:1 \\\n  AS final\nCOPY --from=build /out /out\nCOPY --from=0 /a /b\nFROM dokku/web:git-ecdff91c57a0-7\nFROM scratch\n",
    )
    .await;
    assert_allowed(&out);
    assert_eq!(
        host.docker_calls(),
        "image pull --quiet nginx:1.25\nimage pull --quiet golang:1.22\nimage pull --quiet tools:2\nimage pull --quiet registry.example.com/base:1\n",
        "each named image pulled; stages, scratch and the app's own images not"
    );
    // Another app's image, however it is named, is never built upon.
    for dockerfile in [
        "FROM dokku/victim:latest\n",
        "FROM docker.io/dokku/victim:latest\n",
        "FROM nginx AS base\nCOPY --from=dokku/victim:latest /app /app\n",
        "FROM Dokku/Victim\n",
    ] {
        let out = pre_build(&host, "web", dockerfile).await;
        assert_refused(&out, "another app's image on this host");
    }
    let out = pre_build(&host, "web", "ARG BASE=dokku/victim\nFROM ${BASE}\n").await;
    assert_refused(&out, "through a build argument");
    // An image no registry serves (only cached locally) is not used either.
    std::fs::write(format!("{}.fail", host.docker_log().display()), "").expect("fail");
    let out = pre_build(&host, "web", "FROM private.example.com/secret:1\n").await;
    assert_refused(&out, "cannot pull private.example.com/secret:1");
    // Other builders are not this trigger's business.
    let out = host
        .run("pre-build", &["herokuish", "web", "/nonexistent"], &[])
        .await;
    assert_allowed(&out);
}
