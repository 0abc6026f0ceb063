//! Rules for the free text clients send (config values, commands, key ids,
//! Dockerfiles…), shared by every field that stores or applies such text.

use serde_json::Value;

use crate::DomainError;

/// The reference's message for a NUL character in a text field (Django's
/// `ProhibitNullCharactersValidator`, which every DRF `CharField` runs).
pub const NUL_MESSAGE: &str = "Null characters are not allowed.";

/// Refuses text holding a NUL character: no environment variable, command
/// line, Procfile or PostgreSQL `text` value can carry one, so it could never
/// be stored or applied exactly.
pub fn check_no_nul(field: &str, text: &str) -> Result<(), DomainError> {
    if text.contains('\0') {
        return Err(DomainError::field(field, NUL_MESSAGE));
    }
    Ok(())
}

/// [`check_no_nul`] for every string (keys included) inside a JSON value.
pub fn check_json_no_nul(field: &str, value: &Value) -> Result<(), DomainError> {
    match value {
        Value::String(s) => check_no_nul(field, s),
        Value::Array(items) => items.iter().try_for_each(|v| check_json_no_nul(field, v)),
        Value::Object(members) => members.iter().try_for_each(|(k, v)| {
            check_no_nul(field, k)?;
            check_json_no_nul(field, v)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Whether `text` could name a stored object at all. Every name Drydock
/// stores is NUL-free (see [`check_no_nul`]), so a lookup of anything else is
/// answered "not found" without asking the database (PostgreSQL refuses NUL
/// in a query parameter outright).
pub fn can_name_something(text: &str) -> bool {
    !text.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_refused_anywhere() {
        assert!(check_no_nul("f", "a b\n<c>;$(d)`e`../").is_ok());
        assert_eq!(
            check_no_nul("f", "a\0b"),
            Err(DomainError::field("f", NUL_MESSAGE))
        );
        assert!(check_json_no_nul("h", &json!({"a": [1, "x", {"b": null}]})).is_ok());
        assert!(check_json_no_nul("h", &json!({"a": [1, "x\u{0}"]})).is_err());
        assert!(check_json_no_nul("h", &json!({"a\u{0}": 1})).is_err());
        assert!(!can_name_something("x\0"));
        assert!(can_name_something("x"));
    }
}
