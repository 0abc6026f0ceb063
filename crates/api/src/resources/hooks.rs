//! `/v2/hooks/…`: the builder hooks, opened by the operator's builder key in
//! `X-Drycc-Builder-Auth` (or `X-Deis-Builder-Auth`) instead of a user token.
//! The Dokku plugin uses them to admit or refuse each `git push` and to record
//! each push as a build and a release.

use std::collections::BTreeMap;

use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::state;
use super::config::{current_dto, ConfigDto};
use super::problem::ApiResult;
use super::Tag;
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::builds::BuildInput;
use crate::usecase::hooks::{self as uc, HookBuild, HookKey};
use crate::usecase::releases::Outcome;

/// The headers a builder may present its key in.
const BUILDER_HEADERS: [&str; 2] = ["x-drycc-builder-auth", "x-deis-builder-auth"];

/// The state, once the request proved it holds the builder key.
fn builder(req: &Request) -> Result<&AppState, ApiError> {
    let st = state(req)?;
    let presented: Vec<&str> = BUILDER_HEADERS
        .iter()
        .filter_map(|h| req.headers().get(*h)?.to_str().ok())
        .collect();
    let sent_token = req.headers().contains_key("authorization");
    uc::check_builder(st.settings.builder_key.as_ref(), &presented, sent_token)?;
    Ok(st)
}

/// Who a key belongs to.
#[derive(Object)]
pub struct KeyOwnerDto {
    /// The key's owner.
    pub username: String,
    /// The apps that user may push to.
    pub apps: Vec<String>,
}

/// A key as the hooks list it.
#[derive(Object)]
pub struct HookKeyDto {
    /// The OpenSSH public key line.
    pub key: String,
    /// Its MD5 fingerprint.
    pub fingerprint: String,
}

fn keys_dto(found: BTreeMap<String, Vec<HookKey>>) -> BTreeMap<String, Vec<HookKeyDto>> {
    found
        .into_iter()
        .map(|(user, keys)| {
            let keys = keys
                .into_iter()
                .map(|k| HookKeyDto {
                    key: k.public,
                    fingerprint: k.fingerprint,
                })
                .collect();
            (user, keys)
        })
        .collect()
}

/// How Dokku's own deploy of a pushed build ended (a Drydock extension).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum PushOutcome {
    /// Dokku deployed it.
    Succeeded,
    /// Dokku could not deploy it.
    Failed,
}

/// A build from a builder.
#[derive(Object)]
pub struct HookBuildBody {
    /// The pushing user.
    pub receive_user: Option<String>,
    /// The app (`app`, `app.git` or `/app.git`).
    pub receive_repo: Option<String>,
    /// The image built.
    pub image: Option<String>,
    /// Source commit.
    pub sha: Option<String>,
    /// Process type → command, from the pushed Procfile.
    pub procfile: Option<BTreeMap<String, String>>,
    /// Dockerfile text.
    pub dockerfile: Option<String>,
    /// Set when Dokku already deployed the build (a `git push`): Drydock only
    /// records it. Unset, Drydock deploys the image as the reference does.
    pub outcome: Option<PushOutcome>,
    /// Why the deploy failed, with `outcome: failed`.
    pub exception: Option<String>,
}

/// A release number.
#[derive(Object)]
pub struct ReleaseVersionDto {
    /// The app's current release.
    pub version: i32,
}

/// The build hook's answer.
#[derive(Object)]
pub struct HookBuildDto {
    /// The app's current release after the build.
    pub release: ReleaseVersionDto,
}

/// A config read by a builder.
#[derive(Object)]
pub struct HookConfigBody {
    /// The pushing user.
    pub receive_user: Option<String>,
    /// The app.
    pub receive_repo: Option<String>,
}

/// The longest failure text kept for a failed push.
const MAX_EXCEPTION: usize = 4096;

/// Builder hook endpoints.
pub struct HooksApi;

#[OpenApi(tag = "Tag::Hooks")]
impl HooksApi {
    /// Who a key belongs to and the apps they may use; the fingerprint is the
    /// reference's MD5 hex pairs or OpenSSH's `SHA256:…` (with `/` sent as `%2F`).
    #[oai(path = "/v2/hooks/key/:fingerprint", method = "get")]
    async fn key(&self, req: &Request, fingerprint: Path<String>) -> ApiResult<Json<KeyOwnerDto>> {
        let st = builder(req)?;
        let owner = uc::key_owner(st, &fingerprint.0).await?;
        Ok(Json(KeyOwnerDto {
            username: owner.username,
            apps: owner.apps,
        }))
    }

    /// The keys of everyone who may use the app.
    #[oai(path = "/v2/hooks/keys/:id", method = "get")]
    async fn app_keys(
        &self,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<BTreeMap<String, Vec<HookKeyDto>>>> {
        let st = builder(req)?;
        Ok(Json(keys_dto(uc::app_keys(st, &id.0).await?)))
    }

    /// One user's keys if they may use the app (403 if not): what the plugin
    /// asks before it lets a push or a fetch through.
    #[oai(path = "/v2/hooks/keys/:id/:username", method = "get")]
    async fn user_keys(
        &self,
        req: &Request,
        id: Path<String>,
        username: Path<String>,
    ) -> ApiResult<Json<BTreeMap<String, Vec<HookKeyDto>>>> {
        let st = builder(req)?;
        Ok(Json(keys_dto(uc::user_keys(st, &id.0, &username.0).await?)))
    }

    /// Records a build by `receive_user` on `receive_repo` and its release.
    #[oai(path = "/v2/hooks/build", method = "post")]
    async fn build(
        &self,
        req: &Request,
        body: Json<HookBuildBody>,
    ) -> ApiResult<Json<HookBuildDto>> {
        let st = builder(req)?;
        let b = body.0;
        let (user, app) =
            uc::pusher(st, b.receive_user.as_deref(), b.receive_repo.as_deref()).await?;
        let outcome = b.outcome.map(|o| match o {
            PushOutcome::Succeeded => Outcome::Succeeded,
            PushOutcome::Failed => {
                let mut why = b
                    .exception
                    .as_deref()
                    .map(|e| e.replace('\0', ""))
                    .filter(|e| !e.trim().is_empty())
                    .unwrap_or_else(|| "Dokku could not deploy the push".into());
                why.truncate(why.floor_char_boundary(MAX_EXCEPTION));
                Outcome::Failed(why)
            }
        });
        let input = HookBuild {
            build: BuildInput {
                image: b.image,
                procfile: b.procfile.unwrap_or_default(),
                sha: b.sha,
                dockerfile: b.dockerfile,
            },
            outcome,
        };
        let version = uc::build(st, &user, &app, input).await?;
        Ok(Json(HookBuildDto {
            release: ReleaseVersionDto { version },
        }))
    }

    /// The config of the app's current release, for a builder.
    #[oai(path = "/v2/hooks/config", method = "post")]
    async fn config(
        &self,
        req: &Request,
        body: Json<HookConfigBody>,
    ) -> ApiResult<Json<ConfigDto>> {
        let st = builder(req)?;
        let b = body.0;
        let (_, app) = uc::pusher(st, b.receive_user.as_deref(), b.receive_repo.as_deref()).await?;
        Ok(Json(current_dto(st, &app).await?))
    }
}
