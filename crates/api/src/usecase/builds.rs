//! Deploying an image: a build row and a release that runs it; and recording
//! a build that Dokku already deployed by itself (a `git push`).

use std::collections::BTreeMap;

use drydock_domain::name::ProcessType;
use drydock_domain::text::check_no_nul;
use drydock_domain::{procfile, DomainError};
use drydock_entity::entities::{app, build, release};
use drydock_entity::store::apps;
use drydock_entity::store::builds::{self, NewBuild};

use super::lock::with_app_lock;
use super::releases::{self, ConfigSource, Draft, Outcome};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// What a client sends to deploy.
pub struct BuildInput {
    /// Image reference (required).
    pub image: Option<String>,
    /// Process type → command.
    pub procfile: BTreeMap<String, String>,
    /// Source commit.
    pub sha: Option<String>,
    /// Dockerfile text.
    pub dockerfile: Option<String>,
}

/// Docker Hub's names for itself: `docker.io/dokku/x` is the local `dokku/x`.
const HUB_HOSTS: [&str; 3] = ["docker.io/", "index.docker.io/", "registry-1.docker.io/"];

/// Dokku tags every app's built image `dokku/<app>:…` on the host, and Docker
/// resolves a `FROM` line to a local image before it pulls: deploying such a
/// name would run another tenant's code. Only the app's own images pass, and
/// only where the caller holds the builder key (`own_images`).
fn check_namespace(image: &str, app: &str, own_images: bool) -> Result<(), ApiError> {
    let path = HUB_HOSTS
        .iter()
        .find_map(|h| image.strip_prefix(h))
        .unwrap_or(image);
    let Some(rest) = path.strip_prefix("dokku/") else {
        return Ok(());
    };
    let own = rest
        .strip_prefix(app)
        .is_some_and(|tail| tail.starts_with([':', '@']));
    if own_images && own {
        return Ok(());
    }
    Err(ApiError::field(
        "image",
        "Images in the dokku/ namespace are this host's own app images and cannot be deployed",
    ))
}

fn check_image(image: Option<String>, app: &str, own_images: bool) -> Result<String, ApiError> {
    let Some(image) = image else {
        return Err(ApiError::field("image", "This field is required."));
    };
    if image.is_empty() {
        return Err(ApiError::field("image", "This field may not be blank."));
    }
    let ok = image.len() <= 512
        && !image.starts_with(['-', '.', '/', ':', '@'])
        && image
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b));
    if !ok {
        return Err(ApiError::field("image", "Not a valid image reference (expected e.g. registry.example.com/team/app:1.2 or repo@sha256:…)"));
    }
    check_namespace(&image, app, own_images)?;
    Ok(image)
}

/// A build request that passed every check that needs no database.
struct Checked {
    new: NewBuild,
    typed: BTreeMap<ProcessType, String>,
}

fn check(input: BuildInput, app: &str, own_images: bool) -> Result<Checked, ApiError> {
    let image = check_image(input.image, app, own_images)?;
    let typed = procfile::parse(&input.procfile)?;
    let dockerfile = input.dockerfile.unwrap_or_default();
    check_no_nul("dockerfile", &dockerfile)?;
    let sha = input.sha.unwrap_or_default();
    if sha.len() > 128 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::field("sha", "Expected a hexadecimal commit id").into());
    }
    let new = NewBuild {
        image,
        sha,
        procfile: releases::procfile_strings(&typed),
        dockerfile,
    };
    Ok(Checked { new, typed })
}

/// The reference's summary of a build: its commit if it has one, else its image.
fn deployed_summary(user: &str, b: &build::Model) -> String {
    match b.sha.get(..7) {
        Some(short) => format!("{user} deployed {short}"),
        None if !b.sha.is_empty() => format!("{user} deployed {}", b.sha),
        None => format!("{user} deployed {}", b.image),
    }
}

/// Where a new build's config comes from: the current release's snapshot.
async fn current_config(state: &AppState, app: &app::Model) -> Result<ConfigSource, ApiError> {
    let current = releases::current(state, app).await?;
    Ok(match current.config_id {
        Some(id) => ConfigSource::Existing(id),
        None => ConfigSource::New(current.config),
    })
}

/// Records a build and deploys it as a new release with the current config.
/// `own_images` lets the caller deploy the app's own `dokku/<app>` images
/// (builders holding the builder key).
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    input: BuildInput,
    own_images: bool,
) -> Result<build::Model, ApiError> {
    let checked = check(input, &app.name, own_images)?;
    with_app_lock(state, &app.name, app.id, async || {
        let app = apps::by_name(&state.db, &app.name)
            .await?
            .unwrap_or_else(|| app.clone());
        let config = current_config(state, &app).await?;
        let row = builds::insert(&state.db, app.id, caller.id(), &checked.new).await?;
        let draft = Draft {
            owner_id: caller.id(),
            summary: deployed_summary(caller.name(), &row),
            config,
            build_id: Some(row.id),
            failed_summary: failed_build_summary(caller.name(), &row),
        };
        releases::publish(state, &app, draft).await?;
        Ok(row)
    })
    .await
}

/// `<user> deployed <build uuid7> which failed`, as the reference words a failed build.
fn failed_build_summary(user: &str, row: &build::Model) -> String {
    let uuid = row.uuid.simple().to_string();
    format!("{user} deployed {} which failed", &uuid[..7])
}

/// Records a build that the platform built and deployed by itself (a
/// `git push` through Dokku), with the outcome the platform reported, without
/// sending anything to the platform. A success becomes the current release,
/// so no later re-apply can bring back older code; a failure is kept in the
/// history and the current release is re-applied in the background, because
/// Dokku may have tagged the failed image as the app's latest.
pub async fn record(
    state: &AppState,
    pusher: &AuthUser,
    app: &app::Model,
    input: BuildInput,
    outcome: Outcome,
) -> Result<release::Model, ApiError> {
    let checked = check(input, &app.name, true)?;
    with_app_lock(state, &app.name, app.id, async || {
        let app = apps::by_name(&state.db, &app.name)
            .await?
            .ok_or_else(|| DomainError::not_found("App"))?;
        let config = current_config(state, &app).await?;
        let row = builds::insert(&state.db, app.id, pusher.id(), &checked.new).await?;
        let failed_summary = failed_build_summary(pusher.name(), &row);
        let summary = match &outcome {
            Outcome::Succeeded => deployed_summary(pusher.name(), &row),
            Outcome::Failed(_) => failed_summary.clone(),
        };
        let draft = Draft {
            owner_id: pusher.id(),
            summary,
            config,
            build_id: Some(row.id),
            failed_summary,
        };
        let rel = releases::record_applied(state, &app, draft, &checked.typed, &outcome).await?;
        if matches!(outcome, Outcome::Failed(_)) {
            releases::restore_in_background(state, &app, rel.version);
        }
        Ok(rel)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_own_images_are_refused() {
        for bad in [
            "dokku/victim:latest",
            "dokku/victim",
            "docker.io/dokku/victim:latest",
            "index.docker.io/dokku/victim@sha256:0123",
            "dokku/myapp-other:latest",
        ] {
            assert!(check_namespace(bad, "myapp", true).is_err(), "{bad}");
            assert!(check_namespace(bad, "myapp", false).is_err(), "{bad}");
        }
        assert!(check_namespace("dokku/myapp:git-abc", "myapp", true).is_ok());
        assert!(check_namespace("dokku/myapp:git-abc", "myapp", false).is_err());
        for ok in [
            "nginx:1.25",
            "ghcr.io/dokku/tool:1",
            "mydokku/app:1",
            "registry.example.com/dokku/x:1",
        ] {
            assert!(check_namespace(ok, "myapp", false).is_ok(), "{ok}");
        }
    }
}
