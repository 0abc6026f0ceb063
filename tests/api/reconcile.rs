//! `drydock reconcile`: settling releases a crash left pending, and rebuilding
//! a Dokku that lost its state from the database.

use drydock_api::usecase::reconcile::{reapply_all, settle_pending};
use drydock_api::usecase::releases::{current, spec_for, write_pending, ConfigSource, Draft};
use drydock_domain::name::AppName;
use drydock_entity::store::{apps, releases};
use serde_json::json;

use crate::dual_test;
use crate::harness::TestApp;

/// Writes a pending release like a crash right after the commit would leave it.
async fn crash_after_commit(app: &TestApp, name: &str, summary: &str) -> i32 {
    let state = app.state();
    let row = apps::by_name(&app.db, name).await.unwrap().unwrap();
    let cur = current(&state, &row).await.unwrap();
    let draft = Draft {
        owner_id: row.owner_id,
        summary: summary.into(),
        config: ConfigSource::Existing(cur.config_id.unwrap()),
        build_id: cur.build.map(|b| b.id),
        failed_summary: format!("{summary} which failed"),
    };
    write_pending(&state, &row, draft).await.unwrap().version
}

dual_test!(pending_release_already_applied_is_marked_succeeded, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "rc").await;
    assert_eq!(
        app.post("/v2/apps/rc/builds", &alice, json!({"image": "img:1"}))
            .await
            .status,
        201
    );
    let v = crash_after_commit(&app, "rc", "alice deployed img:1 again").await;
    assert_eq!(v, 3);
    let state = app.state();
    let row = apps::by_name(&app.db, "rc").await.unwrap().unwrap();
    let pending = releases::by_version(&app.db, row.id, v)
        .await
        .unwrap()
        .unwrap();
    let spec = spec_for(&state, "rc", &pending).await.unwrap();
    state
        .platform
        .apply_release(&AppName::parse("rc").unwrap(), &spec)
        .await
        .unwrap();

    let report = settle_pending(&state).await.unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    let r = app.get("/v2/apps/rc/releases/v3", &alice).await;
    assert_eq!(r.body["state"], "succeeded");
    assert_eq!(
        apps::by_name(&app.db, "rc")
            .await
            .unwrap()
            .unwrap()
            .current_version,
        Some(3)
    );
    assert!(
        settle_pending(&state).await.unwrap().is_empty(),
        "idempotent"
    );
});

dual_test!(interrupted_release_is_failed_and_current_reapplied, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "rc").await;
    assert_eq!(
        app.post("/v2/apps/rc/builds", &alice, json!({"image": "img:1"}))
            .await
            .status,
        201
    );
    let v = crash_after_commit(&app, "rc", "alice deployed img:2").await;
    app.sim.update_state(|s| {
        if let Some(a) = s.apps.get_mut("rc") {
            a.config.insert("DRIFT".into(), "x".into());
        }
    });
    let report = settle_pending(&app.state()).await.unwrap();
    assert!(
        report.iter().any(|l| l.contains("interrupted")),
        "{report:?}"
    );
    let r = app.get(&format!("/v2/apps/rc/releases/v{v}"), &alice).await;
    assert_eq!(r.body["state"], "failed");
    assert!(r.body["exception"]
        .as_str()
        .unwrap()
        .contains("interrupted"));
    let d = app.dokku();
    let a = d.app("rc").unwrap();
    assert_eq!(a.deployed_release(), Some(2), "v2 runs again");
    assert!(
        !a.config.contains_key("DRIFT"),
        "Dokku matches the database again"
    );
    let r = app
        .post("/v2/apps/rc/config", &alice, json!({"values": {"N": "1"}}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        app.get("/v2/apps/rc/releases", &alice).await.body["results"][0]["version"],
        v + 1,
        "versions are never reused"
    );
});

dual_test!(reapply_rebuilds_a_dokku_that_lost_everything, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "gone").await;
    app.post(
        "/v2/apps/gone/config",
        &alice,
        json!({"values": {"SECRET": "s p a c e s"}}),
    )
    .await;
    app.post(
        "/v2/apps/gone/builds",
        &alice,
        json!({"image": "img:7", "procfile": {"web": "serve", "worker": "work"}}),
    )
    .await;
    app.post(
        "/v2/apps/gone/scale",
        &alice,
        json!({"web": 2, "worker": 1}),
    )
    .await;
    assert_eq!(
        app.post(
            "/v2/apps/gone/domains",
            &alice,
            json!({"domain": "gone.example.org"})
        )
        .await
        .status,
        201
    );
    let before = app.dokku().app("gone").cloned().unwrap();

    app.sim.update_state(|s| s.apps.clear());
    let report = reapply_all(&app.state()).await.unwrap();
    assert!(
        report.iter().any(|l| l.contains("created on Dokku")),
        "{report:?}"
    );

    let d = app.dokku();
    let after = d.app("gone").unwrap();
    assert_eq!(after.config["SECRET"], "s p a c e s");
    assert_eq!(after.deploy.as_ref().unwrap().image, "img:7");
    assert_eq!(after.deployed_release(), before.deployed_release());
    assert_eq!(after.scale, before.scale);
    assert!(after.domains.contains(&"gone.example.org".to_string()));
});
