//! Cross-cutting HTTP behaviour applied around every route: version headers,
//! request logging with an id, empty POST bodies read as `{}`, body size and
//! time limits, retries of safe requests when the database connection breaks,
//! and error bodies reshaped into the reference's JSON.

use std::time::Instant;

use poem::error::{ReadBodyError, ResponseError};
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use crate::allow::AllowTable;
use crate::error::{reshape, ApiError};
use crate::state::Settings;

/// The API version both client families check.
pub const API_VERSION: &str = "2.3";
/// The platform version reported alongside.
pub const PLATFORM_VERSION: &str = "2.3.0";

/// Wraps `ep` with all of Drydock's HTTP behaviour.
pub async fn around<E: Endpoint>(
    ep: &E,
    req: Request,
    settings: &Settings,
    allow: &AllowTable,
) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();

    let mut resp = match with_whole_body(req, settings).await {
        Ok(req) => match call_retrying(ep, req, settings).await {
            Ok(r) => r.into_response(),
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => {
                let mut r = ApiError::Request {
                    status: e.status(),
                    message: format!("Method \"{method}\" not allowed."),
                }
                .as_response();
                if let Some(v) = allow
                    .allow(&path)
                    .and_then(|a| HeaderValue::from_str(&a).ok())
                {
                    r.headers_mut().insert(header::ALLOW, v);
                }
                r
            }
            Err(e) => reshape(e),
        },
        Err(refusal) => refusal.as_response(),
    };

    let h = resp.headers_mut();
    for (name, value) in [
        ("DRYCC_API_VERSION", API_VERSION),
        ("DRYCC_PLATFORM_VERSION", PLATFORM_VERSION),
        ("DEIS_API_VERSION", API_VERSION),
        ("DEIS_PLATFORM_VERSION", PLATFORM_VERSION),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("X-Request-Id", v);
    }
    // The reference's JSON answers say `application/json`, without a charset.
    if h.get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .eq_ignore_ascii_case(b"application/json; charset=utf-8")
    }) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let status = resp.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "drydock::http", %method, %path, status, duration_ms, request_id = %request_id, "request");
    Ok(resp)
}

/// Bodies up to this many times the limit are drained before the 413.
const DRAIN_FACTOR: usize = 4;

/// Reads the body in full before any handler runs, so that a body over the
/// limit is refused whether or not it declared its length (chunked uploads
/// included), a client trickling its body is cut off after `body_timeout`,
/// and an empty POST/DELETE body reads as `{}` as the reference's parser does.
async fn with_whole_body(mut req: Request, settings: &Settings) -> Result<Request, ApiError> {
    let max = settings.max_body_bytes;
    let too_large = || ApiError::Request {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("Request body is larger than {max} bytes."),
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > max) {
        // A body only somewhat too large is read and dropped first: answering
        // while the client is still sending makes hyper close the connection
        // under it, and the client sees a reset instead of the 413. A huge
        // one is cut off at once.
        if len <= max.saturating_mul(DRAIN_FACTOR) {
            let drain = req.take_body().into_bytes_limit(len);
            let _ = tokio::time::timeout(settings.body_timeout, drain).await;
        }
        return Err(too_large());
    }
    let bytes = tokio::time::timeout(settings.body_timeout, req.take_body().into_bytes_limit(max))
        .await
        .map_err(|_| ApiError::Request {
            status: StatusCode::REQUEST_TIMEOUT,
            message: "The request body did not arrive in time.".into(),
        })?
        .map_err(|e| match e {
            ReadBodyError::PayloadTooLarge => too_large(),
            other => ApiError::Request {
                status: StatusCode::BAD_REQUEST,
                message: format!("The request body could not be read: {other}"),
            },
        })?;
    let wants_json = matches!(
        *req.method(),
        Method::POST | Method::DELETE | Method::PUT | Method::PATCH
    );
    if bytes.is_empty() && wants_json {
        req.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        req.set_body(Body::from_string("{}".to_owned()));
    } else {
        req.set_body(Body::from_bytes(bytes));
    }
    Ok(req)
}

/// Calls `ep`; a safe request (GET, HEAD) that failed because its database
/// connection broke is run again on a fresh one, up to `db_retries` times with
/// doubling pauses. Writes are never repeated: whether their commit happened
/// is unknown, and the client decides.
async fn call_retrying<E: Endpoint>(
    ep: &E,
    mut req: Request,
    settings: &Settings,
) -> poem::Result<E::Output> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe || settings.db_retries == 0 {
        return ep.call(req).await;
    }
    let mut attempt = 0;
    let mut pause = settings.db_retry_backoff;
    loop {
        let again = retry_copy(&req);
        match ep.call(req).await {
            Err(e)
                if attempt < settings.db_retries
                    && e.downcast_ref::<ApiError>()
                        .is_some_and(ApiError::is_broken_db_connection) =>
            {
                attempt += 1;
                tracing::info!(attempt, error = %e, "database connection failed under a safe request; retrying");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
                req = again;
            }
            done => return done,
        }
    }
}

/// A bodiless copy of a safe request's head, to run it again.
fn retry_copy(req: &Request) -> Request {
    let mut b = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .version(req.version());
    for (name, value) in req.headers() {
        b = b.header(name.clone(), value.clone());
    }
    b.finish()
}
