//! Creating, transferring and destroying apps.

use drydock_domain::name::AppName;
use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::sea_orm::TransactionTrait;
use drydock_entity::store::{apps, configs, domains, releases, users};
use drydock_entity::StoreError;
use rand::seq::SliceRandom;

use super::lock::with_app_lock;
use super::releases::{self as rel};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "calm", "dapper", "eager", "fuzzy", "gentle", "hardy", "icy", "jolly",
    "keen", "lively", "merry", "nimble", "odd", "plucky", "quiet", "rustic", "sunny", "tidy",
    "upbeat", "vivid", "witty", "young", "zesty",
];
const NOUNS: &[&str] = &[
    "anchor", "beacon", "canal", "delta", "estuary", "ferry", "galley", "harbor", "inlet", "jetty",
    "keel", "lagoon", "mooring", "narrows", "oar", "pier", "quay", "reef", "schooner", "tide",
    "umiak", "vessel", "wharf", "yawl",
];

fn generated_name() -> String {
    let mut rng = rand::thread_rng();
    let a = ADJECTIVES.choose(&mut rng).copied().unwrap_or("brisk");
    let n = NOUNS.choose(&mut rng).copied().unwrap_or("harbor");
    format!("{a}-{n}")
}

/// Creates an app (named by the client or generated), writes release v1 and
/// creates it on the platform. If the platform refuses, nothing is kept, and
/// only what this request created is removed: an app the platform already
/// had by that name (the operator's, or an orphan) is refused and untouched.
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    id: Option<String>,
) -> Result<app::Model, ApiError> {
    let name = match id {
        Some(id) => {
            let name = AppName::parse(&id)?;
            if name.is_reserved() {
                return Err(DomainError::Conflict(format!(
                    "{name} is a reserved name and cannot be used for an app"
                ))
                .into());
            }
            name
        }
        None => loop {
            let candidate = AppName::parse(&generated_name())?;
            if apps::by_name(&state.db, candidate.as_str())
                .await?
                .is_none()
            {
                break candidate;
            }
        },
    };
    let exists = || ApiError::field("id", "Application with this id already exists.");
    let txn = state.db.begin().await.map_err(StoreError::from)?;
    let app = apps::create(&txn, name.as_str(), caller.id())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => exists(),
            other => other.into(),
        })?;
    domains::insert(&txn, app.id, caller.id(), name.as_str())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => exists(),
            other => other.into(),
        })?;
    let config = configs::insert(&txn, app.id, caller.id(), &Default::default()).await?;
    let version = apps::next_version(&txn, &app).await?;
    let v1 = releases::insert(
        &txn,
        app.id,
        releases::NewRelease {
            version,
            owner_id: caller.id(),
            summary: format!("{} created initial release", caller.name()),
            config_id: config.id,
            build_id: None,
            state: releases::PENDING,
        },
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;

    with_app_lock(state, name.as_str(), app.id, async || {
        // Dokku refusing (the name is taken there, or it is unreachable)
        // means this request created nothing on Dokku: nothing to destroy.
        if let Err(e) = state.platform.create_app(&name).await {
            apps::delete(&state.db, app.id).await?;
            return Err(e.into());
        }
        if let Err(e) = rel::apply(state, &app, &v1).await {
            if let Err(cleanup) = state.platform.destroy_app(&name).await {
                tracing::debug!(app = %name, error = %cleanup, "cleanup after failed create");
            }
            apps::delete(&state.db, app.id).await?;
            return Err(e);
        }
        Ok(apps::by_name(&state.db, name.as_str())
            .await?
            .unwrap_or_else(|| app.clone()))
    })
    .await
}

/// Destroys an app on the platform, then forgets it.
pub async fn destroy(state: &AppState, app: &app::Model) -> Result<(), ApiError> {
    let name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        state.platform.destroy_app(&name).await?;
        apps::delete(&state.db, app.id).await?;
        Ok(())
    })
    .await
}

/// Gives the app to another user (owner or admin only; checked by the
/// caller), with what the caller wrote into it.
pub async fn transfer(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    new_owner: &str,
) -> Result<(), ApiError> {
    let user = users::by_username(&state.db, new_owner)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    apps::transfer(&state.db, app.id, caller.id(), user.id).await?;
    Ok(())
}
