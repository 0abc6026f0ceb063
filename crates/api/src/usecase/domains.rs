//! Domains: add, remove, and the certificate bookkeeping a removal implies.
//!
//! Every app owns a default domain row named after it (no dot); Dokku's global
//! vhost already serves it, so it never reaches Dokku.

use drydock_domain::name::{AppName, DomainName};
use drydock_domain::DomainError;
use drydock_entity::entities::{app, domain};
use drydock_entity::store::{domains, events};
use drydock_entity::StoreError;

use super::lock::with_app_lock;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether `name` is the app's default (Dokku-global-vhost) domain.
pub fn is_default(app: &app::Model, name: &str) -> bool {
    !name.contains('.') && name == app.name
}

/// Adds a domain to the app and routes it on Dokku.
pub async fn add(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    raw: &str,
) -> Result<domain::Model, ApiError> {
    let name = DomainName::parse(raw)?;
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        let row = domains::insert(&state.db, app.id, caller.id(), name.as_str())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ApiError::field("domain", "Domain is already in use by another application")
                }
                other => other.into(),
            })?;
        if !is_default(app, name.as_str()) {
            if let Err(e) = state.platform.add_domain(&app_name, &name).await {
                if let Err(db_err) = domains::delete(&state.db, row.id).await {
                    tracing::error!(error = %db_err, "could not undo a domain Dokku refused");
                }
                return Err(e.into());
            }
        }
        let msg = format!("{} added domain {}", caller.name(), name);
        events::record(&state.db, app.id, &msg).await?;
        Ok(row)
    })
    .await
}

/// Removes a domain from the app (and the app's certificate from Dokku when
/// this was the last domain using it).
pub async fn remove(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    raw: &str,
) -> Result<(), ApiError> {
    let not_found = || ApiError::from(DomainError::not_found("Domain"));
    // Every stored domain is a valid hostname (app names are too).
    if DomainName::parse(raw).is_err() {
        return Err(not_found());
    }
    let row = domains::by_name(&state.db, raw)
        .await?
        .filter(|d| d.app_id == app.id)
        .ok_or_else(not_found)?;
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        if !is_default(app, &row.domain) {
            if let Ok(name) = DomainName::parse(&row.domain) {
                state.platform.remove_domain(&app_name, &name).await?;
            }
        }
        if let Some(cert_id) = row.certificate_id {
            let still_used = domains::all_for_app(&state.db, app.id)
                .await?
                .iter()
                .any(|d| d.id != row.id && d.certificate_id == Some(cert_id));
            if !still_used {
                state.platform.remove_certificate(&app_name).await?;
            }
        }
        domains::delete(&state.db, row.id).await?;
        let msg = format!("{} removed domain {}", caller.name(), row.domain);
        events::record(&state.db, app.id, &msg).await?;
        Ok(())
    })
    .await
}
