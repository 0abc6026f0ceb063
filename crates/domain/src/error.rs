//! The one error type of the domain; the API maps each variant to an HTTP status
//! and the reference's body shape in a single place.

use thiserror::Error;

/// Why a request could not be carried out, in terms a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A field failed validation: answered `400 {"<field>": ["<message>"]}`.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    /// The request as a whole is wrong: answered `400 {"detail": "…"}`.
    #[error("{0}")]
    BadRequest(String),
    /// A looked-up object is absent: answered `404 "<message>"` (a bare JSON string, as the reference does).
    #[error("{0}")]
    NotFound(String),
    /// Something named in the request is absent: answered `404 {"detail": "…"}`.
    #[error("{0}")]
    Missing(String),
    /// The caller may not do this: answered `403`.
    #[error("You do not have permission to perform this action.")]
    Forbidden,
    /// The request conflicts with the current state: answered `409 {"detail": "…"}`.
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but refers to something that is not there (unsetting a missing key): `422`.
    #[error("{0}")]
    Unprocessable(String),
}

impl DomainError {
    /// Shorthand for a single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The reference's 404 text for a model lookup, e.g. `No App matches the given query.`
    pub fn not_found(model: &str) -> Self {
        Self::NotFound(format!("No {model} matches the given query."))
    }
}
