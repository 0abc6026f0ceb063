//! PostgreSQL connections dropped under load: every failure is a 503 in the
//! reference's error shape (never a 500), and the server recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::harness::{pg_admin, Backend, Res, TestApp};

/// Terminates every backend of `database` but the caller's; returns how many.
async fn terminate_backends(admin: &sea_orm::DatabaseConnection, database: &str) -> i64 {
    let row = admin
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            [database.into()],
        ))
        .await
        .expect("terminate")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("count")
}

/// The name of the test server's own database.
async fn database_of(app: &TestApp) -> String {
    app.db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_database()",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("name")
}

fn check_failure(r: &Res) {
    assert_eq!(
        r.status, 503,
        "only 503 may come of a dropped connection: {}",
        r.text
    );
    assert_eq!(
        r.body,
        json!({"detail": "The database is unavailable; try again shortly."})
    );
    assert_eq!(r.headers["retry-after"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_give_503_and_the_server_recovers() {
    let app = Arc::new(TestApp::spawn(Backend::Postgres).await);
    let token = app.user("alice").await;
    for i in 0..4 {
        app.app(&token, &format!("app-{i}")).await;
    }
    let database = database_of(&app).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (app, token, stop) = (app.clone(), token.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let target = format!("app-{}", w % 4);
                let r = if n % 3 == 0 {
                    let body = json!({"values": {format!("K{w}"): n.to_string()}});
                    app.post(&format!("/v2/apps/{target}/config"), &token, body)
                        .await
                } else {
                    app.get(&format!("/v2/apps/{target}/releases"), &token)
                        .await
                };
                seen.push(r);
                n += 1;
            }
            seen
        }));
    }
    let admin = pg_admin().await;
    let mut terminated = 0;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        terminated += terminate_backends(&admin, &database).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut ok = 0;
    let mut failed = 0;
    for w in workers {
        for r in w.await.expect("worker") {
            if r.status.is_success() {
                ok += 1;
            } else {
                check_failure(&r);
                failed += 1;
            }
        }
    }
    assert!(terminated > 0, "no backend was terminated");
    assert!(ok > 0, "nothing succeeded under load ({failed} failed)");

    // No restart: the next requests find fresh connections.
    let r = app
        .post(
            "/v2/apps/app-0/config",
            &token,
            json!({"values": {"AFTER": "1"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for i in 0..4 {
        let r = app
            .get(&format!("/v2/apps/app-{i}/releases?limit=1000"), &token)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Versions stay contiguous whatever failed in between.
        let mut versions: Vec<i64> = r.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|rel| rel["version"].as_i64().expect("version"))
            .collect();
        versions.sort_unstable();
        let expected: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, expected);
    }
    let logs = crate::harness::captured_logs();
    assert!(!logs.contains("panicked"), "a handler panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_idle_connections_are_replaced_unnoticed() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let token = app.user("alice").await;
    app.app(&token, "steady").await;
    let database = database_of(&app).await;
    let admin = pg_admin().await;
    // Every idle pooled connection is killed between requests; GETs must not notice.
    for _ in 0..5 {
        assert!(terminate_backends(&admin, &database).await > 0);
        let r = app.get("/v2/apps/steady", &token).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}
