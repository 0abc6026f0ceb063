//! What the reference controller's own tests (drycc/controller at 2953cc73,
//! rootfs/api/tests/) assert a client sees, carried over one assertion at a
//! time; each test names the reference test it holds. docs/compatibility.md
//! maps every reference assertion to the test here (or elsewhere) holding it.

use reqwest::Method;
use serde_json::json;

use crate::dual_test;

// test_healthz: liveness and readiness answer `OK` to GET and HEAD, 405 otherwise.
dual_test!(health_checks_answer_ok, |app| {
    for path in ["/healthz", "/readiness"] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "OK"), "{path}");
        let r = app.call(Method::HEAD, path, None, None).await;
        assert_eq!(r.status, 200, "HEAD {path}");
        for m in [Method::PUT, Method::POST, Method::PATCH, Method::DELETE] {
            let r = app.call(m.clone(), path, None, None).await;
            assert_eq!(r.status, 405, "{m} {path}");
        }
    }
});

// test_app: test_response_data, test_app_name_length, test_app_logs,
// test_run_without_release_should_error, test_run, test_app_transfer.
dual_test!(apps_answer_like_the_reference, |app| {
    app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = app.post("/v2/apps", &alice, json!({"id": "web"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers["content-type"], "application/json",
        "no charset, as the reference"
    );
    let mut keys: Vec<&str> = r
        .body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created",
            "id",
            "owner",
            "procfile_structure",
            "structure",
            "updated",
            "uuid"
        ]
    );
    let r = app
        .post("/v2/apps", &alice, json!({"id": "a".repeat(64)}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"id": ["Ensure this field has no more than 63 characters."]})
    );

    // Never deployed: the platform's own lines, no error (the reference's
    // logger holds the same `drycc[api]` lines; 204 when there is nothing).
    let r = app.get("/v2/apps/web/logs", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text
            .ends_with("drycc[api]: alice created initial release\n"),
        "{}",
        r.text
    );

    let r = app.post("/v2/apps/web/run", &alice, json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"detail": "command is a required field"}));
    let r = app
        .post("/v2/apps/web/run", &alice, json!({"command": "ls -al"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "No build associated with this release to run this command"})
    );
    let r = app
        .post("/v2/apps/web/scale", &alice, json!({"web": 1}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "No build associated with this release"})
    );

    // A transfer hands the app's history written by the caller to the new owner.
    let r = app
        .post("/v2/apps/web/config", &alice, json!({"values": {"A": "1"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post("/v2/apps/web", &alice, json!({"owner": "bob"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    let r = app.get("/v2/apps/web/config", &bob).await;
    assert_eq!(r.body["owner"], "bob", "{}", r.text);
    let r = app.get("/v2/apps/web/releases", &bob).await;
    for release in r.body["results"].as_array().expect("releases") {
        assert_eq!(release["owner"], "bob", "{release}");
    }
    assert_eq!(app.get("/v2/apps/web", &alice).await.status, 403);
});

// test_auth: test_auth_registration_disabled, test_passwd; test_users: the
// user body carries no `id` and registration counts as a login.
dual_test!(accounts_answer_like_the_reference, |app| {
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": "first", "password": "pw", "email": "f@example.com"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("id").is_none(), "{}", r.text);
    assert!(r.body["last_login"].is_string(), "{}", r.text);
    let first = app.login("first", "pw").await;
    let r = app.get("/v2/auth/whoami", &first).await;
    assert!(r.body.get("id").is_none(), "{}", r.text);
    let r = app
        .post("/v2/auth/passwd", &first, json!({"password": "pw"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "new_password is a required field"})
    );
    let r = app
        .post("/v2/auth/passwd", &first, json!({"new_password": "pw2"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"detail": "password is a required field"}));
    // Users are listed oldest first.
    app.user("aaron").await;
    let r = app.get("/v2/users", &first).await;
    assert_eq!(r.column("username"), ["first", "aaron"]);
});

// test_key: a key is read back by its id; another user's is not found; the
// duplicate texts.
dual_test!(keys_answer_like_the_reference, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (public, _) = crate::keys_perms::gen_key(dir.path(), "k", "k");
    let r = app
        .post("/v2/keys", &alice, json!({"id": "mykey", "public": public}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.body.clone();
    let r = app.get("/v2/keys/mykey", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, created);
    for (who, path) in [(&bob, "/v2/keys/mykey"), (&alice, "/v2/keys/nokey")] {
        let r = app.get(path, who).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.body, json!("No Key matches the given query."));
    }
    let (other, _) = crate::keys_perms::gen_key(dir.path(), "k2", "k2");
    let r = app
        .post("/v2/keys", &alice, json!({"id": "mykey", "public": other}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"id": ["SSH Key with this id already exists."]})
    );
    for garbage in ["ssh-rsa", "garbage"] {
        let r = app
            .post("/v2/keys", &alice, json!({"id": "g", "public": garbage}))
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            json!({"public": ["Key contains invalid base64 chars"]}),
            "{garbage}"
        );
    }
});

// test_config, test_limits, test_tags, test_registry, test_healthchecks: the
// sections may come JSON-encoded in a string; the reference's formats,
// texts and summaries.
dual_test!(config_answers_like_the_reference, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    let post = |body: serde_json::Value| {
        let (app, alice) = (&app, &alice);
        async move { app.post("/v2/apps/web/config", alice, body).await }
    };
    let r = post(json!({"values": "{\"PORT\": \"5000\"}"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["values"]["PORT"], "5000");
    let r = post(json!({"values": "{not json"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"values": ["Value must be valid JSON."]}));
    let r = post(json!({"values": {"PORT": "dog"}})).await;
    assert_eq!(
        r.body,
        json!({"values": ["PORT can only be a numeric value"]})
    );

    for memory in ["20MB", "20gb", "0m", "0/100MB", "1KB", "64b"] {
        let r = post(json!({"memory": {"cmd": memory}})).await;
        assert_eq!(r.status, 201, "{memory}: {}", r.text);
        assert_eq!(r.body["memory"]["cmd"], memory, "kept as written");
    }
    let r = post(json!({"memory": "{\"cmd\": \"10\"}"})).await;
    assert_eq!(r.status, 400, "a number without a unit: {}", r.text);
    let r = post(json!({"memory": {"w3&b": "1G"}})).await;
    assert_eq!(
        r.body,
        json!({"memory": ["Process types can only contain lowercase alphanumeric characters"]})
    );
    for cpu in [".123", "+2", "250m/1"] {
        let r = post(json!({"cpu": {"cmd": cpu}})).await;
        assert_eq!(r.status, 201, "{cpu}: {}", r.text);
    }
    let releases = app.get("/v2/apps/web/releases", &alice).await;
    assert_eq!(
        releases.body["results"][0]["summary"],
        "alice changed limits for cpu"
    );

    let r = post(json!({"tags": {"kubernetes.io/hostname": "node-1"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(json!({"tags": {"kind": "invalid."}})).await;
    assert_eq!(
        r.body,
        json!({"tags": ["Tag values must be alphanumeric or \"-_.\", and 1-63 characters."]})
    );

    let r = post(json!({"registry": {"PASSWORD": "s3cret"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["registry"], json!({"password": "s3cret"}));
    let r = post(json!({"values": {"PORT": null}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "PORT needs to be set in the config when using a private registry"})
    );

    // The clients' default health-check key.
    let probe = json!({"web/cmd": {"livenessProbe": {"httpGet": {"port": 5000}}}});
    let r = post(json!({"healthcheck": probe})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let releases = app.get("/v2/apps/web/releases", &alice).await;
    assert_eq!(
        releases.body["results"][0]["summary"],
        "alice added healthcheck info for proc type web/cmd"
    );
    let r = post(json!({"healthcheck": {"web/cmd": {"readinessProbe": null}}})).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"detail": "web/cmd does not exist under healthcheck"})
    );
    let r =
        post(json!({"healthcheck": {"web": {"livenessProbe": {"httpGet": {"port": "50"}}}}})).await;
    assert_eq!(
        r.body,
        json!({"healthcheck": ["could not validate {'httpGet': {'port': '50'}}: '50' is not of type 'integer'"]})
    );
});

// test_build: a build is read back by its uuid.
dual_test!(a_build_is_read_back_by_uuid, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    let r = app
        .post("/v2/apps/web/builds", &alice, json!({"image": "nginx:1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let made = r.body.clone();
    let path = format!(
        "/v2/apps/web/builds/{}",
        made["uuid"].as_str().expect("uuid")
    );
    let r = app.get(&path, &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, made);
    let r = app
        .get(
            "/v2/apps/web/builds/00000000-0000-0000-0000-000000000000",
            &alice,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No Build matches the given query."));
});

// test_domain: test_strip_dot, test_manage_domain (case kept),
// test_manage_idn_domain (ACE, found by either form), the invalid names' texts.
dual_test!(domains_answer_like_the_reference, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&alice, "web").await;
    app.app(&bob, "other").await;
    let add = |who: &str, app_name: &str, domain: &str| {
        let (app, who, path) = (&app, who.to_owned(), format!("/v2/apps/{app_name}/domains"));
        let body = json!({ "domain": domain });
        async move { app.post(&path, &who, body).await }
    };
    let r = add(&alice, "web", "autotest.127.0.0.1.xip.io.").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["domain"], "autotest.127.0.0.1.xip.io");
    let r = add(&alice, "web", "MYDOMAIN.NET").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        app.dokku()
            .app("web")
            .expect("web")
            .domains
            .iter()
            .any(|d| d == "mydomain.net"),
        "Dokku is given the name in lower case"
    );
    // Nobody takes the same name in another case.
    let r = add(&bob, "other", "mydomain.net").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"domain": ["The domain mydomain.net is already in use by another app"]})
    );
    let r = add(&bob, "other", "MYDOMAIN.NET").await;
    assert_eq!(
        r.body,
        json!({"domain": ["Domain is already in use by another application"]})
    );
    let r = app
        .delete("/v2/apps/web/domains/MYDOMAIN.NET", &alice)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    let r = add(&alice, "web", "ドメイン.テスト").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["domain"], "xn--eckwd4c7c.xn--zckzah");
    let r = add(&alice, "web", "xn--eckwd4c7c.xn--zckzah").await;
    assert_eq!(r.status, 400, "the same name in ACE: {}", r.text);
    let r = add(&alice, "web", "*.домена.испытание").await;
    assert_eq!(
        r.body["domain"], "*.xn--80ahd1agd.xn--80akhbyknj4f",
        "{}",
        r.text
    );
    let r = app
        .delete("/v2/apps/web/domains/ドメイン.テスト", &alice)
        .await;
    assert_eq!(r.status, 204, "removed by its Unicode form: {}", r.text);
    let names = app
        .get("/v2/apps/web/domains", &alice)
        .await
        .column("domain");
    assert_eq!(
        names,
        [
            "*.xn--80ahd1agd.xn--80akhbyknj4f",
            "autotest.127.0.0.1.xip.io",
            "web"
        ]
    );

    for (bad, message) in [
        ("*", "Hostname can't only be a wildcard"),
        (
            "django.pa--assandbox",
            "Hostname does not look valid, could not convert to ACE django.pa--assandbox: The label b'pa--assandbox' is not a valid A-label",
        ),
        (
            "this_is_an.invalid.domain",
            "Hostname does not look valid, could not convert to ACE this_is_an.invalid.domain: The label b'this_is_an' is not a valid A-label",
        ),
        ("this-is-an.invalid.1", "Hostname does not look valid."),
        ("", "This field may not be blank."),
    ] {
        let r = add(&alice, "web", bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.body, json!({ "domain": [message] }), "{bad}");
    }
});

// test_tls: test_tls_enforced and the serializer's boolean forms.
dual_test!(tls_answers_like_the_reference, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    let r = app.get("/v2/apps/web/tls", &alice).await;
    assert_eq!(r.body["https_enforced"], serde_json::Value::Null);
    let first = app
        .post("/v2/apps/web/tls", &alice, json!({"https_enforced": true}))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["https_enforced"], true);
    let r = app
        .post(
            "/v2/apps/web/tls",
            &alice,
            json!({"https_enforced": "true"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body, json!({"detail": "alice changed nothing"}));
    let r = app
        .post(
            "/v2/apps/web/tls",
            &alice,
            json!({"https_enforced": "False"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["https_enforced"], false);
    assert_ne!(
        r.body["uuid"], first.body["uuid"],
        "a new setting each time"
    );
    let r = app
        .post(
            "/v2/apps/web/tls",
            &alice,
            json!({"https_enforced": "test"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"https_enforced": ["\"test\" is not a valid boolean."]})
    );
    let r = app
        .post("/v2/apps/web/tls", &alice, json!({"https_enforced": null}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["https_enforced"], serde_json::Value::Null);
});

// test_release: test_release_rollback (texts, string versions),
// test_release_rollback_failure and the failed summaries of test_build and
// test_config; test_pods: test_scale_errors, test_container_errors.
dual_test!(releases_and_scale_answer_like_the_reference, |app| {
    use drydock_dokku::sim::Fault;
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    let rollback = |body: serde_json::Value| {
        let (app, alice) = (&app, &alice);
        async move {
            app.post("/v2/apps/web/releases/rollback", alice, body)
                .await
        }
    };
    for (body, message) in [
        (json!({}), "version cannot be below 0"),
        (json!({"version": 0}), "version cannot be below 0"),
        (
            json!({"version": 1}),
            "Cannot roll back to initial release.",
        ),
        (
            json!({"version": "abc"}),
            "invalid literal for int() with base 10: 'abc'",
        ),
    ] {
        let r = rollback(body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body, json!({ "detail": message }), "{body}");
    }
    // Build-less releases roll back among themselves.
    let r = app
        .post("/v2/apps/web/config", &alice, json!({"values": {"A": "1"}}))
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post("/v2/apps/web/config", &alice, json!({"values": {"A": "2"}}))
        .await;
    assert_eq!(r.status, 201);
    let r = rollback(json!({"version": "2"})).await;
    assert_eq!(
        (r.status.as_u16(), &r.body),
        (201, &json!({"version": 4})),
        "{}",
        r.text
    );
    let r = app.get("/v2/apps/web/config", &alice).await;
    assert_eq!(r.body["values"]["A"], "1");

    // A failed build is worded as the reference words it.
    let r = app
        .post("/v2/apps/web/builds", &alice, json!({"image": "img:1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    app.sim.set_fault(Fault::FailNext {
        count: 1,
        prefix: Some("git:from-archive".into()),
        message: "Unable to pull img:2".into(),
    });
    let r = app
        .post("/v2/apps/web/builds", &alice, json!({"image": "img:2"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let uuid = app.get("/v2/apps/web/builds", &alice).await.body["results"][0]["uuid"]
        .as_str()
        .expect("uuid")
        .replace('-', "");
    let failed = app.get("/v2/apps/web/releases/v6", &alice).await;
    assert_eq!(failed.body["failed"], true, "{}", failed.text);
    assert_eq!(
        failed.body["summary"],
        format!("alice deployed {} which failed", &uuid[..7])
    );
    assert_eq!(failed.body["exception"], "error: Unable to pull img:2");
    let r = rollback(json!({"version": 6})).await;
    assert_eq!(
        r.body,
        json!({"detail": "Cannot roll back to failed release."})
    );
    // A release without a build cannot replace one with a build.
    let r = rollback(json!({"version": 2})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "No build associated with this release"})
    );

    for (body, message) in [
        (json!({"cmd": "not_an_int"}), "Invalid scaling format: invalid literal for int() with base 10: 'not_an_int'"),
        (json!({"cmd": -1}), "Invalid scaling format: ['Must be greater than or equal to zero']"),
        (json!({"cmd": [1]}), "Invalid scaling format: int() argument must be a string, a bytes-like object or a real number, not 'list'"),
    ] {
        let r = app.post("/v2/apps/web/scale", &alice, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body, json!({ "detail": message }), "{body}");
    }
    for body in [json!({}), json!({"cmd": 1.5})] {
        let r = app.post("/v2/apps/web/scale", &alice, body.clone()).await;
        assert_eq!(r.status, 204, "{body}: {}", r.text);
    }
});

// test_pods: test_container_str, test_restart_pods — pods are named as the
// reference's are (`<app>-<type>-<8..10>-<5>`), which the clients parse.
dual_test!(pods_are_named_like_the_references, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web-app").await;
    let r = app
        .post("/v2/apps/web-app/builds", &alice, json!({"image": "img:1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.get("/v2/apps/web-app/pods", &alice).await;
    let name = r.body["results"][0]["name"]
        .as_str()
        .expect("a pod")
        .to_owned();
    let rest = name
        .strip_prefix("web-app-cmd-")
        .expect("app and type first");
    let (a, b) = rest.split_once('-').expect("two parts");
    let alnum = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    // The deis client takes only digits in the first part.
    assert!(
        (8..=10).contains(&a.len())
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.len() == 5
            && alnum(b),
        "{name}"
    );
    // What `drycc ps:restart <pod>` sends for it.
    let r = app
        .post(
            &format!("/v2/apps/web-app/pods/cmd/{name}/restart"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["name"], name.as_str(), "the same name afterwards");
});

// test_build: the structure merges the build's process types into what was
// stored, so rolling back to an earlier build brings its processes back.
dual_test!(a_rollback_brings_back_the_processes_of_its_build, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "web").await;
    let build = |body: serde_json::Value| {
        let (app, alice) = (&app, &alice);
        async move { app.post("/v2/apps/web/builds", alice, body).await }
    };
    assert_eq!(build(json!({"image": "img:1"})).await.status, 201);
    let r = build(json!({"image": "img:1", "procfile": {"worker": "sleep 1"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.get("/v2/apps/web", &alice).await;
    assert_eq!(r.body["structure"], json!({"cmd": 1, "worker": 0}));
    let r = app
        .post("/v2/apps/web/releases/rollback", &alice, json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.get("/v2/apps/web/pods", &alice).await;
    assert_eq!(r.body["count"], 1, "the cmd process runs again: {}", r.text);
    assert_eq!(app.dokku().app("web").expect("web").scale["web"], 1);
});
