//! Deploying an image: a build row and a release that runs it.

use std::collections::BTreeMap;

use drydock_domain::text::check_no_nul;
use drydock_domain::{procfile, DomainError};
use drydock_entity::entities::{app, build};
use drydock_entity::store::builds::{self, NewBuild};

use super::lock::with_app_lock;
use super::releases::{self, ConfigSource, Draft};
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

fn check_image(image: Option<String>) -> Result<String, ApiError> {
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
    Ok(image)
}

/// Records a build and deploys it as a new release with the current config.
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    app: &app::Model,
    input: BuildInput,
) -> Result<build::Model, ApiError> {
    let image = check_image(input.image)?;
    let typed = procfile::parse(&input.procfile)?;
    let dockerfile = input.dockerfile.unwrap_or_default();
    check_no_nul("dockerfile", &dockerfile)?;
    let sha = input.sha.unwrap_or_default();
    if sha.len() > 128 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::field("sha", "Expected a hexadecimal commit id").into());
    }
    with_app_lock(state, &app.name, app.id, async || {
        let app = drydock_entity::store::apps::by_name(&state.db, &app.name)
            .await?
            .unwrap_or_else(|| app.clone());
        let current = releases::current(state, &app).await?;
        let config = match current.config_id {
            Some(id) => ConfigSource::Existing(id),
            None => ConfigSource::New(current.config.clone()),
        };
        let new = NewBuild {
            image: image.clone(),
            sha,
            procfile: typed
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            dockerfile: dockerfile.clone(),
        };
        let row = builds::insert(&state.db, app.id, caller.id(), &new).await?;
        let draft = Draft {
            owner_id: caller.id(),
            summary: format!("{} deployed {image}", caller.name()),
            config,
            build_id: Some(row.id),
        };
        releases::publish(state, &app, draft).await?;
        Ok(row)
    })
    .await
}
