//! Every endpoint against every role — anonymous, stranger, collaborator,
//! owner, admin — in one table: the rules of docs/permissions.md, cell by
//! cell. The table must name every route in the OpenAPI document, so a new
//! route without a row fails here.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::domains_certs::gen_cert;
use crate::dual_test;
use crate::keys_perms::gen_key;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Anonymous,
    Stranger,
    Collaborator,
    Owner,
    Admin,
}

const ROLES: [Role; 5] = [
    Role::Anonymous,
    Role::Stranger,
    Role::Collaborator,
    Role::Owner,
    Role::Admin,
];

fn tag(role: Role) -> String {
    format!("{role:?}").to_lowercase()
}

/// Expected status per role, in the order of [`ROLES`].
type Expect = [u16; 5];

/// Anyone, signed in or not.
fn public(ok: u16) -> Expect {
    [ok; 5]
}
/// Any signed-in user.
fn signed_in(ok: u16) -> Expect {
    [401, ok, ok, ok, ok]
}
/// The app's owner, its collaborators and admins.
fn app_users(ok: u16) -> Expect {
    [401, 403, ok, ok, ok]
}
/// The app's (or certificate's) owner and admins.
fn owner_and_admin(ok: u16) -> Expect {
    [401, 403, 403, ok, ok]
}
/// A certificate's owner and admins; to anyone else it is not found, as in the reference.
fn cert_owner_and_admin(ok: u16) -> Expect {
    [401, 404, 404, ok, ok]
}
/// Admins only.
fn admin_only(ok: u16) -> Expect {
    [401, 403, 403, 403, ok]
}

/// Nobody with a token: only the builder key opens it (tests/api/git_push.rs).
fn builder_only() -> Expect {
    [401, 403, 403, 403, 403]
}

type PathFn = Box<dyn Fn(Role) -> String>;
type BodyFn = Box<dyn Fn(Role) -> Option<Value>>;

/// One route: how to call it as each role, and what each role must get.
struct Row {
    method: Method,
    /// The route as the OpenAPI document spells it.
    template: &'static str,
    path: PathFn,
    body: BodyFn,
    expect: Expect,
    /// The call revokes the caller's tokens; log everyone in again after it.
    reissues_tokens: bool,
}

fn row(method: Method, template: &'static str, path: &str, expect: Expect) -> Row {
    let path = path.to_owned();
    Row {
        method,
        template,
        path: Box::new(move |_| path.clone()),
        body: Box::new(|_| None),
        expect,
        reissues_tokens: false,
    }
}

impl Row {
    fn body(mut self, f: impl Fn(Role) -> Value + 'static) -> Self {
        self.body = Box::new(move |r| Some(f(r)));
        self
    }

    fn path(mut self, f: impl Fn(Role) -> String + 'static) -> Self {
        self.path = Box::new(f);
        self
    }

    fn reissues_tokens(mut self) -> Self {
        self.reissues_tokens = true;
        self
    }
}

/// What the fixture made that rows refer to.
struct Fixture {
    pod: String,
    build: String,
    cert: String,
    key: String,
    public_keys: Vec<String>,
}

/// The whole table, in the order it runs: reads and creations first, then
/// the calls that remove what later rows would need.
fn rows(f: &Fixture) -> Vec<Row> {
    use Method as M;
    let pod = f.pod.clone();
    let build = format!("/v2/apps/m/builds/{}", f.build);
    let (cert, key) = (f.cert.clone(), f.key.clone());
    let public_keys = f.public_keys.clone();
    let role_index = |r: Role| ROLES.iter().position(|x| *x == r).unwrap_or_default();
    vec![
        // Accounts.
        row(M::POST, "/v2/auth/register", "/v2/auth/register", public(201)).body(|r| {
            json!({"username": format!("reg-{}", tag(r)), "password": "reg-pw"})
        }),
        row(M::POST, "/v2/auth/login", "/v2/auth/login", public(200))
            .body(|r| json!({"username": format!("reg-{}", tag(r)), "password": "reg-pw"})),
        row(M::GET, "/v2/auth/whoami", "/v2/auth/whoami", signed_in(200)),
        row(M::POST, "/v2/auth/passwd", "/v2/auth/passwd", signed_in(200)).body(|r| match r {
            Role::Admin => json!({"username": "reg-admin", "new_password": "reg-pw"}),
            _ => json!({"password": format!("{}-pw", user_of(r)), "new_password": format!("{}-pw", user_of(r))}),
        }),
        row(M::GET, "/v2/users", "/v2/users", admin_only(200)),
        row(M::GET, "/v2/admin/perms", "/v2/admin/perms", admin_only(200)),
        row(M::POST, "/v2/admin/perms", "/v2/admin/perms", admin_only(201))
            .body(|_| json!({"username": "reg-admin"})),
        row(
            M::DELETE,
            "/v2/admin/perms/{username}",
            "/v2/admin/perms/alice",
            admin_only(204),
        )
        .path(|r| match r {
            Role::Admin => "/v2/admin/perms/reg-admin".into(),
            _ => "/v2/admin/perms/alice".into(),
        }),
        // Client probes and health.
        row(M::GET, "/v2", "/v2/", signed_in(200)),
        row(M::GET, "/healthz", "/healthz", public(200)),
        row(M::GET, "/readyz", "/readyz", public(200)),
        row(M::GET, "/readiness", "/readiness", public(200)),
        // Apps.
        row(M::GET, "/v2/apps", "/v2/apps", signed_in(200)),
        row(M::POST, "/v2/apps", "/v2/apps", signed_in(201))
            .body(|r| json!({"id": format!("new-{}", tag(r))})),
        row(M::GET, "/v2/apps/{id}", "/v2/apps/m", app_users(200)),
        row(M::POST, "/v2/apps/{id}", "/v2/apps/m", owner_and_admin(200))
            .body(|_| json!({"owner": "bob"})),
        row(M::GET, "/v2/apps/{id}/config", "/v2/apps/m/config", app_users(200)),
        row(M::POST, "/v2/apps/{id}/config", "/v2/apps/m/config", app_users(201))
            .body(|r| json!({"values": {format!("K_{}", tag(r)): "1"}})),
        row(M::GET, "/v2/apps/{id}/builds", "/v2/apps/m/builds", app_users(200)),
        row(M::GET, "/v2/apps/{id}/builds/{uuid}", &build, app_users(200)),
        row(M::POST, "/v2/apps/{id}/builds", "/v2/apps/m/builds", app_users(201))
            .body(|r| json!({"image": format!("img:{}", tag(r))})),
        row(M::GET, "/v2/apps/{id}/build", "/v2/apps/m/build", app_users(200)),
        row(M::POST, "/v2/apps/{id}/build", "/v2/apps/m/build", app_users(201))
            .body(|r| json!({"image": format!("img:single-{}", tag(r))})),
        row(M::GET, "/v2/apps/{id}/releases", "/v2/apps/m/releases", app_users(200)),
        row(
            M::GET,
            "/v2/apps/{id}/releases/{version}",
            "/v2/apps/m/releases/v1",
            app_users(200),
        ),
        row(
            M::POST,
            "/v2/apps/{id}/releases/rollback",
            "/v2/apps/m/releases/rollback",
            app_users(201),
        )
        .body(|_| json!({"version": 2})),
        row(M::GET, "/v2/apps/{id}/pods", "/v2/apps/m/pods", app_users(200)),
        row(M::GET, "/v2/apps/{id}/pods/{ptype}", "/v2/apps/m/pods/cmd", app_users(200)),
        row(
            M::POST,
            "/v2/apps/{id}/pods/restart",
            "/v2/apps/m/pods/restart",
            app_users(200),
        ),
        row(
            M::POST,
            "/v2/apps/{id}/pods/{which}/restart",
            "/v2/apps/m/pods/cmd/restart",
            app_users(200),
        ),
        row(
            M::POST,
            "/v2/apps/{id}/pods/{ptype}/{name}/restart",
            &format!("/v2/apps/m/pods/cmd/{pod}/restart"),
            app_users(200),
        ),
        row(M::POST, "/v2/apps/{id}/scale", "/v2/apps/m/scale", app_users(204))
            .body(|_| json!({"cmd": 1})),
        row(M::GET, "/v2/apps/{id}/logs", "/v2/apps/m/logs", app_users(200)),
        row(M::POST, "/v2/apps/{id}/run", "/v2/apps/m/run", app_users(200))
            .body(|_| json!({"command": "echo ok"})),
        row(M::GET, "/v2/apps/{id}/domains", "/v2/apps/m/domains", app_users(200)),
        row(M::POST, "/v2/apps/{id}/domains", "/v2/apps/m/domains", app_users(201))
            .body(|r| json!({"domain": format!("{}.m.example.org", tag(r))})),
        row(M::GET, "/v2/apps/{id}/tls", "/v2/apps/m/tls", app_users(200)),
        // Alternating, since setting the value already set is 409.
        row(M::POST, "/v2/apps/{id}/tls", "/v2/apps/m/tls", app_users(201))
            .body(move |r| json!({"https_enforced": role_index(r) % 2 == 0})),
        row(M::GET, "/v2/apps/{id}/perms", "/v2/apps/m/perms", app_users(200)),
        row(M::POST, "/v2/apps/{id}/perms", "/v2/apps/m/perms", owner_and_admin(201))
            .body(|r| json!({"username": format!("extra-{}", tag(r))})),
        row(M::GET, "/v2/apps/{id}/settings", "/v2/apps/m/settings", app_users(200)),
        // Changing settings has no Dokku core equivalent: refused after the permission check.
        row(M::POST, "/v2/apps/{id}/settings", "/v2/apps/m/settings", app_users(400))
            .body(|_| json!({"maintenance": true})),
        row(M::GET, "/v2/apps/{id}/whitelist", "/v2/apps/m/whitelist", app_users(200)),
        row(M::POST, "/v2/apps/{id}/whitelist", "/v2/apps/m/whitelist", app_users(400))
            .body(|_| json!({"addresses": ["10.0.0.1"]})),
        // Certificates: "owner" is the certificate's owner (bob).
        row(M::GET, "/v2/certs", "/v2/certs", signed_in(200)),
        row(M::POST, "/v2/certs", "/v2/certs", signed_in(201)).body(move |r| {
            json!({"name": format!("cert-{}", tag(r)), "certificate": cert, "key": key})
        }),
        row(M::GET, "/v2/certs/{name}", "/v2/certs/bobcert", cert_owner_and_admin(200)),
        row(
            M::POST,
            "/v2/certs/{name}/domain",
            "/v2/certs/bobcert/domain",
            cert_owner_and_admin(201),
        )
        .body(|r| match r {
            Role::Admin => json!({"domain": "b.m.example.org"}),
            _ => json!({"domain": "a.m.example.org"}),
        }),
        row(
            M::DELETE,
            "/v2/certs/{name}/domain/{domain}",
            "/v2/certs/bobcert/domain/a.m.example.org",
            cert_owner_and_admin(204),
        )
        .path(|r| match r {
            Role::Admin => "/v2/certs/bobcert/domain/b.m.example.org".into(),
            _ => "/v2/certs/bobcert/domain/a.m.example.org".into(),
        }),
        row(M::DELETE, "/v2/certs/{name}", "/v2/certs/bobcert", cert_owner_and_admin(204)).path(
            |r| match r {
                Role::Owner => "/v2/certs/cert-owner".into(),
                Role::Admin => "/v2/certs/cert-stranger".into(),
                _ => "/v2/certs/bobcert".into(),
            },
        ),
        // SSH keys belong to their user alone.
        row(M::GET, "/v2/keys", "/v2/keys", signed_in(200)),
        row(M::POST, "/v2/keys", "/v2/keys", signed_in(201)).body(move |r| {
            json!({"id": format!("key-{}", tag(r)), "public": public_keys[role_index(r)]})
        }),
        row(M::GET, "/v2/keys/{id}", "/v2/keys/key-owner", signed_in(200))
            .path(|r| format!("/v2/keys/key-{}", tag(r))),
        row(M::DELETE, "/v2/keys/{id}", "/v2/keys/key-owner", signed_in(204))
            .path(|r| format!("/v2/keys/key-{}", tag(r))),
        // Builder hooks open to the builder key alone: a user's token is refused.
        row(M::GET, "/v2/hooks/key/{fingerprint}", "/v2/hooks/key/ab:cd", builder_only()),
        row(M::GET, "/v2/hooks/keys/{id}", "/v2/hooks/keys/m", builder_only()),
        row(
            M::GET,
            "/v2/hooks/keys/{id}/{username}",
            "/v2/hooks/keys/m/bob",
            builder_only(),
        ),
        row(M::POST, "/v2/hooks/build", "/v2/hooks/build", builder_only())
            .body(|_| json!({"receive_user": "bob", "receive_repo": "m", "image": "img:hook"})),
        row(M::POST, "/v2/hooks/config", "/v2/hooks/config", builder_only())
            .body(|_| json!({"receive_user": "bob", "receive_repo": "m"})),
        // Removals, last.
        row(
            M::DELETE,
            "/v2/apps/{id}/domains/{domain}",
            "/v2/apps/m/domains/owner.m.example.org",
            app_users(204),
        )
        .path(|r| match r {
            Role::Anonymous | Role::Stranger => "/v2/apps/m/domains/owner.m.example.org".into(),
            other => format!("/v2/apps/m/domains/{}.m.example.org", tag(other)),
        }),
        // A collaborator may remove only themself (checked after the table).
        row(
            M::DELETE,
            "/v2/apps/{id}/perms/{username}",
            "/v2/apps/m/perms/extra-owner",
            owner_and_admin(204),
        )
        .path(|r| match r {
            Role::Admin => "/v2/apps/m/perms/extra-admin".into(),
            _ => "/v2/apps/m/perms/extra-owner".into(),
        }),
        row(M::DELETE, "/v2/apps/{id}", "/v2/apps/m", owner_and_admin(204)).path(|r| match r {
            Role::Owner => "/v2/apps/m-owner".into(),
            Role::Admin => "/v2/apps/m-admin".into(),
            _ => "/v2/apps/m".into(),
        }),
        row(M::POST, "/v2/auth/tokens", "/v2/auth/tokens", signed_in(200)).reissues_tokens(),
        // Everyone may close their own account, so each signed-in role gets as
        // far as the ownership check: by now they all own apps (409). An admin
        // closes someone else's. (auth.rs shows a user without apps leaving.)
        row(
            M::DELETE,
            "/v2/auth/cancel",
            "/v2/auth/cancel",
            [401, 409, 409, 409, 204],
        )
        .body(|r| match r {
            Role::Admin => json!({"username": "reg-admin"}),
            _ => json!({}),
        }),
    ]
}

/// The account each signed-in role uses.
fn user_of(role: Role) -> &'static str {
    match role {
        Role::Anonymous => "",
        Role::Stranger => "dave",
        Role::Collaborator => "carol",
        Role::Owner => "bob",
        Role::Admin => "alice",
    }
}

/// Every (method, path) the server documents.
fn documented_routes() -> BTreeSet<(String, String)> {
    let spec: Value =
        serde_json::from_str(&drydock_api::openapi_service().spec()).expect("spec is JSON");
    spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

dual_test!(every_endpoint_every_role, |app| {
    let dir = tempfile::tempdir().expect("tempdir");
    // alice registers first and so is the admin.
    let mut tokens: Vec<(&str, String)> = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        tokens.push((name, app.user(name).await));
    }
    let token_of = |tokens: &Vec<(&str, String)>, r: Role| -> Option<String> {
        tokens
            .iter()
            .find(|(n, _)| *n == user_of(r) && r != Role::Anonymous)
            .map(|(_, t)| t.clone())
    };
    let owner = token_of(&tokens, Role::Owner).expect("bob");
    for r in ROLES {
        app.user(&format!("extra-{}", tag(r))).await;
    }
    for name in ["m", "m-owner", "m-admin"] {
        app.app(&owner, name).await;
    }
    let setup = [
        ("/v2/apps/m/perms", json!({"username": "carol"})),
        ("/v2/apps/m/builds", json!({"image": "img:base"})),
        ("/v2/apps/m/domains", json!({"domain": "a.m.example.org"})),
        ("/v2/apps/m/domains", json!({"domain": "b.m.example.org"})),
    ];
    for (path, body) in setup {
        let r = app.post(path, &owner, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    let (crt, key, _) = gen_cert(dir.path(), "m", "*.m.example.org", &["*.m.example.org"]);
    let r = app
        .post(
            "/v2/certs",
            &owner,
            json!({"name": "bobcert", "certificate": crt, "key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pods = app.get("/v2/apps/m/pods/cmd", &owner).await;
    let pod = pods.body["results"][0]["name"]
        .as_str()
        .expect("a cmd pod")
        .to_owned();
    let public_keys = ROLES
        .iter()
        .map(|r| gen_key(dir.path(), &tag(*r), "matrix").0)
        .collect();
    let build = app.get("/v2/apps/m/builds", &owner).await.body["results"][0]["uuid"]
        .as_str()
        .expect("the setup build")
        .to_owned();
    let fixture = Fixture {
        pod,
        build,
        cert: crt,
        key,
        public_keys,
    };

    let table = rows(&fixture);
    let tabled: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    assert_eq!(
        tabled,
        documented_routes(),
        "every documented route needs exactly one row in the permission table"
    );
    assert_eq!(tabled.len(), table.len(), "a route has two rows");

    for row in &table {
        for (i, role) in ROLES.into_iter().enumerate() {
            let token = token_of(&tokens, role);
            let path = (row.path)(role);
            let r = app
                .call(
                    row.method.clone(),
                    &path,
                    token.as_deref(),
                    (row.body)(role),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                row.expect[i],
                "{} {path} as {role:?}: {}",
                row.method,
                r.text
            );
        }
        if row.reissues_tokens {
            for (name, token) in tokens.iter_mut() {
                *token = app.login(name, &format!("{name}-pw")).await;
            }
        }
    }
});

dual_test!(collaborators_may_only_remove_themselves, |app| {
    let owner = app.user("bob").await;
    let carol = app.user("carol").await;
    app.user("erin").await;
    app.app(&owner, "m").await;
    for u in ["carol", "erin"] {
        let r = app
            .post("/v2/apps/m/perms", &owner, json!({"username": u}))
            .await;
        assert_eq!(r.status, 201);
    }
    assert_eq!(
        app.delete("/v2/apps/m/perms/erin", &carol).await.status,
        403
    );
    assert_eq!(
        app.delete("/v2/apps/m/perms/carol", &carol).await.status,
        204
    );
    assert_eq!(app.get("/v2/apps/m", &carol).await.status, 403);
    let r = app
        .call(Method::GET, "/v2/apps/m/perms", Some(&owner), None)
        .await;
    assert_eq!(r.body["users"], json!(["erin"]), "{}", r.text);
});
