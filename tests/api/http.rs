//! Cross-cutting HTTP behaviour: headers, trailing slashes, bad bodies, docs, health.

use reqwest::Method;
use serde_json::json;

use crate::dual_test;

dual_test!(headers_and_slashes, |app| {
    let alice = app.user("alice").await;
    for path in [
        "/v2/apps",
        "/v2/apps/",
        "/v2/auth/whoami",
        "/v2/auth/whoami/",
    ] {
        let r = app.get(path, &alice).await;
        assert_eq!(r.status, 200, "{path}");
        for h in ["DRYCC_API_VERSION", "DEIS_API_VERSION"] {
            assert_eq!(r.headers[h], "2.3", "{h} on {path}");
        }
        for h in [
            "DRYCC_PLATFORM_VERSION",
            "DEIS_PLATFORM_VERSION",
            "x-request-id",
        ] {
            assert!(r.headers.contains_key(h), "{h} on {path}");
        }
    }
    let r = app.call(Method::GET, "/v2/apps", None, None).await;
    assert_eq!(
        r.headers["DRYCC_API_VERSION"], "2.3",
        "errors carry the headers too"
    );
});

dual_test!(bad_bodies, |app| {
    let alice = app.user("alice").await;
    let r = app
        .client
        .post(format!("{}/v2/apps", app.base))
        .header("Authorization", format!("token {alice}"))
        .header("Content-Type", "application/json")
        .body("{\"id\":")
        .send()
        .await
        .unwrap();
    let r = crate::harness::TestApp::read(r).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{}",
        r.text
    );
    let r = app
        .client
        .post(format!("{}/v2/apps", app.base))
        .header("Authorization", format!("token {alice}"))
        .header("Content-Type", "text/plain")
        .body("id=x")
        .send()
        .await
        .unwrap();
    let r = crate::harness::TestApp::read(r).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["detail"].is_string());
    let big = json!({"values": {"BIG": "x".repeat(1024 * 1024)}});
    let r = app.post("/v2/apps/", &alice, big).await;
    assert_eq!(r.status, 413);
    assert!(r.body["detail"].is_string());
    let r = app
        .call(Method::PUT, "/v2/apps", Some(&alice), Some(json!({})))
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body, json!({"detail": "Method \"PUT\" not allowed."}));
    assert_eq!(r.headers["allow"], "GET, POST");
    let r = app
        .call(Method::PATCH, "/v2/apps/web/config/", Some(&alice), None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, POST");
    let r = app.post("/v2/apps/", &alice, json!({"id": ["x"]})).await;
    assert_eq!(r.status, 400);
    assert!(
        app.get("/v2/apps", &alice).await.body["count"] == 0,
        "bad input changes nothing"
    );
});

dual_test!(docs_and_health, |app| {
    let r = app.call(Method::GET, "/v2/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["paths"]["/v2/apps/{id}/config"].is_object(),
        "{}",
        &r.text[..200]
    );
    let r = app
        .client
        .get(format!("{}/swagger/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        200
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status,
        200
    );
});

dual_test!(client_probes_and_settings, |app| {
    // Both CLIs refuse a server whose unauthenticated GET /v2/ is not a 401.
    for path in ["/v2/", "/v2"] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.headers["DRYCC_API_VERSION"], "2.3");
    }
    let alice = app.user("alice").await;
    assert_eq!(app.get("/v2/", &alice).await.status, 200);
    app.app(&alice, "s").await;
    let r = app.get("/v2/apps/s/settings/", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["routable"], true);
    assert_eq!(r.body["label"], json!({}));
    let r = app
        .post("/v2/apps/s/settings/", &alice, json!({"maintenance": true}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["detail"].as_str().unwrap().contains("not supported"));
    assert_eq!(
        app.get("/v2/apps/s/whitelist", &alice).await.body,
        json!({"addresses": []})
    );
    let bob = app.user("bob").await;
    assert_eq!(app.get("/v2/apps/s/settings", &bob).await.status, 403);
});

/// The served OpenAPI document is the checked-in docs/openapi.json: an API
/// change shows up in review. Regenerate with `cargo run -- openapi > docs/openapi.json`.
#[tokio::test]
async fn openapi_document_matches_the_checked_in_snapshot() {
    let app = crate::harness::TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let served = app
        .call(Method::GET, "/v2/openapi.json", None, None)
        .await
        .body;
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
        .expect("docs/openapi.json");
    let snapshot: serde_json::Value = serde_json::from_str(&file).expect("valid JSON");
    assert!(
        served == snapshot,
        "docs/openapi.json is stale: run `cargo run -- openapi > docs/openapi.json`"
    );
    for path in [
        "/v2/auth/register",
        "/v2/auth/login",
        "/v2/auth/cancel",
        "/v2/auth/whoami",
        "/v2/auth/tokens",
        "/v2/auth/passwd",
        "/v2/users",
        "/v2/admin/perms",
        "/v2/admin/perms/{username}",
        "/v2/apps",
        "/v2/apps/{id}",
        "/v2/apps/{id}/config",
        "/v2/apps/{id}/builds",
        "/v2/apps/{id}/releases",
        "/v2/apps/{id}/releases/{version}",
        "/v2/apps/{id}/releases/rollback",
        "/v2/apps/{id}/pods",
        "/v2/apps/{id}/scale",
        "/v2/apps/{id}/logs",
        "/v2/apps/{id}/run",
        "/v2/apps/{id}/domains",
        "/v2/certs",
        "/v2/certs/{name}",
        "/v2/apps/{id}/tls",
        "/v2/keys",
        "/v2/apps/{id}/perms",
    ] {
        assert!(snapshot["paths"][path].is_object(), "{path} is documented");
    }
}
