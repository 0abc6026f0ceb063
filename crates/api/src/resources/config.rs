//! `/v2/apps/<id>/config`: read the current config, post changes.

use std::collections::BTreeMap;

use drydock_domain::config_vars::{AppConfig, ConfigChange};
use drydock_domain::DomainError;
use drydock_entity::entities::app;
use drydock_entity::store::{apps, configs};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use serde_json::Value;

use super::auth::state;
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{config as uc, fmt_time};

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

/// One section of a change: keys to set or (`null`) unset, as an object or,
/// as the reference also takes it (its own tests send it so), as a string
/// holding that object in JSON.
#[derive(Union)]
pub enum SectionChange {
    /// The keys as an object.
    Map(BTreeMap<String, Option<Value>>),
    /// The same object, JSON-encoded in a string.
    Encoded(String),
}

impl SectionChange {
    fn into_map(self, field: &str) -> Result<BTreeMap<String, Option<Value>>, ApiError> {
        match self {
            Self::Map(m) => Ok(m),
            Self::Encoded(text) => serde_json::from_str(&text)
                .map_err(|_| ApiError::field(field, "Value must be valid JSON.")),
        }
    }
}

/// A change: per section, keys to set or (`null`) unset.
#[derive(Object)]
pub struct ConfigBody {
    /// Environment variables.
    pub values: Option<SectionChange>,
    /// Memory per process type.
    pub memory: Option<SectionChange>,
    /// CPU per process type.
    pub cpu: Option<SectionChange>,
    /// Tags.
    pub tags: Option<SectionChange>,
    /// Registry credentials.
    pub registry: Option<SectionChange>,
    /// Health checks per process type.
    pub healthcheck: Option<SectionChange>,
}

/// Config change answers.
#[derive(ApiResponse)]
pub enum ConfigCreated {
    /// The new config.
    #[oai(status = 201)]
    Created(Json<ConfigDto>),
}

/// The config the app currently runs, as the API shows it (one query after the app).
pub(crate) async fn current_dto(state: &AppState, app: &app::Model) -> Result<ConfigDto, ApiError> {
    let found = match app.current_version {
        Some(v) => configs::of_release(&state.read, app.id, v).await?,
        None => None,
    };
    let (uuid, owner, created, config) = match found {
        Some((row, owner)) => (
            row.uuid.to_string(),
            owner,
            fmt_time(&row.created),
            configs::data(&row)?,
        ),
        None => (
            String::new(),
            String::new(),
            fmt_time(&app.created),
            AppConfig::default(),
        ),
    };
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
    ) -> ApiResult<Json<ConfigDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(current_dto(st, &app).await?))
    }

    /// Merge changes into the config and release them.
    #[oai(path = "/v2/apps/:id/config", method = "post")]
    async fn set(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<ConfigBody>,
    ) -> ApiResult<ConfigCreated> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let b = body.0;
        let section = |field: &str, change: Option<SectionChange>| {
            change.map_or_else(|| Ok(BTreeMap::new()), |c| c.into_map(field))
        };
        let change = ConfigChange {
            values: section("values", b.values)?,
            memory: section("memory", b.memory)?,
            cpu: section("cpu", b.cpu)?,
            tags: section("tags", b.tags)?,
            registry: section("registry", b.registry)?,
            healthcheck: section("healthcheck", b.healthcheck)?,
        };
        uc::set(st, &auth.0, &app, change).await?;
        let app = apps::by_name(&st.db, &app.name)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::from(DomainError::not_found("App")))?;
        Ok(ConfigCreated::Created(Json(current_dto(st, &app).await?)))
    }
}
