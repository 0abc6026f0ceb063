//! Transport faults: each is a typed error within its timeout, and the same
//! platform works again once the fault is gone.

use std::time::{Duration, Instant};

use drydock_dokku::sim::{Fault, Sim, SimOptions};
use drydock_dokku::DokkuPlatform;
use drydock_domain::platform::{Platform, PlatformError, RestartTarget};

use crate::harness::{app, release, settings, Raw, TestEnv};

fn unavailable(r: Result<impl std::fmt::Debug, PlatformError>) {
    assert!(matches!(r, Err(PlatformError::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn missing_socket() {
    let dir = tempfile::tempdir().unwrap();
    let platform = DokkuPlatform::new(settings(&dir));
    let started = Instant::now();
    unavailable(platform.list_apps().await);
    unavailable(platform.ping().await);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The daemon appears: the same platform now works.
    let _sim = Sim::start(dir.path().join("dokku.sock"), SimOptions::default())
        .await
        .unwrap();
    assert!(platform.list_apps().await.unwrap().is_empty());
}

#[tokio::test]
async fn connection_refused_then_recovers() {
    let t = TestEnv::start().await;
    t.platform.create_app(&app("shop")).await.unwrap();
    t.sim.set_fault(Fault::Refuse);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(t.socket().exists(), "socket file stays while refusing");
    let err = t.platform.list_apps().await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Unavailable(m) if m.contains("refused")),
        "{err:?}"
    );
    t.sim.clear_fault();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(t.platform.list_apps().await.unwrap(), vec![app("shop")]);
}

#[tokio::test]
async fn hang_past_the_timeout() {
    let t = TestEnv::start_with(|s| s.command_timeout = Duration::from_millis(300)).await;
    t.sim.set_fault(Fault::Hang(Duration::from_secs(30)));
    let started = Instant::now();
    unavailable(t.platform.list_apps().await);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    t.sim.clear_fault();
    assert!(t.platform.list_apps().await.unwrap().is_empty());
}

#[tokio::test]
async fn garbage_reply_is_a_protocol_error_with_raw_bytes() {
    let t = TestEnv::start().await;
    t.sim.set_fault(Fault::Garbage);
    match t.platform.list_apps().await {
        Err(PlatformError::Protocol { raw, .. }) => {
            assert!(raw.starts_with(b"\x1b[31mgarbage\x00\xff"))
        }
        other => panic!("{other:?}"),
    }
    t.sim.clear_fault();
    assert!(t.platform.list_apps().await.unwrap().is_empty());
}

#[tokio::test]
async fn daemon_dies_mid_reply() {
    let t = TestEnv::start().await;
    t.sim.set_fault(Fault::DieMidReply);
    unavailable(t.platform.create_app(&app("shop")).await);
    // The command ran although its answer was lost: reconcile by asking.
    assert!(t.sim.state().app("shop").is_some());
    t.sim.clear_fault();
    assert_eq!(t.platform.list_apps().await.unwrap(), vec![app("shop")]);
}

#[tokio::test]
async fn failing_commands_by_prefix() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("git:from-archive".into()),
        message: "Failure during build".into(),
    });
    let err = t
        .platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[("A", "1")]))
        .await
        .unwrap_err();
    assert_eq!(err, PlatformError::Rejected("Failure during build".into()));
    assert!(t.spool_files().is_empty(), "archive removed on error too");
    let a = t.sim.state().apps["shop"].clone();
    assert_eq!(a.config["A"], "1", "config before the deploy was applied");
    assert!(a.deploy.is_none());
    // The fault counted down to zero and cleared itself.
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[("A", "1")]))
        .await
        .unwrap();
    assert_eq!(t.sim.state().apps["shop"].deployed_release(), Some(1));
}

#[tokio::test]
async fn faults_by_control_line() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    assert_eq!(
        raw.ask("sim:fault fail 2").await,
        b"{\"ok\":true,\"output\":\"fault set\"}\n"
    );
    assert!(
        matches!(t.platform.list_apps().await, Err(PlatformError::Rejected(m)) if m == "Simulated failure")
    );
    assert_eq!(
        raw.ask("sim:clear").await,
        b"{\"ok\":true,\"output\":\"fault cleared\"}\n"
    );
    assert!(t.platform.list_apps().await.is_ok());
    assert!(raw
        .ask("sim:fault bogus")
        .await
        .starts_with(b"{\"ok\":false"));
    assert!(!t.sim.commands().iter().any(|c| c.starts_with("sim:")));

    raw.ask("sim:fault refuse 0.3").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    unavailable(t.platform.list_apps().await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(t.platform.list_apps().await.is_ok(), "refuse clears itself");
}

#[tokio::test]
async fn reconnects_after_a_daemon_restart() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("dokku.sock");
    let sim = Sim::start(&socket, SimOptions::default()).await.unwrap();
    let platform = DokkuPlatform::new(settings(&dir));
    platform.create_app(&app("shop")).await.unwrap();
    sim.shutdown().await;
    unavailable(platform.list_apps().await);
    let sim = Sim::start(&socket, SimOptions::default()).await.unwrap();
    assert!(
        platform.list_apps().await.unwrap().is_empty(),
        "a fresh (empty) daemon"
    );
    // Restarted while the client was idle: the stale connection is noticed before use.
    sim.shutdown().await;
    let _sim = Sim::start(&socket, SimOptions::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(platform.list_apps().await.is_ok());
}

#[tokio::test]
async fn oversized_replies_are_protocol_errors() {
    let t = TestEnv::start_with(|s| s.max_reply_bytes = 1000).await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    let r = t
        .platform
        .run(&shop, "seq 1000", Duration::from_secs(5))
        .await;
    assert!(
        matches!(&r, Err(PlatformError::Protocol { raw, .. }) if raw.len() <= 4096),
        "{r:?}"
    );
    assert!(t.platform.list_apps().await.is_ok());
}

#[tokio::test]
async fn commands_wait_for_the_global_lock() {
    let t = TestEnv::start_with(|s| s.command_timeout = Duration::from_millis(400)).await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    // A slow restart on another connection holds the daemon lock.
    t.sim.set_fault(Fault::HangOn {
        prefix: "ps:restart".into(),
        duration: Duration::from_secs(1),
    });
    let slow = DokkuPlatform::new(settings(&t.dir));
    let restart =
        tokio::spawn(async move { slow.restart(&app("shop"), &RestartTarget::All).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    unavailable(t.platform.list_apps().await);
    t.platform.ping().await.unwrap(); // the daemon's built-ins take no lock
    restart.await.unwrap().unwrap();
    assert!(t.platform.list_apps().await.is_ok());
}

#[tokio::test]
async fn a_long_run_does_not_hold_the_lock() {
    let t = TestEnv::start_with(|s| s.command_timeout = Duration::from_millis(400)).await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    let slow = DokkuPlatform::new(settings(&t.dir));
    let run = tokio::spawn(async move {
        slow.run(&app("shop"), "sleep 2", Duration::from_secs(5))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // While the command runs, everyone else's commands go through.
    for _ in 0..5 {
        assert!(t.platform.list_apps().await.is_ok());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = run.await.unwrap().unwrap();
    assert_eq!(out.exit_code, 0);
    let words: Vec<String> = t
        .sim
        .commands()
        .iter()
        .filter(|c| c.starts_with("run"))
        .map(|c| c.split(' ').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(words.first().map(String::as_str), Some("run:detached"));
    assert!(words.iter().any(|w| w == "run:logs"));
    assert_eq!(words.last().map(String::as_str), Some("run:stop"));
    assert!(
        t.sim.state().apps["shop"].detached.is_empty(),
        "the container was stopped (and removed)"
    );
}
