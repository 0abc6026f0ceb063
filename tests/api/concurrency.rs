//! Many clients changing one app at once, through two Drydock instances sharing
//! one database: versions stay contiguous and nothing is lost.

use serde_json::json;

use crate::harness::{Backend, TestApp};

async fn fifty_parallel_changes(app: TestApp, instances: usize) {
    let alice = app.user("alice").await;
    app.app(&alice, "busy").await;
    let mut bases = vec![app.base.clone()];
    for _ in 1..instances {
        bases.push(app.second_instance().await);
    }
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/v2/apps/busy/config", bases[i % bases.len()]);
        let token = alice.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("Authorization", format!("token {token}"))
                .json(&json!({"values": {format!("K{i}"): i.to_string()}}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in futures::future::join_all(tasks).await {
        assert_eq!(t.unwrap().unwrap(), 201);
    }
    let r = app.get("/v2/apps/busy/releases?limit=100", &alice).await;
    assert_eq!(r.body["count"], 51);
    let mut versions: Vec<i64> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (1..=51).collect::<Vec<_>>(),
        "contiguous, none reused"
    );
    let cfg = app.get("/v2/apps/busy/config", &alice).await;
    assert_eq!(
        cfg.body["values"].as_object().unwrap().len(),
        50,
        "no lost update"
    );
    let d = app.dokku();
    let dokku_cfg = &d.app("busy").unwrap().config;
    for i in 0..50 {
        assert_eq!(
            dokku_cfg[&format!("K{i}")],
            i.to_string(),
            "Dokku got every change"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_config_changes_two_instances_postgres() {
    fifty_parallel_changes(TestApp::spawn(Backend::Postgres).await, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_config_changes_sqlite() {
    fifty_parallel_changes(TestApp::spawn(Backend::Sqlite).await, 1).await;
}
