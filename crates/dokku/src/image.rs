//! Docker image references, checked before they are written into a Dockerfile.
//!
//! The reference ends up on a `FROM` line of a generated Dockerfile; a newline
//! or a space there would let a value add build instructions. The grammar is
//! Docker's (`distribution/reference`): `[host[:port]/]path[:tag][@digest]`.

use std::sync::LazyLock;

use drydock_domain::platform::PlatformError;
use regex::Regex;

static REFERENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    let host_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let host = format!(r"{host_component}(?:\.{host_component})*(?::[0-9]+)?");
    let path_component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    let name = format!(r"(?:{host}/)?{path_component}(?:/{path_component})*");
    let tag = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    Regex::new(&format!(r"^{name}(?::{tag})?(?:@{digest})?$")).expect("static regex")
});

/// The longest reference Docker accepts for the name part; used as a bound for the whole.
const MAX_REFERENCE_LEN: usize = 512;

/// A validated image reference such as `registry.example.com:5000/team/app:v1@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef(String);

impl ImageRef {
    /// Checks `s` against Docker's reference grammar.
    pub fn parse(s: &str) -> Result<Self, PlatformError> {
        if s.len() > MAX_REFERENCE_LEN || !REFERENCE_RE.is_match(s) {
            return Err(PlatformError::InvalidArgument(format!(
                "{s:?} is not a valid Docker image reference"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// The reference text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_references() {
        for ok in [
            "nginx",
            "library/nginx:1.25-alpine",
            "registry.example.com:5000/team/app:v1",
            "localhost/app",
            "ghcr.io/o/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a/b__c/d-e:latest",
        ] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "nginx latest",
            "nginx\nRUN rm -rf /",
            "Nginx",
            "nginx:",
            "nginx:-bad",
            "/nginx",
            "nginx@sha256:short",
            "a//b",
            "ng<inx",
            "nginx\0",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}
