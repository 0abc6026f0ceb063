//! Per-app collaborators: grant and revoke.

use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::store::{collaborators, events, users};
use drydock_entity::StoreError;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Grants `username` access to the app (caller already checked as owner/admin).
pub async fn grant(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    username: &str,
) -> Result<(), ApiError> {
    let user = users::by_username(&state.db, username)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    if user.id == app.owner_id {
        return Err(DomainError::BadRequest(format!(
            "{username} owns {} and already has access",
            app.name
        ))
        .into());
    }
    collaborators::add(&state.db, app.id, user.id)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::from(DomainError::Conflict(format!(
                "{username} already has access to {}",
                app.name
            ))),
            other => other.into(),
        })?;
    let msg = format!("{} granted access to {username}", caller.name());
    events::record(&state.db, app.id, &msg).await?;
    Ok(())
}

/// Revokes `username`'s access. Owner and admins may revoke anyone; a
/// collaborator only themself.
pub async fn revoke(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    username: &str,
) -> Result<(), ApiError> {
    let administers = caller.is_admin() || app.owner_id == caller.id();
    let is_self = caller.name() == username;
    if !administers && !is_self {
        return Err(DomainError::Forbidden.into());
    }
    let user = users::by_username(&state.db, username)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    if !collaborators::remove(&state.db, app.id, user.id).await? {
        return Err(DomainError::not_found("User").into());
    }
    let msg = format!("{} revoked access for {username}", caller.name());
    events::record(&state.db, app.id, &msg).await?;
    Ok(())
}
