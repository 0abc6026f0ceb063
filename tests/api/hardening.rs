//! Authentication hardening and slow or oversized clients: failed-login
//! limits, the last admin, secrets kept out of the logs and the database, and
//! connections cut off by the body and idle timeouts.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dual_test;
use crate::harness::{Backend, Res, TestApp};

async fn try_login(app: &TestApp, name: &str, password: &str, via: Option<&str>) -> Res {
    let mut rb = app
        .client
        .post(format!("{}/v2/auth/login/", app.base))
        .json(&json!({"username": name, "password": password}));
    if let Some(addr) = via {
        rb = rb.header("X-Forwarded-For", format!("203.0.113.9, {addr}"));
    }
    TestApp::read(rb.send().await.expect("request")).await
}

fn assert_throttled(r: &Res) {
    assert_eq!(r.status, 429, "{}", r.text);
    let wait: u64 = r.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=300).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        r.body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
}

dual_test!(failed_logins_are_limited_per_username, |app| {
    app.user("alice").await;
    app.user("bob").await;
    for _ in 0..5 {
        assert_eq!(try_login(&app, "alice", "wrong", None).await.status, 400);
    }
    // The sixth attempt is refused before the password is looked at, right or wrong.
    assert_throttled(&try_login(&app, "alice", "wrong", None).await);
    assert_throttled(&try_login(&app, "alice", "alice-pw", None).await);
    // Another account from the same address is not locked out.
    assert_eq!(try_login(&app, "bob", "bob-pw", None).await.status, 200);
});

dual_test!(successful_logins_never_count, |app| {
    app.user("alice").await;
    // A team behind one address logs in far more often than the address limit (20).
    for _ in 0..30 {
        assert_eq!(try_login(&app, "alice", "alice-pw", None).await.status, 200);
    }
    // And a success clears the username's earlier failures.
    for _ in 0..4 {
        assert_eq!(try_login(&app, "alice", "typo", None).await.status, 400);
    }
    assert_eq!(try_login(&app, "alice", "alice-pw", None).await.status, 200);
    for _ in 0..4 {
        assert_eq!(try_login(&app, "alice", "typo", None).await.status, 400);
    }
    assert_eq!(try_login(&app, "alice", "alice-pw", None).await.status, 200);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_address_behind_a_proxy() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.client_ip_header = Some("X-Forwarded-For".into());
        s.login_limits.per_address = 3;
    })
    .await;
    app.user("alice").await;
    for name in ["x1", "x2", "x3"] {
        let r = try_login(&app, name, "guess", Some("198.51.100.7")).await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
    assert_throttled(&try_login(&app, "alice", "alice-pw", Some("198.51.100.7")).await);
    // The proxy's last entry is the address; a different client is not affected.
    let r = try_login(&app, "alice", "alice-pw", Some("198.51.100.8")).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

dual_test!(wrong_current_passwords_are_limited_too, |app| {
    let alice = app.user("alice").await;
    let body = json!({"password": "guess", "new_password": "x"});
    for _ in 0..5 {
        assert_eq!(
            app.post("/v2/auth/passwd", &alice, body.clone())
                .await
                .status,
            401
        );
    }
    let r = app
        .post(
            "/v2/auth/passwd",
            &alice,
            json!({"password": "alice-pw", "new_password": "x"}),
        )
        .await;
    assert_throttled(&r);
    // Guesses through passwd and through login share the username's allowance.
    assert_throttled(&try_login(&app, "alice", "alice-pw", None).await);
});

dual_test!(the_last_admin_stays, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let refused = json!({"detail": "Cannot remove the last administrator; make another user an administrator first."});
    let r = app.delete("/v2/admin/perms/alice", &alice).await;
    assert_eq!((r.status.as_u16(), &r.body), (409, &refused));
    let r = app
        .call(Method::DELETE, "/v2/auth/cancel", Some(&alice), None)
        .await;
    assert_eq!((r.status.as_u16(), &r.body), (409, &refused));
    assert_eq!(
        app.get("/v2/auth/whoami", &alice).await.body["is_superuser"],
        true
    );

    let r = app
        .post("/v2/admin/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201);
    // Both admins try to remove each other at once: exactly one may succeed.
    let (a, b) = tokio::join!(
        app.delete("/v2/admin/perms/bob", &alice),
        app.delete("/v2/admin/perms/alice", &bob)
    );
    // The loser is refused either by the guard (409) or, if the winner had
    // already committed, because it is no longer an admin (403).
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [204, 403] || statuses == [204, 409],
        "{statuses:?}: {} / {}",
        a.text,
        b.text
    );
    let admins = app
        .get("/v2/users", if a.status == 204 { &alice } else { &bob })
        .await;
    let count = admins.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_superuser"] == true)
        .count();
    assert_eq!(count, 1);
});

dual_test!(tokens_are_stored_hashed, |app| {
    use sea_orm::{ConnectionTrait, Statement};
    let token = app.user("alice").await;
    let column = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).expect("text"))
                .collect::<Vec<_>>()
        }
    };
    let keys = column("SELECT key_hash FROM tokens").await;
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0], token, "the token is stored in clear");
    assert!(!keys[0].contains(&token));
    let passwords = column("SELECT password FROM users").await;
    assert!(passwords[0].starts_with("pbkdf2_sha256$"), "{passwords:?}");
    assert!(!passwords[0].contains("alice-pw"));
});

/// Secrets a whole session handles; none may reach a log line.
const SECRET_PASSWORD: &str = "correct-horse-battery-4417";
const SECRET_NEW_PASSWORD: &str = "staple-9902-zebra";
const SECRET_CONFIG: &str = "s3cr3t-db-url-value-77";
const SECRET_RUN: &str = "echo run-secret-5531";

dual_test!(a_whole_session_leaves_no_secret_in_the_logs, |app| {
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register",
            None,
            Some(
                json!({"username": "carol", "password": SECRET_PASSWORD, "email": "c@example.com"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        try_login(&app, "carol", "wrong-guess-123", None)
            .await
            .status,
        400
    );
    let token = app.login("carol", SECRET_PASSWORD).await;
    app.app(&token, "vault").await;
    let r = app
        .post(
            "/v2/apps/vault/config",
            &token,
            json!({"values": {"DATABASE_URL": SECRET_CONFIG}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post("/v2/apps/vault/builds", &token, json!({"image": "nginx:1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post("/v2/apps/vault/run", &token, json!({"command": SECRET_RUN}))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(app.get("/v2/apps/vault/config", &token).await.status, 200);
    let r = app
        .post(
            "/v2/auth/passwd",
            &token,
            json!({"password": SECRET_PASSWORD, "new_password": SECRET_NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.post("/v2/auth/tokens", &token, json!({})).await;
    let fresh: Value = r.body["token"].clone();
    let fresh = fresh.as_str().expect("new token");
    assert_eq!(app.get("/v2/auth/whoami", &token).await.status, 401);
    assert_eq!(app.get("/v2/auth/whoami", fresh).await.status, 200);

    let logs = crate::harness::captured_logs();
    assert!(
        logs.contains("/v2/apps/vault/config"),
        "the request log was captured"
    );
    for secret in [
        SECRET_PASSWORD,
        SECRET_NEW_PASSWORD,
        SECRET_CONFIG,
        "run-secret-5531",
        token.as_str(),
        fresh,
    ] {
        assert!(!logs.contains(secret), "{secret:?} reached the log");
    }
});

/// Sends `head` over a raw connection and returns what the server answered
/// before closing (or an empty string if it closed without a word).
async fn raw_exchange(app: &TestApp, head: &str, then: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(then).await.expect("partial body");
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_clients_are_cut_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.body_timeout = Duration::from_secs(1);
        s.header_timeout = Duration::from_secs(2);
        s.max_body_bytes = 1024;
    })
    .await;
    let token = app.user("alice").await;

    // A body that never finishes arriving: 408 once the body timeout passes.
    let head = format!(
        "POST /v2/apps HTTP/1.1\r\nHost: x\r\nAuthorization: token {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let answer = raw_exchange(&app, &head, b"{\"id\":").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("The request body did not arrive in time."),
        "{answer}"
    );

    // A chunked body with no declared length still meets the size limit.
    let head = format!(
        "POST /v2/apps HTTP/1.1\r\nHost: x\r\nAuthorization: token {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let body = format!("{{\"id\": \"{}\"}}", "a".repeat(2000));
    let chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let answer = raw_exchange(&app, &head, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.ends_with(r#"{"detail":"Request body is larger than 1024 bytes."}"#),
        "{answer}"
    );

    // Half a request head, then silence: the header timeout closes the connection.
    let answer = raw_exchange(&app, "GET /v2/apps HTTP/1.1\r\nHost:", b"").await;
    assert!(!answer.contains("200 OK"), "{answer}");

    // Nothing was created by any of it.
    let apps = app.get("/v2/apps", &token).await;
    assert_eq!(apps.body["count"], 0, "{}", apps.text);
}
