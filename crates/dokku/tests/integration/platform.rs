//! Every `Platform` operation against the simulator, asserting on its state.

use std::collections::BTreeMap;
use std::time::Duration;

use drydock_dokku::sim::Fault;
use drydock_domain::limits::{CpuLimit, Healthcheck, MemoryLimit};
use drydock_domain::name::{DomainName, PodName, ProcessType, SshKeyName};
use drydock_domain::platform::{Platform, PlatformError, PodState, RestartTarget};
use serde_json::json;

use crate::harness::{app, command_word, release, TestEnv, PLATFORM_COMMANDS};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example";

#[tokio::test]
async fn apps_lifecycle() {
    let t = TestEnv::start().await;
    assert!(t.platform.list_apps().await.unwrap().is_empty());
    t.platform.create_app(&app("shop")).await.unwrap();
    t.platform.create_app(&app("blog")).await.unwrap();
    assert_eq!(
        t.platform.list_apps().await.unwrap(),
        vec![app("blog"), app("shop")]
    );
    let err = t.platform.create_app(&app("shop")).await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::AlreadyExists(m) if m.contains("shop") && m.contains("not managed by Drydock")),
        "{err:?}"
    );
    t.platform.destroy_app(&app("shop")).await.unwrap();
    assert_eq!(t.sim.state().apps.keys().collect::<Vec<_>>(), vec!["blog"]);
    let err = t.platform.destroy_app(&app("nope")).await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected("App nope does not exist".into())
    );
    assert!(t
        .sim
        .commands()
        .contains(&"--force apps:destroy shop".to_owned()));
}

#[tokio::test]
async fn config_only_release_before_any_deploy() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let spec = release(
        1,
        None,
        &[
            ("DRYCC_APP", "shop"),
            ("EMPTY", ""),
            ("MSG", "hello \"world\"\n<x> $HOME"),
        ],
    );
    t.platform.apply_release(&shop, &spec).await.unwrap();
    let state = t.sim.state();
    let a = state.app("shop").unwrap();
    assert_eq!(a.config["MSG"], "hello \"world\"\n<x> $HOME");
    assert_eq!(a.config["EMPTY"], "");
    assert!(a.deploy.is_none());
    assert_eq!(a.restarts, 0);
    assert_eq!(
        a.docker_options["deploy"],
        vec!["--label=com.drycc.release=v1"]
    );
    assert!(!t
        .sim
        .commands()
        .iter()
        .any(|c| c.contains("ps:restart") || c.contains("git:from")));
    assert_eq!(t.platform.deployed_release(&shop).await.unwrap(), None);
    assert!(t.platform.list_pods(&shop).await.unwrap().is_empty());
}

#[tokio::test]
async fn image_release_without_procfile_runs_cmd_as_web() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let mut spec = release(2, Some("registry.example.com/shop:v2"), &[("A", "1")]);
    spec.healthchecks.insert(
        ProcessType::cmd(),
        Healthcheck::parse(
            &json!({"readinessProbe": {"httpGet": {"path": "/health", "port": 8000}}}),
        )
        .unwrap(),
    );
    spec.limits
        .memory
        .insert(ProcessType::cmd(), MemoryLimit::parse("512M").unwrap());
    t.platform.apply_release(&shop, &spec).await.unwrap();

    let state = t.sim.state();
    let a = state.app("shop").unwrap();
    let deploy = a.deploy.as_ref().unwrap();
    assert_eq!(deploy.image, "registry.example.com/shop:v2");
    assert_eq!(deploy.dockerfile, "FROM registry.example.com/shop:v2\n");
    assert!(deploy.procfile.is_empty());
    assert_eq!(deploy.release, Some(2));
    assert!(deploy.source_url.starts_with("file:///"));
    assert_eq!(
        deploy.app_json.as_ref().unwrap()["healthchecks"]["web"][0]["path"],
        "/health"
    );
    assert_eq!(a.limits["web"]["memory"], "512m");
    assert_eq!(a.scale, BTreeMap::from([("web".to_owned(), 1)]));
    assert_eq!(a.containers.len(), 1);
    assert_eq!(a.containers[0].name, "shop.web.1");
    assert_eq!(a.containers[0].release, Some(2));
    assert!(a.config.contains_key("GIT_REV"));

    let pods = t.platform.list_pods(&shop).await.unwrap();
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].name, "shop.web.1");
    assert_eq!(pods[0].process_type, "cmd");
    assert_eq!(pods[0].state, PodState::Up);
    assert_eq!(pods[0].release, Some(2));
    assert!(pods[0].started.is_some());
    assert_eq!(t.platform.deployed_release(&shop).await.unwrap(), Some(2));
    assert!(t.spool_files().is_empty(), "archive removed after deploy");

    // Drycc's `cmd` scales Dokku's `web`.
    t.platform
        .scale(&shop, &BTreeMap::from([(ProcessType::cmd(), 3)]))
        .await
        .unwrap();
    assert_eq!(t.sim.state().app("shop").unwrap().containers.len(), 3);
    t.platform
        .restart(&shop, &RestartTarget::Type(ProcessType::cmd()))
        .await
        .unwrap();
    assert!(t.sim.commands().contains(&"ps:restart shop web".to_owned()));
}

#[tokio::test]
async fn releases_reconcile_config_limits_and_labels() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let mut v3 = release(
        3,
        Some("shop:3"),
        &[("KEEP", "same"), ("DROP", "x"), ("CHANGE", "old")],
    );
    v3.procfile
        .insert(ProcessType::web(), "serve --port $PORT".into());
    v3.procfile
        .insert(ProcessType::parse("worker").unwrap(), "work".into());
    v3.limits
        .memory
        .insert(ProcessType::web(), MemoryLimit::parse("256M/1G").unwrap());
    v3.limits
        .cpu
        .insert(ProcessType::web(), CpuLimit::parse("500m").unwrap());
    v3.limits.cpu.insert(
        ProcessType::parse("worker").unwrap(),
        CpuLimit::parse("2").unwrap(),
    );
    t.platform.apply_release(&shop, &v3).await.unwrap();
    {
        let state = t.sim.state();
        let a = state.app("shop").unwrap();
        let d = a.deploy.as_ref().unwrap();
        assert_eq!(d.procfile["web"], "serve --port $PORT");
        assert_eq!(d.procfile["worker"], "work");
        assert_eq!(
            a.limits["web"],
            BTreeMap::from([("memory".into(), "1g".into()), ("cpu".into(), "0.5".into())])
        );
        assert_eq!(a.limits["worker"]["cpu"], "2");
        assert_eq!(
            a.docker_options["deploy"],
            vec!["--label=com.drycc.release=v3"]
        );
    }

    let before = t.sim.commands().len();
    let mut v4 = release(
        4,
        Some("shop:3"),
        &[("KEEP", "same"), ("CHANGE", "new"), ("ADDED", "a b")],
    );
    v4.procfile = v3.procfile.clone();
    v4.limits
        .memory
        .insert(ProcessType::web(), MemoryLimit::parse("1G").unwrap());
    t.platform.apply_release(&shop, &v4).await.unwrap();
    let sent: Vec<String> = t.sim.commands()[before..].to_vec();
    let set = sent.iter().find(|c| c.contains("config:set")).unwrap();
    assert!(
        !set.contains("KEEP="),
        "unchanged keys are not re-sent: {set}"
    );
    assert!(set.contains("CHANGE=") && set.contains("ADDED="));
    assert!(
        sent.contains(&"--quiet config:unset --no-restart shop DROP".to_owned()),
        "{sent:?}"
    );
    assert!(
        sent.contains(&"resource:limit-clear --process-type worker shop".to_owned()),
        "{sent:?}"
    );
    assert!(
        sent.contains(&"docker-options:remove shop deploy --label=com.drycc.release=v3".to_owned())
    );

    let state = t.sim.state();
    let a = state.app("shop").unwrap();
    assert_eq!(a.config["CHANGE"], "new");
    assert_eq!(a.config["ADDED"], "a b");
    assert!(!a.config.contains_key("DROP"));
    assert!(a.config.contains_key("GIT_REV"), "Dokku's own keys survive");
    assert!(a.config.contains_key("DOKKU_APP_TYPE"));
    assert_eq!(
        a.limits["web"],
        BTreeMap::from([("memory".into(), "1g".into())])
    );
    assert!(!a.limits.contains_key("worker"));
    assert_eq!(
        a.docker_options["deploy"],
        vec!["--label=com.drycc.release=v4"]
    );
    assert_eq!(
        a.deploy_count, 1,
        "same image, process types and health checks: no new archive"
    );
    assert_eq!(
        a.restarts, 1,
        "a restart picks up the new config, limits and label"
    );
    assert!(a.containers.iter().all(|c| c.release == Some(4)));
    assert_eq!(t.platform.deployed_release(&shop).await.unwrap(), Some(4));

    // Config-only release of a deployed app: restart, new label on the containers.
    let v5 = release(5, None, &[("KEEP", "same")]);
    t.platform.apply_release(&shop, &v5).await.unwrap();
    let a = t.sim.state().apps["shop"].clone();
    assert_eq!(a.restarts, 2);
    assert_eq!(a.deploy_count, 1);
    assert!(a.containers.iter().all(|c| c.release == Some(5)));
    assert_eq!(t.platform.deployed_release(&shop).await.unwrap(), Some(5));
    assert!(t
        .sim
        .commands()
        .iter()
        .all(|c| PLATFORM_COMMANDS.contains(&command_word(c))));
}

#[tokio::test]
async fn invalid_release_changes_nothing() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let before = t.sim.commands().len();
    for image in ["nginx latest", "nginx\nRUN id", "Bad/Image", ""] {
        let spec = release(1, Some(image), &[("A", "1")]);
        let err = t.platform.apply_release(&shop, &spec).await.unwrap_err();
        assert!(
            matches!(err, PlatformError::InvalidArgument(_)),
            "{image:?}: {err:?}"
        );
    }
    assert_eq!(t.sim.commands().len(), before);
    assert!(t.sim.state().apps["shop"].config.is_empty());
}

#[tokio::test]
async fn scale_and_restart() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let mut spec = release(1, Some("shop:1"), &[]);
    spec.procfile.insert(ProcessType::web(), "serve".into());
    spec.procfile
        .insert(ProcessType::parse("worker").unwrap(), "work".into());
    t.platform.apply_release(&shop, &spec).await.unwrap();
    let worker = ProcessType::parse("worker").unwrap();
    t.platform
        .scale(
            &shop,
            &BTreeMap::from([(ProcessType::web(), 2), (worker.clone(), 1)]),
        )
        .await
        .unwrap();
    let pods = t.platform.list_pods(&shop).await.unwrap();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["shop.web.1", "shop.web.2", "shop.worker.1"]);
    assert_eq!(pods[2].process_type, "worker");

    let started = t.sim.state().apps["shop"].containers[2].started_at;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let pod = PodName::parse("shop.worker.1").unwrap();
    t.platform
        .restart(&shop, &RestartTarget::Pod(pod))
        .await
        .unwrap();
    let a = t.sim.state().apps["shop"].clone();
    assert!(a.containers[2].started_at > started);
    assert_eq!(a.restarts, 1);
    t.platform
        .restart(&shop, &RestartTarget::All)
        .await
        .unwrap();
    t.platform
        .restart(&shop, &RestartTarget::Type(worker.clone()))
        .await
        .unwrap();
    assert_eq!(t.sim.state().apps["shop"].restarts, 3);

    let other = PodName::parse("blog.web.1").unwrap();
    assert!(matches!(
        t.platform.restart(&shop, &RestartTarget::Pod(other)).await,
        Err(PlatformError::Rejected(_))
    ));
    let err = t
        .platform
        .scale(
            &shop,
            &BTreeMap::from([(ProcessType::parse("nope").unwrap(), 1)]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected("nope is not a valid process name to scale up".into())
    );
}

#[tokio::test]
async fn domains_certs_and_https() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let plain = DomainName::parse("shop.example.com").unwrap();
    let wildcard = DomainName::parse("*.shop.example.com").unwrap();
    t.platform.add_domain(&shop, &plain).await.unwrap();
    t.platform.add_domain(&shop, &wildcard).await.unwrap();
    t.platform.add_domain(&shop, &plain).await.unwrap();
    assert_eq!(
        t.sim.state().apps["shop"].domains,
        vec!["shop.example.com", "*.shop.example.com"]
    );
    t.platform.remove_domain(&shop, &plain).await.unwrap();
    assert_eq!(
        t.sim.state().apps["shop"].domains,
        vec!["*.shop.example.com"]
    );

    let crt = "-----BEGIN CERTIFICATE-----\nMIIB leaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----\n";
    let key = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n";
    t.platform
        .install_certificate(&shop, crt, key)
        .await
        .unwrap();
    let cert = t.sim.state().apps["shop"].cert.clone().unwrap();
    assert_eq!((cert.crt.as_str(), cert.key.as_str()), (crt, key));
    assert!(t.spool_files().is_empty(), "cert files removed");
    t.platform
        .install_certificate(&shop, "new-crt", "new-key")
        .await
        .unwrap();
    assert_eq!(
        t.sim.state().apps["shop"].cert.clone().unwrap().crt,
        "new-crt"
    );
    t.platform.remove_certificate(&shop).await.unwrap();
    assert!(t.sim.state().apps["shop"].cert.is_none());
    t.platform.remove_certificate(&shop).await.unwrap();

    t.platform.set_https_enforced(&shop, true).await.unwrap();
    assert_eq!(t.sim.state().apps["shop"].nginx["hsts"], "true");
    t.platform.set_https_enforced(&shop, false).await.unwrap();
    let a = t.sim.state().apps["shop"].clone();
    assert_eq!(a.nginx["hsts"], "false");
    assert_eq!(a.proxy_builds, 2);
}

#[tokio::test]
async fn ssh_keys() {
    let t = TestEnv::start().await;
    let alice = SshKeyName::parse("alice@laptop").unwrap();
    t.platform
        .add_ssh_key(&alice, &format!("{KEY}\n"))
        .await
        .unwrap();
    let keys = t.sim.state().ssh_keys;
    assert_eq!(keys["alice@laptop"].key, KEY);
    assert!(keys["alice@laptop"].fingerprint.starts_with("SHA256:"));
    assert!(t.spool_files().is_empty());
    let bob = SshKeyName::parse("bob").unwrap();
    let err = t.platform.add_ssh_key(&bob, KEY).await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected("Duplicate ssh public key specified".into())
    );
    let err = t
        .platform
        .add_ssh_key(&bob, "ssh-rsa AAAA\nssh-rsa BBBB")
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::InvalidArgument(_)));
    t.platform.remove_ssh_key(&alice).await.unwrap();
    assert!(t.sim.state().ssh_keys.is_empty());
    assert!(matches!(
        t.platform.remove_ssh_key(&alice).await,
        Err(PlatformError::Rejected(_))
    ));
}

#[tokio::test]
async fn logs_are_clean_and_ordered() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let err = t.platform.logs(&shop, 10).await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected("App shop has not been deployed".into())
    );
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    t.platform
        .restart(&shop, &RestartTarget::All)
        .await
        .unwrap();
    let lines = t.platform.logs(&shop, 10).await.unwrap();
    assert_eq!(
        lines.len(),
        1,
        "only the current container's log: {lines:?}"
    );
    assert!(
        lines[0].ends_with("app[web.1]: Starting web (release v1)"),
        "{lines:?}"
    );
    assert!(!lines[0].contains('\u{1b}'));
    assert!(t.sim.commands().contains(&"logs shop -n 10".to_owned()));
}

#[tokio::test]
async fn run_commands_exactly_as_typed() {
    let t = TestEnv::start_with(|s| s.run_output_cap = 1000).await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let timeout = Duration::from_secs(5);
    let err = t.platform.run(&shop, "echo hi", timeout).await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected("App shop has not been deployed".into())
    );
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();

    let out = t
        .platform
        .run(&shop, "echo hello   world", timeout)
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.output.as_str()),
        (0, "hello   world\n"),
        "the output keeps its final newline"
    );
    let out = t.platform.run(&shop, "exit 3", timeout).await.unwrap();
    assert_eq!(out.exit_code, 3);

    let tricky = "echo 'a  b' \"$HOME\" < /etc/passwd > /tmp/x; rm -rf / \\\n && `id` | *?[";
    t.platform.run(&shop, tricky, timeout).await.unwrap();
    let runs = t.sim.state().apps["shop"].runs.clone();
    assert_eq!(runs.last().unwrap().command.as_deref(), Some(tricky));
    assert_eq!(runs.len(), 3);

    let out = t.platform.run(&shop, "seq 100000", timeout).await.unwrap();
    assert!(
        out.output.starts_with("[drydock: output truncated"),
        "{}",
        &out.output[..80]
    );
    assert!(out.output.ends_with("99999\n100000\n"));

    let big = TestEnv::start().await;
    big.platform.create_app(&shop).await.unwrap();
    big.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    let out = big
        .platform
        .run(&shop, "seq 160000", timeout)
        .await
        .unwrap();
    assert!(
        out.output.len() > 1_000_000 && out.output.ends_with("\n160000\n"),
        "a 1 MB reply"
    );

    let out = t
        .platform
        .run(&shop, "sleep 3", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(out.exit_code, 137, "killed at the TTL");
}

#[tokio::test]
async fn unchanged_deploys_restart_without_reading_back_until_a_failure() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[("A", "1")]))
        .await
        .unwrap();

    let before = t.sim.commands().len();
    t.platform
        .apply_release(&shop, &release(2, Some("shop:1"), &[("A", "2")]))
        .await
        .unwrap();
    let sent: Vec<String> = t.sim.commands()[before..].to_vec();
    assert!(
        !sent
            .iter()
            .any(|c| c.contains("report") || c.contains("config:export")),
        "what this process applied is not read back: {sent:?}"
    );
    assert!(
        !sent.iter().any(|c| c.contains("git:from-archive")),
        "{sent:?}"
    );
    assert!(sent.iter().any(|c| c.starts_with("ps:restart")), "{sent:?}");
    assert_eq!(t.sim.state().apps["shop"].config["A"], "2");

    t.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("ps:restart".into()),
        message: "restart failed".into(),
    });
    t.platform
        .apply_release(&shop, &release(3, Some("shop:1"), &[("A", "3")]))
        .await
        .unwrap_err();
    let before = t.sim.commands().len();
    t.platform
        .apply_release(&shop, &release(4, Some("shop:1"), &[("A", "4")]))
        .await
        .unwrap();
    let sent: Vec<String> = t.sim.commands()[before..].to_vec();
    assert!(
        sent.iter().any(|c| c.contains("config:export")),
        "after a failure Dokku's state is read again: {sent:?}"
    );
    assert!(
        sent.iter().any(|c| c.contains("git:from-archive")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn memory_is_not_trusted_after_another_controller_applied() {
    let t = TestEnv::start().await;
    let other = drydock_dokku::DokkuPlatform::new(crate::harness::settings(&t.dir));
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[("A", "1")]))
        .await
        .unwrap();
    other
        .apply_release(
            &shop,
            &release(2, Some("shop:1"), &[("A", "2"), ("B", "x")]),
        )
        .await
        .unwrap();
    let before = t.sim.commands().len();
    t.platform
        .apply_release(&shop, &release(3, Some("shop:1"), &[("A", "3")]))
        .await
        .unwrap();
    let sent: Vec<String> = t.sim.commands()[before..].to_vec();
    assert!(sent.iter().any(|c| c.contains("config:export")), "{sent:?}");
    let a = t.sim.state().apps["shop"].clone();
    assert!(
        !a.config.contains_key("B"),
        "the other controller's key is gone"
    );
    let release_labels: Vec<&String> = a.docker_options["deploy"]
        .iter()
        .filter(|o| o.starts_with("--label=com.drycc.release="))
        .collect();
    assert_eq!(
        release_labels,
        vec!["--label=com.drycc.release=v3"],
        "only the current release label remains"
    );
}
