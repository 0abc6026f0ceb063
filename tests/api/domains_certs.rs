//! Domains, certificates and TLS: validation, what reaches Dokku, who may do what,
//! and that the private key never appears in an answer.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::dual_test;

/// A self-signed RSA-2048 certificate for `cn` with the given SAN DNS names; returns (crt, key, crt path).
pub(crate) fn gen_cert(
    dir: &Path,
    stem: &str,
    cn: &str,
    sans: &[&str],
) -> (String, String, String) {
    let crt = dir.join(format!("{stem}.crt"));
    let key = dir.join(format!("{stem}.key"));
    let san = sans
        .iter()
        .map(|s| format!("DNS:{s}"))
        .collect::<Vec<_>>()
        .join(",");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .arg("-subj")
        .arg(format!("/C=US/ST=CA/O=Drydock Test/CN={cn}"))
        .arg("-addext")
        .arg(format!("subjectAltName={san}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read_to_string(&crt).unwrap(),
        std::fs::read_to_string(&key).unwrap(),
        crt.display().to_string(),
    )
}

/// `Nov 22 09:00:00 2026 GMT` → `2026-11-22T09:00:00Z`.
fn openssl_date(s: &str) -> String {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|m| *m == parts[0]).unwrap() + 1;
    let d: u32 = parts[1].parse().unwrap();
    format!("{}-{m:02}-{d:02}T{}Z", parts[3], parts[2])
}

/// (fingerprint, subject, issuer, starts, expires) as openssl prints them.
fn openssl_info(crt_path: &str) -> (String, String, String, String, String) {
    let out = Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-subject",
            "-issuer",
        ])
        .args(["-dates", "-nameopt", "compat", "-in", crt_path])
        .output()
        .expect("openssl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {text}"))
            .trim()
            .to_owned()
    };
    (
        field("sha256 Fingerprint="),
        field("subject="),
        field("issuer="),
        openssl_date(&field("notBefore=")),
        openssl_date(&field("notAfter=")),
    )
}

dual_test!(domains_add_list_remove, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "myapp").await;
    let r = app.get("/v2/apps/myapp/domains", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["results"][0]["domain"], "myapp");

    let r = app
        .post(
            "/v2/apps/myapp/domains",
            &alice,
            json!({"domain": "foo.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for k in ["owner", "created", "updated", "app", "domain"] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert_eq!(r.body["owner"], "alice");
    assert_eq!(r.body["app"], "myapp");
    assert_eq!(r.body["domain"], "foo.com");
    assert!(app
        .dokku()
        .app("myapp")
        .unwrap()
        .domains
        .contains(&"foo.com".to_owned()));
    assert!(!app
        .dokku()
        .app("myapp")
        .unwrap()
        .domains
        .contains(&"myapp".to_owned()));

    let r = app
        .post(
            "/v2/apps/myapp/domains",
            &alice,
            json!({"domain": "Foo.com"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["domain"][0].is_string(), "{}", r.text);

    app.app(&alice, "other").await;
    let r = app
        .post(
            "/v2/apps/other/domains",
            &alice,
            json!({"domain": "foo.com"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"domain": ["Domain is already in use by another application"]})
    );

    let r = app.get("/v2/apps/myapp/domains", &alice).await;
    assert_eq!(r.body["count"], 2);

    let r = app.delete("/v2/apps/myapp/domains/nope.com", &alice).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No Domain matches the given query."));
    let r = app.delete("/v2/apps/other/domains/foo.com", &alice).await;
    assert_eq!(r.status, 404);
    let r = app.delete("/v2/apps/myapp/domains/foo.com", &alice).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(!app
        .dokku()
        .app("myapp")
        .unwrap()
        .domains
        .contains(&"foo.com".to_owned()));
});

dual_test!(domain_permissions, |app| {
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.app(&alice, "myapp").await;
    let r = app
        .post("/v2/apps/myapp/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let r = app
        .call(Method::GET, "/v2/apps/myapp/domains", None, None)
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .call(Method::GET, "/v2/apps/myapp/tls", None, None)
        .await;
    assert_eq!(r.status, 401);
    let r = app.call(Method::GET, "/v2/certs", None, None).await;
    assert_eq!(r.status, 401);
    let r = app.get("/v2/apps/myapp/domains", &carol).await;
    assert_eq!(r.status, 403);
    let r = app
        .post("/v2/apps/myapp/domains", &carol, json!({"domain": "c.com"}))
        .await;
    assert_eq!(r.status, 403);
    let r = app.get("/v2/apps/myapp/tls", &carol).await;
    assert_eq!(r.status, 403);
    for (tok, d) in [(&bob, "b.com"), (&alice, "a.com"), (&admin, "x.com")] {
        let r = app
            .post("/v2/apps/myapp/domains", tok, json!({"domain": d}))
            .await;
        assert_eq!(r.status, 201, "{d}: {}", r.text);
        let r = app.get("/v2/apps/myapp/domains", tok).await;
        assert_eq!(r.status, 200);
        let r = app
            .delete(&format!("/v2/apps/myapp/domains/{d}"), tok)
            .await;
        assert_eq!(r.status, 204);
        let r = app.get("/v2/apps/myapp/tls", tok).await;
        assert_eq!(r.status, 200);
    }
    let r = app.delete("/v2/apps/myapp/domains/myapp", &carol).await;
    assert_eq!(r.status, 403);
});

dual_test!(tls_enforcement, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "myapp").await;
    let r = app.get("/v2/apps/myapp/tls", &alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for k in [
        "uuid",
        "app",
        "owner",
        "https_enforced",
        "created",
        "updated",
    ] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert!(r.body["https_enforced"].is_null());
    let uuid = r.body["uuid"].clone();
    let r = app
        .post(
            "/v2/apps/myapp/tls",
            &alice,
            json!({"https_enforced": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["https_enforced"], true);
    assert_ne!(
        r.body["uuid"], uuid,
        "each setting is new, as in the reference"
    );
    assert_eq!(
        app.dokku()
            .app("myapp")
            .unwrap()
            .nginx
            .get("hsts")
            .map(String::as_str),
        Some("true")
    );
    let r = app
        .post(
            "/v2/apps/myapp/tls",
            &alice,
            json!({"https_enforced": false}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["https_enforced"], false);
    assert_ne!(
        app.dokku()
            .app("myapp")
            .unwrap()
            .nginx
            .get("hsts")
            .map(String::as_str),
        Some("true")
    );
    let r = app.get("/v2/apps/myapp/tls", &alice).await;
    assert_eq!(r.body["https_enforced"], false);
    let r = app.post("/v2/apps/myapp/tls", &alice, json!({})).await;
    assert_eq!(r.status, 201, "nothing given unsets it: {}", r.text);
    assert!(r.body["https_enforced"].is_null());
});

dual_test!(certificates_lifecycle, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key, crt_path) = gen_cert(dir.path(), "foo", "foo.com", &["foo.com", "www.foo.com"]);
    let (wcrt, wkey, _) = gen_cert(dir.path(), "wild", "*.bar.com", &["*.bar.com"]);
    let (_, other_key, _) = gen_cert(dir.path(), "other", "x.com", &["x.com"]);
    let keys = [key.clone(), wkey.clone(), other_key.clone()];
    let no_key = |text: &str| {
        for k in &keys {
            let body = k
                .lines()
                .find(|l| !l.starts_with("-----"))
                .unwrap()
                .to_owned();
            assert!(!text.contains(&body), "private key leaked: {text}");
        }
        assert!(!text.contains("PRIVATE KEY"), "private key leaked: {text}");
    };

    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&alice, "myapp").await;
    for d in ["foo.com", "www.foo.com", "a.bar.com"] {
        let r = app
            .post("/v2/apps/myapp/domains", &alice, json!({"domain": d}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    // Validation.
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "Bad_Name", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["name"][0].is_string(), "{}", r.text);
    no_key(&r.text);
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "mismatch", "certificate": crt, "key": other_key}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    no_key(&r.text);
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "garbage", "certificate": "nope", "key": "nope"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["certificate"][0].is_string(), "{}", r.text);
    assert!(r.body["key"][0].is_string(), "{}", r.text);

    // Upload and parsed fields.
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "foo-cert", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    no_key(&r.text);
    let (fp, subject, issuer, starts, expires) = openssl_info(&crt_path);
    assert_eq!(r.body["name"], "foo-cert");
    assert_eq!(r.body["owner"], "alice");
    assert_eq!(r.body["common_name"], "foo.com");
    assert_eq!(r.body["san"], json!(["foo.com", "www.foo.com"]));
    assert_eq!(r.body["fingerprint"], fp);
    assert_eq!(r.body["subject"], subject);
    assert_eq!(r.body["issuer"], issuer);
    assert_eq!(r.body["starts"], starts);
    assert_eq!(r.body["expires"], expires);
    assert_eq!(r.body["domains"], json!([]));
    for k in ["id", "created", "updated"] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "foo-cert", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"name": ["certificate with this name already exists."]})
    );
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "wild", "certificate": wcrt, "key": wkey}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Visibility.
    let r = app.get("/v2/certs", &alice).await;
    assert_eq!(r.body["count"], 2);
    no_key(&r.text);
    let r = app.get("/v2/certs", &bob).await;
    assert_eq!(r.body["count"], 0);
    let r = app.get("/v2/certs", &admin).await;
    assert_eq!(r.body["count"], 2);
    let r = app.get("/v2/certs/foo-cert", &bob).await;
    assert_eq!(r.status, 404, "another user's certificate is not found");
    assert_eq!(r.body, json!("No Certificate matches the given query."));
    let r = app.get("/v2/certs/foo-cert", &admin).await;
    assert_eq!(r.status, 200);
    no_key(&r.text);
    let r = app.get("/v2/certs/nope", &alice).await;
    assert_eq!(r.status, 404);

    // Attach.
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &alice,
            json!({"domain": "nope.com"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!("No Domain matches the given query."));
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &alice,
            json!({"domain": "a.bar.com"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["detail"].is_string());
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &bob,
            json!({"domain": "foo.com"}),
        )
        .await;
    assert_eq!(r.status, 404, "another user's certificate is not found");
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &alice,
            json!({"domain": "foo.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let cert = app
        .dokku()
        .app("myapp")
        .unwrap()
        .cert
        .clone()
        .expect("installed");
    assert!(cert.crt.contains("BEGIN CERTIFICATE"));
    assert_eq!(cert.key.trim(), key.trim());
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &alice,
            json!({"domain": "www.foo.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.get("/v2/certs/foo-cert", &alice).await;
    assert_eq!(r.body["domains"], json!(["foo.com", "www.foo.com"]));
    // test_certificate_use_case_4: a domain holds one certificate at a time.
    let r = app
        .post(
            "/v2/certs/foo-cert/domain",
            &alice,
            json!({"domain": "foo.com"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"detail": "Domain already has a certificate attached to it"})
    );
    // test_certificate_use_case_1: no domain given.
    let r = app
        .post("/v2/certs/foo-cert/domain", &alice, json!({}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"detail": "domain is a required field"}));
    // One certificate per app.
    let r = app
        .post(
            "/v2/certs/wild/domain",
            &alice,
            json!({"domain": "a.bar.com"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("one certificate per app"));

    // Detach: the cert stays while another domain uses it.
    let r = app
        .delete("/v2/certs/foo-cert/domain/foo.com", &alice)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(app.dokku().app("myapp").unwrap().cert.is_some());
    let r = app
        .delete("/v2/certs/foo-cert/domain/foo.com", &alice)
        .await;
    assert_eq!(r.status, 404);
    // Removing the last domain with the cert removes it from Dokku.
    let r = app
        .delete("/v2/apps/myapp/domains/www.foo.com", &alice)
        .await;
    assert_eq!(r.status, 204);
    assert!(app.dokku().app("myapp").unwrap().cert.is_none());

    // Wildcard now fits; deleting the cert detaches it everywhere.
    let r = app
        .post(
            "/v2/certs/wild/domain",
            &alice,
            json!({"domain": "a.bar.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(app.dokku().app("myapp").unwrap().cert.is_some());
    let r = app.delete("/v2/certs/wild", &bob).await;
    assert_eq!(r.status, 404);
    let r = app.delete("/v2/certs/wild", &alice).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(app.dokku().app("myapp").unwrap().cert.is_none());
    let r = app.get("/v2/certs/wild", &alice).await;
    assert_eq!(r.status, 404);
    let r = app.delete("/v2/certs/foo-cert", &admin).await;
    assert_eq!(r.status, 204);
    let r = app
        .call(Method::DELETE, "/v2/certs/foo-cert", None, None)
        .await;
    assert_eq!(r.status, 401);
    let logs = crate::harness::captured_logs();
    assert!(logs.contains("/v2/certs"), "the request log was captured");
    no_key(&logs);
});
