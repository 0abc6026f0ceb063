//! Hostile input in every path parameter and body field: whitespace, newlines,
//! `<`, `>`, `;`, `$()`, backticks, `../`, NUL, flags, globs, 64 KiB strings and
//! invalid UTF-8. Each must be refused with a 4xx in one of the reference's error
//! shapes, or stored and applied exactly (read back byte for byte, and for config
//! values and commands as dokku-sim decoded them). Never a 5xx. Afterwards the
//! daemon's command log must show that no hostile byte reached a command line
//! (see [`assert_daemon_lines_clean`] for the invariant).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use drydock_dokku::platform::RUN_SCRIPT;

use crate::dual_test;
use crate::harness::{Res, TestApp};
use crate::keys_perms::gen_key;

/// Bytes of the largest request target hyper accepts; longer ones get its own 414.
const MAX_URI_BYTES: usize = 65_534;
/// The largest config value (and one-off command) Drydock stores.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The hostile strings: every one goes into every parameter and field.
fn hostile() -> Vec<(&'static str, String)> {
    let mut big_mix = String::new();
    while big_mix.len() < MAX_VALUE_BYTES {
        big_mix.push_str("$(id);`id`<a>|b&c\n../\t'\"\\ ");
    }
    big_mix.truncate(MAX_VALUE_BYTES);
    vec![
        ("space", "a b".into()),
        ("surrounding blanks", " ab ".into()),
        ("tab", "a\tb".into()),
        ("newline", "a\nb".into()),
        ("crlf", "a\r\nb".into()),
        (
            "second daemon line",
            "x\n--force apps:destroy victim".into(),
        ),
        ("angle brackets", "<a>".into()),
        ("redirection", "x > /tmp/pwned".into()),
        ("semicolon", "a;reboot".into()),
        ("command substitution", "$(touch /tmp/pwned)".into()),
        ("backticks", "`touch /tmp/pwned`".into()),
        ("pipe and ampersand", "a|b&&c".into()),
        ("dot-dot-slash", "../../etc/passwd".into()),
        ("NUL", "a\0b".into()),
        ("flag", "--force".into()),
        ("glob", "*".into()),
        ("glob class", "a?[b]".into()),
        ("backslash", "a\\b".into()),
        ("quotes", "a'b\"c".into()),
        ("non-ASCII", "é✓".into()),
        ("bidi override", "a\u{202e}b".into()),
        ("percent escapes", "%2e%2e%2f%00".into()),
        ("64 KiB", "A".repeat(MAX_VALUE_BYTES)),
        ("64 KiB of hostile bytes", big_mix),
    ]
}

/// Percent-encodes every byte but ASCII letters and digits, so `.`, `/` and `%`
/// reach the server as data of one path segment, never as path syntax.
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 with padding, as the command builder encodes values.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A short, printable description of a (possibly 64 KiB) string for messages.
fn show(s: &str) -> String {
    let d = format!("{s:?}");
    if d.len() > 80 {
        format!("{}… ({} bytes)", &d[..60], s.len())
    } else {
        d
    }
}

/// Whether a 4xx body is in one of the reference's error shapes, with a message.
fn reference_error_shape(r: &Res) -> Result<(), String> {
    let nonblank = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let ok = match &r.body {
        Value::String(s) => r.status == StatusCode::NOT_FOUND && !s.trim().is_empty(),
        Value::Object(m) if m.contains_key("detail") => m.len() == 1 && nonblank(&m["detail"]),
        Value::Object(m) => {
            !m.is_empty()
                && m.values().all(|v| {
                    v.as_array()
                        .is_some_and(|a| !a.is_empty() && a.iter().all(nonblank))
                })
        }
        _ => false,
    };
    let json = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if ok && json {
        Ok(())
    } else {
        Err(format!(
            "{} is not a reference error body: {}",
            r.status,
            show(&r.text)
        ))
    }
}

/// Never a 5xx; a 4xx must carry a reference-shaped message. Returns whether
/// the server accepted the input (2xx), which the caller then reads back.
fn accepted(r: &Res, what: &str) -> bool {
    assert!(
        !r.status.is_server_error(),
        "{what}: {} {}",
        r.status,
        show(&r.text)
    );
    if r.status.is_success() {
        return true;
    }
    assert!(
        r.status.is_client_error(),
        "{what}: unexpected {}",
        r.status
    );
    if let Err(e) = reference_error_shape(r) {
        panic!("{what}: {e}");
    }
    false
}

/// Like [`accepted`], for input that can never be valid.
fn refused(r: &Res, what: &str) {
    assert!(
        !accepted(r, what),
        "{what}: accepted ({}): {}",
        r.status,
        show(&r.text)
    );
}

/// Sends raw bytes as a JSON body.
async fn raw(app: &TestApp, method: Method, path: &str, token: &str, body: Vec<u8>) -> Res {
    let r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("Authorization", format!("token {token}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    TestApp::read(r).await
}

/// Sends a body-less request; a request target too long for any client library
/// goes over a plain socket, where hyper must answer 414 (then `None`).
async fn call_or_414(app: &TestApp, method: Method, path: &str, token: &str) -> Option<Res> {
    if path.len() <= MAX_URI_BYTES {
        return Some(app.call(method, path, Some(token), None).await);
    }
    let len = path.len();
    let (base, path, token) = (app.base.clone(), path.to_owned(), token.to_owned());
    let (status, _) = tokio::task::spawn_blocking(move || {
        raw_http(&base, method.as_str(), &path, &token, &[], b"")
    })
    .await
    .unwrap();
    assert_eq!(status, 414, "a {len}-byte request target");
    None
}

/// A self-signed certificate and key for `cn`.
fn self_signed(dir: &Path, cn: &str) -> (String, String) {
    let (crt, key, _) = crate::domains_certs::gen_cert(dir, cn, cn, &[cn]);
    (crt, key)
}

/// The fixture most tests share: admin alice, collaborator bob, app `myapp`
/// deployed with `web` and `worker`, domain `foo.example.com` with certificate
/// `mycert`, alice's ssh key `mykey`. Returns (alice, bob).
async fn fixture(app: &TestApp, dir: &Path) -> (String, String) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.app(&alice, "myapp").await;
    let r = app
        .post(
            "/v2/apps/myapp/builds",
            &alice,
            json!({"image": "nginx:1.25", "procfile": {"web": "nginx -g 'daemon off;'", "worker": "sleep 1000"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            "/v2/apps/myapp/scale",
            &alice,
            json!({"web": 1, "worker": 1}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .post(
            "/v2/apps/myapp/domains",
            &alice,
            json!({"domain": "foo.example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (crt, key) = self_signed(dir, "foo.example.com");
    let r = app
        .post(
            "/v2/certs",
            &alice,
            json!({"name": "mycert", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            "/v2/certs/mycert/domain",
            &alice,
            json!({"domain": "foo.example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post("/v2/apps/myapp/perms", &alice, json!({"username": "bob"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (line, _) = gen_key(dir, "mykey", "alice@example.com");
    let r = app
        .post("/v2/keys", &alice, json!({"id": "mykey", "public": line}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (alice, bob)
}

/// The fixture is intact: nothing a hostile request did removed or renamed it.
async fn assert_fixture_intact(app: &TestApp, alice: &str) {
    let r = app.get("/v2/apps/myapp", alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["owner"], "alice");
    let r = app.get("/v2/apps/myapp/perms", alice).await;
    assert_eq!(r.body["users"], json!(["bob"]));
    let r = app.get("/v2/certs/mycert", alice).await;
    assert_eq!(r.body["domains"], json!(["foo.example.com"]), "{}", r.text);
    let r = app.get("/v2/keys", alice).await;
    assert!(r.text.contains("\"mykey\""), "{}", r.text);
    let r = app.get("/v2/admin/perms", alice).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sim = app.dokku();
    let myapp = sim.app("myapp").expect("myapp on dokku");
    assert!(myapp.domains.contains(&"foo.example.com".to_owned()));
    assert!(myapp.cert.is_some());
    assert_eq!(myapp.scale.get("web"), Some(&1));
    assert!(sim.ssh_keys.keys().any(|k| k.starts_with("drydock-u")));
}

/// Every character a command token may hold: the builder's value alphabet
/// (`A-Z a-z 0-9 . _ : / = + @ , -`) plus `*` (the one wildcard domain form).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | ':' | '/' | '=' | '+' | '@' | ',' | '-' | '*')
}

/// The invariant over every line dokku-sim received (after the daemon's `read`,
/// which drops NUL bytes and trims blanks, so the builder's own unit tests are
/// what prove NUL never leaves it):
///
/// * each line is non-empty, printable ASCII, its words separated by single
///   spaces: no tab, CR, newline (a second command), non-ASCII or U+FFFD;
/// * every word is made of [`token_char`]s only, so no `<`, `>` (redirection),
///   `;`, `|`, `&`, `$(`, backtick, quote, backslash, `?` or `[` can appear; a
///   `*` only as the leading `*.` of a wildcard domain. The one exception is a
///   constant chosen by code, [`RUN_SCRIPT`] (it decodes the base64 `DRYCC_RUN`
///   wrapper inside the container), and only as the word after `sh -c` of a
///   `run` line;
/// * no word contains `../` or `/..` (no path climbing in spool paths or URLs;
///   names hold no `/` at all);
/// * the first word after global flags is a command word (`[a-z:-]+`); flags
///   the daemon strips appear only before it;
/// * the value of every `KEY=…` word of `config:set --encoded` and of `-e` is
///   base64 (so the user's bytes reached Dokku only encoded), and no word
///   outside those values equals or contains a hostile string's distinctive
///   part.
fn assert_daemon_lines_clean(app: &TestApp) {
    let lines = app.sim.commands();
    assert!(!lines.is_empty(), "the daemon received commands");
    let stripped = [
        "--quiet",
        "--detach",
        "--trace",
        "--rm-container",
        "--rm",
        "--force",
    ];
    for line in &lines {
        assert!(!line.is_empty(), "empty line");
        assert!(
            line.bytes().all(|b| (0x20..=0x7e).contains(&b)),
            "non-printable or non-ASCII byte in daemon line {line:?}"
        );
        let words: Vec<&str> = line.split(' ').collect();
        assert!(
            words.iter().all(|w| !w.is_empty()),
            "double or edge blank in {line:?}"
        );
        let mut i = 0;
        while i < words.len() && words[i].starts_with("--") {
            i += 1;
        }
        assert!(i < words.len(), "no command word in {line:?}");
        let command = words[i];
        assert!(
            command
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b':' || b == b'-'),
            "command word {command:?} in {line:?}"
        );
        let encoded_values = command == "config:set" && words.contains(&"--encoded");
        let mut after_e = false;
        for (j, w) in words.iter().enumerate() {
            let run_script = *w == RUN_SCRIPT
                && command == "run:detached"
                && j >= 2
                && words[j - 2] == "sh"
                && words[j - 1] == "-c"
                && j == words.len() - 1;
            assert!(
                run_script || w.chars().all(token_char),
                "word {w:?} of {line:?} has a character outside the token alphabet"
            );
            assert!(
                !w.contains("../") && !w.contains("/.."),
                "word {w:?} of {line:?} climbs paths"
            );
            if w.contains('*') {
                assert!(
                    w.starts_with("*.") && !w[1..].contains('*'),
                    "glob in {w:?} of {line:?}"
                );
            }
            if j > i {
                assert!(
                    !stripped.contains(w),
                    "stripped flag {w:?} after the command word in {line:?}"
                );
            }
            let is_encoded =
                (encoded_values && j > i && w.contains('=') && !w.starts_with('-')) || after_e;
            if is_encoded {
                let value = w.split_once('=').map_or("", |(_, v)| v);
                assert!(
                    value.len() % 4 == 0
                        && value.bytes().all(|b| b.is_ascii_alphanumeric()
                            || b == b'+'
                            || b == b'/'
                            || b == b'='),
                    "encoded value {w:?} of {line:?} is not base64"
                );
            }
            after_e = *w == "-e";
        }
    }
}

/// dokku-sim's state holds nothing named with a hostile string: only the apps,
/// domains and ssh keys the test created on purpose.
fn assert_sim_names_clean(app: &TestApp, apps: &[&str], domains: &[&str]) {
    let sim = app.dokku();
    let names: BTreeSet<&str> = sim.apps.keys().map(String::as_str).collect();
    let allowed: BTreeSet<&str> = apps.iter().copied().collect();
    assert!(
        names.is_subset(&allowed),
        "unexpected apps on dokku: {names:?}"
    );
    for (name, a) in &sim.apps {
        for d in &a.domains {
            assert!(
                domains.contains(&d.as_str()),
                "unexpected domain {d:?} on {name}"
            );
        }
        for k in a.config.keys() {
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "config key {k:?} on {name}"
            );
        }
        for t in a.scale.keys() {
            assert!(
                t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "process type {t:?} on {name}"
            );
        }
    }
    for k in sim.ssh_keys.keys() {
        assert!(
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')),
            "ssh key name {k:?}"
        );
    }
}

/// One route with a hostile path parameter: method, path with `{}` for the
/// hostile segment, body, and whether a 200 with an empty list is a fair answer
/// (a filter that matched nothing).
struct PathCase {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    empty_list_ok: bool,
}

fn path_cases() -> Vec<PathCase> {
    let c = |method: Method, path: &'static str, body: Option<Value>| PathCase {
        method,
        path,
        body,
        empty_list_ok: false,
    };
    let (get, post, delete) = (Method::GET, Method::POST, Method::DELETE);
    let empty = || Some(json!({}));
    vec![
        c(get.clone(), "/v2/apps/{}", None),
        c(post.clone(), "/v2/apps/{}", Some(json!({"owner": "bob"}))),
        c(delete.clone(), "/v2/apps/{}", None),
        c(get.clone(), "/v2/apps/{}/config", None),
        c(
            post.clone(),
            "/v2/apps/{}/config",
            Some(json!({"values": {"A": "1"}})),
        ),
        c(get.clone(), "/v2/apps/{}/builds", None),
        c(
            post.clone(),
            "/v2/apps/{}/builds",
            Some(json!({"image": "nginx:1.25"})),
        ),
        c(get.clone(), "/v2/apps/{}/build", None),
        c(
            post.clone(),
            "/v2/apps/{}/build",
            Some(json!({"image": "nginx:1.25"})),
        ),
        c(get.clone(), "/v2/apps/{}/releases", None),
        c(get.clone(), "/v2/apps/{}/releases/v1", None),
        c(get.clone(), "/v2/apps/myapp/releases/{}", None),
        c(post.clone(), "/v2/apps/{}/releases/rollback", empty()),
        c(get.clone(), "/v2/apps/{}/pods", None),
        c(get.clone(), "/v2/apps/{}/pods/web", None),
        PathCase {
            method: get.clone(),
            path: "/v2/apps/myapp/pods/{}",
            body: None,
            empty_list_ok: true,
        },
        c(post.clone(), "/v2/apps/{}/pods/restart", empty()),
        c(post.clone(), "/v2/apps/{}/pods/web/restart", empty()),
        c(post.clone(), "/v2/apps/myapp/pods/{}/restart", empty()),
        c(
            post.clone(),
            "/v2/apps/{}/pods/web/myapp.web.1/restart",
            empty(),
        ),
        c(
            post.clone(),
            "/v2/apps/myapp/pods/{}/myapp.web.1/restart",
            empty(),
        ),
        c(post.clone(), "/v2/apps/myapp/pods/web/{}/restart", empty()),
        c(post.clone(), "/v2/apps/{}/scale", Some(json!({"web": 1}))),
        c(get.clone(), "/v2/apps/{}/logs", None),
        c(
            post.clone(),
            "/v2/apps/{}/run",
            Some(json!({"command": "ls"})),
        ),
        c(get.clone(), "/v2/apps/{}/domains", None),
        c(
            post.clone(),
            "/v2/apps/{}/domains",
            Some(json!({"domain": "new.example.com"})),
        ),
        c(delete.clone(), "/v2/apps/{}/domains/foo.example.com", None),
        c(delete.clone(), "/v2/apps/myapp/domains/{}", None),
        c(get.clone(), "/v2/certs/{}", None),
        c(delete.clone(), "/v2/certs/{}", None),
        c(
            post.clone(),
            "/v2/certs/{}/domain",
            Some(json!({"domain": "foo.example.com"})),
        ),
        c(delete.clone(), "/v2/certs/{}/domain/foo.example.com", None),
        c(delete.clone(), "/v2/certs/mycert/domain/{}", None),
        c(get.clone(), "/v2/apps/{}/tls", None),
        c(
            post.clone(),
            "/v2/apps/{}/tls",
            Some(json!({"https_enforced": true})),
        ),
        c(delete.clone(), "/v2/keys/{}", None),
        c(get.clone(), "/v2/apps/{}/perms", None),
        c(
            post.clone(),
            "/v2/apps/{}/perms",
            Some(json!({"username": "bob"})),
        ),
        c(delete.clone(), "/v2/apps/{}/perms/bob", None),
        c(delete.clone(), "/v2/apps/myapp/perms/{}", None),
        c(delete.clone(), "/v2/admin/perms/{}", None),
        c(get.clone(), "/v2/apps/{}/settings", None),
        c(post.clone(), "/v2/apps/{}/settings", empty()),
        c(get.clone(), "/v2/apps/{}/whitelist", None),
        c(post, "/v2/apps/{}/whitelist", empty()),
    ]
}

dual_test!(hostile_path_parameters, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (alice, _bob) = fixture(&app, dir.path()).await;
    let mut strings = hostile();
    // The longest parameter a request target can carry.
    strings.push(("60 000 bytes", "a".repeat(60_000)));
    for (label, h) in &strings {
        for case in path_cases() {
            let path = case.path.replace("{}", &seg(h));
            let what = format!("{} {} with {label}", case.method, case.path);
            if path.len() > MAX_URI_BYTES {
                // Too long for an HTTP client library to even form; hyper answers
                // 414 itself (no body), before any of Drydock runs.
                assert!(call_or_414(&app, case.method.clone(), &path, &alice)
                    .await
                    .is_none());
                continue;
            }
            let r = app
                .call(case.method.clone(), &path, Some(&alice), case.body.clone())
                .await;
            if case.empty_list_ok && r.status == StatusCode::OK {
                assert_eq!(r.body["count"], 0, "{what}: {}", show(&r.text));
                continue;
            }
            refused(&r, &what);
        }
    }
    assert_fixture_intact(&app, &alice).await;
    assert_daemon_lines_clean(&app);
    assert_sim_names_clean(&app, &["myapp"], &["foo.example.com"]);
});

dual_test!(hostile_app_body_fields, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = fixture(&app, dir.path()).await;
    let probe = |path: &str| json!({"livenessProbe": {"httpGet": {"path": path, "port": 8080}}});
    for (label, h) in hostile() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));

        // App ids, owners, collaborators and domains name things: never valid here.
        refused(
            &app.post("/v2/apps", &alice, json!({"id": h})).await,
            &w("apps id"),
        );
        refused(
            &app.post("/v2/apps/myapp", &alice, json!({"owner": h}))
                .await,
            &w("apps owner"),
        );
        refused(
            &app.post("/v2/apps/myapp/perms", &alice, json!({"username": h}))
                .await,
            &w("perms username"),
        );
        refused(
            &app.post("/v2/apps/myapp/domains", &alice, json!({"domain": h}))
                .await,
            &w("domains domain"),
        );
        refused(
            &app.post("/v2/certs/mycert/domain", &alice, json!({"domain": h}))
                .await,
            &w("certs domain"),
        );

        // Config: keys, limits and tags are names; values, registry and health checks are data.
        for (section, body) in [
            ("values key", json!({"values": {h.clone(): "x"}})),
            ("memory key", json!({"memory": {h.clone(): "512M"}})),
            ("memory value", json!({"memory": {"web": h}})),
            ("cpu key", json!({"cpu": {h.clone(): "500m"}})),
            ("cpu value", json!({"cpu": {"web": h}})),
            ("registry key", json!({"registry": {h.clone(): "x"}})),
            (
                "healthcheck key",
                json!({"healthcheck": {h.clone(): probe("/")}}),
            ),
        ] {
            refused(
                &app.post("/v2/apps/myapp/config", &alice, body).await,
                &w(&format!("config {section}")),
            );
        }
        let r = app
            .post(
                "/v2/apps/myapp/config",
                &alice,
                json!({"values": {"HOSTILE": h}}),
            )
            .await;
        if accepted(&r, &w("config values value")) {
            assert_eq!(r.body["values"]["HOSTILE"].as_str(), Some(h.as_str()));
            let r = app.get("/v2/apps/myapp/config", &alice).await;
            assert_eq!(r.body["values"]["HOSTILE"].as_str(), Some(h.as_str()));
            let sim = app.dokku();
            assert_eq!(
                sim.app("myapp").unwrap().config.get("HOSTILE"),
                Some(&h),
                "{}: dokku holds exactly the value",
                w("config values value")
            );
            let token = format!("HOSTILE={}", b64(h.as_bytes()));
            assert!(
                app.sim
                    .commands()
                    .iter()
                    .any(|l| l.split(' ').any(|t| t == token) && l.contains("config:set")),
                "{}: the value reached dokku base64-encoded",
                w("config values value")
            );
        } else {
            assert!(h.contains('\0'), "{}: refused", w("config values value"));
        }
        // Tags are stored for the clients only (Dokku has no scheduler tags); a
        // tag may be `--force`, which is as harmless as any other word there.
        for (what, tags) in [
            ("tags key", json!({h.clone(): "x"})),
            ("tags value", json!({"zone": h})),
        ] {
            let r = app
                .post(
                    "/v2/apps/myapp/config",
                    &alice,
                    json!({"tags": tags.clone()}),
                )
                .await;
            if accepted(&r, &w(&format!("config {what}"))) {
                let r = app.get("/v2/apps/myapp/config", &alice).await;
                for (k, v) in tags.as_object().unwrap() {
                    assert_eq!(&r.body["tags"][k], v, "{}", w(what));
                }
                let r = app
                    .post(
                        "/v2/apps/myapp/config",
                        &alice,
                        json!({"tags": tags.as_object().unwrap().keys().map(|k| (k.clone(), Value::Null)).collect::<serde_json::Map<_, _>>()}),
                    )
                    .await;
                assert_eq!(r.status, 201, "unset tags: {}", r.text);
            }
        }
        let r = app
            .post(
                "/v2/apps/myapp/config",
                &alice,
                json!({"registry": {"username": h}}),
            )
            .await;
        if accepted(&r, &w("config registry value")) {
            let r = app.get("/v2/apps/myapp/config", &alice).await;
            assert_eq!(r.body["registry"]["username"].as_str(), Some(h.as_str()));
        }
        for (what, check) in [
            ("httpGet path", probe(&format!("/{h}"))),
            (
                "exec command",
                json!({"readinessProbe": {"exec": {"command": ["/bin/check", h]}}}),
            ),
        ] {
            let r = app
                .post(
                    "/v2/apps/myapp/config",
                    &alice,
                    json!({"healthcheck": {"web": null}}),
                )
                .await;
            assert!(
                r.status == 201 || r.status == 422,
                "reset healthcheck: {}",
                r.text
            );
            let r = app
                .post(
                    "/v2/apps/myapp/config",
                    &alice,
                    json!({"healthcheck": {"web": check.clone()}}),
                )
                .await;
            if accepted(&r, &w(&format!("config healthcheck {what}"))) {
                let r = app.get("/v2/apps/myapp/config", &alice).await;
                assert_eq!(r.body["healthcheck"]["web"], check, "{}", w(what));
            }
        }

        // Builds: the image, process types and sha are names; commands and the Dockerfile are data.
        for (field, body) in [
            ("image", json!({"image": h})),
            (
                "procfile type",
                json!({"image": "nginx:1.25", "procfile": {h.clone(): "run"}}),
            ),
            ("sha", json!({"image": "nginx:1.25", "sha": h})),
        ] {
            refused(
                &app.post("/v2/apps/myapp/builds", &alice, body).await,
                &w(&format!("builds {field}")),
            );
        }
        let body = json!({"image": "nginx:1.25", "procfile": {"web": h, "worker": "sleep 1000"}, "dockerfile": h});
        let r = app.post("/v2/apps/myapp/builds", &alice, body).await;
        if accepted(&r, &w("builds procfile command and dockerfile")) {
            let r = app.get("/v2/apps/myapp/builds", &alice).await;
            let latest = &r.body["results"][0];
            assert_eq!(latest["procfile"]["web"].as_str(), Some(h.as_str()));
            assert_eq!(latest["dockerfile"].as_str(), Some(h.as_str()));
            let sim = app.dokku();
            let deploy = sim.app("myapp").unwrap().deploy.clone().unwrap();
            // Dokku's Procfile parser strips the blanks around a command, which a shell ignores anyway.
            assert_eq!(
                deploy.procfile["web"],
                h.trim(),
                "{}",
                w("procfile on dokku")
            );
        } else {
            assert!(
                h.contains(['\n', '\r', '\0']),
                "{}: refused",
                w("builds procfile command and dockerfile")
            );
            // The Dockerfile alone is stored as sent (Drydock writes its own `FROM`).
            let r = app
                .post(
                    "/v2/apps/myapp/builds",
                    &alice,
                    json!({"image": "nginx:1.25", "procfile": {"web": "nginx", "worker": "sleep 1000"}, "dockerfile": h}),
                )
                .await;
            if accepted(&r, &w("builds dockerfile")) {
                assert_eq!(r.body["dockerfile"].as_str(), Some(h.as_str()));
            } else {
                assert!(h.contains('\0'), "{}: refused", w("builds dockerfile"));
            }
        }

        // Numbers and booleans given as hostile strings.
        refused(
            &app.post(
                "/v2/apps/myapp/releases/rollback",
                &alice,
                json!({"version": h}),
            )
            .await,
            &w("rollback version"),
        );
        refused(
            &app.post("/v2/apps/myapp/scale", &alice, json!({h.clone(): 1}))
                .await,
            &w("scale type"),
        );
        refused(
            &app.post("/v2/apps/myapp/scale", &alice, json!({"web": h}))
                .await,
            &w("scale count"),
        );
        refused(
            &app.post("/v2/apps/myapp/tls", &alice, json!({"https_enforced": h}))
                .await,
            &w("tls https_enforced"),
        );
        refused(
            &app.post("/v2/apps/myapp/settings", &alice, json!({"maintenance": h}))
                .await,
            &w("settings"),
        );
        refused(
            &app.post(
                "/v2/apps/myapp/whitelist",
                &alice,
                json!({"addresses": [h]}),
            )
            .await,
            &w("whitelist"),
        );
        let logs = format!("/v2/apps/myapp/logs?log_lines={}", seg(&h));
        if let Some(r) = call_or_414(&app, Method::GET, &logs, &alice).await {
            refused(&r, &w("logs log_lines"));
        }

        // One-off commands run exactly as typed.
        let runs_before = app.dokku().app("myapp").unwrap().runs.len();
        let r = app
            .post("/v2/apps/myapp/run", &bob, json!({"command": h}))
            .await;
        if accepted(&r, &w("run command")) {
            assert!(r.body["exit_code"].is_i64(), "{}", r.text);
            let sim = app.dokku();
            let runs = &sim.app("myapp").unwrap().runs;
            assert_eq!(runs.len(), runs_before + 1);
            assert_eq!(
                runs.last().unwrap().command.as_deref(),
                Some(h.as_str()),
                "{}: dokku ran exactly the command",
                w("run command")
            );
        } else {
            assert!(h.contains('\0'), "{}: refused", w("run command"));
            assert_eq!(app.dokku().app("myapp").unwrap().runs.len(), runs_before);
        }
    }

    // Config values and commands: 64 KiB is the limit, a byte more is refused before anything is stored.
    let releases = app.get("/v2/apps/myapp/releases", &alice).await.body["count"].clone();
    let over = "B".repeat(MAX_VALUE_BYTES + 1);
    let r = app
        .post(
            "/v2/apps/myapp/config",
            &alice,
            json!({"values": {"BIG": over}}),
        )
        .await;
    refused(&r, "config value over 64 KiB");
    assert!(
        r.body["values"][0].as_str().unwrap().contains("65536"),
        "{}",
        r.text
    );
    let r = app
        .post("/v2/apps/myapp/run", &alice, json!({"command": over}))
        .await;
    refused(&r, "command over 64 KiB");
    assert_eq!(
        app.get("/v2/apps/myapp/releases", &alice).await.body["count"],
        releases
    );
    assert!(!app.dokku().app("myapp").unwrap().config.contains_key("BIG"));

    assert_fixture_intact(&app, &alice).await;
    assert_daemon_lines_clean(&app);
    assert_sim_names_clean(&app, &["myapp"], &["foo.example.com"]);
});

dual_test!(hostile_cert_and_key_fields, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (alice, _bob) = fixture(&app, dir.path()).await;
    let (crt, key) = self_signed(dir.path(), "bar.example.com");
    app.app(&alice, "other").await;
    let r = app
        .post(
            "/v2/apps/other/domains",
            &alice,
            json!({"domain": "bar.example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for (i, (label, h)) in hostile().into_iter().enumerate() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));
        refused(
            &app.post(
                "/v2/certs",
                &alice,
                json!({"name": h, "certificate": crt, "key": key}),
            )
            .await,
            &w("certs name"),
        );
        refused(
            &app.post(
                "/v2/certs",
                &alice,
                json!({"name": "c", "certificate": h, "key": key}),
            )
            .await,
            &w("certs certificate"),
        );
        refused(
            &app.post(
                "/v2/certs",
                &alice,
                json!({"name": "c", "certificate": crt, "key": h}),
            )
            .await,
            &w("certs key"),
        );
        // Text before a PEM block is explanatory text (RFC 7468) and is dropped:
        // only the parsed blocks are kept, so none of it reaches Dokku.
        let r = app
            .post(
                "/v2/certs",
                &alice,
                json!({"name": "c", "certificate": format!("{h}\n{crt}"), "key": format!("{h}\n{key}")}),
            )
            .await;
        if accepted(&r, &w("certs certificate and key with a prefix")) {
            assert_eq!(r.body["common_name"], "bar.example.com");
            let r = app
                .post(
                    "/v2/certs/c/domain",
                    &alice,
                    json!({"domain": "bar.example.com"}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            let sim = app.dokku();
            let installed = sim.app("other").unwrap().cert.clone().unwrap();
            // A prefix made only of base64 and newlines (`a\nb`) may occur
            // inside the PEM's own lines by chance; anything else may not.
            let base64_like = h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=\n".contains(c));
            for pem in [&installed.crt, &installed.key] {
                assert!(pem.starts_with("-----BEGIN "), "{}", w("installed PEM"));
                assert!(
                    !h.is_empty() && (base64_like || !pem.contains(&h)),
                    "{}",
                    w("installed PEM")
                );
            }
            let r = app.delete("/v2/certs/c", &alice).await;
            assert_eq!(r.status, 204, "{}", r.text);
            assert!(app.dokku().app("other").unwrap().cert.is_none());
        } else {
            // Text beyond the size bounds is refused before any parsing.
            let oversized = h.len() + key.len() > drydock_domain::certificate::MAX_KEY_PEM;
            assert!(
                h.contains('\0') || (oversized && r.text.contains("larger than")),
                "{}: refused: {}",
                w("certs with a prefix"),
                r.text
            );
        }

        refused(
            &app.post("/v2/keys", &alice, json!({"id": "k", "public": h}))
                .await,
            &w("keys public"),
        );
        let (line, _) = gen_key(dir.path(), &format!("k{i}"), "hostile@example.com");
        refused(
            &app.post(
                "/v2/keys",
                &alice,
                json!({"id": "k", "public": format!("{line} {h}\nssh-ed25519 AAAA")}),
            )
            .await,
            &w("keys public with a second line"),
        );
        let r = app
            .post("/v2/keys", &alice, json!({"id": h, "public": line}))
            .await;
        if accepted(&r, &w("keys id")) {
            // Like every DRF CharField, the id loses its surrounding whitespace.
            let stored = h.trim();
            assert_eq!(r.body["id"].as_str(), Some(stored), "{}", w("keys id"));
            let r = app.get("/v2/keys", &alice).await;
            assert!(
                r.body["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["id"].as_str() == Some(stored)),
                "{}",
                w("keys id read back")
            );
            let r = app
                .delete(&format!("/v2/keys/{}", seg(stored)), &alice)
                .await;
            assert_eq!(r.status, 204, "{}: {}", w("keys id delete"), r.text);
            assert_eq!(app.dokku().ssh_keys.len(), 1, "{}", w("keys id removed"));
        } else {
            assert!(
                h.contains('\0') || h.trim().len() > 128 || h.trim().is_empty(),
                "{}: refused",
                w("keys id")
            );
        }
    }
    let r = app.get("/v2/certs", &alice).await;
    assert_eq!(r.body["count"], 1, "{}", r.text);
    assert_fixture_intact(&app, &alice).await;
    assert_daemon_lines_clean(&app);
    assert_sim_names_clean(
        &app,
        &["myapp", "other"],
        &["foo.example.com", "bar.example.com"],
    );
});

dual_test!(hostile_account_fields, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (alice, _bob) = fixture(&app, dir.path()).await;
    let register = |body: Value| {
        let app = &app;
        async move {
            app.call(Method::POST, "/v2/auth/register", None, Some(body))
                .await
        }
    };
    for (i, (label, h)) in hostile().into_iter().enumerate() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));
        let user = format!("user{i}");

        // Username: letters, digits and @/./+/-/_ only; anything else is refused.
        let r = register(json!({"username": h, "password": "pw"})).await;
        if accepted(&r, &w("register username")) {
            assert_eq!(r.body["username"].as_str(), Some(h.as_str()));
            let t = app.login(&h, "pw").await;
            let r = app.get("/v2/auth/whoami", &t).await;
            assert_eq!(r.body["username"].as_str(), Some(h.as_str()));
            let r = app
                .call(Method::DELETE, "/v2/auth/cancel", Some(&t), Some(json!({})))
                .await;
            assert_eq!(r.status, 204, "{}", r.text);
        }

        // Names and passwords are data: stored (or hashed) exactly, or refused with a field message.
        let body = json!({
            "username": user,
            "password": h,
            "email": format!("{h}@example.com"),
            "first_name": h,
            "last_name": h,
        });
        let r = register(body).await;
        if accepted(&r, &w("register password/email/names")) {
            for f in ["first_name", "last_name"] {
                assert_eq!(r.body[f].as_str(), Some(h.as_str()), "{}", w(f));
            }
            assert_eq!(
                r.body["email"].as_str(),
                Some(format!("{h}@example.com").as_str())
            );
            let t = app.login(&user, &h).await;
            let r = app.get("/v2/auth/whoami", &t).await;
            assert_eq!(r.body["first_name"].as_str(), Some(h.as_str()));
        } else {
            // Refused fields are named; register the user plainly, then try them one by one.
            assert!(r.body.is_object(), "{}", r.text);
            let r = register(json!({"username": user, "password": "pw"})).await;
            assert_eq!(r.status, 201, "{}", r.text);
            for field in ["first_name", "last_name", "email"] {
                let value = if field == "email" {
                    format!("{h}@example.com")
                } else {
                    h.clone()
                };
                let r = register(
                    json!({"username": format!("{user}{field}"), "password": "pw", field: value}),
                )
                .await;
                if accepted(&r, &w(&format!("register {field}"))) {
                    assert_eq!(r.body[field].as_str(), Some(value.as_str()));
                }
            }
            let r = register(json!({"username": format!("{user}pw"), "password": h})).await;
            if accepted(&r, &w("register password")) {
                app.login(&format!("{user}pw"), &h).await;
            }
        }
    }

    // Password changes: a hostile new password works exactly as sent.
    let mut current = "carol-pw".to_owned();
    let carol = app.user("carol").await;
    for (label, h) in hostile() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));
        let r = app
            .post(
                "/v2/auth/passwd",
                &carol,
                json!({"password": current, "new_password": h}),
            )
            .await;
        if accepted(&r, &w("passwd new_password")) {
            current = h.clone();
            app.login("carol", &current).await;
        }
    }

    // Settle on a password no hostile string equals, for the wrong-password checks below.
    let r = app
        .post(
            "/v2/auth/passwd",
            &carol,
            json!({"password": current, "new_password": "carol-final-pw"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Names of other users: never found. (Admin alice may name anyone.)
    for (label, h) in hostile() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));
        refused(
            &app.post("/v2/admin/perms", &alice, json!({"username": h}))
                .await,
            &w("admin perms username"),
        );
        refused(
            &app.post("/v2/auth/tokens", &alice, json!({"username": h}))
                .await,
            &w("tokens username"),
        );
        refused(
            &app.post(
                "/v2/auth/passwd",
                &alice,
                json!({"username": h, "new_password": "x"}),
            )
            .await,
            &w("passwd username"),
        );
        refused(
            &app.call(
                Method::DELETE,
                "/v2/auth/cancel",
                Some(&alice),
                Some(json!({"username": h})),
            )
            .await,
            &w("cancel username"),
        );
    }

    // `all` is a flag: no hostile string turns it on, so each request just
    // replaces the caller's own token (a non-admin's, who could not revoke all).
    let mut dave = app.user("dave").await;
    for (label, h) in hostile() {
        let what = format!("tokens all = {label} ({})", show(&h));
        let r = app.post("/v2/auth/tokens", &dave, json!({"all": h})).await;
        assert!(accepted(&r, &what), "{what}: {}", r.text);
        let fresh = r.body["token"].as_str().expect("a new token").to_owned();
        assert_eq!(
            app.get("/v2/auth/whoami", &dave).await.status,
            401,
            "{what}"
        );
        dave = fresh;
        assert_eq!(
            app.get("/v2/auth/whoami", &dave).await.body["username"],
            "dave"
        );
    }

    // Wrong credentials last: failures count against the caller's address, and
    // a 429 once the allowance is used up is a fair refusal too.
    for (label, h) in hostile() {
        let w = |field: &str| format!("{field} = {label} ({})", show(&h));
        refused(
            &app.call(
                Method::POST,
                "/v2/auth/login",
                None,
                Some(json!({"username": h, "password": "x"})),
            )
            .await,
            &w("login username"),
        );
        refused(
            &app.call(
                Method::POST,
                "/v2/auth/login",
                None,
                Some(json!({"username": "alice", "password": h})),
            )
            .await,
            &w("login password"),
        );
        refused(
            &app.post(
                "/v2/auth/passwd",
                &carol,
                json!({"password": h, "new_password": "x"}),
            )
            .await,
            &w("passwd password"),
        );
    }
    let r = app.get("/v2/auth/whoami", &alice).await;
    assert_eq!(r.body["is_superuser"], true, "{}", r.text);
    assert_fixture_intact(&app, &alice).await;
    assert_daemon_lines_clean(&app);
    assert_sim_names_clean(&app, &["myapp"], &["foo.example.com"]);
});

dual_test!(invalid_utf8_is_refused, |app| {
    let dir = tempfile::tempdir().unwrap();
    let (alice, _bob) = fixture(&app, dir.path()).await;
    // Invalid UTF-8 in a JSON string: a lone continuation byte, an overlong `/`, a surrogate.
    let bad: [&[u8]; 3] = [b"a\xffb", b"\xc0\xaf", b"\xed\xa0\x80"];
    let bodies: Vec<(Method, &str, &str)> = vec![
        (Method::POST, "/v2/apps", r#"{"id": "#),
        (Method::POST, "/v2/apps/myapp", r#"{"owner": "#),
        (
            Method::POST,
            "/v2/apps/myapp/config",
            r#"{"values": {"K": "#,
        ),
        (
            Method::POST,
            "/v2/apps/myapp/config",
            r#"{"registry": {"username": "#,
        ),
        (Method::POST, "/v2/apps/myapp/builds", r#"{"image": "#),
        (
            Method::POST,
            "/v2/apps/myapp/build",
            r#"{"image": "nginx", "dockerfile": "#,
        ),
        (
            Method::POST,
            "/v2/apps/myapp/builds",
            r#"{"image": "nginx", "procfile": {"web": "#,
        ),
        (Method::POST, "/v2/apps/myapp/scale", r#"{"web": "#),
        (Method::POST, "/v2/apps/myapp/run", r#"{"command": "#),
        (Method::POST, "/v2/apps/myapp/domains", r#"{"domain": "#),
        (Method::POST, "/v2/apps/myapp/perms", r#"{"username": "#),
        (Method::POST, "/v2/apps/myapp/tls", r#"{"https_enforced": "#),
        (
            Method::POST,
            "/v2/apps/myapp/releases/rollback",
            r#"{"version": "#,
        ),
        (Method::POST, "/v2/certs", r#"{"name": "#),
        (Method::POST, "/v2/certs/mycert/domain", r#"{"domain": "#),
        (Method::POST, "/v2/keys", r#"{"public": "x", "id": "#),
        (Method::POST, "/v2/admin/perms", r#"{"username": "#),
        (Method::POST, "/v2/auth/tokens", r#"{"username": "#),
        (
            Method::POST,
            "/v2/auth/passwd",
            r#"{"password": "alice-pw", "new_password": "#,
        ),
        (Method::DELETE, "/v2/auth/cancel", r#"{"username": "#),
        (
            Method::POST,
            "/v2/auth/register",
            r#"{"username": "z", "password": "#,
        ),
        (Method::POST, "/v2/auth/login", r#"{"username": "#),
    ];
    for (method, path, prefix) in &bodies {
        for b in bad {
            let mut body = prefix.as_bytes().to_vec();
            body.push(b'"');
            body.extend_from_slice(b);
            body.push(b'"');
            let closing = prefix.matches('{').count();
            body.extend(std::iter::repeat_n(b'}', closing));
            let r = raw(&app, method.clone(), path, &alice, body).await;
            let what = format!("{method} {path} with bytes {b:?}");
            refused(&r, &what);
            assert_eq!(r.status, 400, "{what}");
        }
    }
    // Percent-encoded invalid UTF-8 in path segments and the query.
    for path in [
        "/v2/apps/%FF",
        "/v2/apps/my%FFapp/config",
        "/v2/apps/myapp/domains/%C0%AF",
        "/v2/apps/myapp/releases/v%ED%A0%80",
        "/v2/apps/myapp/pods/%FF/restart",
        "/v2/certs/%FE",
        "/v2/keys/%FF%FE",
        "/v2/apps/myapp/perms/%80",
        "/v2/admin/perms/%FF",
    ] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let r = app
                .call(method.clone(), path, Some(&alice), Some(json!({})))
                .await;
            refused(&r, &format!("{method} {path}"));
        }
    }
    let r = app.get("/v2/apps/myapp/logs?log_lines=%FF", &alice).await;
    refused(&r, "logs log_lines=%FF");
    assert_fixture_intact(&app, &alice).await;
    assert_daemon_lines_clean(&app);
    assert_sim_names_clean(&app, &["myapp"], &["foo.example.com"]);
});

/// Sends a request over a plain socket, for what an HTTP client library will
/// not form: request targets over 64 KiB, bodies in chunks of our choosing.
/// `body` is sent with chunked transfer encoding when `headers` ask for it.
/// Returns the status code and the JSON part of the answer's body.
fn raw_http(
    base: &str,
    method: &str,
    path: &str,
    token: &str,
    headers: &[&str],
    body: &[u8],
) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: token {token}\r\nConnection: close\r\n"
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    // The server may answer and close before reading everything: write errors are expected.
    if s.write_all(head.as_bytes()).is_ok() && headers.contains(&"Transfer-Encoding: chunked") {
        for chunk in body.chunks(16 * 1024) {
            let mut frame = format!("{:X}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(chunk);
            frame.extend_from_slice(b"\r\n");
            if s.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // The JSON object of the body, whatever the answer's own framing.
    let body = match (text.find('{'), text.rfind('}')) {
        (Some(a), Some(b)) if a < b => text[a..=b].to_owned(),
        _ => text,
    };
    (status, body)
}

dual_test!(oversized_bodies_get_413, |app| {
    let alice = app.user("alice").await;
    app.app(&alice, "myapp").await;
    let big = "x".repeat(600 * 1024);
    let cases = [
        (
            Method::POST,
            "/v2/apps/myapp/config",
            json!({"values": {"BIG": big}}),
        ),
        (Method::POST, "/v2/apps", json!({"id": big})),
        (
            Method::POST,
            "/v2/auth/register",
            json!({"username": "u", "password": big}),
        ),
        (Method::POST, "/v2/apps/myapp/run", json!({"command": big})),
        (Method::POST, "/v2/keys", json!({"id": "k", "public": big})),
    ];
    for (method, path, body) in cases {
        let r = app
            .call(method.clone(), path, Some(&alice), Some(body.clone()))
            .await;
        let what = format!("{method} {path} with a 600 KiB body");
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{what}: {}",
            r.text
        );
        refused(&r, &what);
        assert!(
            r.body["detail"].as_str().unwrap().contains("larger than"),
            "{what}: {}",
            r.text
        );
        // The same body without a Content-Length (chunked) is refused alike.
        let base = app.base.clone();
        let token = alice.clone();
        let bytes = serde_json::to_vec(&body).unwrap();
        let (status, text) = tokio::task::spawn_blocking(move || {
            raw_http(
                &base,
                "POST",
                path,
                &token,
                &[
                    "Content-Type: application/json",
                    "Transfer-Encoding: chunked",
                ],
                &bytes,
            )
        })
        .await
        .unwrap();
        assert_eq!(status, 413, "{what}, chunked: {text}");
        let v: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
        assert!(v["detail"].is_string(), "{what}, chunked: {text}");
    }
    // Just under the limit is read (and judged on its content).
    let r = app
        .post(
            "/v2/apps/myapp/config",
            &alice,
            json!({"values": {"BIG": "y".repeat(500 * 1024)}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["values"][0].is_string(), "{}", r.text);
    let r = app.get("/v2/apps/myapp/config", &alice).await;
    assert_eq!(r.body["values"], json!({}));
});
