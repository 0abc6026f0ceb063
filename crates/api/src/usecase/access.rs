//! Who may do what to an app. The rule table is in docs/permissions.md.

use drydock_domain::name::AppName;
use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::store::{apps, collaborators};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// What a caller wants to do with an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAction {
    /// Read, configure, deploy, scale, restart, run, manage domains: owner, collaborators, admins.
    Use,
    /// Destroy, transfer, grant and revoke access: owner and admins only.
    Administer,
}

/// Loads an app by name and checks the caller may perform `action` on it.
/// Unknown apps are 404 (as the reference does, even for strangers), and so
/// is anything that is not a valid app name: no app can be called that, and
/// such text (NUL bytes, 60 kB of `;`) never reaches the database.
pub async fn app_for(
    state: &AppState,
    caller: &AuthUser,
    name: &str,
    action: AppAction,
) -> Result<app::Model, ApiError> {
    if AppName::parse(name).is_err() {
        return Err(DomainError::not_found("App").into());
    }
    let app = apps::by_name(&state.read, name)
        .await?
        .ok_or_else(|| DomainError::not_found("App"))?;
    authorize(state, caller, &app, action).await?;
    Ok(app)
}

/// Checks `caller` may perform `action` on `app`: 403 otherwise.
pub async fn authorize(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    action: AppAction,
) -> Result<(), ApiError> {
    if caller.is_admin() || app.owner_id == caller.id() {
        return Ok(());
    }
    if action == AppAction::Use
        && collaborators::is_member(&state.read, app.id, caller.id()).await?
    {
        return Ok(());
    }
    Err(DomainError::Forbidden.into())
}
