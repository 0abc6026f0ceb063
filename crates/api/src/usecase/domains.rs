//! Domains: add, remove, and the certificate bookkeeping a removal implies.
//!
//! Every app owns a default domain row named after it (no dot); Dokku's global
//! vhost already serves it, so it never reaches Dokku.

use drydock_domain::name::{AppName, DomainName};
use drydock_domain::DomainError;
use drydock_entity::entities::{app, domain};
use drydock_entity::store::{apps, domains, events};
use drydock_entity::StoreError;

use super::lock::with_app_lock;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether `name` is the app's default (Dokku-global-vhost) domain.
pub fn is_default(app: &app::Model, name: &str) -> bool {
    !name.contains('.') && name == app.name
}

/// Why `app` may not claim hostname `host`, if it may not. Names at or under
/// the platform domain are the platform's: every app is served at
/// `<app>.<platform domain>`, so an app may claim only its own host and the
/// names under it. A wildcard may cover neither the platform domain nor a
/// public suffix (`*.com`, `*.co.uk`): nginx lets a wildcard match any depth,
/// so either would catch names that belong to other tenants.
fn claim_refusal(platform_domain: &str, app: &str, host: &str) -> Option<String> {
    let platform = platform_domain.trim_end_matches('.').to_ascii_lowercase();
    let own = format!("{app}.{platform}");
    let at_or_under = |h: &str, parent: &str| {
        h == parent
            || h.strip_suffix(parent)
                .is_some_and(|head| head.ends_with('.'))
    };
    let base = host.strip_prefix("*.");
    let name = base.unwrap_or(host);
    if at_or_under(name, &platform) && !(at_or_under(name, &own) && name != platform) {
        return Some(format!(
            "Names under {platform} belong to the platform: this app may use only {own} and names under it"
        ));
    }
    let base = base?;
    if at_or_under(&platform, base) {
        return Some(format!(
            "*.{base} would also cover {platform}, where every app has its name"
        ));
    }
    if psl::suffix_str(base) == Some(base) {
        return Some(format!(
            "*.{base} covers a public suffix: a wildcard needs a domain of your own (e.g. *.example.{base})"
        ));
    }
    None
}

/// The app Drydock does not manage (an operator's, say) that Dokku already
/// routes `host` to, if any. Drydock's own apps are checked by the unique
/// index; Dokku itself has no cross-app check, and the newer claim would
/// take the other app's traffic.
async fn routed_by_unmanaged_app(
    state: &AppState,
    host: &str,
) -> Result<Option<AppName>, ApiError> {
    let managed: std::collections::BTreeSet<String> =
        apps::names(&state.db).await?.into_iter().collect();
    for other in state.platform.list_apps().await? {
        if managed.contains(other.as_str()) {
            continue;
        }
        if state
            .platform
            .domains(&other)
            .await?
            .iter()
            .any(|d| d == host)
        {
            return Ok(Some(other));
        }
    }
    Ok(None)
}

/// The reference's answer for a name stored exactly as given.
const TAKEN: &str = "Domain is already in use by another application";

/// Adds a domain to the app and routes it on Dokku.
pub async fn add(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    raw: &str,
) -> Result<domain::Model, ApiError> {
    let name = DomainName::parse(raw)?;
    let in_use = || {
        ApiError::field(
            "domain",
            &format!(
                "The domain {} is already in use by another app",
                raw.strip_suffix('.').unwrap_or(raw)
            ),
        )
    };
    if let Some(why) = claim_refusal(&state.settings.platform_domain, &app.name, &name.fold()) {
        return Err(ApiError::field("domain", &why));
    }
    let app_name = AppName::parse(&app.name)?;
    with_app_lock(state, &app.name, app.id, async || {
        if let Some(other) = routed_by_unmanaged_app(state, &name.fold()).await? {
            tracing::info!(domain = %name, dokku_app = %other, "domain refused: Dokku routes it to an app Drydock does not manage");
            return Err(ApiError::field("domain", TAKEN));
        }
        let row = match domains::insert(&state.db, app.id, caller.id(), name.as_str()).await {
            Ok(row) => row,
            // Written exactly as the name taken, the reference's unique check
            // answers first; another spelling of it, its own hostname check.
            Err(StoreError::Conflict(_)) => {
                let taken = domains::by_name(&state.db, name.as_str()).await?;
                return Err(if taken.is_some_and(|d| d.domain == raw) {
                    ApiError::field("domain", TAKEN)
                } else {
                    in_use()
                });
            }
            Err(other) => return Err(other.into()),
        };
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
    // Every stored domain is a valid hostname (app names are too); the
    // Unicode form of a stored ACE name finds it, as in the reference.
    let Ok(wanted) = DomainName::parse(raw) else {
        return Err(not_found());
    };
    let row = domains::by_name(&state.db, wanted.as_str())
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

#[cfg(test)]
mod tests {
    use super::claim_refusal;

    #[test]
    fn only_ones_own_names_under_the_platform_and_no_wildcards_over_others() {
        let refused = |host: &str| claim_refusal("apps.example.com", "shop", host);
        for ok in [
            "shop.apps.example.com",
            "api.shop.apps.example.com",
            "*.shop.apps.example.com",
            "www.shop.example.org",
            "*.shop.example.org",
            "*.example.co.uk",
            "example.com",
            "xapps.example.com",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        for bad in [
            "blog.apps.example.com",
            "x.blog.apps.example.com",
            "apps.example.com",
            "*.apps.example.com",
            "*.example.com",
            "*.com",
            "*.co.uk",
            "*.local",
            "*.shopapps.example.com.apps.example.com",
        ] {
            assert!(refused(bad).is_some(), "{bad}");
        }
    }
}
