//! `/v2/apps/<id>/releases`: history, one version, rollback.

use drydock_domain::DomainError;
use drydock_entity::store::releases::{self, ReleaseRow};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};

use super::auth::state;
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{fmt_time, releases as uc};

/// A release.
#[derive(Object)]
pub struct ReleaseDto {
    /// Stable id.
    pub uuid: String,
    /// App name.
    pub app: String,
    /// Who caused it.
    pub owner: String,
    /// Creation time.
    pub created: String,
    /// Last state change.
    pub updated: String,
    /// Version number (v1 is the app's creation).
    pub version: i32,
    /// What changed ("alice added HELLO").
    pub summary: String,
    /// Whether applying it failed.
    pub failed: bool,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    /// Why it failed.
    #[oai(nullable)]
    pub exception: Option<String>,
    /// Its config's uuid.
    pub config: String,
    /// Its build's uuid, if any.
    #[oai(nullable)]
    pub build: Option<String>,
}

fn dto(app: &str, r: ReleaseRow) -> ReleaseDto {
    ReleaseDto {
        uuid: r.uuid.to_string(),
        app: app.to_owned(),
        owner: r.owner,
        created: fmt_time(&r.created),
        updated: fmt_time(&r.updated),
        version: r.version,
        summary: r.summary,
        failed: r.state == releases::FAILED,
        state: r.state,
        exception: r.exception,
        config: r.config_uuid.to_string(),
        build: r.build_uuid.map(|b| b.to_string()),
    }
}

/// A release number, as a number or (as the reference also takes it) a string of digits.
#[derive(Union)]
pub enum VersionNumber {
    /// `3`
    Number(i32),
    /// `"3"`
    Text(String),
}

impl VersionNumber {
    fn read(self) -> Result<i32, ApiError> {
        match self {
            Self::Number(n) => Ok(n),
            Self::Text(t) => t.trim().parse().map_err(|_| {
                ApiError::from(DomainError::BadRequest(format!(
                    "invalid literal for int() with base 10: '{t}'"
                )))
            }),
        }
    }
}

/// Rollback request.
#[derive(Object)]
pub struct RollbackBody {
    /// Version to return to; defaults to the one before the current.
    pub version: Option<VersionNumber>,
}

/// `{"version": N}`.
#[derive(Object)]
pub struct VersionDto {
    /// The new release's version.
    pub version: i32,
}

/// Rollback answers.
#[derive(ApiResponse)]
pub enum RolledBack {
    /// The new release.
    #[oai(status = 201)]
    Created(Json<VersionDto>),
}

/// Release endpoints.
pub struct ReleasesApi;

#[OpenApi(tag = "Tag::Releases")]
impl ReleasesApi {
    /// The app's releases, newest first.
    #[oai(path = "/v2/apps/:id/releases", method = "get")]
    async fn list(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<Paginated<ReleaseDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let page = page_request(req);
        let p = releases::page_rows(&st.read, &app, page)
            .await
            .map_err(ApiError::from)?;
        let rows = p.items.into_iter().map(|r| dto(&app.name, r)).collect();
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    /// One release, as `v<N>`.
    #[oai(path = "/v2/apps/:id/releases/:version", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        version: Path<String>,
    ) -> ApiResult<Json<ReleaseDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let not_found = || ApiError::from(DomainError::not_found("Release"));
        let v: i32 = version
            .0
            .strip_prefix('v')
            .unwrap_or(&version.0)
            .parse()
            .map_err(|_| not_found())?;
        let row = releases::row(&st.read, app.id, v)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(not_found)?;
        Ok(Json(dto(&app.name, row)))
    }

    /// Roll back to an earlier release (a new release with its build and config).
    #[oai(path = "/v2/apps/:id/releases/rollback", method = "post")]
    async fn rollback(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<RollbackBody>,
    ) -> ApiResult<RolledBack> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let target = body.0.version.map(VersionNumber::read).transpose()?;
        let version = uc::rollback(st, &app, auth.0.id(), auth.0.name(), target).await?;
        Ok(RolledBack::Created(Json(VersionDto { version })))
    }
}
