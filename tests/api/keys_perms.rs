//! SSH keys and per-app permissions.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::dual_test;

/// A fresh ed25519 public key line and its `ssh-keygen -l -E md5` fingerprint (hex pairs).
pub(crate) fn gen_key(dir: &std::path::Path, stem: &str, comment: &str) -> (String, String) {
    let path = dir.join(stem);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(&path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pubpath = format!("{}.pub", path.display());
    let line = std::fs::read_to_string(&pubpath).unwrap().trim().to_owned();
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "md5", "-f", &pubpath])
        .output()
        .expect("ssh-keygen runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let fp = text
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_start_matches("MD5:")
        .to_owned();
    (line, fp)
}

dual_test!(keys_add_list_remove, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (line, fp) = gen_key(dir.path(), "k1", "alice@laptop");
    let (line2, _) = gen_key(dir.path(), "k2", "bob@desk");
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let r = app.call(Method::GET, "/v2/keys", None, None).await;
    assert_eq!(r.status, 401);
    let r = app
        .post(
            "/v2/keys",
            &alice,
            json!({"id": "alice@laptop", "public": "ssh-ed25519 nope"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["public"][0].is_string(), "{}", r.text);

    let r = app
        .post(
            "/v2/keys",
            &alice,
            json!({"id": "alice@laptop", "public": line}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for k in [
        "uuid",
        "owner",
        "id",
        "public",
        "fingerprint",
        "created",
        "updated",
    ] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert_eq!(r.body["owner"], "alice");
    assert_eq!(r.body["id"], "alice@laptop");
    assert_eq!(r.body["fingerprint"], fp);
    assert_eq!(r.body["public"], line);
    let sim = app.dokku();
    assert_eq!(sim.ssh_keys.len(), 1);
    let (name, k) = sim.ssh_keys.iter().next().unwrap();
    assert!(
        name.starts_with("drydock-u"),
        "named after the owner's id: {name}"
    );
    assert_eq!(k.key.trim(), line);

    // Same key again, by anyone.
    for tok in [&alice, &bob] {
        let r = app
            .post("/v2/keys", tok, json!({"id": "again", "public": line}))
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            json!({"public": ["Public Key is already in use"]}),
            "exactly the reference's body"
        );
    }
    // An id with odd characters still yields a valid Dokku name.
    let r = app
        .post(
            "/v2/keys",
            &bob,
            json!({"id": "bob's desk / home", "public": line2}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.dokku().ssh_keys.len(), 2);

    let r = app.get("/v2/keys", &alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["results"][0]["id"], "alice@laptop");

    let r = app.delete("/v2/keys/alice@laptop", &bob).await;
    assert_eq!(r.status, 404);
    let r = app.delete("/v2/keys/alice@laptop", &alice).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.dokku().ssh_keys.len(), 1);
    let r = app.get("/v2/keys", &alice).await;
    assert_eq!(r.body["count"], 0);
    let r = app.call(Method::DELETE, "/v2/keys/x", None, None).await;
    assert_eq!(r.status, 401);
});

dual_test!(app_perms, |app| {
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.app(&alice, "myapp").await;

    let r = app
        .call(Method::GET, "/v2/apps/myapp/perms", None, None)
        .await;
    assert_eq!(r.status, 401);
    let r = app.get("/v2/apps/myapp/perms", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"users": []}));

    let r = app
        .post("/v2/apps/myapp/perms", &carol, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            "/v2/apps/myapp/perms",
            &alice,
            json!({"username": "nobody"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No User matches the given query."));
    let r = app
        .post("/v2/apps/myapp/perms", &alice, json!({"username": "alice"}))
        .await;
    assert_eq!(
        r.status, 201,
        "granting the owner changes nothing: {}",
        r.text
    );
    let r = app
        .post("/v2/apps/myapp/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.text, "");
    let r = app
        .post("/v2/apps/myapp/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201, "granting again changes nothing: {}", r.text);

    // Collaborators read but do not grant; the app is now usable by bob.
    let r = app.get("/v2/apps/myapp/perms", &bob).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"users": ["bob"]}));
    let r = app.get("/v2/apps/myapp", &bob).await;
    assert_eq!(r.status, 200);
    let r = app
        .post("/v2/apps/myapp/perms", &bob, json!({"username": "carol"}))
        .await;
    assert_eq!(r.status, 403);
    let r = app.get("/v2/apps/myapp/perms", &carol).await;
    assert_eq!(r.status, 403);

    // Admin grants; collaborator cannot remove others, only themself.
    let r = app
        .post("/v2/apps/myapp/perms", &admin, json!({"username": "carol"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.delete("/v2/apps/myapp/perms/carol", &bob).await;
    assert_eq!(r.status, 403);
    let r = app.delete("/v2/apps/myapp/perms/bob", &bob).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app.get("/v2/apps/myapp", &bob).await;
    assert_eq!(r.status, 403);
    let r = app.delete("/v2/apps/myapp/perms/carol", &admin).await;
    assert_eq!(r.status, 204);
    let r = app.delete("/v2/apps/myapp/perms/carol", &alice).await;
    assert_eq!(
        r.status, 403,
        "no longer a collaborator, as the reference answers"
    );
    let r = app
        .call(Method::DELETE, "/v2/apps/myapp/perms/carol", None, None)
        .await;
    assert_eq!(r.status, 401);
    let r = app.get("/v2/apps/myapp/perms", &alice).await;
    assert_eq!(r.body, json!({"users": []}));
});
