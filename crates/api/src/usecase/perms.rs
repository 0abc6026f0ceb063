//! Per-app collaborators: grant and revoke.

use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::store::{collaborators, events, users};
use drydock_entity::StoreError;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Grants `username` access to the app (caller already checked as owner/admin).
pub async fn grant(state: &AppState, app: &app::Model, username: &str) -> Result<(), ApiError> {
    let user = users::by_username(&state.db, username)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    // As in the reference, granting again (or to the owner, who already has
    // every right) succeeds and changes nothing.
    if user.id != app.owner_id {
        match collaborators::add(&state.db, app.id, user.id).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let msg = format!("User {} was granted access to {}", user.username, app.name);
    events::record(&state.db, app.id, &msg).await?;
    Ok(())
}

/// Revokes `username`'s access. Owner and admins may revoke anyone; a
/// collaborator only themself; someone who is not a collaborator is 403, as
/// in the reference.
pub async fn revoke(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    username: &str,
) -> Result<(), ApiError> {
    let user = users::by_username(&state.db, username)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    let administers = caller.is_admin() || app.owner_id == caller.id();
    if !collaborators::is_member(&state.db, app.id, user.id).await?
        || (!administers && user.id != caller.id())
    {
        return Err(DomainError::Forbidden.into());
    }
    collaborators::remove(&state.db, app.id, user.id).await?;
    let msg = format!("User {} was revoked access to {}", user.username, app.name);
    events::record(&state.db, app.id, &msg).await?;
    Ok(())
}
