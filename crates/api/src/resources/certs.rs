//! `/v2/certs`: TLS certificates and the domains they are attached to.
//! The private key is stored but never part of any answer.

use drydock_domain::DomainError;
use drydock_entity::store::certs::{self, CertRow};
use drydock_entity::store::users;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{state, NoContent};
use super::problem::ApiResult;
use super::users::CreatedEmpty;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::pagination::{page_request, paginate, Paginated};
use crate::state::AppState;
use crate::usecase::{certs as uc, fmt_time};

/// A certificate, without its private key.
#[derive(Object)]
pub struct CertDto {
    /// Numeric id.
    pub id: i32,
    /// Owner's username.
    pub owner: String,
    /// The certificate's name.
    pub name: String,
    /// Subject common name (null when the subject has none).
    #[oai(nullable)]
    pub common_name: Option<String>,
    /// Subject alternative names (DNS).
    pub san: Vec<String>,
    /// SHA-256 fingerprint.
    pub fingerprint: String,
    /// Not after.
    pub expires: String,
    /// Not before.
    pub starts: String,
    /// Issuer.
    pub issuer: String,
    /// Subject.
    pub subject: String,
    /// Domains it is attached to.
    pub domains: Vec<String>,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

async fn dto(st: &AppState, c: &CertRow) -> Result<CertDto, ApiError> {
    let owner = users::by_id(&st.db, c.owner_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    Ok(CertDto {
        id: c.id,
        owner,
        name: c.name.clone(),
        common_name: (!c.common_name.is_empty()).then(|| c.common_name.clone()),
        san: serde_json::from_str(&c.san).unwrap_or_default(),
        fingerprint: c.fingerprint.clone(),
        expires: fmt_time(&c.expires),
        starts: fmt_time(&c.starts),
        issuer: c.issuer.clone(),
        subject: c.subject.clone(),
        domains: uc::domain_names(st, c.id).await?,
        created: fmt_time(&c.created),
        updated: fmt_time(&c.updated),
    })
}

/// Upload request.
#[derive(Object)]
pub struct CertBody {
    /// Name for the certificate.
    pub name: Option<String>,
    /// PEM chain, leaf first.
    pub certificate: Option<String>,
    /// PEM private key.
    pub key: Option<String>,
}

/// Attach request.
#[derive(Object)]
pub struct AttachBody {
    /// The domain to attach to.
    pub domain: Option<String>,
}

/// Upload answers.
#[derive(ApiResponse)]
pub enum CertCreated {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<CertDto>),
}

/// Certificate endpoints.
pub struct CertsApi;

#[OpenApi(tag = "Tag::Certs")]
impl CertsApi {
    /// The caller's certificates (admins: all).
    #[oai(path = "/v2/certs", method = "get")]
    async fn list(&self, req: &Request, auth: TokenAuth) -> ApiResult<Json<Paginated<CertDto>>> {
        let st = state(req)?;
        let page = page_request(req);
        let owner = (!auth.0.is_admin()).then(|| auth.0.id());
        let found = certs::list_visible(&st.read, owner, page)
            .await
            .map_err(ApiError::from)?;
        let mut rows = Vec::with_capacity(found.items.len());
        for c in &found.items {
            rows.push(dto(st, c).await?);
        }
        Ok(Json(paginate(req, page, found.total, rows)))
    }

    /// Upload a certificate.
    #[oai(path = "/v2/certs", method = "post")]
    async fn create(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<CertBody>,
    ) -> ApiResult<CertCreated> {
        let st = state(req)?;
        let b = body.0;
        let cert = uc::create(st, &auth.0, b.name, b.certificate, b.key).await?;
        Ok(CertCreated::Created(Json(dto(st, &(&cert).into()).await?)))
    }

    /// One certificate.
    #[oai(path = "/v2/certs/:name", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        name: Path<String>,
    ) -> ApiResult<Json<CertDto>> {
        let st = state(req)?;
        let cert = uc::get(st, &auth.0, &name.0).await?;
        Ok(Json(dto(st, &(&cert).into()).await?))
    }

    /// Detach everywhere and delete.
    #[oai(path = "/v2/certs/:name", method = "delete")]
    async fn delete(
        &self,
        req: &Request,
        auth: TokenAuth,
        name: Path<String>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let cert = uc::get(st, &auth.0, &name.0).await?;
        uc::delete(st, &auth.0, &cert).await?;
        Ok(NoContent::Done)
    }

    /// Attach the certificate to a domain.
    #[oai(path = "/v2/certs/:name/domain", method = "post")]
    async fn attach(
        &self,
        req: &Request,
        auth: TokenAuth,
        name: Path<String>,
        body: Json<AttachBody>,
    ) -> ApiResult<CreatedEmpty> {
        let st = state(req)?;
        let cert = uc::get(st, &auth.0, &name.0).await?;
        let Some(domain) = body.0.domain.filter(|d| !d.is_empty()) else {
            return Err(ApiError::from(DomainError::BadRequest(
                "domain is a required field".into(),
            ))
            .into());
        };
        uc::attach(st, &auth.0, &cert, &domain).await?;
        Ok(CreatedEmpty::Created)
    }

    /// Detach the certificate from a domain.
    #[oai(path = "/v2/certs/:name/domain/:domain", method = "delete")]
    async fn detach(
        &self,
        req: &Request,
        auth: TokenAuth,
        name: Path<String>,
        domain: Path<String>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let cert = uc::get(st, &auth.0, &name.0).await?;
        uc::detach(st, &auth.0, &cert, &domain.0).await?;
        Ok(NoContent::Done)
    }
}
