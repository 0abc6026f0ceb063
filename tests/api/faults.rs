//! The fault matrix: every way dokku-daemon misbehaves, each an end-to-end
//! test over HTTP on PostgreSQL with dokku-sim injecting the fault.
//!
//! Every case starts from an app with a build (v2) and a config release (v3),
//! attempts one config change (v4) while the fault is active, and checks that
//! the client's status and message, the failed release, the app's current
//! release and what the simulated Dokku holds agree; then the daemon recovers
//! and the next request succeeds, without restarting Drydock, with the next
//! version.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use drydock_dokku::sim::{Fault, SimState};
use drydock_entity::store::apps;
use serde_json::{json, Value};

use crate::harness::{Backend, Res, TestApp};

/// The app every case works on.
const APP: &str = "faulty";
/// The adapter's timeouts here: short, so that the hang cases stay quick.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a hanging command is held unless the test releases it first.
const HELD: Duration = Duration::from_secs(600);
/// The longest a test waits for something that happens in the background.
const PATIENCE: Duration = Duration::from_secs(20);

/// Defines a test that runs on PostgreSQL only, with short adapter timeouts.
macro_rules! pg_test {
    ($name:ident, |$app:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let $app = spawn().await;
            $body
        }
    };
}

async fn spawn() -> TestApp {
    TestApp::spawn_with_daemon(
        Backend::Postgres,
        |_| {},
        |d| {
            d.connect_timeout = Duration::from_secs(1);
            d.command_timeout = COMMAND_TIMEOUT;
            d.deploy_timeout = DEPLOY_TIMEOUT;
        },
    )
    .await
}

/// alice's app with a build (v2, one web container) and `A=1` (v3), agreed on
/// by the API, the database and Dokku. Returns alice's token.
async fn setup(app: &TestApp) -> String {
    let alice = app.user("alice").await;
    app.app(&alice, APP).await;
    let r = app
        .post(
            &format!("/v2/apps/{APP}/builds"),
            &alice,
            json!({"image": "img:1", "procfile": {"web": "serve"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("/v2/apps/{APP}/config"),
            &alice,
            json!({"values": {"A": "1"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(assert_agreed(app, &alice).await, 3);
    alice
}

/// The change every case attempts while the daemon misbehaves, and repeats after.
async fn set_b(app: &TestApp, token: &str) -> Res {
    app.post(
        &format!("/v2/apps/{APP}/config"),
        token,
        json!({"values": {"B": "2"}}),
    )
    .await
}

/// Dokku's own keys and the per-container `DYNO` left out: what Drydock manages.
fn managed(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(k, _)| {
            !k.starts_with("DOKKU_") && !["GIT_REV", "NO_VHOST", "DYNO"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Checks that the API, the database and Dokku agree and returns the current
/// version, or says what disagrees:
/// * versions are 1..=n with none pending;
/// * the app's current release (database) is the newest succeeded one;
/// * Dokku's environment is exactly that release's config (as the API shows
///   it) plus `DRYCC_APP`/`DRYCC_RELEASE`;
/// * Dokku's deploy options carry that release's label and no other;
/// * every container runs that release with that environment.
async fn agreement(app: &TestApp, token: &str) -> Result<i32, String> {
    let r = app.get(&format!("/v2/apps/{APP}/releases"), token).await;
    if r.status != 200 {
        return Err(format!("listing releases: {} {}", r.status, r.text));
    }
    let results = r.body["results"].as_array().cloned().unwrap_or_default();
    let versions: Vec<i64> = results
        .iter()
        .filter_map(|x| x["version"].as_i64())
        .collect();
    let n = i64::try_from(versions.len()).unwrap_or_default();
    if versions != (1..=n).rev().collect::<Vec<_>>() {
        return Err(format!("versions are not 1..={n}: {versions:?}"));
    }
    if let Some(p) = results
        .iter()
        .find(|x| x["state"] != "succeeded" && x["state"] != "failed")
    {
        return Err(format!("a release is neither succeeded nor failed: {p}"));
    }
    let newest_ok = results
        .iter()
        .find(|x| x["state"] == "succeeded")
        .and_then(|x| x["version"].as_i64())
        .ok_or("no succeeded release")?;
    let row = apps::by_name(&app.db, APP)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("app row missing")?;
    let current = row.current_version.ok_or("no current release")?;
    if i64::from(current) != newest_ok {
        return Err(format!(
            "current release v{current} is not the newest succeeded v{newest_ok}"
        ));
    }

    let r = app.get(&format!("/v2/apps/{APP}/config"), token).await;
    let values = r.body["values"]
        .as_object()
        .ok_or_else(|| format!("config: {}", r.text))?;
    dokku_disagreement(&app.dokku(), APP, current, values)?;
    Ok(current)
}

/// Whether the simulated Dokku runs release `current` of `app` with `values`
/// (the release's config as the API shows it): its environment is exactly
/// `values` plus `DRYCC_APP`/`DRYCC_RELEASE`, its deploy options carry that
/// release's label and no other, and every container runs that release with
/// that environment.
pub(crate) fn dokku_disagreement(
    dokku: &SimState,
    app: &str,
    current: i32,
    values: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let mut expected: BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    expected.insert("DRYCC_APP".into(), app.into());
    expected.insert("DRYCC_RELEASE".into(), format!("v{current}"));

    let a = dokku.app(app).ok_or("the app is missing on Dokku")?;
    let env = managed(&a.config);
    if env != expected {
        return Err(format!(
            "Dokku's environment {env:?} is not v{current}'s {expected:?}"
        ));
    }
    let labels: Vec<&String> = a
        .docker_options
        .get("deploy")
        .into_iter()
        .flatten()
        .filter(|o| o.starts_with("--label=com.drycc.release="))
        .collect();
    let wanted = format!("--label=com.drycc.release=v{current}");
    if labels != [&wanted] {
        return Err(format!(
            "Dokku's release labels are {labels:?}, not [{wanted}]"
        ));
    }
    if a.containers.is_empty() {
        return Err("no containers run".into());
    }
    for c in &a.containers {
        if c.release != u32::try_from(current).ok() {
            return Err(format!("{} runs {:?}, not v{current}", c.name, c.release));
        }
        if managed(&c.env) != expected {
            return Err(format!(
                "{} runs with {:?}, not v{current}'s {expected:?}",
                c.name,
                managed(&c.env)
            ));
        }
    }
    Ok(())
}

/// Asserts [`agreement`] now.
async fn assert_agreed(app: &TestApp, token: &str) -> i32 {
    match agreement(app, token).await {
        Ok(v) => v,
        Err(e) => panic!("Drydock and Dokku disagree: {e}"),
    }
}

/// Asserts that [`agreement`] is reached within [`PATIENCE`] (Drydock puts
/// Dokku right in the background once the daemon answers again).
async fn eventually_agreed(app: &TestApp, token: &str) -> i32 {
    let start = Instant::now();
    loop {
        match agreement(app, token).await {
            Ok(v) => return v,
            Err(e) if start.elapsed() > PATIENCE => {
                panic!("Drydock and Dokku still disagree after {PATIENCE:?}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Dokku's deploy count once the background restore's deploy has come in
/// (it may finish after the config already agrees), or after [`PATIENCE`].
async fn deploys_after_restore(app: &TestApp, before: u32) -> u32 {
    let start = Instant::now();
    loop {
        let now = app.dokku().app(APP).unwrap().deploy_count;
        if now > before || start.elapsed() > PATIENCE {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that release `version` was recorded as failed with `exception`.
async fn assert_failed(app: &TestApp, token: &str, version: i32, exception: &str) {
    let r = app
        .get(&format!("/v2/apps/{APP}/releases/v{version}"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "failed", "{}", r.text);
    assert_eq!(r.body["failed"], true);
    assert_eq!(
        r.body["exception"],
        format!("error: {exception}"),
        "worded as the reference's"
    );
}

/// Asserts that the client still sees v3's config: `A=1` and no `B`.
async fn assert_config_is_v3(app: &TestApp, token: &str) {
    let r = app.get(&format!("/v2/apps/{APP}/config"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["values"], json!({"A": "1"}));
}

/// The daemon answers again: repeating the change succeeds with the next
/// version after the failed ones, and Dokku runs it.
async fn assert_recovers(app: &TestApp, token: &str, last_failed: i32) {
    let r = set_b(app, token).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["values"], json!({"A": "1", "B": "2"}));
    assert_eq!(
        assert_agreed(app, token).await,
        last_failed + 1,
        "the next version; none is reused"
    );
    assert_eq!(app.dokku().app(APP).unwrap().config["B"], "2");
}

/// The command that takes v4's `B` out of Dokku's environment again.
fn unset_b() -> String {
    format!("--quiet config:unset --no-restart {APP} B")
}

/// Waits until the daemon has received `command`.
async fn wait_for_command(app: &TestApp, command: &str) {
    let start = Instant::now();
    while !app.sim.commands().iter().any(|c| c == command) {
        assert!(
            start.elapsed() < PATIENCE,
            "the daemon never received `{command}`: {:?}",
            app.sim.commands()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until connecting to `socket` fails (the sim has closed its listener).
async fn wait_unreachable(socket: &Path) {
    let start = Instant::now();
    while tokio::net::UnixStream::connect(socket).await.is_ok() {
        assert!(start.elapsed() < PATIENCE, "the daemon still accepts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until connecting to `socket` succeeds (the sim listens again).
async fn wait_reachable(socket: &Path) {
    let start = Instant::now();
    while tokio::net::UnixStream::connect(socket).await.is_err() {
        assert!(start.elapsed() < PATIENCE, "the daemon does not come back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pg_test!(socket_missing, |app| {
    let alice = setup(&app).await;
    let socket = app.sim.socket_path().to_owned();
    // The daemon stops and its socket file goes with it.
    app.sim.set_fault(Fault::Refuse);
    wait_unreachable(&socket).await;
    std::fs::remove_file(&socket).expect("remove the socket");

    let r = set_b(&app, &alice).await;
    let message = format!(
        "Dokku is unavailable: cannot connect to {}: No such file or directory (os error 2)",
        socket.display()
    );
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, &message).await;
    assert_config_is_v3(&app, &alice).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);

    // The daemon starts again and re-creates its socket.
    app.sim.clear_fault();
    wait_reachable(&socket).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_recovers(&app, &alice, 4).await;
});

pg_test!(connection_refused, |app| {
    let alice = setup(&app).await;
    let commands_before = app.sim.commands().len();
    app.sim.set_fault(Fault::Refuse);

    let r = set_b(&app, &alice).await;
    let message = format!(
        "Dokku is unavailable: cannot connect to {}: Connection refused (os error 111)",
        app.sim.socket_path().display()
    );
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, &message).await;
    assert_config_is_v3(&app, &alice).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_eq!(
        app.sim.commands().len(),
        commands_before,
        "nothing reached Dokku"
    );

    app.sim.clear_fault();
    wait_reachable(app.sim.socket_path()).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_hangs_past_the_command_timeout, |app| {
    let alice = setup(&app).await;
    app.sim.set_fault(Fault::Hang(HELD));

    let r = set_b(&app, &alice).await;
    let message = format!(
        "Dokku is unavailable: dokku-daemon did not answer within {COMMAND_TIMEOUT:?}: \
         --quiet config:set --encoded --no-restart {APP} B=<redacted> DRYCC_RELEASE=<redacted>"
    );
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, &message).await;
    assert_config_is_v3(&app, &alice).await;
    // The daemon still holds the `config:set`: Dokku has not changed yet.
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert!(app
        .sim
        .commands()
        .iter()
        .any(|c| c.starts_with("--quiet config:set") && c.contains("B=")));

    // The daemon wakes up. A timeout never cancels a command on the Dokku
    // side: the held `config:set B` runs now, after Drydock declared v4
    // failed. Drydock must still end up with Dokku running v3: it reads
    // Dokku's state again after the held command and takes B out.
    app.sim.clear_fault();
    wait_for_command(&app, &unset_b()).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_config_is_v3(&app, &alice).await;
    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_fails_the_deploy, |app| {
    let alice = setup(&app).await;
    let deploys = app.dokku().app(APP).unwrap().deploy_count;
    // A config change on a deployed app is deployed with `ps:restart`.
    app.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("ps:restart".into()),
        message: "App faulty failed to start: web.1 exited with status 1".into(),
    });

    let r = set_b(&app, &alice).await;
    let message = "App faulty failed to start: web.1 exited with status 1";
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, message).await;
    assert_config_is_v3(&app, &alice).await;
    // B had reached Dokku's environment before the restart failed; v3 is
    // re-applied in the background, from a fresh read of Dokku's state and
    // with a new deploy of its archive (which may finish after the config
    // already agrees).
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_eq!(deploys_after_restore(&app, deploys).await, deploys + 1);

    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_fails_an_archive_deploy, |app| {
    let alice = setup(&app).await;
    app.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("git:from-archive".into()),
        message: "Unable to pull img:2: manifest unknown".into(),
    });

    let r = app
        .post(
            &format!("/v2/apps/{APP}/builds"),
            &alice,
            json!({"image": "img:2", "procfile": {"web": "serve"}}),
        )
        .await;
    let message = "Unable to pull img:2: manifest unknown";
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, message).await;
    assert_config_is_v3(&app, &alice).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    let d = app.dokku();
    let deploy = d.app(APP).unwrap().deploy.clone().unwrap();
    assert_eq!(deploy.image, "img:1", "v3's image runs");
    assert_eq!(deploy.release, Some(3), "v3 was deployed again");

    let r = app
        .post(
            &format!("/v2/apps/{APP}/builds"),
            &alice,
            json!({"image": "img:2", "procfile": {"web": "serve"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(assert_agreed(&app, &alice).await, 5);
    let d = app.dokku();
    let deploy = d.app(APP).unwrap().deploy.clone().unwrap();
    assert_eq!((deploy.image.as_str(), deploy.release), ("img:2", Some(5)));
});

pg_test!(daemon_replies_garbage, |app| {
    let alice = setup(&app).await;
    let before = app.dokku();
    app.sim.set_fault(Fault::Garbage);

    let r = set_b(&app, &alice).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"detail": "Dokku answered something Drydock could not understand; see the server log"})
    );
    let rel = app
        .get(&format!("/v2/apps/{APP}/releases/v4"), &alice)
        .await;
    assert_eq!(rel.body["state"], "failed", "{}", rel.text);
    let exception = rel.body["exception"].as_str().unwrap();
    assert!(
        exception.starts_with("error: unintelligible reply from Dokku: "),
        "{exception}"
    );
    assert_config_is_v3(&app, &alice).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_eq!(
        app.dokku(),
        before,
        "a garbage-answering daemon ran nothing"
    );

    app.sim.clear_fault();
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_dies_mid_reply_once, |app| {
    let alice = setup(&app).await;
    let before = app.dokku().app(APP).cloned().unwrap();
    // The daemon runs v4's restart, then dies before its reply is complete,
    // and is back for the next connection.
    app.sim.set_fault(Fault::DieNext {
        count: 1,
        prefix: Some("ps:restart".into()),
    });

    let r = set_b(&app, &alice).await;
    assert_eq!(r.status, 503, "{}", r.text);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("Dokku is unavailable: dokku-daemon closed the connection after ")
            && detail.ends_with(" bytes of a reply"),
        "{detail}"
    );
    assert_failed(&app, &alice, 4, detail).await;
    assert_config_is_v3(&app, &alice).await;
    // v4 did run on Dokku (its reply was lost), so Drydock cannot call it
    // succeeded; it is failed, and v3 is re-applied over it (in the background).
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    deploys_after_restore(&app, before.deploy_count).await;
    let after = app.dokku().app(APP).cloned().unwrap();
    assert_eq!(after.restarts, before.restarts + 1, "v4's restart ran");
    assert_eq!(
        after.deploy_count,
        before.deploy_count + 1,
        "then v3 was deployed again"
    );

    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_dies_mid_reply_until_restarted, |app| {
    let alice = setup(&app).await;
    app.sim.set_fault(Fault::DieMidReply);

    let r = set_b(&app, &alice).await;
    // Half of `{"ok":true,"output":""}\n`, the reply to `--quiet config:set`.
    let message =
        "Dokku is unavailable: dokku-daemon closed the connection after 12 bytes of a reply";
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, json!({"detail": message}));
    assert_failed(&app, &alice, 4, message).await;
    assert_config_is_v3(&app, &alice).await;
    // The `config:set` ran before its reply was cut, and the daemon died on
    // the re-apply too: Dokku's environment holds v4's, the containers still
    // run v3. Nothing can put it right while every reply is lost.
    let d = app.dokku();
    let a = d.app(APP).unwrap();
    assert_eq!(a.config["B"], "2");
    assert_eq!(a.config["DRYCC_RELEASE"], "v4");
    assert!(a
        .containers
        .iter()
        .all(|c| c.release == Some(3) && !c.env.contains_key("B")));

    // The daemon is restarted: Drydock re-applies v3 by itself.
    app.sim.clear_fault();
    wait_for_command(&app, &unset_b()).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);
    assert!(!app.dokku().app(APP).unwrap().config.contains_key("B"));
    assert_recovers(&app, &alice, 4).await;
});

pg_test!(daemon_recovers, |app| {
    let alice = setup(&app).await;
    app.sim.set_fault(Fault::Refuse);
    for version in [4, 5] {
        let r = set_b(&app, &alice).await;
        assert_eq!(r.status, 503, "{}", r.text);
        assert_failed(&app, &alice, version, r.body["detail"].as_str().unwrap()).await;
    }
    // Reads never need Dokku.
    assert_config_is_v3(&app, &alice).await;
    assert_eq!(eventually_agreed(&app, &alice).await, 3);

    // The daemon comes back; the same Drydock process carries on.
    app.sim.clear_fault();
    wait_reachable(app.sim.socket_path()).await;
    assert_recovers(&app, &alice, 5).await;
    let r = app
        .post(
            &format!("/v2/apps/{APP}/config"),
            &alice,
            json!({"values": {"C": "3"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(assert_agreed(&app, &alice).await, 7);
});
