//! Cross-cutting HTTP behaviour applied around every route: version headers,
//! request logging with an id, empty POST bodies read as `{}`, body size
//! limits, and error bodies reshaped into the reference's JSON.

use std::time::Instant;

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use poem::error::ResponseError;

use crate::error::{reshape, ApiError};

/// The API version both client families check.
pub const API_VERSION: &str = "2.3";
/// The platform version reported alongside.
pub const PLATFORM_VERSION: &str = "2.3.0";

/// Wraps `ep` with all of Drydock's HTTP behaviour.
pub async fn around<E: Endpoint>(
    ep: &E,
    mut req: Request,
    max_body: usize,
) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();

    let too_large = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| len > max_body);
    let mut resp = if too_large {
        ApiError::Request {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("Request body is larger than {max_body} bytes."),
        }
        .as_response()
    } else {
        if matches!(
            method,
            Method::POST | Method::DELETE | Method::PUT | Method::PATCH
        ) && body_is_empty(&req)
        {
            req.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            req.set_body(Body::from_string("{}".to_owned()));
        }
        match ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => ApiError::Request {
                status: e.status(),
                message: format!("Method \"{method}\" not allowed."),
            }
            .as_response(),
            Err(e) => reshape(e),
        }
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
    let status = resp.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "drydock::http", %method, %path, status, duration_ms, request_id = %request_id, "request");
    Ok(resp)
}

fn body_is_empty(req: &Request) -> bool {
    match req.headers().get(header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok().and_then(|s| s.parse::<u64>().ok()) == Some(0),
        None => !req.headers().contains_key(header::TRANSFER_ENCODING),
    }
}
