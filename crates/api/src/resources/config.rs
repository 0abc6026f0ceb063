//! `/v2/apps/<id>/config`: read the current config, post changes.

use std::collections::BTreeMap;

use drydock_domain::config_vars::{AppConfig, ConfigChange};
use drydock_entity::entities::app;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use super::auth::state;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{config as uc, fmt_time, releases};

type Section = BTreeMap<String, String>;

/// An app's config as the reference shows it.
#[derive(Object)]
pub struct ConfigDto {
    /// The config snapshot's id.
    pub uuid: String,
    /// App name.
    pub app: String,
    /// Who wrote this snapshot.
    pub owner: String,
    /// Environment variables.
    pub values: Section,
    /// Memory per process type.
    pub memory: Section,
    /// CPU per process type.
    pub cpu: Section,
    /// Scheduling tags.
    pub tags: Section,
    /// Registry credentials.
    pub registry: Section,
    /// Health checks per process type.
    pub healthcheck: BTreeMap<String, Value>,
    /// Kept for compatibility (always empty).
    pub lifecycle_post_start: BTreeMap<String, String>,
    /// Kept for compatibility (always empty).
    pub lifecycle_pre_stop: BTreeMap<String, String>,
    /// Kept for compatibility (always empty).
    pub termination_grace_period: BTreeMap<String, String>,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

/// A change: per section, keys to set or (`null`) unset.
#[derive(Object)]
pub struct ConfigBody {
    /// Environment variables.
    pub values: Option<BTreeMap<String, Option<Value>>>,
    /// Memory per process type.
    pub memory: Option<BTreeMap<String, Option<Value>>>,
    /// CPU per process type.
    pub cpu: Option<BTreeMap<String, Option<Value>>>,
    /// Tags.
    pub tags: Option<BTreeMap<String, Option<Value>>>,
    /// Registry credentials.
    pub registry: Option<BTreeMap<String, Option<Value>>>,
    /// Health checks per process type.
    pub healthcheck: Option<BTreeMap<String, Option<Value>>>,
}

/// Config change answers.
#[derive(ApiResponse)]
pub enum ConfigCreated {
    /// The new config.
    #[oai(status = 201)]
    Created(Json<ConfigDto>),
}

async fn dto(state: &AppState, app: &app::Model, config: AppConfig) -> Result<ConfigDto, ApiError> {
    let app = drydock_entity::store::apps::by_name(&state.read, &app.name)
        .await?
        .unwrap_or_else(|| app.clone());
    let current = releases::current(state, &app).await?;
    let (uuid, owner_id, created) = match current.config_id {
        Some(id) => {
            let row = drydock_entity::store::configs::by_id(&state.read, id).await?;
            row.map(|r| (r.uuid.to_string(), r.owner_id, fmt_time(&r.created)))
                .unwrap_or_default()
        }
        None => (String::new(), app.owner_id, fmt_time(&app.created)),
    };
    let owner = drydock_entity::store::users::by_id(&state.read, owner_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    Ok(ConfigDto {
        uuid,
        app: app.name.clone(),
        owner,
        values: config.values,
        memory: config.memory,
        cpu: config.cpu,
        tags: config.tags,
        registry: config.registry,
        healthcheck: config.healthcheck,
        lifecycle_post_start: BTreeMap::new(),
        lifecycle_pre_stop: BTreeMap::new(),
        termination_grace_period: BTreeMap::new(),
        updated: created.clone(),
        created,
    })
}

/// Config endpoints.
pub struct ConfigApi;

#[OpenApi(tag = "Tag::Config")]
impl ConfigApi {
    /// The app's current config.
    #[oai(path = "/v2/apps/:id/config", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> poem::Result<Json<ConfigDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let current = releases::current(st, &app).await?;
        Ok(Json(dto(st, &app, current.config).await?))
    }

    /// Merge changes into the config and release them.
    #[oai(path = "/v2/apps/:id/config", method = "post")]
    async fn set(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<ConfigBody>,
    ) -> poem::Result<ConfigCreated> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let b = body.0;
        let change = ConfigChange {
            values: b.values.unwrap_or_default(),
            memory: b.memory.unwrap_or_default(),
            cpu: b.cpu.unwrap_or_default(),
            tags: b.tags.unwrap_or_default(),
            registry: b.registry.unwrap_or_default(),
            healthcheck: b.healthcheck.unwrap_or_default(),
        };
        let config = uc::set(st, &auth.0, &app, change).await?;
        Ok(ConfigCreated::Created(Json(dto(st, &app, config).await?)))
    }
}
