//! Changing an app's config: merge, release, apply.

use drydock_domain::config_vars::{AppConfig, ConfigChange};
use drydock_entity::entities::app;

use super::lock::with_app_lock;
use super::releases::{self, ConfigSource, Draft};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Merges `change` into the current config and publishes it as a new release.
/// Invalid input, unsetting a missing key (422) or a no-op (409) write nothing.
pub async fn set(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    change: ConfigChange,
) -> Result<AppConfig, ApiError> {
    with_app_lock(state, &app.name, app.id, async || {
        let app = drydock_entity::store::apps::by_name(&state.db, &app.name)
            .await?
            .unwrap_or_else(|| app.clone());
        let current = releases::current(state, &app).await?;
        let (next, summary) = current.config.apply(&change, caller.name())?;
        let draft = Draft {
            owner_id: caller.id(),
            summary,
            config: ConfigSource::New(next.clone()),
            build_id: current.release.as_ref().and_then(|r| r.build_id),
            failed_summary: format!("{} deployed a config that failed", caller.name()),
        };
        releases::publish(state, &app, draft).await?;
        Ok(next)
    })
    .await
}
