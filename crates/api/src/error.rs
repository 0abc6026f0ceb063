//! The API's one error type and its single mapping to HTTP.
//!
//! Bodies follow the reference: `{"detail": "…"}` for most errors,
//! `{"<field>": ["…"]}` for validation, a bare JSON string for 404 lookups.
//! Server-side failures are logged with their cause and answered with a
//! generic message; nothing internal leaks.

use drydock_domain::platform::PlatformError;
use drydock_domain::DomainError;
use drydock_entity::StoreError;
use poem::error::ResponseError;
use poem::http::{header, StatusCode};
use poem::{Body, Response};
use serde_json::json;
use std::time::Duration;
use thiserror::Error;

/// Why the API refused or failed a request.
#[derive(Debug, Error)]
pub enum ApiError {
    /// A domain rule said no.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Dokku said no or could not be reached.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No usable credentials: 401 with `WWW-Authenticate: Token`.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A 401 that is not about the token (wrong current password).
    #[error("{0}")]
    WrongPassword(&'static str),
    /// Several field errors at once, as `{"field": ["msg"], …}`.
    #[error("invalid fields")]
    Fields(Vec<(String, String)>),
    /// A request-level problem poem found (bad JSON, wrong method, too large…).
    #[error("{message}")]
    Request {
        /// Status to answer.
        status: StatusCode,
        /// Message for `detail`.
        message: String,
    },
    /// Too many failed attempts: 429 with `Retry-After`.
    #[error("Request was throttled. Expected available in {} seconds.", retry_after_secs(.0))]
    Throttled(Duration),
    /// Something unexpected; logged, answered generically.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A single field error.
    pub fn field(field: &str, message: &str) -> Self {
        Self::Domain(DomainError::field(field, message))
    }

    /// Whether the database, not the request, failed, in a way that may pass.
    pub fn is_db_unavailable(&self) -> bool {
        matches!(self, ApiError::Store(StoreError::Unavailable(_)))
    }

    /// Whether a safe request failed because its database connection broke,
    /// so running it again on a fresh connection may succeed.
    pub fn is_broken_db_connection(&self) -> bool {
        matches!(self, ApiError::Store(e) if e.is_broken_connection())
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_vec(body.to_string().into_bytes()))
}

/// Whole seconds to wait, rounded up so a client never comes back too early.
fn retry_after_secs(wait: &Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn with_retry_after(mut resp: Response, secs: u64) -> Response {
    resp.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    resp
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Domain(d) => match d {
                DomainError::Field { .. } | DomainError::BadRequest(_) => StatusCode::BAD_REQUEST,
                DomainError::NotFound(_) | DomainError::Missing(_) => StatusCode::NOT_FOUND,
                DomainError::Forbidden => StatusCode::FORBIDDEN,
                DomainError::Conflict(_) => StatusCode::CONFLICT,
                DomainError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            },
            ApiError::Platform(p) => match p {
                PlatformError::Rejected(_) | PlatformError::InvalidArgument(_) => {
                    StatusCode::BAD_REQUEST
                }
                PlatformError::AlreadyExists(_) => StatusCode::CONFLICT,
                PlatformError::Unavailable(_) | PlatformError::Protocol { .. } => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            },
            ApiError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            ApiError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthenticated(_) | ApiError::WrongPassword(_) => StatusCode::UNAUTHORIZED,
            ApiError::Fields(_) => StatusCode::BAD_REQUEST,
            ApiError::Request { status, .. } => *status,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        match self {
            ApiError::Domain(DomainError::Field { field, message }) => {
                json_response(status, json!({ field: [message] }))
            }
            ApiError::Domain(DomainError::NotFound(m)) => json_response(status, json!(m)),
            ApiError::Fields(list) => {
                let mut obj = serde_json::Map::new();
                for (f, m) in list {
                    if let Some(arr) = obj
                        .entry(f.clone())
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                    {
                        arr.push(json!(m));
                    }
                }
                json_response(status, serde_json::Value::Object(obj))
            }
            ApiError::Unauthenticated(m) => {
                let mut r = json_response(status, json!({ "detail": m }));
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Token"),
                );
                r
            }
            ApiError::Platform(PlatformError::Protocol { message, raw }) => {
                tracing::error!(error = %message, raw = %String::from_utf8_lossy(raw), "unintelligible reply from dokku-daemon");
                json_response(
                    status,
                    json!({ "detail": "Dokku answered something Drydock could not understand; see the server log" }),
                )
            }
            ApiError::Platform(p @ PlatformError::Unavailable(_)) => {
                tracing::warn!(error = %p, "dokku unavailable");
                json_response(status, json!({ "detail": p.to_string() }))
            }
            ApiError::Store(StoreError::Conflict(m)) => {
                tracing::info!(constraint = %m, "write refused by a unique constraint");
                json_response(
                    status,
                    json!({ "detail": "This conflicts with an existing object; try again" }),
                )
            }
            ApiError::Store(StoreError::Unavailable(e)) => {
                tracing::warn!(error = %e, "database unavailable");
                with_retry_after(
                    json_response(
                        status,
                        json!({ "detail": "The database is unavailable; try again shortly." }),
                    ),
                    1,
                )
            }
            ApiError::Throttled(wait) => with_retry_after(
                json_response(status, json!({ "detail": self.to_string() })),
                retry_after_secs(wait),
            ),
            ApiError::Store(e) => {
                tracing::error!(error = ?e, "database failure");
                json_response(status, json!({ "detail": "Server Error" }))
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal failure");
                json_response(status, json!({ "detail": "Server Error" }))
            }
            other => json_response(status, json!({ "detail": other.to_string() })),
        }
    }
}

/// Turns any poem error (including poem-openapi's plain-text parse errors) into
/// the reference's JSON shape. Installed once with `catch_all_error`.
pub fn reshape(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.as_response();
    }
    let status = err.status();
    let message = if err.is::<poem_openapi::error::AuthorizationError>() {
        return ApiError::Unauthenticated("Authentication credentials were not provided.")
            .as_response();
    } else if status == StatusCode::NOT_FOUND {
        "Not found.".to_owned()
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        "Request body is too large.".to_owned()
    } else if err.is::<poem_openapi::error::ContentTypeError>() {
        return ApiError::Request {
            status: StatusCode::BAD_REQUEST,
            message: "Unsupported media type in request; send application/json.".into(),
        }
        .as_response();
    } else if err.is::<poem_openapi::error::ParseRequestPayloadError>() {
        format!("JSON parse error - {err}")
    } else if status.is_server_error() {
        tracing::error!(error = %err, "unhandled server error");
        "Server Error".to_owned()
    } else {
        err.to_string()
    };
    ApiError::Request { status, message }.as_response()
}
