//! The builder hooks (`/v2/hooks/…`): how the Dokku plugin, or any builder
//! holding the operator's builder key, learns whose key connected, who may
//! push to or pull from an app, reads an app's config, and records a build.
//! No user token is involved: the builder key vouches for the caller, and
//! the user named in each request must be allowed the app like on the API.

use std::collections::BTreeMap;

use drydock_domain::name::AppName;
use drydock_domain::token::BuilderKey;
use drydock_domain::DomainError;
use drydock_entity::entities::{app, release};
use drydock_entity::store::{apps, collaborators, keys, users};
use poem::http::StatusCode;

use super::access::{authorize, AppAction};
use super::builds::{self, BuildInput};
use super::releases::Outcome;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Checks the builder key a caller presented. With no key configured the
/// hooks do not exist (404 for everyone); without the right key the answer
/// is the reference's: 401 for an anonymous caller, 403 for one who sent a
/// token (which does not open the hooks).
pub fn check_builder(
    configured: Option<&BuilderKey>,
    presented: &[&str],
    sent_token: bool,
) -> Result<(), ApiError> {
    let Some(key) = configured else {
        return Err(ApiError::Request {
            status: StatusCode::NOT_FOUND,
            message: "Not found.".into(),
        });
    };
    if presented.iter().any(|p| key.matches(p)) {
        return Ok(());
    }
    if sent_token {
        return Err(DomainError::Forbidden.into());
    }
    Err(ApiError::Unauthenticated(
        "Authentication credentials were not provided.",
    ))
}

/// The app a git remote names: `'/app.git'`, `app.git`, `/app` and `app`
/// all mean `app` (what `drycc git:remote` writes and what git then sends).
pub fn repo_app_name(raw: &str) -> &str {
    let s = raw.trim();
    let s = s
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s);
    let s = s.strip_prefix('/').unwrap_or(s);
    s.strip_suffix(".git").unwrap_or(s)
}

async fn load_app(state: &AppState, raw: &str) -> Result<app::Model, ApiError> {
    let name = repo_app_name(raw);
    if AppName::parse(name).is_err() {
        return Err(DomainError::not_found("App").into());
    }
    Ok(apps::by_name(&state.read, name)
        .await?
        .ok_or_else(|| DomainError::not_found("App"))?)
}

async fn load_user(state: &AppState, username: &str) -> Result<AuthUser, ApiError> {
    Ok(AuthUser(
        users::by_username(&state.read, username)
            .await?
            .ok_or_else(|| DomainError::not_found("User"))?,
        None,
    ))
}

/// A key as the hooks list it.
pub struct HookKey {
    /// The OpenSSH public key line.
    pub public: String,
    /// Its MD5 fingerprint as hex pairs.
    pub fingerprint: String,
}

/// Who a key belongs to and which apps that user may push to.
pub struct KeyOwner {
    /// The key's owner.
    pub username: String,
    /// Names of the apps they may use, sorted.
    pub apps: Vec<String>,
}

/// Looks a key up by fingerprint: the reference's MD5 hex pairs, or the
/// `SHA256:…` form that Dokku's sshcommand records for the key that connected.
pub async fn key_owner(state: &AppState, fingerprint: &str) -> Result<KeyOwner, ApiError> {
    let key = keys::by_fingerprint(&state.read, fingerprint.trim())
        .await?
        .ok_or_else(|| DomainError::not_found("Key"))?;
    let owner = users::by_id(&state.read, key.owner_id)
        .await?
        .ok_or_else(|| DomainError::not_found("Key"))?;
    let apps = apps::usable_names(&state.read, owner.id, owner.is_superuser).await?;
    Ok(KeyOwner {
        username: owner.username,
        apps,
    })
}

/// The keys of the app's collaborators, by username, each user's keys oldest
/// first. As in the reference, the owner is not listed (ask for a user's keys
/// on the app to check anyone, owner included).
pub async fn app_keys(
    state: &AppState,
    app: &str,
) -> Result<BTreeMap<String, Vec<HookKey>>, ApiError> {
    let app = load_app(state, app).await?;
    let ids = collaborators::user_ids(&state.read, app.id).await?;
    keys_by_user(state, &ids).await
}

/// The keys of one user, after checking they may use the app: 404 for an
/// unknown app or user (or a user without keys), 403 for a stranger.
pub async fn user_keys(
    state: &AppState,
    app: &str,
    username: &str,
) -> Result<BTreeMap<String, Vec<HookKey>>, ApiError> {
    let app = load_app(state, app).await?;
    let user = load_user(state, username).await?;
    authorize(state, &user, &app, AppAction::Use).await?;
    let found = keys_by_user(state, &[user.id()]).await?;
    if found.is_empty() {
        return Err(ApiError::Request {
            status: StatusCode::NOT_FOUND,
            message: "No Keys match the given query.".into(),
        });
    }
    Ok(found)
}

async fn keys_by_user(
    state: &AppState,
    ids: &[i32],
) -> Result<BTreeMap<String, Vec<HookKey>>, ApiError> {
    let rows = keys::of_users(&state.read, ids).await?;
    let names = users::usernames(&state.read, rows.iter().map(|k| k.owner_id)).await?;
    let mut out: BTreeMap<String, Vec<HookKey>> = BTreeMap::new();
    for k in rows {
        let Some(name) = names.get(&k.owner_id) else {
            continue;
        };
        out.entry(name.clone()).or_default().push(HookKey {
            public: k.public,
            fingerprint: k.fingerprint,
        });
    }
    Ok(out)
}

/// `receive_user` and `receive_repo` of a hook body, resolved and checked:
/// the user must own, collaborate on, or administer the app.
pub async fn pusher(
    state: &AppState,
    receive_user: Option<&str>,
    receive_repo: Option<&str>,
) -> Result<(AuthUser, app::Model), ApiError> {
    let mut missing = Vec::new();
    for (field, value) in [
        ("receive_user", receive_user),
        ("receive_repo", receive_repo),
    ] {
        if value.is_none_or(|v| v.trim().is_empty()) {
            missing.push((field.to_owned(), "This field is required.".to_owned()));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::Fields(missing));
    }
    let app = load_app(state, receive_repo.unwrap_or_default()).await?;
    let user = load_user(state, receive_user.unwrap_or_default()).await?;
    authorize(state, &user, &app, AppAction::Use).await?;
    Ok((user, app))
}

/// A build posted to the hook; `outcome` is set when the platform already
/// ran it (the Drydock plugin reporting a push), unset when Drydock should
/// deploy it (a builder handing over an image, as with the reference).
pub struct HookBuild {
    /// What was built.
    pub build: BuildInput,
    /// How the platform's own deploy of it ended, if it ran one.
    pub outcome: Option<Outcome>,
}

/// Records (and, without an outcome, deploys) a build for `pusher` on `app`.
/// Returns the app's current release version afterwards, as the reference's
/// hook answers it.
pub async fn build(
    state: &AppState,
    pusher: &AuthUser,
    app: &app::Model,
    input: HookBuild,
) -> Result<i32, ApiError> {
    let written: Option<release::Model> = match input.outcome {
        Some(outcome) => Some(builds::record(state, pusher, app, input.build, outcome).await?),
        None => {
            builds::create(state, pusher, app, input.build, true).await?;
            None
        }
    };
    let now = apps::by_name(&state.db, &app.name)
        .await?
        .ok_or_else(|| DomainError::not_found("App"))?;
    Ok(now
        .current_version
        .or(written.map(|r| r.version))
        .unwrap_or_default())
}
