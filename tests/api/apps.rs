//! `/v2/apps`: create, list, get, transfer, destroy — and what reaches Dokku.

use serde_json::json;

use crate::dual_test;

dual_test!(create_get_list_destroy, |app| {
    let alice = app.user("alice").await;
    let r = app.post("/v2/apps/", &alice, json!({"id": "myapp"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    for k in [
        "uuid",
        "id",
        "owner",
        "structure",
        "procfile_structure",
        "created",
        "updated",
    ] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert_eq!(r.body["id"], "myapp");
    assert_eq!(r.body["owner"], "alice");
    assert_eq!(r.body["structure"], json!({}));
    assert!(
        r.body.get("url").is_none(),
        "the reference has no url: {}",
        r.text
    );
    assert!(app.dokku().app("myapp").is_some(), "created on Dokku");
    assert_eq!(
        app.dokku().app("myapp").unwrap().config["DRYCC_APP"],
        "myapp"
    );

    let r = app.post("/v2/apps", &alice, json!({"id": "myapp"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"id": ["Application with this id already exists."]})
    );
    let r = app.post("/v2/apps", &alice, json!({"id": "My_App"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["id"][0], "App name must start with an alphabetic character, cannot end with a hyphen and can only contain a-z (lowercase), 0-9 and hyphens.");
    let r = app.post("/v2/apps", &alice, json!({"id": "drycc"})).await;
    assert_eq!(r.status, 409);
    assert!(r.body["detail"].is_string());

    let r = app.post("/v2/apps", &alice, json!({})).await;
    assert_eq!(r.status, 201);
    let generated = r.body["id"].as_str().unwrap().to_owned();
    assert!(generated.contains('-'), "{generated}");

    let r = app.get("/v2/apps", &alice).await;
    assert_eq!(r.body["count"], 2);
    let r = app.get("/v2/apps/myapp/", &alice).await;
    assert_eq!(r.status, 200);
    let r = app.get("/v2/apps/nosuchapp", &alice).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No App matches the given query."));

    let r = app.get("/v2/apps/myapp/releases", &alice).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(
        r.body["results"][0]["summary"],
        "alice created initial release"
    );
    assert_eq!(r.body["results"][0]["version"], 1);

    assert_eq!(app.delete("/v2/apps/myapp", &alice).await.status, 204);
    assert!(app.dokku().app("myapp").is_none(), "destroyed on Dokku");
    assert_eq!(app.get("/v2/apps/myapp", &alice).await.status, 404);
});

dual_test!(visibility_transfer_and_permissions, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.app(&bob, "bobs").await;
    app.app(&alice, "alices").await;
    let r = app.get("/v2/apps", &bob).await;
    assert_eq!(r.body["count"], 1, "a user sees only their apps");
    assert_eq!(
        app.get("/v2/apps", &alice).await.body["count"],
        2,
        "admins see all"
    );
    let r = app.get("/v2/apps/alices", &bob).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.delete("/v2/apps/alices", &bob).await.status, 403);
    assert_eq!(
        app.post("/v2/apps/bobs", &carol, json!({"owner": "carol"}))
            .await
            .status,
        403
    );
    let r = app
        .post("/v2/apps/bobs/", &bob, json!({"owner": "carol"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "", "the reference answers a transfer with no body");
    assert_eq!(
        app.get("/v2/apps/bobs", &carol).await.body["owner"],
        "carol"
    );
    assert_eq!(app.get("/v2/apps/bobs", &bob).await.status, 403);
    assert_eq!(app.get("/v2/apps/bobs", &carol).await.status, 200);
    assert_eq!(
        app.post("/v2/apps/bobs", &carol, json!({"owner": "nobody"}))
            .await
            .status,
        404
    );
});

dual_test!(create_fails_cleanly_when_dokku_is_down, |app| {
    let alice = app.user("alice").await;
    app.sim.set_fault(drydock_dokku::sim::Fault::Refuse);
    let r = app.post("/v2/apps", &alice, json!({"id": "doomed"})).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("unavailable"),
        "{}",
        r.text
    );
    app.sim.clear_fault();
    assert_eq!(
        app.get("/v2/apps/doomed", &alice).await.status,
        404,
        "nothing half-created"
    );
    assert_eq!(
        app.post("/v2/apps", &alice, json!({"id": "doomed"}))
            .await
            .status,
        201,
        "and the name is free"
    );
});
