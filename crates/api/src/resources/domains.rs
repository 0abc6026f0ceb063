//! `/v2/apps/<id>/domains`: hostnames routed to an app.

use drydock_entity::entities::{app, domain};
use drydock_entity::store::{domains, users};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{state, NoContent};
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{domains as uc, fmt_time};

/// A domain of an app.
#[derive(Object)]
pub struct DomainDto {
    /// Who added it.
    pub owner: String,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
    /// App name.
    pub app: String,
    /// The hostname.
    pub domain: String,
}

fn dto(d: &domain::Model, app: &app::Model, owner: String) -> DomainDto {
    DomainDto {
        owner,
        created: fmt_time(&d.created),
        updated: fmt_time(&d.updated),
        app: app.name.clone(),
        domain: d.domain.clone(),
    }
}

/// Add request.
#[derive(Object)]
pub struct DomainBody {
    /// The hostname.
    pub domain: Option<String>,
}

/// Add answers.
#[derive(ApiResponse)]
pub enum DomainCreated {
    /// Added.
    #[oai(status = 201)]
    Created(Json<DomainDto>),
}

/// Domain endpoints.
pub struct DomainsApi;

#[OpenApi(tag = "Tag::Domains")]
impl DomainsApi {
    /// The app's domains.
    #[oai(path = "/v2/apps/:id/domains", method = "get")]
    async fn list(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<Paginated<DomainDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let page = page_request(req);
        let p = domains::list(&st.db, app.id, page)
            .await
            .map_err(ApiError::from)?;
        let owners = users::usernames(&st.db, p.items.iter().map(|d| d.owner_id))
            .await
            .map_err(ApiError::from)?;
        let rows = p
            .items
            .iter()
            .map(|d| {
                dto(
                    d,
                    &app,
                    owners.get(&d.owner_id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    /// Add a domain.
    #[oai(path = "/v2/apps/:id/domains", method = "post")]
    async fn create(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<DomainBody>,
    ) -> ApiResult<DomainCreated> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let Some(raw) = body.0.domain else {
            return Err(ApiError::field("domain", "This field is required.").into());
        };
        if raw.is_empty() {
            return Err(ApiError::field("domain", "This field may not be blank.").into());
        };
        let row = uc::add(st, &auth.0, &app, &raw).await?;
        Ok(DomainCreated::Created(Json(dto(
            &row,
            &app,
            auth.0.name().to_owned(),
        ))))
    }

    /// Remove a domain.
    #[oai(path = "/v2/apps/:id/domains/:domain", method = "delete")]
    async fn delete(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        domain: Path<String>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        uc::remove(st, &auth.0, &app, &domain.0).await?;
        Ok(NoContent::Done)
    }
}
