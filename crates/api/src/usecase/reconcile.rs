//! Bringing Dokku and the database back into agreement after a crash or after
//! Dokku lost its state. Run at start-up and by `drydock reconcile`.

use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

use drydock_domain::name::{AppName, DomainName};
use drydock_entity::entities::{app, release};
use drydock_entity::store::{apps, domains, releases};

use super::lock::with_app_lock;
use super::releases as rel;
use crate::error::ApiError;
use crate::state::AppState;

/// Settles releases left `pending` by a crash: one the platform already runs is
/// marked `succeeded`; any other is marked `failed` and the app's current
/// release is applied again. Then re-applies the current release of apps
/// still owed one after a failed release (`needs_reapply`). Returns one line per change. An app that cannot
/// be settled (Dokku unreachable, or the app missing there) keeps its release
/// pending and does not stop the others from being settled; the first such
/// error is returned after every app was tried (the changes made are logged).
pub async fn settle_pending(state: &AppState) -> Result<Vec<String>, ApiError> {
    settle(state, None).await
}

/// [`settle_pending`] for releases created before `cutoff` only: a server
/// that keeps settling in the background while it serves leaves the pending
/// releases of its own live requests alone.
pub async fn settle_interrupted(
    state: &AppState,
    cutoff: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    settle(state, Some(cutoff)).await
}

async fn settle(state: &AppState, cutoff: Option<DateTime<Utc>>) -> Result<Vec<String>, ApiError> {
    let pending: Vec<_> = releases::pending(&state.db)
        .await?
        .into_iter()
        .filter(|p| cutoff.is_none_or(|c| p.created < c))
        .collect();
    if pending.is_empty() {
        return settle_owed_reapplies(state, Vec::new(), None).await;
    }
    let by_id: HashMap<i32, app::Model> = apps::all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut report = Vec::new();
    let mut first_error = None;
    for p in pending {
        let Some(app) = by_id.get(&p.app_id) else {
            continue;
        };
        let settled = with_app_lock(state, &app.name, app.id, async || {
            // The list was read before the lock: another request or process
            // may have finished this release since.
            let still_pending = releases::by_version(&state.db, app.id, p.version)
                .await?
                .is_some_and(|r| r.state == releases::PENDING);
            if !still_pending {
                return Ok(Vec::new());
            }
            settle_one(state, app, &p).await
        })
        .await;
        match settled {
            Ok(lines) => report.extend(lines),
            Err(e) => {
                tracing::warn!(app = %app.name, version = p.version, error = %e, "could not settle an interrupted release; it stays pending");
                first_error.get_or_insert(e);
            }
        }
    }
    settle_owed_reapplies(state, report, first_error).await
}

/// Re-applies the current release of every app that is owed one (a release
/// failed and the process stopped before putting the previous one back), then
/// reports: `report` so far and the first error, this pass's included.
async fn settle_owed_reapplies(
    state: &AppState,
    mut report: Vec<String>,
    mut first_error: Option<ApiError>,
) -> Result<Vec<String>, ApiError> {
    for app in apps::needing_reapply(&state.db).await? {
        let done = with_app_lock(state, &app.name, app.id, async || {
            let Some(now) = apps::by_name(&state.db, &app.name).await? else {
                return Ok(None);
            };
            let (true, Some(v)) = (now.needs_reapply, now.current_version) else {
                return Ok(None);
            };
            rel::reapply_owed(state, &now, &AppName::parse(&now.name)?, v).await?;
            Ok(Some(format!(
                "{}: re-applied v{v} after a failed release",
                now.name
            )))
        })
        .await;
        match done {
            Ok(line) => report.extend(line),
            Err(e) => {
                tracing::warn!(app = %app.name, error = %e, "could not re-apply the current release after a failed one");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(report),
        Some(e) => {
            for line in &report {
                tracing::info!(change = %line, "reconciled");
            }
            Err(e)
        }
    }
}

async fn settle_one(
    state: &AppState,
    app: &app::Model,
    pending: &release::Model,
) -> Result<Vec<String>, ApiError> {
    let name = AppName::parse(&app.name)?;
    let deployed = state.platform.deployed_release(&name).await?;
    if deployed == u32::try_from(pending.version).ok() {
        releases::set_state(&state.db, pending.id, releases::SUCCEEDED, None).await?;
        if app.current_version.unwrap_or(0) < pending.version {
            let spec = rel::spec_for(state, &app.name, pending).await?;
            apps::set_current(
                &state.db,
                app.id,
                pending.version,
                &rel::procfile_strings(&spec.procfile),
            )
            .await?;
        }
        return Ok(vec![format!(
            "{}: v{} was applied before the interruption; marked succeeded",
            app.name, pending.version
        )]);
    }
    releases::set_state(
        &state.db,
        pending.id,
        releases::FAILED,
        Some("interrupted before Dokku confirmed it".into()),
    )
    .await?;
    let mut lines = vec![format!(
        "{}: v{} was interrupted; marked failed",
        app.name, pending.version
    )];
    if let Some(v) = app.current_version {
        if let Some(cur) = releases::by_version(&state.db, app.id, v).await? {
            let spec = rel::spec_for(state, &app.name, &cur).await?;
            state.platform.apply_release(&name, &spec).await?;
            lines.push(format!("{}: re-applied v{v}", app.name));
        }
    }
    Ok(lines)
}

/// Re-creates every app's state on the platform from the database: the app,
/// its current release, its domains and its scale.
pub async fn reapply_all(state: &AppState) -> Result<Vec<String>, ApiError> {
    let known: BTreeSet<String> = state
        .platform
        .list_apps()
        .await?
        .into_iter()
        .map(|a| a.to_string())
        .collect();
    let mut report = Vec::new();
    for app in apps::all(&state.db).await? {
        let lines = with_app_lock(state, &app.name, app.id, async || {
            reapply_one(state, &app, &known).await
        })
        .await?;
        report.extend(lines);
    }
    Ok(report)
}

async fn reapply_one(
    state: &AppState,
    app: &app::Model,
    known: &BTreeSet<String>,
) -> Result<Vec<String>, ApiError> {
    let mut lines = Vec::new();
    let name = AppName::parse(&app.name)?;
    if !known.contains(&app.name) {
        state.platform.create_app(&name).await?;
        lines.push(format!("{}: created on Dokku", app.name));
    }
    if let Some(v) = app.current_version {
        if let Some(cur) = releases::by_version(&state.db, app.id, v).await? {
            let spec = rel::spec_for(state, &app.name, &cur).await?;
            state.platform.apply_release(&name, &spec).await?;
            apps::set_needs_reapply(&state.db, app.id, false).await?;
            lines.push(format!("{}: applied v{v}", app.name));
            if spec.image.is_some() {
                rel::rescale(state, app, &spec.procfile, false).await?;
            }
        }
    }
    for d in domains::all_for_app(&state.db, app.id).await? {
        if d.domain.contains('.') {
            if let Ok(domain) = DomainName::parse(&d.domain) {
                state.platform.add_domain(&name, &domain).await?;
            }
        }
    }
    Ok(lines)
}
