//! Every app-scoped endpoint against every role: anonymous, stranger,
//! collaborator, owner, admin — the table in docs/permissions.md, cell by cell.

use reqwest::Method;
use serde_json::{json, Value};

use crate::dual_test;

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

/// Who may call an endpoint beyond owner and admin.
#[derive(Clone, Copy)]
enum Rule {
    /// Owner, collaborators and admins.
    Use,
    /// Owner and admins only.
    Administer,
}

struct Cell {
    method: Method,
    path: &'static str,
    body: fn(Role) -> Option<Value>,
    ok: u16,
    rule: Rule,
}

fn tag(role: Role) -> String {
    format!("{role:?}").to_lowercase()
}

fn none(_: Role) -> Option<Value> {
    None
}

fn cells() -> Vec<Cell> {
    use Method as M;
    vec![
        Cell {
            method: M::GET,
            path: "/v2/apps/m",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m",
            body: |_| Some(json!({"owner": "bob"})),
            ok: 200,
            rule: Rule::Administer,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/config",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/config",
            body: |r| Some(json!({"values": {format!("K_{}", tag(r)): "1"}})),
            ok: 201,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/builds",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/builds",
            body: |r| Some(json!({"image": format!("img:{}", tag(r))})),
            ok: 201,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/releases",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/releases/v1",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/releases/rollback",
            body: |_| Some(json!({"version": 2})),
            ok: 201,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/pods",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/pods/cmd",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/pods/restart",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/pods/cmd/restart",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/scale",
            body: |_| Some(json!({"cmd": 1})),
            ok: 204,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/logs",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/run",
            body: |_| Some(json!({"command": "echo ok"})),
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/domains",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/domains",
            body: |r| Some(json!({"domain": format!("{}.m.example.org", tag(r))})),
            ok: 201,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/tls",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/tls",
            body: |_| Some(json!({"https_enforced": true})),
            ok: 201,
            rule: Rule::Use,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/perms",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
        Cell {
            method: M::POST,
            path: "/v2/apps/m/perms",
            body: |r| Some(json!({"username": format!("extra-{}", tag(r))})),
            ok: 201,
            rule: Rule::Administer,
        },
        Cell {
            method: M::GET,
            path: "/v2/apps/m/settings",
            body: none,
            ok: 200,
            rule: Rule::Use,
        },
    ]
}

dual_test!(every_endpoint_every_role, |app| {
    let admin = app.user("alice").await;
    let owner = app.user("bob").await;
    let collaborator = app.user("carol").await;
    let stranger = app.user("dave").await;
    for r in ROLES {
        app.user(&format!("extra-{}", tag(r))).await;
    }
    app.app(&owner, "m").await;
    assert_eq!(
        app.post("/v2/apps/m/perms", &owner, json!({"username": "carol"}))
            .await
            .status,
        201
    );
    assert_eq!(
        app.post("/v2/apps/m/builds", &owner, json!({"image": "img:base"}))
            .await
            .status,
        201
    );
    let token = |r: Role| match r {
        Role::Anonymous => None,
        Role::Stranger => Some(stranger.as_str()),
        Role::Collaborator => Some(collaborator.as_str()),
        Role::Owner => Some(owner.as_str()),
        Role::Admin => Some(admin.as_str()),
    };
    let mut checked = 0;
    for cell in cells() {
        for role in ROLES {
            let expected = match (role, cell.rule) {
                (Role::Anonymous, _) => 401,
                (Role::Stranger, _) => 403,
                (Role::Collaborator, Rule::Administer) => 403,
                _ => cell.ok,
            };
            let r = app
                .call(
                    cell.method.clone(),
                    cell.path,
                    token(role),
                    (cell.body)(role),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                expected,
                "{} {} as {role:?}: {}",
                cell.method,
                cell.path,
                r.text
            );
            checked += 1;
        }
    }
    assert_eq!(checked, cells().len() * ROLES.len());

    // Revoking: owner and admin may revoke anyone; a collaborator only themself.
    for (role, expected) in [
        (Role::Anonymous, 401),
        (Role::Stranger, 403),
        (Role::Collaborator, 403),
        (Role::Owner, 204),
        (Role::Admin, 204),
    ] {
        let victim = if role == Role::Admin {
            "extra-owner"
        } else {
            "extra-admin"
        };
        let r = app
            .call(
                Method::DELETE,
                &format!("/v2/apps/m/perms/{victim}"),
                token(role),
                None,
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected,
            "revoke as {role:?}: {}",
            r.text
        );
    }
    assert_eq!(
        app.delete("/v2/apps/m/perms/carol", &collaborator)
            .await
            .status,
        204,
        "a collaborator may leave"
    );
    assert_eq!(app.get("/v2/apps/m", &collaborator).await.status, 403);

    // Domain removal and app destruction, last because they remove things.
    for (role, expected) in [
        (Role::Anonymous, 401),
        (Role::Stranger, 403),
        (Role::Owner, 204),
        (Role::Admin, 204),
    ] {
        let domain = if role == Role::Admin {
            "admin.m.example.org"
        } else {
            "owner.m.example.org"
        };
        let r = app
            .call(
                Method::DELETE,
                &format!("/v2/apps/m/domains/{domain}"),
                token(role),
                None,
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected,
            "delete domain as {role:?}: {}",
            r.text
        );
    }
    for (role, expected) in [
        (Role::Anonymous, 401),
        (Role::Stranger, 403),
        (Role::Owner, 204),
    ] {
        let r = app
            .call(Method::DELETE, "/v2/apps/m", token(role), None)
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected,
            "destroy as {role:?}: {}",
            r.text
        );
    }
    app.app(&owner, "m2").await;
    assert_eq!(
        app.delete("/v2/apps/m2", &admin).await.status,
        204,
        "admins may destroy any app"
    );
});
