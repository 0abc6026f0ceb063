//! `/v2/users` and `/v2/admin/perms`: admins only.

use serde_json::json;

use crate::dual_test;

dual_test!(admin_routes_refuse_non_admins, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for path in ["/v2/users/", "/v2/admin/perms/"] {
        let r = app.get(path, &bob).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            r.body,
            json!({"detail": "You do not have permission to perform this action."})
        );
    }
    assert_eq!(
        app.post("/v2/admin/perms/", &bob, json!({"username": "bob"}))
            .await
            .status,
        403
    );
    assert_eq!(app.delete("/v2/admin/perms/alice/", &bob).await.status, 403);

    let r = app.get("/v2/users", &alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 2);
    assert_eq!(r.body["results"][1]["username"], "bob");
    let r = app.get("/v2/admin/perms", &alice).await;
    assert_eq!(
        r.body["results"],
        json!([{"username": "alice", "is_superuser": true}])
    );
});

dual_test!(grant_and_revoke_admin, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = app
        .post("/v2/admin/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.get("/v2/users", &bob).await.status, 200);
    assert_eq!(app.get("/v2/admin/perms", &alice).await.body["count"], 2);
    let r = app
        .post("/v2/admin/perms", &alice, json!({"username": "nobody"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No User matches the given query."));
    assert_eq!(app.delete("/v2/admin/perms/bob", &alice).await.status, 204);
    assert_eq!(app.get("/v2/users", &bob).await.status, 403);
});

dual_test!(user_list_paginates, |app| {
    let alice = app.user("alice").await;
    for n in ["b1", "b2", "b3"] {
        app.user(n).await;
    }
    let r = app.get("/v2/users?limit=2", &alice).await;
    assert_eq!(r.body["count"], 4);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["previous"], json!(null));
    let next = r.body["next"].as_str().unwrap();
    assert_eq!(next, format!("{}/v2/users?limit=2&offset=2", app.base));
    let r = app.get(&next[app.base.len()..], &alice).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["next"], json!(null));
    assert_eq!(r.body["previous"], format!("{}/v2/users?limit=2", app.base));
});
