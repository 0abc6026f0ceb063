//! `/v2/keys`: the caller's SSH public keys.

use drydock_domain::DomainError;
use drydock_entity::entities::key;
use drydock_entity::store::keys;
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
use crate::usecase::{fmt_time, keys as uc};

/// An SSH public key.
#[derive(Object)]
pub struct KeyDto {
    /// Stable id.
    pub uuid: String,
    /// Owner's username.
    pub owner: String,
    /// The key's name, e.g. `alice@laptop`.
    pub id: String,
    /// The OpenSSH public key line.
    pub public: String,
    /// MD5 fingerprint as hex pairs.
    pub fingerprint: String,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

fn dto(k: &key::Model, owner: &str) -> KeyDto {
    KeyDto {
        uuid: k.uuid.to_string(),
        owner: owner.to_owned(),
        id: k.key_id.clone(),
        public: k.public.clone(),
        fingerprint: k.fingerprint.clone(),
        created: fmt_time(&k.created),
        updated: fmt_time(&k.updated),
    }
}

/// Add request.
#[derive(Object)]
pub struct KeyBody {
    /// The key's name.
    pub id: Option<String>,
    /// The OpenSSH public key line.
    pub public: Option<String>,
}

/// Add answers.
#[derive(ApiResponse)]
pub enum KeyCreated {
    /// Added.
    #[oai(status = 201)]
    Created(Json<KeyDto>),
}

/// Key endpoints.
pub struct KeysApi;

#[OpenApi(tag = "Tag::Keys")]
impl KeysApi {
    /// The caller's keys.
    #[oai(path = "/v2/keys", method = "get")]
    async fn list(&self, req: &Request, auth: TokenAuth) -> ApiResult<Json<Paginated<KeyDto>>> {
        let st = state(req)?;
        let page = page_request(req);
        let p = keys::list(&st.db, auth.0.id(), page)
            .await
            .map_err(ApiError::from)?;
        let rows = p.items.iter().map(|k| dto(k, auth.0.name())).collect();
        Ok(Json(paginate(req, page, p.total, rows)))
    }

    /// Add a key.
    #[oai(path = "/v2/keys", method = "post")]
    async fn create(
        &self,
        req: &Request,
        auth: TokenAuth,
        body: Json<KeyBody>,
    ) -> ApiResult<KeyCreated> {
        let st = state(req)?;
        let b = body.0;
        let row = uc::add(st, &auth.0, b.id, b.public).await?;
        Ok(KeyCreated::Created(Json(dto(&row, auth.0.name()))))
    }

    /// One of the caller's keys (another user's, even for an admin, is not found).
    #[oai(path = "/v2/keys/:id", method = "get")]
    async fn get(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<KeyDto>> {
        let st = state(req)?;
        let row = keys::by_key_id(&st.read, auth.0.id(), &id.0)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::from(DomainError::not_found("Key")))?;
        Ok(Json(dto(&row, auth.0.name())))
    }

    /// Remove one of the caller's keys.
    #[oai(path = "/v2/keys/:id", method = "delete")]
    async fn delete(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<NoContent> {
        uc::remove(state(req)?, &auth.0, &id.0).await?;
        Ok(NoContent::Done)
    }
}
