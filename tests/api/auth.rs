//! `/v2/auth/*`: registration, login, whoami, tokens, passwords, cancel.

use reqwest::Method;
use serde_json::json;

use crate::dual_test;
use crate::harness::{Backend, TestApp};

dual_test!(first_user_is_admin_second_is_not, |app| {
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": "alice", "password": "pw", "email": "alice@example.com"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["is_superuser"], true);
    assert_eq!(r.body["is_staff"], true);
    for k in [
        "email",
        "first_name",
        "last_name",
        "groups",
        "user_permissions",
        "last_login",
        "date_joined",
        "is_active",
    ] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert!(r.body.get("password").is_none());
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register",
            None,
            Some(json!({"username": "bob", "password": "pw"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["is_superuser"], false);
});

dual_test!(registration_validation, |app| {
    app.user("alice").await;
    let cases = [
        (json!({"username": "alice", "password": "x"}), "username", "A user with that username already exists."),
        (json!({"username": "carol"}), "password", "This field is required."),
        (json!({"password": "x"}), "username", "This field is required."),
        (json!({"username": "carol", "password": ""}), "password", "This field may not be blank."),
        (json!({"username": "carol", "password": "x", "email": "not-an-email"}), "email", "Enter a valid email address."),
        (json!({"username": "a b", "password": "x"}), "username", "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."),
    ];
    for (body, field, msg) in cases {
        let r = app
            .call(Method::POST, "/v2/auth/register/", None, Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body[field][0], msg, "{body}: {}", r.text);
    }
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": {"nested": 1}, "password": "x"})),
        )
        .await;
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
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": "zoë.ü@例", "password": "x"})),
        )
        .await;
    assert_eq!(
        r.status, 201,
        "unicode usernames are valid Django usernames: {}",
        r.text
    );
    assert_eq!(app.login("zoë.ü@例", "x").await.len(), 40);
});

dual_test!(login_and_tokens, |app| {
    let alice = app.user("alice").await;
    assert_eq!(alice.len(), 40);
    assert!(alice.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = app
        .call(
            Method::POST,
            "/v2/auth/login/",
            None,
            Some(json!({"username": "alice", "password": "nope"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
    );
    let r = app
        .call(
            Method::POST,
            "/v2/auth/login",
            None,
            Some(json!({"username": "ghost", "password": "nope"})),
        )
        .await;
    assert_eq!(r.status, 400);

    let second = app.login("alice", "alice-pw").await;
    assert_ne!(second, alice, "each login issues its own token");
    assert_eq!(app.get("/v2/auth/whoami/", &alice).await.status, 200);
    assert_eq!(
        app.get("/v2/auth/whoami", &second).await.body["username"],
        "alice"
    );

    let r = app.post("/v2/auth/tokens/", &alice, json!({})).await;
    assert_eq!(r.status, 200);
    let fresh = r.body["token"].as_str().unwrap().to_owned();
    for old in [&alice, &second] {
        let r = app.get("/v2/auth/whoami", old).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body, json!({"detail": "Invalid token."}));
    }
    assert_eq!(app.get("/v2/auth/whoami", &fresh).await.status, 200);
});

dual_test!(token_header_errors, |app| {
    let r = app.call(Method::GET, "/v2/apps", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(r.headers["www-authenticate"], "Token");
    let r = app
        .client
        .get(format!("{}/v2/apps", app.base))
        .header("Authorization", "token")
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"detail": "Invalid token header. No credentials provided."})
    );
    let r = app.get("/v2/apps", &"0".repeat(40)).await;
    assert_eq!(r.body, json!({"detail": "Invalid token."}));
    let r = app
        .call(Method::POST, "/v2/auth/tokens/", None, Some(json!({})))
        .await;
    assert_eq!(r.status, 401, "the reference's 500 here was a bug");
});

dual_test!(admin_token_regeneration, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    assert_eq!(
        app.post("/v2/auth/tokens/", &bob, json!({"username": "alice"}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/v2/auth/tokens/", &bob, json!({"all": true}))
            .await
            .status,
        403
    );
    let r = app
        .post("/v2/auth/tokens/", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 200);
    let bob2 = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v2/auth/whoami", &bob).await.status, 401);
    assert_eq!(app.get("/v2/auth/whoami", &bob2).await.status, 200);
    let r = app
        .post("/v2/auth/tokens/", &alice, json!({"all": true}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!(""));
    assert_eq!(app.get("/v2/auth/whoami", &bob2).await.status, 401);
    assert_eq!(app.get("/v2/auth/whoami", &alice).await.status, 401);
});

dual_test!(password_change, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = app
        .post(
            "/v2/auth/passwd/",
            &bob,
            json!({"password": "wrong", "new_password": "x2"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, json!({"detail": "Current password does not match"}));
    let r = app
        .post("/v2/auth/passwd", &bob, json!({"new_password": "x2"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"detail": "password is a required field"}));
    let r = app.post("/v2/auth/passwd", &bob, json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "new_password is a required field"})
    );
    let r = app
        .post(
            "/v2/auth/passwd",
            &bob,
            json!({"password": "bob-pw", "new_password": "bobpw2"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "password set"}));
    app.login("bob", "bobpw2").await;
    assert_eq!(
        app.post(
            "/v2/auth/passwd",
            &bob,
            json!({"username": "alice", "new_password": "z"})
        )
        .await
        .status,
        403
    );
    let r = app
        .post(
            "/v2/auth/passwd",
            &alice,
            json!({"username": "bob", "new_password": "set-by-admin"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.login("bob", "set-by-admin").await;
});

dual_test!(cancel_account, |app| {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    assert_eq!(
        app.call(
            Method::DELETE,
            "/v2/auth/cancel",
            Some(&bob),
            Some(json!({"username": "carol"}))
        )
        .await
        .status,
        403
    );
    let r = app.delete("/v2/auth/cancel/", &bob).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.get("/v2/auth/whoami", &bob).await.status,
        401,
        "tokens go with the account"
    );
    let r = app
        .call(
            Method::POST,
            "/v2/auth/login/",
            None,
            Some(json!({"username": "bob", "password": "bob-pw"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .call(
            Method::DELETE,
            "/v2/auth/cancel",
            Some(&alice),
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get("/v2/auth/whoami", &carol).await.status, 401);
    app.app(&alice, "kept").await;
    let r = app.delete("/v2/auth/cancel", &alice).await;
    assert_eq!(r.status, 409, "an owner of apps cannot vanish: {}", r.text);
});

#[tokio::test]
async fn old_iteration_hash_verifies_and_is_upgraded() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.password_iterations = 40_000).await;
    app.user("alice").await;
    // Django hash of "alicepw" at 36 000 iterations, as the reference stored it.
    let legacy = "pbkdf2_sha256$36000$seasalt123$nP7Uomp1MTrdasxIt1kxbBxs5/JWSDeDdBoZrYiFL1I=";
    let u = drydock_entity::store::users::by_username(&app.db, "alice")
        .await
        .unwrap()
        .unwrap();
    drydock_entity::store::users::set_password(&app.db, u.id, legacy.into())
        .await
        .unwrap();
    app.login("alice", "alicepw").await;
    let u = drydock_entity::store::users::by_username(&app.db, "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(
        u.password.starts_with("pbkdf2_sha256$40000$"),
        "re-hashed at the current count: {}",
        u.password
    );
    app.login("alice", "alicepw").await;
}

#[tokio::test]
async fn registration_modes() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.registration = drydock_api::Registration::AdminOnly
    })
    .await;
    let admin = app.user("admin").await;
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": "x", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            Some(&admin),
            Some(json!({"username": "x", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.registration = drydock_api::Registration::Disabled
    })
    .await;
    let r = app
        .call(
            Method::POST,
            "/v2/auth/register/",
            None,
            Some(json!({"username": "x", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, 403);
    // test_auth_registration_disabled
    assert_eq!(r.body, json!({"detail": "Registration is disabled"}));
}
