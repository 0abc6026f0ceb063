//! The release state machine: allocate a version, commit the release
//! `pending`, apply it to the platform, then mark it `succeeded` (moving the
//! app's current pointer) or `failed` (re-applying the previous release so the
//! platform matches the database again).

use std::collections::BTreeMap;
use std::time::Duration;

use drydock_domain::config_vars::AppConfig;
use drydock_domain::name::{AppName, ProcessType};
use drydock_domain::platform::{PlatformError, ReleaseSpec};
use drydock_domain::{procfile, DomainError};
use drydock_entity::entities::{app, build, release};
use drydock_entity::sea_orm::{DatabaseTransaction, TransactionTrait};
use drydock_entity::store::{apps, builds, configs, events, releases};
use drydock_entity::StoreError;

use crate::error::ApiError;
use crate::state::AppState;

/// Where a new release's config comes from.
pub enum ConfigSource {
    /// Reuse an existing snapshot (builds and rollbacks).
    Existing(i32),
    /// Store a new snapshot (config changes).
    New(AppConfig),
}

/// A release about to be written.
pub struct Draft {
    /// Who causes it.
    pub owner_id: i32,
    /// Its summary line.
    pub summary: String,
    /// Its config.
    pub config: ConfigSource,
    /// Its build, if any.
    pub build_id: Option<i32>,
    /// Its summary should it fail to apply, worded as the reference's
    /// (`alice deployed a config that failed`).
    pub failed_summary: String,
}

/// What an app currently runs: its current release, that release's config and build.
pub struct Current {
    /// The release the platform runs (None only if even v1 failed).
    pub release: Option<release::Model>,
    /// Its config (empty if none).
    pub config: AppConfig,
    /// Its config row id.
    pub config_id: Option<i32>,
    /// Its build.
    pub build: Option<build::Model>,
}

/// Loads what the app currently runs.
pub async fn current(state: &AppState, app: &app::Model) -> Result<Current, ApiError> {
    let release = match app.current_version {
        Some(v) => releases::by_version(&state.db, app.id, v).await?,
        None => None,
    };
    let (config, config_id) = match &release {
        Some(r) => {
            let row = configs::by_id(&state.db, r.config_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("release without config".into()))?;
            (configs::data(&row)?, Some(row.id))
        }
        None => (AppConfig::default(), None),
    };
    let build = match release.as_ref().and_then(|r| r.build_id) {
        Some(id) => builds::by_id(&state.db, id).await?,
        None => None,
    };
    Ok(Current {
        release,
        config,
        config_id,
        build,
    })
}

/// Writes the release row (and a new config row if needed) under the app's row lock,
/// with a freshly allocated version, committed as `pending`.
pub async fn write_pending(
    state: &AppState,
    app: &app::Model,
    draft: Draft,
) -> Result<release::Model, ApiError> {
    let txn = state.db.begin().await.map_err(StoreError::from)?;
    let (_, row) = insert_locked(&txn, app, draft, releases::PENDING).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Locks the app's row in `txn`, stores the draft's config if new, and
/// inserts the release with the next version in `row_state`. Returns the
/// locked app row as read and the release.
async fn insert_locked(
    txn: &DatabaseTransaction,
    app: &app::Model,
    draft: Draft,
    row_state: &'static str,
) -> Result<(app::Model, release::Model), ApiError> {
    let locked = apps::lock(txn, app.id)
        .await?
        .ok_or_else(|| DomainError::not_found("App"))?;
    let config_id = match draft.config {
        ConfigSource::Existing(id) => id,
        ConfigSource::New(data) => {
            configs::insert(txn, app.id, draft.owner_id, &data)
                .await?
                .id
        }
    };
    let version = apps::next_version(txn, &locked).await?;
    let row = releases::insert(
        txn,
        app.id,
        releases::NewRelease {
            version,
            owner_id: draft.owner_id,
            summary: draft.summary,
            config_id,
            build_id: draft.build_id,
            state: row_state,
        },
    )
    .await?;
    Ok((locked, row))
}

/// How a release that the platform ran by itself ended (a `git push` that
/// Dokku built and deployed before telling Drydock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Deployed: it becomes the app's current release.
    Succeeded,
    /// Not deployed; the text says why. The current release stays.
    Failed(String),
}

/// Records a release the platform has already run, outcome included, in one
/// transaction: no `pending` row is ever visible, so start-up settling can
/// never mistake it for an interrupted apply and deploy an older image over
/// it. A success moves the current pointer and records the scale Dokku gave
/// the build's process types; nothing is sent to the platform.
pub async fn record_applied(
    state: &AppState,
    app: &app::Model,
    draft: Draft,
    procfile: &BTreeMap<ProcessType, String>,
    outcome: &Outcome,
) -> Result<release::Model, ApiError> {
    let (row_state, exception) = match outcome {
        Outcome::Succeeded => (releases::SUCCEEDED, None),
        Outcome::Failed(why) => (releases::FAILED, Some(why.clone())),
    };
    let txn = state.db.begin().await.map_err(StoreError::from)?;
    let (locked, row) = insert_locked(&txn, app, draft, row_state).await?;
    let version = row.version;
    match outcome {
        Outcome::Succeeded => {
            apps::set_current(&txn, app.id, version, &procfile_strings(procfile)).await?;
            let stored = apps::structure(&locked)?;
            let counts = pushed_scale(&stored, procfile);
            apps::set_structure(&txn, app.id, &merged_structure(stored, counts)).await?;
            events::record(&txn, app.id, &row.summary).await?;
        }
        Outcome::Failed(why) => {
            releases::set_state(&txn, row.id, releases::FAILED, exception).await?;
            apps::set_needs_reapply(&txn, app.id, true).await?;
            events::record(&txn, app.id, &format!("release v{version} failed: {why}")).await?;
        }
    }
    txn.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The platform's view of a stored release.
pub async fn spec_for(
    state: &AppState,
    app_name: &str,
    rel: &release::Model,
) -> Result<ReleaseSpec, ApiError> {
    let cfg_row = configs::by_id(&state.db, rel.config_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("release without config".into()))?;
    let config = configs::data(&cfg_row)?;
    let (image, procfile) = match rel.build_id {
        Some(id) => {
            let b = builds::by_id(&state.db, id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("release without build".into()))?;
            (Some(b.image.clone()), typed_procfile(&b)?)
        }
        None => (None, BTreeMap::new()),
    };
    let version = u32::try_from(rel.version).unwrap_or_default();
    Ok(ReleaseSpec {
        version,
        image,
        procfile,
        env: config.environment(app_name, version),
        limits: config.limits(),
        healthchecks: config.healthchecks(),
        replaces: None,
    })
}

/// A procfile as stored: plain strings.
pub fn procfile_strings(procfile: &BTreeMap<ProcessType, String>) -> BTreeMap<String, String> {
    procfile
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A stored build's procfile as validated types.
pub fn typed_procfile(b: &build::Model) -> Result<BTreeMap<ProcessType, String>, ApiError> {
    Ok(procfile::parse(&builds::procfile(b)?)?)
}

/// Applies a pending release and records the outcome. On failure the previous
/// current release is re-applied and the platform's error is returned.
pub async fn apply(
    state: &AppState,
    app: &app::Model,
    rel: &release::Model,
) -> Result<(), ApiError> {
    apply_or_fail_as(state, app, rel, None).await
}

/// [`apply`], with the summary a failure leaves on the release (its own when `None`).
async fn apply_or_fail_as(
    state: &AppState,
    app: &app::Model,
    rel: &release::Model,
    failed_summary: Option<String>,
) -> Result<(), ApiError> {
    let name = AppName::parse(&app.name)?;
    let mut spec = spec_for(state, &app.name, rel).await?;
    spec.replaces = app.current_version.and_then(|v| u32::try_from(v).ok());
    let previous_build = match app.current_version {
        Some(v) => releases::by_version(&state.db, app.id, v)
            .await?
            .and_then(|r| r.build_id),
        None => None,
    };
    match state.platform.apply_release(&name, &spec).await {
        Ok(()) => {
            // One commit for the outcome: one WAL flush instead of three.
            let txn = state.db.begin().await.map_err(StoreError::from)?;
            releases::set_state(&txn, rel.id, releases::SUCCEEDED, None).await?;
            apps::set_current(&txn, app.id, rel.version, &procfile_strings(&spec.procfile)).await?;
            events::record(&txn, app.id, &rel.summary).await?;
            txn.commit().await.map_err(StoreError::from)?;
            // A new build (or a rollback to another one) may bring process types
            // Dokku starts at zero; a config change keeps the running formation.
            if spec.image.is_some() && rel.build_id != previous_build {
                let fresh = apps::by_name(&state.db, &app.name)
                    .await?
                    .unwrap_or_else(|| app.clone());
                let first = apps::structure(&fresh)?.is_empty();
                rescale(state, &fresh, &spec.procfile, first).await?;
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(app = %app.name, version = rel.version, error = %e, "release failed; restoring the previous one");
            let txn = state.db.begin().await.map_err(StoreError::from)?;
            releases::set_state(&txn, rel.id, releases::FAILED, Some(format!("error: {e}")))
                .await?;
            if let Some(summary) = failed_summary {
                releases::set_summary(&txn, rel.id, &summary).await?;
            }
            events::record(
                &txn,
                app.id,
                &format!("release v{} failed: {e}", rel.version),
            )
            .await?;
            apps::set_needs_reapply(&txn, app.id, true).await?;
            txn.commit().await.map_err(StoreError::from)?;
            restore_in_background(state, app, rel.version);
            Err(e.into())
        }
    }
}

/// Re-applies the app's current release in the background, under the app's
/// lock, after release `failed` could not be applied or (a `git push`) was
/// run by the platform itself and failed. After a lost reply or a timeout
/// Dokku may have run part of the failed release (a timeout never cancels a
/// command there), and a failed push may have left its image tagged as the
/// app's latest. The client is answered at once; the caller has recorded
/// `needs_reapply` in the same transaction as the failure, so a crash before
/// the re-apply is mended by start-up settling. Transient errors are retried;
/// the work stops once a newer release exists.
pub fn restore_in_background(state: &AppState, app: &app::Model, failed: i32) {
    let (Some(v), Ok(name)) = (app.current_version, AppName::parse(&app.name)) else {
        return;
    };
    tokio::spawn(retry_restore(state.clone(), app.clone(), name, v, failed));
}

/// First pause before retrying a re-apply that failed; it doubles up to [`RESTORE_RETRY_MAX`].
const RESTORE_RETRY_FIRST: Duration = Duration::from_millis(500);
/// Longest pause between two retries of a re-apply.
const RESTORE_RETRY_MAX: Duration = Duration::from_secs(30);

/// Whether an error may go away by itself (Dokku or the database unreachable,
/// a garbled reply), so that trying again later makes sense.
fn transient(e: &ApiError) -> bool {
    e.is_db_unavailable()
        || matches!(
            e,
            ApiError::Platform(PlatformError::Unavailable(_) | PlatformError::Protocol { .. })
        )
}

/// Applies stored release `v` of `app` again and settles the re-apply the
/// app was owed (`needs_reapply`). The caller holds the app's lock.
pub async fn reapply_owed(
    state: &AppState,
    app: &app::Model,
    name: &AppName,
    v: i32,
) -> Result<(), ApiError> {
    let prev = releases::by_version(&state.db, app.id, v)
        .await?
        .ok_or_else(|| DomainError::not_found("Release"))?;
    let spec = spec_for(state, &app.name, &prev).await?;
    state.platform.apply_release(name, &spec).await?;
    apps::set_needs_reapply(&state.db, app.id, false).await?;
    Ok(())
}

/// Retries re-applying release `v`, under the app's lock, until it sticks or
/// it is no longer needed: the app is gone, or a release newer than `failed`
/// was written (its apply reads Dokku's state afresh and its own failure
/// handling takes over).
async fn retry_restore(state: AppState, app: app::Model, name: AppName, v: i32, failed: i32) {
    let mut pause = Duration::ZERO;
    loop {
        tokio::time::sleep(pause).await;
        let attempt = super::lock::with_app_lock(&state, &app.name, app.id, async || {
            let now = apps::by_name(&state.db, &app.name).await?;
            match now {
                Some(now)
                    if now.id == app.id
                        && now.current_version == Some(v)
                        && now.last_version == failed =>
                {
                    reapply_owed(&state, &now, &name, v).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await;
        match attempt {
            Ok(true) => {
                tracing::info!(app = %app.name, version = v, "re-applied the previous release");
                return;
            }
            Ok(false) => {
                tracing::debug!(app = %app.name, version = v, "re-apply superseded by a newer release");
                return;
            }
            Err(e) if !transient(&e) => {
                tracing::error!(app = %app.name, version = v, error = %e, "could not re-apply the previous release; run `drydock reconcile --reapply`");
                return;
            }
            Err(e) => {
                pause = (pause * 2).clamp(RESTORE_RETRY_FIRST, RESTORE_RETRY_MAX);
                tracing::warn!(app = %app.name, version = v, error = %e, retry_in = ?pause, "could not re-apply the previous release yet");
            }
        }
    }
}

/// Re-applies the app's scale for a build's process types: Dokku starts types it
/// has not seen at zero, so `structure` and the containers agree only if we say so.
/// The first build scales `web` (or the sole type) to one.
pub async fn rescale(
    state: &AppState,
    app: &app::Model,
    procfile: &BTreeMap<ProcessType, String>,
    first: bool,
) -> Result<(), ApiError> {
    let stored = apps::structure(app)?;
    let counts = scale_for(&stored, procfile, first);
    let name = AppName::parse(&app.name)?;
    state.platform.scale(&name, &counts).await?;
    apps::set_structure(&state.db, app.id, &merged_structure(stored, counts)).await?;
    Ok(())
}

/// The structure after a build: the build's counts over what was stored, as
/// the reference merges them. A type the build does not run keeps its count,
/// so rolling back to a build that runs it brings it back at that scale;
/// only `cmd` and `web`, which carry each other's count (see
/// [`stored_count`]), replace each other.
fn merged_structure(
    mut stored: BTreeMap<String, u32>,
    counts: BTreeMap<ProcessType, u32>,
) -> BTreeMap<String, u32> {
    let counts = structure_strings(counts);
    for (runs, replaced) in [("web", "cmd"), ("cmd", "web")] {
        if counts.contains_key(runs) && !counts.contains_key(replaced) {
            stored.remove(replaced);
        }
    }
    stored.extend(counts);
    stored
}

/// The scale a build's process types get: what was stored for each type (0
/// for a new one), and one of the default type for an app's first build.
fn scale_for(
    stored: &BTreeMap<String, u32>,
    procfile: &BTreeMap<ProcessType, String>,
    first: bool,
) -> BTreeMap<ProcessType, u32> {
    let mut counts: BTreeMap<ProcessType, u32> = BTreeMap::new();
    for t in procfile::process_types(procfile) {
        counts.insert(t.clone(), stored_count(stored, &t).unwrap_or(0));
    }
    if first {
        counts.insert(procfile::default_scaled_type(procfile), 1);
    }
    counts
}

/// The stored count of type `t`. Dokku runs an image without a Procfile as
/// `web`, which Drydock calls `cmd`, so between builds with and without a
/// Procfile the two names carry each other's count.
fn stored_count(stored: &BTreeMap<String, u32>, t: &ProcessType) -> Option<u32> {
    let other = match t.as_str() {
        "web" => Some("cmd"),
        "cmd" => Some("web"),
        _ => None,
    };
    stored
        .get(t.as_str())
        .or_else(|| other.and_then(|o| stored.get(o)))
        .copied()
}

/// The scale Dokku itself gives a pushed build: every type it already ran
/// keeps its count, `web` starts at one, any other new type at zero. Dokku
/// runs an image without a Procfile as `web`, which Drydock calls `cmd`, so
/// the two names carry each other's count.
fn pushed_scale(
    stored: &BTreeMap<String, u32>,
    procfile: &BTreeMap<ProcessType, String>,
) -> BTreeMap<ProcessType, u32> {
    procfile::process_types(procfile)
        .into_iter()
        .map(|t| {
            let runs_as_web = t.as_str() == "web" || t.as_str() == "cmd";
            let count = stored_count(stored, &t).unwrap_or(u32::from(runs_as_web));
            (t, count)
        })
        .collect()
}

fn structure_strings(counts: BTreeMap<ProcessType, u32>) -> BTreeMap<String, u32> {
    counts
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Publishes a release end to end: write pending, apply, record. Returns its version.
pub async fn publish(state: &AppState, app: &app::Model, draft: Draft) -> Result<i32, ApiError> {
    let failed_summary = draft.failed_summary.clone();
    let rel = write_pending(state, app, draft).await?;
    apply_or_fail_as(state, app, &rel, Some(failed_summary)).await?;
    Ok(rel.version)
}

/// Rolls back to `target` (default: the release before the current one) by
/// publishing a new release with its build and config. Refusals write nothing.
pub async fn rollback(
    state: &AppState,
    app: &app::Model,
    actor_id: i32,
    actor: &str,
    target: Option<i32>,
) -> Result<i32, ApiError> {
    super::lock::with_app_lock(state, &app.name, app.id, async || {
        let app = apps::by_name(&state.db, &app.name)
            .await?
            .ok_or_else(|| DomainError::not_found("App"))?;
        rollback_locked(state, &app, actor_id, actor, target).await
    })
    .await
}

async fn rollback_locked(
    state: &AppState,
    app: &app::Model,
    actor_id: i32,
    actor: &str,
    target: Option<i32>,
) -> Result<i32, ApiError> {
    let current = app.current_version.unwrap_or(0);
    let target = target.unwrap_or(current - 1);
    if target < 1 {
        return Err(DomainError::BadRequest("version cannot be below 0".into()).into());
    }
    if target == 1 {
        return Err(DomainError::BadRequest("Cannot roll back to initial release.".into()).into());
    }
    let prev = releases::by_version(&state.db, app.id, target)
        .await?
        .ok_or_else(|| DomainError::BadRequest("Release matching query does not exist.".into()))?;
    if prev.state == releases::FAILED {
        return Err(DomainError::BadRequest("Cannot roll back to failed release.".into()).into());
    }
    if prev.state != releases::SUCCEEDED {
        return Err(DomainError::BadRequest(format!(
            "Cannot roll back to release v{target}: it was never applied."
        ))
        .into());
    }
    // As in the reference, a release without a build cannot replace one
    // with a build (there would be nothing to run); between build-less
    // releases, rolling back only changes the config.
    let current_build = match app.current_version {
        Some(v) => releases::by_version(&state.db, app.id, v)
            .await?
            .and_then(|r| r.build_id),
        None => None,
    };
    if prev.build_id.is_none() && current_build.is_some() {
        return Err(DomainError::BadRequest("No build associated with this release".into()).into());
    }
    let draft = Draft {
        owner_id: actor_id,
        summary: format!("{actor} rolled back to v{target}"),
        config: ConfigSource::Existing(prev.config_id),
        build_id: prev.build_id,
        failed_summary: format!("{actor} performed roll back to a release that failed"),
    };
    publish(state, app, draft).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(names: &[&str]) -> BTreeMap<ProcessType, String> {
        names
            .iter()
            .map(|n| (ProcessType::parse(n).unwrap(), "run".to_owned()))
            .collect()
    }

    #[test]
    fn a_push_gets_the_scale_dokku_gives_it() {
        let stored = |pairs: &[(&str, u32)]| -> BTreeMap<String, u32> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let show = |c: BTreeMap<ProcessType, u32>| -> Vec<(String, u32)> {
            c.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        };
        let first = pushed_scale(&stored(&[]), &types(&["web", "worker"]));
        assert_eq!(show(first), [("web".into(), 1), ("worker".into(), 0)]);
        // An image run as `cmd` was `web` on Dokku: its count carries over.
        let from_cmd = pushed_scale(&stored(&[("cmd", 3)]), &types(&["web", "clock"]));
        assert_eq!(show(from_cmd), [("clock".into(), 0), ("web".into(), 3)]);
        let kept = pushed_scale(&stored(&[("web", 2), ("worker", 4)]), &types(&["worker"]));
        assert_eq!(show(kept), [("worker".into(), 4)]);
        let no_procfile = pushed_scale(&stored(&[("web", 0)]), &BTreeMap::new());
        assert_eq!(show(no_procfile), [("cmd".into(), 0)]);
    }
}
