//! Config, builds, releases and rollback: the whole flow, checked in the API and in Dokku.

use serde_json::json;

use crate::dual_test;

dual_test!(full_release_flow, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "flow").await;

    let r = app.get("/v2/apps/flow/config", &alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["values"], json!({}));
    for k in [
        "memory",
        "cpu",
        "tags",
        "registry",
        "healthcheck",
        "uuid",
        "app",
        "owner",
        "created",
        "updated",
    ] {
        assert!(r.body.get(k).is_some(), "config lacks {k}");
    }

    let tricky = "a b=c \"q\" 'x' $(rm -rf /); `id` \n next line \t tab ✓ 🚀 \\ < > | & *";
    let r = app
        .post(
            "/v2/apps/flow/config/",
            &alice,
            json!({"values": {"HELLO": "world", "TRICKY": tricky, "N": 5, "EMPTY": ""}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["values"]["N"], "5");
    assert_eq!(r.body["values"]["TRICKY"], tricky);
    let d = app.dokku();
    let cfg = &d.app("flow").unwrap().config;
    assert_eq!(cfg["TRICKY"], tricky, "exact bytes reach Dokku");
    assert_eq!(cfg["EMPTY"], "");
    assert_eq!(cfg["DRYCC_RELEASE"], "v2");

    let r = app.get("/v2/apps/flow/releases/v2", &alice).await;
    assert_eq!(r.body["summary"], "alice added EMPTY, HELLO, N, TRICKY");
    assert_eq!(r.body["build"], json!(null));

    let r = app.post("/v2/apps/flow/builds/", &alice, json!({"image": "nginx:1.25", "procfile": {"web": "nginx -g 'daemon off;'", "worker": "sleep 1000"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["image"], "nginx:1.25");
    let d = app.dokku();
    let a = d.app("flow").unwrap();
    assert_eq!(a.deploy.as_ref().unwrap().image, "nginx:1.25");
    assert_eq!(a.deployed_release(), Some(3));
    assert_eq!(a.scale.get("web"), Some(&1), "first build scales web to 1");
    assert_eq!(a.scale.get("worker").copied().unwrap_or(0), 0);
    assert_eq!(a.config["TRICKY"], tricky, "config survives the deploy");
    let r = app.get("/v2/apps/flow", &alice).await;
    assert_eq!(r.body["structure"], json!({"web": 1, "worker": 0}));
    assert_eq!(r.body["procfile_structure"]["worker"], "sleep 1000");
    let r = app.get("/v2/apps/flow/releases/v3", &alice).await;
    assert_eq!(r.body["summary"], "alice deployed nginx:1.25");
    assert!(r.body["build"].is_string());

    let r = app
        .post(
            "/v2/apps/flow/config",
            &alice,
            json!({"values": {"HELLO": null}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body["values"].get("HELLO").is_none());
    assert!(!app
        .dokku()
        .app("flow")
        .unwrap()
        .config
        .contains_key("HELLO"));
    assert_eq!(
        app.get("/v2/apps/flow/releases/v4", &alice).await.body["summary"],
        "alice deleted HELLO"
    );

    let r = app
        .post(
            "/v2/apps/flow/config",
            &alice,
            json!({"values": {"NOPE": null}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"detail": "NOPE does not exist under values"})
    );
    let r = app.post("/v2/apps/flow/config", &alice, json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"detail": "alice changed nothing - release stopped"})
    );
    let r = app
        .post(
            "/v2/apps/flow/config",
            &alice,
            json!({"values": {"1BAD-KEY": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"values": ["Config keys must start with a letter or underscore and only contain [A-z0-9_]"]})
    );
    let r = app
        .post(
            "/v2/apps/flow/config",
            &alice,
            json!({"memory": {"web": "lots"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["memory"][0], "Memory limit format: <number><unit> or <number><unit>/<number><unit>, where unit = B, K, M or G");
    assert_eq!(
        app.get("/v2/apps/flow/releases", &alice).await.body["count"],
        4,
        "refusals write nothing"
    );

    let r = app
        .post("/v2/apps/flow/releases/rollback/", &alice, json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!({"version": 5}));
    let d = app.dokku();
    let a = d.app("flow").unwrap();
    assert_eq!(
        a.config["HELLO"], "world",
        "rolled back config reached Dokku"
    );
    assert!(
        a.containers.iter().all(|c| c.release == Some(5)),
        "the containers run v5 (same image as v3: restarted, not rebuilt)"
    );
    assert_eq!(a.deploy.as_ref().unwrap().image, "nginx:1.25");
    let r = app.get("/v2/apps/flow/releases", &alice).await;
    assert_eq!(r.body["results"][0]["summary"], "alice rolled back to v3");
    assert_eq!(r.body["results"][0]["version"], 5);
    assert_eq!(r.body["results"][4]["version"], 1, "newest first");
    let r = app.get("/v2/apps/flow/config", &alice).await;
    assert_eq!(r.body["values"]["HELLO"], "world");

    for (body, msg) in [
        (
            json!({"version": 1}),
            "Cannot roll back to initial release.",
        ),
        (
            json!({"version": 99}),
            "Release matching query does not exist.",
        ),
    ] {
        let r = app
            .post("/v2/apps/flow/releases/rollback", &alice, body)
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["detail"], msg);
    }
    let r = app
        .post(
            "/v2/apps/flow/releases/rollback",
            &alice,
            json!({"version": 2}),
        )
        .await;
    assert_eq!(r.status, 400, "v2 has no build: {}", r.text);
    assert_eq!(
        app.get("/v2/apps/flow/releases", &alice).await.body["count"],
        5,
        "refused rollbacks write nothing"
    );

    let r = app
        .post(
            "/v2/apps/flow/config",
            &alice,
            json!({"memory": {"web": "512M"}, "cpu": {"web": "500m"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        app.get("/v2/apps/flow/releases/v6", &alice).await.body["summary"],
        "alice changed limits for memory, cpu"
    );
    let d = app.dokku();
    let lim = &d.app("flow").unwrap().limits;
    assert!(lim.get("web").is_some(), "limits reach Dokku: {lim:?}");
});

dual_test!(build_validation_and_aliases, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "b").await;
    let r = app.post("/v2/apps/b/builds", &alice, json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"image": ["This field is required."]}));
    let r = app
        .post(
            "/v2/apps/b/builds",
            &alice,
            json!({"image": "nginx latest"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .post(
            "/v2/apps/b/builds",
            &alice,
            json!({"image": "x", "procfile": {"Web!": "run"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["procfile"].is_array());
    let r = app
        .post(
            "/v2/apps/b/build",
            &alice,
            json!({"image": "example/myimage:v1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.get("/v2/apps/b", &alice).await;
    assert_eq!(
        r.body["structure"],
        json!({"cmd": 1}),
        "an image without a Procfile runs as cmd"
    );
    let r = app.get("/v2/apps/b/builds/", &alice).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["results"][0]["image"], "example/myimage:v1");
});

dual_test!(failed_deploy_keeps_previous_release, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "f").await;
    assert_eq!(
        app.post("/v2/apps/f/builds", &alice, json!({"image": "good:1"}))
            .await
            .status,
        201
    );
    app.sim.set_fault(drydock_dokku::sim::Fault::FailNext {
        count: 1,
        prefix: Some("git:from-archive".into()),
        message: "image pull failed".into(),
    });
    let r = app
        .post("/v2/apps/f/builds", &alice, json!({"image": "bad:2"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("image pull failed"),
        "{}",
        r.text
    );
    let r = app.get("/v2/apps/f/releases/v3", &alice).await;
    assert_eq!(r.body["failed"], true);
    assert!(r.body["exception"]
        .as_str()
        .unwrap()
        .contains("image pull failed"));
    let d = app.dokku();
    assert_eq!(
        d.app("f").unwrap().deploy.as_ref().unwrap().image,
        "good:1",
        "previous release still runs"
    );
    let r = app
        .post("/v2/apps/f/config", &alice, json!({"values": {"A": "1"}}))
        .await;
    assert_eq!(r.status, 201);
    let r = app.get("/v2/apps/f/releases", &alice).await;
    assert_eq!(
        r.body["results"][0]["version"], 4,
        "the next change gets the next version"
    );
    assert!(
        r.body["results"][0]["build"].is_string(),
        "based on the last good build"
    );
    assert_eq!(
        app.dokku().app("f").unwrap().deploy.as_ref().unwrap().image,
        "good:1"
    );

    app.sim.set_fault(drydock_dokku::sim::Fault::Refuse);
    let r = app
        .post("/v2/apps/f/config", &alice, json!({"values": {"B": "2"}}))
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    app.sim.clear_fault();
    let r = app.get("/v2/apps/f/config", &alice).await;
    assert!(
        r.body["values"].get("B").is_none(),
        "the current config is still the last good one"
    );
    assert!(!app.dokku().app("f").unwrap().config.contains_key("B"));
});

dual_test!(collaborator_and_stranger_access, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&bob, "shared").await;
    let stranger = app.user("carol").await;
    for (path, body) in [
        ("/v2/apps/shared/config", json!({"values": {"A": "1"}})),
        ("/v2/apps/shared/builds", json!({"image": "x:1"})),
        ("/v2/apps/shared/releases/rollback", json!({})),
    ] {
        let r = app.post(path, &stranger, body).await;
        assert_eq!(r.status, 403, "{path}");
    }
    for path in [
        "/v2/apps/shared/config",
        "/v2/apps/shared/builds",
        "/v2/apps/shared/releases",
        "/v2/apps/shared/releases/v1",
    ] {
        assert_eq!(app.get(path, &stranger).await.status, 403, "{path}");
        assert_eq!(app.get(path, &alice).await.status, 200, "admin {path}");
        assert_eq!(
            app.call(reqwest::Method::GET, path, None, None)
                .await
                .status,
            401,
            "anonymous {path}"
        );
    }
    drydock_entity::store::collaborators::add(
        &app.db,
        drydock_entity::store::apps::by_name(&app.db, "shared")
            .await
            .unwrap()
            .unwrap()
            .id,
        drydock_entity::store::users::by_username(&app.db, "carol")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap();
    assert_eq!(
        app.post(
            "/v2/apps/shared/config",
            &stranger,
            json!({"values": {"A": "1"}})
        )
        .await
        .status,
        201,
        "collaborators may configure"
    );
    assert_eq!(
        app.delete("/v2/apps/shared", &stranger).await.status,
        403,
        "but not destroy"
    );
    assert_eq!(
        app.post("/v2/apps/shared", &stranger, json!({"owner": "carol"}))
            .await
            .status,
        403,
        "nor transfer"
    );
    assert_eq!(
        app.get("/v2/apps", &stranger).await.body["count"],
        1,
        "shared apps are listed"
    );
});
