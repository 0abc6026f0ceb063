//! A hostile tenant against everyone else: each test acts as the user who
//! wants to reach, break or freeze what is not theirs, and asserts that
//! neither the database nor Dokku changed.

use serde_json::json;

use crate::dual_test;

dual_test!(
    creating_an_app_never_destroys_one_drydock_does_not_manage,
    |app| {
        // An operator's app, made on Dokku directly, with config and a deploy.
        app.sim.update_state(|s| {
            let mut theirs = drydock_dokku::sim::SimApp::default();
            theirs
                .config
                .insert("SECRET".into(), "the operator's".into());
            s.apps.insert("ops-app".into(), theirs);
        });
        let before = app.dokku().app("ops-app").cloned();
        let mallory = app.user("mallory").await;
        let r = app
            .post("/v2/apps/", &mallory, json!({"id": "ops-app"}))
            .await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("not managed by Drydock"),
            "{}",
            r.text
        );
        assert_eq!(
            app.dokku().app("ops-app").cloned(),
            before,
            "left untouched"
        );
        assert!(
            !app.sim
                .commands()
                .iter()
                .any(|c| c.contains("apps:destroy")),
            "nothing was destroyed: {:?}",
            app.sim.commands()
        );
        let r = app.get("/v2/apps/ops-app", &mallory).await;
        assert_eq!(r.status, 404, "no Drydock app was kept: {}", r.text);
        let listed = app.get("/v2/apps/", &mallory).await;
        assert_eq!(listed.body["count"], 0);
        // The name is free again in Drydock once the operator removes theirs.
        app.sim.update_state(|s| {
            s.apps.remove("ops-app");
        });
        let r = app
            .post("/v2/apps/", &mallory, json!({"id": "ops-app"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
);

dual_test!(a_password_change_revokes_the_old_tokens, |app| {
    let _admin = app.user("root-admin").await;
    let alice = app.user("alice").await;
    let alice_other = app.login("alice", "alice-pw").await;
    let r = app
        .post(
            "/v2/auth/passwd/",
            &alice,
            json!({"password": "alice-pw", "new_password": "alice-new"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        app.get("/v2/auth/whoami/", &alice).await.status,
        200,
        "the token that changed it stays"
    );
    assert_eq!(
        app.get("/v2/auth/whoami/", &alice_other).await.status,
        401,
        "a token issued before the change (perhaps to whoever knew the old password) is revoked"
    );

    let admin = app.login("root-admin", "root-admin-pw").await;
    let alice_new = app.login("alice", "alice-new").await;
    let r = app
        .post(
            "/v2/auth/passwd/",
            &admin,
            json!({"username": "alice", "new_password": "reset-by-admin"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for t in [&alice, &alice_new] {
        assert_eq!(app.get("/v2/auth/whoami/", t).await.status, 401);
    }
    assert_eq!(app.get("/v2/auth/whoami/", &admin).await.status, 200);
    app.login("alice", "reset-by-admin").await;
});

dual_test!(an_absurd_offset_is_an_empty_page, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    for q in [
        "offset=18446744073709551615",
        "offset=18446744073709551615&limit=1000",
        "offset=9223372036854775807",
        "offset=-1",
        "limit=18446744073709551615&offset=18446744073709551614",
    ] {
        for path in [
            "/v2/apps/",
            "/v2/apps/web/releases/",
            "/v2/apps/web/builds/",
            "/v2/keys/",
            "/v2/certs/",
        ] {
            let r = app.get(&format!("{path}?{q}"), &alice).await;
            assert_eq!(r.status, 200, "{path}?{q}: {}", r.text);
            assert!(r.body["results"].is_array(), "{path}?{q}: {}", r.text);
        }
    }
});

dual_test!(a_cancelled_collaborator_leaves_the_app_as_it_was, |app| {
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = app.user("root-admin").await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    app.app(&alice, "web").await;
    let r = app
        .post("/v2/apps/web/perms", &alice, json!({"username": "carol"}))
        .await;
    assert_eq!(r.status, 201);
    // carol writes the current release: config, a build, a domain with her certificate.
    for (path, body) in [
        (
            "/v2/apps/web/config",
            json!({"values": {"DATABASE_URL": "postgres://db/web"}}),
        ),
        ("/v2/apps/web/builds", json!({"image": "nginx:1.25"})),
        (
            "/v2/apps/web/domains",
            json!({"domain": "shop.web.example.org"}),
        ),
    ] {
        let r = app.post(path, &carol, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    let (crt, key, _) = crate::domains_certs::gen_cert(
        dir.path(),
        "shop",
        "shop.web.example.org",
        &["shop.web.example.org"],
    );
    let r = app
        .post(
            "/v2/certs",
            &carol,
            json!({"name": "shop", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            "/v2/certs/shop/domain",
            &carol,
            json!({"domain": "shop.web.example.org"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (public, _) = crate::keys_perms::gen_key(dir.path(), "carol", "carol@laptop");
    let r = app
        .post(
            "/v2/keys",
            &carol,
            json!({"id": "laptop", "public": public}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let blob = public.split_whitespace().nth(1).expect("blob").to_owned();
    assert!(app.dokku().ssh_keys.values().any(|k| k.key.contains(&blob)));
    let releases_before = app.get("/v2/apps/web/releases", &alice).await.body["count"].clone();
    let dokku_before = app.dokku().app("web").cloned().expect("web");

    let r = app
        .call(
            reqwest::Method::DELETE,
            "/v2/auth/cancel",
            Some(&admin),
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Her key is gone from Dokku: she has no way in left.
    assert!(
        !app.dokku().ssh_keys.values().any(|k| k.key.contains(&blob)),
        "{:?}",
        app.dokku().ssh_keys
    );
    // History, config, domain and certificate stay, in Drydock and on Dokku.
    let rel = app.get("/v2/apps/web/releases", &alice).await;
    assert_eq!(rel.body["count"], releases_before);
    assert_eq!(rel.body["results"][0]["owner"], "[deleted]");
    assert_eq!(
        rel.body["results"][0]["summary"],
        "carol deployed nginx:1.25"
    );
    let cfg = app.get("/v2/apps/web/config", &alice).await;
    assert_eq!(
        cfg.body["values"],
        json!({"DATABASE_URL": "postgres://db/web"})
    );
    let doms = app.get("/v2/apps/web/domains", &alice).await;
    assert!(doms.text.contains("shop.web.example.org"), "{}", doms.text);
    assert_eq!(app.dokku().app("web").cloned().expect("web"), dokku_before);
    let cert = app.get("/v2/certs/shop", &admin).await;
    assert_eq!(cert.status, 200, "{}", cert.text);
    assert_eq!(cert.body["owner"], "[deleted]");
    // The owner's next change keeps what carol set, on Dokku too.
    let r = app
        .post("/v2/apps/web/config", &alice, json!({"values": {"B": "2"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let env = app.dokku().app("web").expect("web").config.clone();
    assert_eq!(
        env.get("DATABASE_URL").map(String::as_str),
        Some("postgres://db/web")
    );
    let d = app
        .dokku()
        .app("web")
        .and_then(|a| a.deploy.clone())
        .expect("deployed");
    assert_eq!(d.image, "nginx:1.25");
    // The tombstone is nobody: not listed, not registrable, not a target.
    let users = app.get("/v2/users", &admin).await;
    assert!(!users.text.contains("[deleted]"), "{}", users.text);
    let r = app
        .call(
            reqwest::Method::POST,
            "/v2/auth/register",
            None,
            Some(json!({"username": "[deleted]", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = app
        .post(
            "/v2/apps/web/perms",
            &alice,
            json!({"username": "[deleted]"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app
        .call(
            reqwest::Method::POST,
            "/v2/auth/login",
            None,
            Some(json!({"username": "[deleted]", "password": "!"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
});

dual_test!(parallel_first_registrations_make_one_admin, |app| {
    let calls = (0..8).map(|i| {
        app.call(
            reqwest::Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": format!("racer{i}"), "password": "pw-racer"})),
        )
    });
    let answers = futures::future::join_all(calls).await;
    let admins = answers
        .iter()
        .inspect(|r| assert_eq!(r.status, 201, "{}", r.text))
        .filter(|r| r.body["is_superuser"] == true)
        .count();
    assert_eq!(admins, 1, "exactly one first user");
});

dual_test!(
    certificate_lists_show_only_ones_own_paged_by_the_database,
    |app| {
        let dir = tempfile::tempdir().expect("tempdir");
        let admin = app.user("root-admin").await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        for (token, owner, n) in [(&alice, "alice", 3), (&bob, "bob", 2)] {
            for i in 0..n {
                let stem = format!("{owner}{i}");
                let host = format!("{stem}.example.org");
                let (crt, key, _) =
                    crate::domains_certs::gen_cert(dir.path(), &stem, &host, &[host.as_str()]);
                let r = app
                    .post(
                        "/v2/certs",
                        token,
                        json!({"name": stem, "certificate": crt, "key": key}),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.text);
            }
        }
        let r = app.get("/v2/certs?limit=2", &alice).await;
        assert_eq!(r.body["count"], 3, "{}", r.text);
        assert_eq!(r.column("name"), ["alice0", "alice1"]);
        let r = app.get("/v2/certs?limit=2&offset=2", &alice).await;
        assert_eq!(r.column("name"), ["alice2"]);
        let r = app.get("/v2/certs", &bob).await;
        assert_eq!(
            (r.body["count"].clone(), r.column("name")),
            (json!(2), vec!["bob0".to_owned(), "bob1".to_owned()])
        );
        assert!(!r.text.contains("PRIVATE KEY"), "no key material in a list");
        let r = app.get("/v2/certs?offset=1&limit=3", &admin).await;
        assert_eq!(r.body["count"], 5);
        assert_eq!(r.column("name"), ["alice1", "alice2", "bob0"]);
        assert_eq!(app.get("/v2/certs/alice0", &bob).await.status, 404);
    }
);

dual_test!(
    nobody_claims_a_hostname_that_routes_to_another_tenant,
    |app| {
        let bob = app.user("bob").await;
        let mallory = app.user("mallory").await;
        app.app(&bob, "shop").await;
        app.app(&mallory, "evil").await;
        let before = app.sim.commands().len();
        // The test servers' platform domain is example.test.
        for host in [
            "shop.example.test",
            "x.shop.example.test",
            "newapp.example.test",
            "example.test",
            "*.example.test",
            "*.test",
            "*.com",
            "*.co.uk",
        ] {
            let r = app
                .post("/v2/apps/evil/domains", &mallory, json!({"domain": host}))
                .await;
            assert_eq!(r.status, 400, "{host}: {}", r.text);
            assert!(r.body["domain"][0].is_string(), "{}", r.text);
        }
        assert_eq!(app.sim.commands().len(), before, "nothing reached Dokku");
        for host in [
            "evil.example.test",
            "api.evil.example.test",
            "*.evil.example.test",
            "*.mallory.org",
        ] {
            let r = app
                .post("/v2/apps/evil/domains", &mallory, json!({"domain": host}))
                .await;
            assert_eq!(r.status, 201, "{host}: {}", r.text);
        }
        let shop = app.dokku().app("shop").cloned().expect("shop");
        assert!(shop.domains.is_empty(), "{:?}", shop.domains);

        // A hostname Dokku routes to an app Drydock does not manage is taken too.
        app.sim.update_state(|s| {
            let mut theirs = drydock_dokku::sim::SimApp::default();
            theirs.domains.push("www.operator.example".into());
            s.apps.insert("ops-site".into(), theirs);
        });
        let r = app
            .post(
                "/v2/apps/evil/domains",
                &mallory,
                json!({"domain": "www.operator.example"}),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"domain": ["Domain is already in use by another application"]})
        );
        let evil = app.dokku().app("evil").cloned().expect("evil");
        assert!(!evil.domains.contains(&"www.operator.example".to_owned()));
        assert_eq!(
            app.dokku().app("ops-site").expect("ops").domains,
            ["www.operator.example"]
        );
    }
);

/// A server whose quick Dokku commands give up after 2 s.
async fn quick_timeouts(backend: crate::harness::Backend) -> crate::harness::TestApp {
    crate::harness::TestApp::spawn_with_daemon(
        backend,
        |_| {},
        |d| d.command_timeout = std::time::Duration::from_secs(2),
    )
    .await
}

async fn one_run_does_not_freeze_the_others(app: crate::harness::TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&alice, "slow").await;
    app.app(&bob, "other").await;
    let r = app
        .post("/v2/apps/slow/builds", &alice, json!({"image": "img:1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let long = app.post("/v2/apps/slow/run", &alice, json!({"command": "sleep 5"}));
    let others = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        // Alice may run two at once, not three.
        let second = app.post("/v2/apps/slow/run", &alice, json!({"command": "sleep 3"}));
        let third = async {
            // Once both of alice's commands run on Dokku, a third is refused.
            while app.dokku().app("slow").map_or(0, |a| a.detached.len()) < 2 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            app.post("/v2/apps/slow/run", &alice, json!({"command": "echo hi"}))
                .await
        };
        let change = async {
            app.post("/v2/apps/other/config", &bob, json!({"values": {"A": "1"}}))
                .await
        };
        tokio::join!(second, third, change)
    };
    let (long, (second, third, change)) = tokio::join!(long, others);
    assert_eq!(
        change.status, 201,
        "bob's change waited for alice's run: {}",
        change.text
    );
    assert_eq!(third.status, 429, "{}", third.text);
    assert!(third.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("one-off commands"));
    for r in [&long, &second] {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["exit_code"], 0);
    }
    assert!(
        app.dokku().app("slow").expect("slow").detached.is_empty(),
        "containers stopped"
    );
    let r = app
        .post(
            "/v2/apps/slow/run",
            &alice,
            json!({"command": "echo again"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["output"].clone()),
        (200, json!("again\n"))
    );
}

mod a_long_run_does_not_freeze_other_tenants {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        one_run_does_not_freeze_the_others(quick_timeouts(crate::harness::Backend::Sqlite).await)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        one_run_does_not_freeze_the_others(quick_timeouts(crate::harness::Backend::Postgres).await)
            .await
    }
}

/// Everything the victim can see of their own objects, and what Dokku holds.
async fn victim_view(app: &crate::harness::TestApp, token: &str) -> (Vec<String>, String) {
    let mut seen = Vec::new();
    for path in [
        "/v2/apps/shop",
        "/v2/apps/shop/config",
        "/v2/apps/shop/builds",
        "/v2/apps/shop/releases",
        "/v2/apps/shop/domains",
        "/v2/apps/shop/perms",
        "/v2/apps/shop/tls",
        "/v2/apps/shop/pods",
        "/v2/certs",
        "/v2/keys",
        "/v2/auth/whoami",
    ] {
        let r = app.get(path, token).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        seen.push(format!("{path} {}", r.text));
    }
    let mut dokku = app.dokku();
    for a in dokku.apps.values_mut() {
        a.logs.clear();
    }
    (seen, serde_json::to_string(&dokku).unwrap_or_default())
}

dual_test!(a_second_tenant_reaches_nothing_of_the_first, |app| {
    let dir = tempfile::tempdir().expect("tempdir");
    let _admin = app.user("root-admin").await;
    let bob = app.user("bob").await;
    let mallory = app.user("mallory").await;
    app.app(&bob, "shop").await;
    app.app(&mallory, "mine").await;
    for (path, body) in [
        ("/v2/apps/shop/builds", json!({"image": "nginx:1.25"})),
        (
            "/v2/apps/shop/config",
            json!({"values": {"SECRET": "s3cret"}}),
        ),
        (
            "/v2/apps/shop/domains",
            json!({"domain": "shop.example.org"}),
        ),
    ] {
        let r = app.post(path, &bob, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    let (crt, key, _) = crate::domains_certs::gen_cert(
        dir.path(),
        "shop",
        "shop.example.org",
        &["shop.example.org"],
    );
    let r = app
        .post(
            "/v2/certs",
            &bob,
            json!({"name": "shopcert", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (public, _) = crate::keys_perms::gen_key(dir.path(), "bob", "bob@laptop");
    let r = app
        .post("/v2/keys", &bob, json!({"id": "laptop", "public": public}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pods = app.get("/v2/apps/shop/pods", &bob).await;
    let pod = pods.body["results"][0]["name"]
        .as_str()
        .unwrap_or("shop.cmd.1")
        .to_owned();
    let build = app.get("/v2/apps/shop/builds", &bob).await.body["results"][0]["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let before = victim_view(&app, &bob).await;

    use reqwest::Method as M;
    let attempts: Vec<(M, String, Option<serde_json::Value>)> = vec![
        (M::GET, "/v2/apps/shop".into(), None),
        (
            M::POST,
            "/v2/apps/shop".into(),
            Some(json!({"owner": "mallory"})),
        ),
        (M::DELETE, "/v2/apps/shop".into(), None),
        (M::GET, "/v2/apps/shop/config".into(), None),
        (
            M::POST,
            "/v2/apps/shop/config".into(),
            Some(json!({"values": {"SECRET": null}})),
        ),
        (M::GET, "/v2/apps/shop/builds".into(), None),
        (
            M::POST,
            "/v2/apps/shop/builds".into(),
            Some(json!({"image": "evil:1"})),
        ),
        (M::GET, format!("/v2/apps/shop/builds/{build}"), None),
        (M::GET, "/v2/apps/shop/releases".into(), None),
        (M::GET, "/v2/apps/shop/releases/v2".into(), None),
        (
            M::POST,
            "/v2/apps/shop/releases/rollback".into(),
            Some(json!({"version": 2})),
        ),
        (M::GET, "/v2/apps/shop/pods".into(), None),
        (M::POST, "/v2/apps/shop/pods/restart".into(), None),
        (
            M::POST,
            format!("/v2/apps/shop/pods/cmd/{pod}/restart"),
            None,
        ),
        (
            M::POST,
            "/v2/apps/shop/scale".into(),
            Some(json!({"cmd": 0})),
        ),
        (M::GET, "/v2/apps/shop/logs".into(), None),
        (
            M::POST,
            "/v2/apps/shop/run".into(),
            Some(json!({"command": "env"})),
        ),
        (M::GET, "/v2/apps/shop/domains".into(), None),
        (
            M::POST,
            "/v2/apps/shop/domains".into(),
            Some(json!({"domain": "evil.example.org"})),
        ),
        (
            M::DELETE,
            "/v2/apps/shop/domains/shop.example.org".into(),
            None,
        ),
        (M::GET, "/v2/apps/shop/tls".into(), None),
        (
            M::POST,
            "/v2/apps/shop/tls".into(),
            Some(json!({"https_enforced": true})),
        ),
        (M::GET, "/v2/apps/shop/perms".into(), None),
        (
            M::POST,
            "/v2/apps/shop/perms".into(),
            Some(json!({"username": "mallory"})),
        ),
        (M::DELETE, "/v2/apps/shop/perms/bob".into(), None),
        (M::GET, "/v2/certs/shopcert".into(), None),
        (M::DELETE, "/v2/certs/shopcert".into(), None),
        (
            M::POST,
            "/v2/certs/shopcert/domain".into(),
            Some(json!({"domain": "mine.example.org"})),
        ),
        (
            M::DELETE,
            "/v2/certs/shopcert/domain/shop.example.org".into(),
            None,
        ),
        (M::DELETE, "/v2/keys/laptop".into(), None),
        (
            M::POST,
            "/v2/auth/passwd".into(),
            Some(json!({"username": "bob", "new_password": "owned"})),
        ),
        (
            M::POST,
            "/v2/auth/tokens".into(),
            Some(json!({"username": "bob"})),
        ),
        (
            M::DELETE,
            "/v2/auth/cancel".into(),
            Some(json!({"username": "bob"})),
        ),
        (
            M::POST,
            "/v2/admin/perms".into(),
            Some(json!({"username": "mallory"})),
        ),
        (
            M::POST,
            "/v2/apps/mine".into(),
            Some(json!({"owner": "bob"})),
        ),
    ];
    for (method, path, body) in attempts {
        let r = app.call(method.clone(), &path, Some(&mallory), body).await;
        let code = r.status.as_u16();
        // Transferring her own app to bob is allowed; everything else is refused.
        if path == "/v2/apps/mine" {
            assert_eq!(code, 200, "{method} {path}: {}", r.text);
            continue;
        }
        assert!(
            matches!(code, 403 | 404),
            "{method} {path} as a stranger: {code} {}",
            r.text
        );
        assert!(
            !r.text.contains("s3cret"),
            "{method} {path} leaked the secret"
        );
    }
    let after = victim_view(&app, &bob).await;
    assert_eq!(before.0, after.0, "the victim's objects changed");
    let mine_moved = app.get("/v2/apps/mine", &bob).await;
    assert_eq!(mine_moved.status, 200);
    // Dokku changed only for mallory's own app (`mine`).
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
        v["apps"].as_object_mut().map(|m| m.remove("mine"));
        v
    };
    assert_eq!(
        strip(&before.1),
        strip(&after.1),
        "Dokku changed for the victim"
    );
});

dual_test!(dokku_key_names_are_one_to_one_with_users, |app| {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = app.user("x_y").await;
    let b = app.user("x+y").await;
    let mut blobs = Vec::new();
    for (token, stem) in [(&a, "a"), (&b, "b")] {
        let (public, _) = crate::keys_perms::gen_key(dir.path(), stem, "laptop");
        let r = app
            .post("/v2/keys", token, json!({"id": "laptop", "public": public}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        blobs.push(public.split_whitespace().nth(1).expect("blob").to_owned());
    }
    let keys = app.dokku().ssh_keys;
    assert_eq!(keys.len(), 2, "{keys:?}");
    // x+y removes theirs: x_y's stays.
    assert_eq!(app.delete("/v2/keys/laptop", &b).await.status, 204);
    let keys = app.dokku().ssh_keys;
    assert_eq!(keys.len(), 1);
    assert!(keys.values().any(|k| k.key.contains(&blobs[0])));

    // A key installed before names were recorded is removed under its old name.
    let (name, _) = keys
        .iter()
        .next()
        .map(|(n, k)| (n.clone(), k.clone()))
        .expect("one");
    app.sim.update_state(|s| {
        if let Some(k) = s.ssh_keys.remove(&name) {
            s.ssh_keys.insert("x_y.laptop".into(), k);
        }
    });
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE keys SET dokku_name = NULL")
        .await
        .expect("legacy row");
    assert_eq!(app.delete("/v2/keys/laptop", &a).await.status, 204);
    assert!(app.dokku().ssh_keys.is_empty());
});

async fn a_slow_deploy_leaves_other_reads_alone(app: crate::harness::TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&alice, "slow").await;
    app.app(&bob, "other").await;
    for (token, name) in [(&alice, "slow"), (&bob, "other")] {
        let r = app
            .post(
                &format!("/v2/apps/{name}/builds"),
                token,
                json!({"image": "img:1"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let seen = app.get("/v2/apps/other/pods", &bob).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    app.sim.set_fault(drydock_dokku::sim::Fault::HangOn {
        prefix: "ps:restart".into(),
        duration: std::time::Duration::from_secs(30),
    });
    let before = app.sim.commands().len();
    let deploy = app.post(
        "/v2/apps/slow/config",
        &alice,
        json!({"values": {"A": "1"}}),
    );
    let read = async {
        while !app.sim.commands()[before..]
            .iter()
            .any(|c| c.starts_with("ps:restart"))
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Alice's deploy holds the daemon; bob's pods still answer.
        let r = app.get("/v2/apps/other/pods", &bob).await;
        app.sim.clear_fault();
        r
    };
    let (deployed, read) = tokio::join!(deploy, read);
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["results"], seen.body["results"]);
    assert_eq!(deployed.status, 201, "{}", deployed.text);
}

mod a_slow_deploy_of_one_app_leaves_other_reads_alone {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        a_slow_deploy_leaves_other_reads_alone(
            quick_timeouts(crate::harness::Backend::Sqlite).await,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        a_slow_deploy_leaves_other_reads_alone(
            quick_timeouts(crate::harness::Backend::Postgres).await,
        )
        .await
    }
}

dual_test!(nobody_registers_a_name_that_reads_as_another_users, |app| {
    let admin = app.user("admin").await;
    let register = |name: &'static str| {
        let app = &app;
        async move {
            app.call(
                reqwest::Method::POST,
                "/v2/auth/register/",
                None,
                Some(json!({"username": name, "password": "pw", "email": "x@example.com"})),
            )
            .await
        }
    };
    for lookalike in ["Admin", "ADMIN", "ａｄｍｉｎ", "ＡＤＭＩＮ"] {
        let r = register(lookalike).await;
        assert_eq!(r.status, 400, "{lookalike}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"username": ["A user with that username already exists."]}),
            "{lookalike}"
        );
    }
    // A fullwidth name is stored in its plain form, and found by either.
    let r = register("ｂｏｂ").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["username"], "bob");
    app.login("bob", "pw").await;
    app.login("ｂｏｂ", "pw").await;
    let r = app.get("/v2/users/", &admin).await;
    assert_eq!(r.column("username"), ["admin", "bob"], "{}", r.text);
});
