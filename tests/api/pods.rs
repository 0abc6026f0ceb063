//! Pods, scaling, restarts, logs and one-off commands, checked against dokku-sim.

use reqwest::Method;
use serde_json::json;

use crate::dual_test;

async fn deployed(app: &crate::harness::TestApp, token: &str, name: &str) {
    app.app(token, name).await;
    let r = app
        .post(
            &format!("/v2/apps/{name}/builds"),
            token,
            json!({"image": "web:1", "procfile": {"web": "serve", "worker": "work"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

dual_test!(pods_and_scale, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "bare").await;
    let r = app
        .post("/v2/apps/bare/scale", &alice, json!({"web": 1}))
        .await;
    assert_eq!(r.status, 400, "no build yet: {}", r.text);
    deployed(&app, &alice, "p").await;

    let r = app.get("/v2/apps/p/pods/", &alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 1);
    let pod = &r.body["results"][0];
    assert_eq!(pod["type"], "web");
    assert_eq!(pod["state"], "up");
    assert_eq!(pod["release"], "v2");
    assert!(pod["name"].is_string() && pod["started"].is_string());

    let r = app
        .post("/v2/apps/p/scale/", &alice, json!({"web": 3, "worker": 2}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let d = app.dokku();
    assert_eq!(d.app("p").unwrap().scale["web"], 3);
    assert_eq!(d.app("p").unwrap().scale["worker"], 2);
    assert_eq!(
        app.get("/v2/apps/p", &alice).await.body["structure"],
        json!({"web": 3, "worker": 2})
    );
    assert_eq!(app.get("/v2/apps/p/pods", &alice).await.body["count"], 5);
    let r = app.get("/v2/apps/p/pods/worker/", &alice).await;
    assert_eq!(r.body["count"], 2);
    assert!(r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["type"] == "worker"));

    for (body, status) in [
        (json!({"nope": 1}), 404),
        (json!({"web": -1}), 400),
        (json!({"web": "many"}), 400),
        (json!({"web": 101}), 400),
        (json!({}), 204),
    ] {
        let r = app.post("/v2/apps/p/scale", &alice, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    let r = app
        .post("/v2/apps/p/scale", &alice, json!({"nope": 1}))
        .await;
    assert_eq!(
        r.body,
        json!({"detail": "Container type nope does not exist in application"})
    );
    assert_eq!(
        app.dokku().app("p").unwrap().scale["web"],
        3,
        "refused scales change nothing"
    );

    let r = app
        .post("/v2/apps/p/scale", &alice, json!({"worker": 0}))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get("/v2/apps/p/pods", &alice).await.body["count"], 3);
    let r = app
        .post("/v2/apps/p/config", &alice, json!({"values": {"X": "1"}}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        app.dokku().app("p").unwrap().scale["web"],
        3,
        "a new release keeps the scale"
    );
});

dual_test!(restarts, |app| {
    let alice = app.user("alice").await;
    deployed(&app, &alice, "r").await;
    app.post("/v2/apps/r/scale", &alice, json!({"web": 2, "worker": 1}))
        .await;
    let before = app.dokku().app("r").unwrap().restarts;
    let r = app
        .post("/v2/apps/r/pods/restart/", &alice, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let r = app
        .post("/v2/apps/r/pods/worker/restart", &alice, json!({}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["type"] == "worker"));
    let pods = app.get("/v2/apps/r/pods/web", &alice).await;
    let name = pods.body["results"][0]["name"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/v2/apps/r/pods/{name}/restart"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == name.as_str()));
    assert!(app.dokku().app("r").unwrap().restarts >= before + 3);
    let r = app
        .post("/v2/apps/r/pods/r.nope.9/restart", &alice, json!({}))
        .await;
    assert_eq!(r.status, 400, "the SDKs map a 400 to 'pod not found'");
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("does not exist in application"));
    let r = app
        .post(
            &format!("/v2/apps/r/pods/web/{name}/restart/"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "type/name form used by the SDKs: {}", r.text);
});

dual_test!(logs_with_lines, |app| {
    let alice = app.user("alice").await;
    deployed(&app, &alice, "l").await;
    let r = app.get("/v2/apps/l/logs", &alice).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(
        r.text.contains("drycc[api]: alice created initial release"),
        "{}",
        r.text
    );
    let r = app.get("/v2/apps/l/logs?log_lines=1", &alice).await;
    assert_eq!(r.text.lines().count(), 1, "{}", r.text);
    let r = app.get("/v2/apps/l/logs?log_lines=2", &alice).await;
    assert_eq!(r.text.lines().count(), 2, "{}", r.text);
    let r = app
        .client
        .get(format!("{}/v2/apps/l/logs?log_lines=2", app.base))
        .header("Authorization", format!("token {alice}"))
        .header("User-Agent", "Deis Go SDK V2.0")
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("b'") && body.ends_with("\\n'") && !body.contains('\n'),
        "deis's SDK gets the bytes literal it strips: {body}"
    );
    for bad in ["0", "-1", "abc", "100000000"] {
        assert_eq!(
            app.get(&format!("/v2/apps/l/logs?log_lines={bad}"), &alice)
                .await
                .status,
            400,
            "{bad}"
        );
    }
});

dual_test!(run_hostile_commands_exactly, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "nobuild").await;
    assert_eq!(
        app.post(
            "/v2/apps/nobuild/run",
            &alice,
            json!({"command": "echo hi"})
        )
        .await
        .status,
        400
    );
    deployed(&app, &alice, "x").await;
    let r = app
        .post("/v2/apps/x/run/", &alice, json!({"command": "echo hi"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["exit_code"], 0);
    assert_eq!(r.body["output"], "hi\n");
    assert_eq!(
        app.post("/v2/apps/x/run", &alice, json!({})).await.status,
        400
    );
    let hostile = [
        "echo 'single' \"double\" | cat > /tmp/x < /etc/passwd",
        "$(reboot); `id`; echo ${HOME} && false || true",
        "line one\nline two\r\n\ttabbed",
        "< leading-redirect",
        "trailing >",
        "* ? [a-z] ~ # ! & ; \\ \\\\",
        "ünïcødé 🚀 \u{1}\u{7f}",
        "sim:fault die",
    ];
    for cmd in hostile {
        let before = app.sim.commands().len();
        let r = app
            .post("/v2/apps/x/run", &alice, json!({"command": cmd}))
            .await;
        assert_eq!(r.status, 200, "{cmd:?}: {}", r.text);
        let sent = &app.sim.commands()[before..];
        assert_eq!(
            sent.iter()
                .filter(|c| c.split_whitespace().any(|w| w == "run:detached"))
                .count(),
            1,
            "{cmd:?}: {sent:?}"
        );
        let d = app.dokku();
        let last = d.app("x").unwrap().runs.last().unwrap();
        assert_eq!(
            last.command.as_deref(),
            Some(cmd),
            "decoded command equals the input byte for byte"
        );
    }
    let r = app
        .call(
            Method::POST,
            "/v2/apps/x/run",
            None,
            Some(json!({"command": "id"})),
        )
        .await;
    assert_eq!(r.status, 401);
});

dual_test!(pod_permissions, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    deployed(&app, &bob, "perm").await;
    let gets = [
        "/v2/apps/perm/pods",
        "/v2/apps/perm/pods/web",
        "/v2/apps/perm/logs",
    ];
    let posts = [
        ("/v2/apps/perm/scale", json!({"web": 1})),
        ("/v2/apps/perm/pods/restart", json!({})),
        ("/v2/apps/perm/run", json!({"command": "true"})),
    ];
    for p in gets {
        assert_eq!(
            app.call(Method::GET, p, None, None).await.status,
            401,
            "{p}"
        );
        assert_eq!(app.get(p, &carol).await.status, 403, "{p}");
        assert_eq!(app.get(p, &bob).await.status, 200, "{p}");
        assert_eq!(app.get(p, &alice).await.status, 200, "admin {p}");
    }
    for (p, b) in &posts {
        assert_eq!(
            app.call(Method::POST, p, None, Some(b.clone()))
                .await
                .status,
            401,
            "{p}"
        );
        assert_eq!(app.post(p, &carol, b.clone()).await.status, 403, "{p}");
    }
    let app_id = drydock_entity::store::apps::by_name(&app.db, "perm")
        .await
        .unwrap()
        .unwrap()
        .id;
    let carol_id = drydock_entity::store::users::by_username(&app.db, "carol")
        .await
        .unwrap()
        .unwrap()
        .id;
    drydock_entity::store::collaborators::add(&app.db, app_id, carol_id)
        .await
        .unwrap();
    for p in gets {
        assert_eq!(app.get(p, &carol).await.status, 200, "collaborator {p}");
    }
    for (p, b) in &posts {
        let s = app.post(p, &carol, b.clone()).await.status.as_u16();
        assert!(s == 200 || s == 204, "collaborator {p}: {s}");
    }
});
