//! Turning HTTPS enforcement on or off for an app.

use drydock_domain::name::AppName;
use drydock_domain::DomainError;
use drydock_entity::entities::{app, tls};
use drydock_entity::store::{events, tls as store};

use super::lock::with_app_lock;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Applies the setting to the platform, then records it and an event.
/// Setting the value already set is 409, as in the reference; `None` (null)
/// records no setting and leaves HTTP unredirected.
pub async fn set_https_enforced(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    enforced: Option<bool>,
) -> Result<tls::Model, ApiError> {
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        let row = store::get_or_create(&state.db, app.id, app.owner_id).await?;
        if row.https_enforced.is_some() && row.https_enforced == enforced {
            return Err(DomainError::Conflict(format!("{} changed nothing", caller.name())).into());
        }
        let on = enforced.unwrap_or(false);
        state.platform.set_https_enforced(&app_name, on).await?;
        let row = store::set_https_enforced(&state.db, row.id, caller.id(), enforced).await?;
        let what = if on { "enabled" } else { "disabled" };
        events::record(
            &state.db,
            app.id,
            &format!("{} {what} HTTPS enforcement", caller.name()),
        )
        .await?;
        Ok(row)
    })
    .await
}
