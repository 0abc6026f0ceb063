//! `/v2/apps/<id>/pods`, `/scale`, `/logs`, `/run`: containers and what runs in them.

use std::collections::BTreeMap;

use drydock_domain::platform::Pod;
use drydock_domain::DomainError;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use super::auth::{state, NoContent};
use super::problem::ApiResult;
use super::Tag;
use crate::auth::TokenAuth;
use crate::error::ApiError;
use crate::usecase::access::{app_for, AppAction};
use crate::usecase::{fmt_time, pods as uc};

/// A container.
#[derive(Object)]
pub struct PodDto {
    /// Container name.
    pub name: String,
    /// `up`, `down`, `crashed` or `starting`.
    pub state: String,
    /// `v<N>` of the release it runs.
    pub release: String,
    /// Process type.
    #[oai(rename = "type")]
    pub process_type: String,
    /// Start time.
    #[oai(nullable)]
    pub started: Option<String>,
}

impl From<Pod> for PodDto {
    fn from(p: Pod) -> Self {
        let state = serde_json::to_value(p.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            name: p.name,
            state,
            release: p.release.map(|v| format!("v{v}")).unwrap_or_default(),
            process_type: p.process_type,
            started: p.started.as_ref().map(fmt_time),
        }
    }
}

/// `{"count", "results"}` (pods are not paginated).
#[derive(Object)]
pub struct PodList {
    /// Number of pods.
    pub count: u64,
    /// The pods.
    pub results: Vec<PodDto>,
}

fn pod_list(pods: Vec<Pod>) -> PodList {
    PodList {
        count: pods.len() as u64,
        results: pods.into_iter().map(PodDto::from).collect(),
    }
}

/// Log answers.
#[derive(ApiResponse)]
pub enum Logs {
    /// The newest lines, oldest first.
    #[oai(status = 200)]
    Text(PlainText<String>),
    /// Nothing logged yet (the reference's answer when its logger has nothing).
    #[oai(status = 204)]
    Empty,
}

/// One-off command request.
#[derive(Object)]
pub struct RunBody {
    /// The command line, run by a shell in a new container exactly as typed.
    pub command: Option<String>,
}

/// One-off command result.
#[derive(Object)]
pub struct RunDto {
    /// Exit status.
    pub exit_code: i32,
    /// Merged stdout and stderr (capped).
    pub output: String,
}

/// The deis SDK (2018) strips `b'` and `'` from the log body and splits on a
/// literal backslash-n, as the pre-2.3 controller sent Python's `str(bytes)`.
/// Answer it in that form; every other client gets plain text.
fn python_bytes_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str("b'");
    for b in text.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// Pod endpoints.
pub struct PodsApi;

#[OpenApi(tag = "Tag::Pods")]
impl PodsApi {
    /// The app's containers.
    #[oai(path = "/v2/apps/:id/pods", method = "get")]
    async fn list(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<PodList>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(pod_list(uc::list(st, &app, None).await?)))
    }

    /// The app's containers of one process type.
    #[oai(path = "/v2/apps/:id/pods/:ptype", method = "get")]
    async fn list_type(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        ptype: Path<String>,
    ) -> ApiResult<Json<PodList>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(pod_list(uc::list(st, &app, Some(&ptype.0)).await?)))
    }

    /// Restart every container.
    #[oai(path = "/v2/apps/:id/pods/restart", method = "post")]
    async fn restart_all(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
    ) -> ApiResult<Json<Vec<PodDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(
            uc::restart(st, &auth.0, &app, None, None)
                .await?
                .into_iter()
                .map(PodDto::from)
                .collect(),
        ))
    }

    /// Restart one process type (`/pods/web/restart`) or one container (`/pods/<name>/restart`).
    #[oai(path = "/v2/apps/:id/pods/:which/restart", method = "post")]
    async fn restart_some(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        which: Path<String>,
    ) -> ApiResult<Json<Vec<PodDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        Ok(Json(
            uc::restart(st, &auth.0, &app, Some(&which.0), None)
                .await?
                .into_iter()
                .map(PodDto::from)
                .collect(),
        ))
    }

    /// Restart one container, as the SDKs address it (`/pods/<type>/<name>/restart`);
    /// the container must be of that type.
    #[oai(path = "/v2/apps/:id/pods/:ptype/:name/restart", method = "post")]
    async fn restart_named(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        ptype: Path<String>,
        name: Path<String>,
    ) -> ApiResult<Json<Vec<PodDto>>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let pods = uc::restart(st, &auth.0, &app, Some(&name.0), Some(&ptype.0)).await?;
        Ok(Json(pods.into_iter().map(PodDto::from).collect()))
    }

    /// Set container counts, e.g. `{"web": 3}`.
    #[oai(path = "/v2/apps/:id/scale", method = "post")]
    async fn scale(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<BTreeMap<String, Value>>,
    ) -> ApiResult<NoContent> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        uc::scale(st, &auth.0, &app, body.0).await?;
        Ok(NoContent::Done)
    }

    /// The app's recent log lines (`?log_lines=N`, default 100).
    #[oai(path = "/v2/apps/:id/logs", method = "get")]
    async fn logs(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        log_lines: Query<Option<String>>,
    ) -> ApiResult<Logs> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let max = st.settings.max_log_lines;
        let lines = match log_lines.0.as_deref() {
            None | Some("") => 100,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::from(DomainError::field(
                        "log_lines",
                        format!("Must be an integer between 1 and {max}"),
                    ))
                })?,
        };
        let text = uc::logs(st, &app, lines).await?;
        if text.is_empty() {
            return Ok(Logs::Empty);
        }
        let deis = req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("Deis Go SDK"));
        Ok(Logs::Text(PlainText(if deis {
            python_bytes_literal(&text)
        } else {
            text
        })))
    }

    /// Run a one-off command and wait for it.
    #[oai(path = "/v2/apps/:id/run", method = "post")]
    async fn run(
        &self,
        req: &Request,
        auth: TokenAuth,
        id: Path<String>,
        body: Json<RunBody>,
    ) -> ApiResult<Json<RunDto>> {
        let st = state(req)?;
        let app = app_for(st, &auth.0, &id.0, AppAction::Use).await?;
        let out = uc::run(st, &auth.0, &app, body.0.command).await?;
        Ok(Json(RunDto {
            exit_code: out.exit_code,
            output: out.output,
        }))
    }
}
