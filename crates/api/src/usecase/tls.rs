//! Turning HTTPS enforcement on or off for an app.

use drydock_domain::name::AppName;
use drydock_entity::entities::{app, tls};
use drydock_entity::store::{events, tls as store};

use super::lock::with_app_lock;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Applies the setting to the platform, then records it and an event.
pub async fn set_https_enforced(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    enforced: bool,
) -> Result<tls::Model, ApiError> {
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        state
            .platform
            .set_https_enforced(&app_name, enforced)
            .await?;
        let row = store::get_or_create(&state.db, app.id, app.owner_id).await?;
        let row = store::set_https_enforced(&state.db, row.id, enforced).await?;
        let what = if enforced { "enabled" } else { "disabled" };
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
