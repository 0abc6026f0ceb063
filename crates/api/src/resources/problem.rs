//! The error answers every operation can give, declared once for the OpenAPI
//! document. Handlers return [`ApiResult`]; the error is rendered exactly as
//! before (by `ApiError`'s mapping and the middleware's reshaping), this type
//! only adds the 4xx/503 responses and their body shapes to each operation so
//! clients and conformance testers know what to expect.

use drydock_domain::platform::PlatformError;
use drydock_domain::DomainError;
use drydock_entity::StoreError;
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

use crate::error::ApiError;

/// `{"detail": "…"}`: the body of most errors.
#[derive(Object)]
pub struct ErrorDetail {
    /// What went wrong, for a person to read.
    pub detail: String,
}

/// An operation's failure: any error the API can answer with.
pub struct Problem(poem::Error);

/// What a handler returns: its success answer or a [`Problem`].
pub type ApiResult<T> = Result<T, Problem>;

impl From<poem::Error> for Problem {
    fn from(e: poem::Error) -> Self {
        Self(e)
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        Self(e.into())
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<PlatformError> for Problem {
    fn from(e: PlatformError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<Problem> for poem::Error {
    fn from(p: Problem) -> Self {
        p.0
    }
}

fn detail() -> MetaSchemaRef {
    ErrorDetail::schema_ref()
}

/// `{"<field>": ["<message>", …], …}`: validation errors per field.
fn field_errors() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        ty: "object",
        description: Some("Validation messages per field."),
        additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
            ty: "array",
            items: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::new(
                "string",
            ))))),
            ..MetaSchema::ANY
        })))),
        ..MetaSchema::ANY
    }))
}

/// A bare JSON string, as the reference answers failed object lookups.
fn bare_message() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(
            "The reference's lookup message, e.g. \"No App matches the given query.\"",
        ),
        ..MetaSchema::new("string")
    }))
}

fn any_of(options: Vec<MetaSchemaRef>) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        any_of: options,
        ..MetaSchema::ANY
    }))
}

fn response(status: u16, description: &'static str, schema: MetaSchemaRef) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: "application/json",
            schema,
        }],
        headers: vec![],
    }
}

impl ApiResponse for Problem {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![
                response(
                    400,
                    "The request is invalid: `{\"detail\": \"…\"}`, or `{\"<field>\": [\"…\"]}` when fields failed validation.",
                    any_of(vec![detail(), field_errors()]),
                ),
                response(
                    401,
                    "No token, a malformed or unknown token (with `WWW-Authenticate: Token`), or a wrong current password.",
                    detail(),
                ),
                response(403, "The caller may not do this.", detail()),
                response(
                    404,
                    "Something named in the request does not exist: a bare JSON string for object lookups, otherwise `{\"detail\": \"…\"}`.",
                    any_of(vec![bare_message(), detail()]),
                ),
                response(
                    409,
                    "The request conflicts with the current state (nothing changed, a reserved name, a concurrent write, an account that still owns apps).",
                    detail(),
                ),
                response(413, "The request body is too large.", detail()),
                response(422, "Unsetting a config key that is not set.", detail()),
                response(
                    429,
                    "Too many failed logins for this user or address; try again later (`Retry-After`).",
                    detail(),
                ),
                response(
                    503,
                    "Dokku could not be reached or answered something Drydock could not understand.",
                    detail(),
                ),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        ErrorDetail::register(registry);
    }
}
