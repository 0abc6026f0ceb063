//! A hostile tenant against everyone else: each test acts as the user who
//! wants to reach, break or freeze what is not theirs, and asserts that
//! neither the database nor Dokku changed.

use serde_json::json;

use crate::dual_test;

dual_test!(creating_an_app_never_destroys_one_drydock_does_not_manage, |app| {
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
    let r = app.post("/v2/apps/", &mallory, json!({"id": "ops-app"})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not managed by Drydock"),
        "{}",
        r.text
    );
    assert_eq!(app.dokku().app("ops-app").cloned(), before, "left untouched");
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
    let r = app.post("/v2/apps/", &mallory, json!({"id": "ops-app"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
});

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
