//! The `Allow` header of a 405: which methods a path does accept, read from
//! the OpenAPI document so it can never disagree with the routes.

use std::collections::BTreeSet;

/// Route templates (`/v2/apps/{id}`) and the methods each accepts.
#[derive(Debug, Default)]
pub struct AllowTable(Vec<(Vec<String>, BTreeSet<String>)>);

impl AllowTable {
    /// Reads every path and method of an OpenAPI document.
    pub fn from_spec(spec: &str) -> Self {
        let doc: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, ops)| {
                let segments = split(path).map(str::to_owned).collect();
                let methods = ops
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys().map(|m| m.to_uppercase()))
                    .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The `Allow` value for `path`, e.g. `GET, POST`; `None` if no route
    /// matches. Like the router, a literal segment beats a parameter, so
    /// `/pods/restart` is not taken for `/pods/{ptype}`.
    pub fn allow(&self, path: &str) -> Option<String> {
        let asked: Vec<&str> = split(path).collect();
        let (_, methods) = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == asked.len()
                    && template
                        .iter()
                        .zip(&asked)
                        .all(|(t, a)| t.starts_with('{') || t == a)
            })
            .max_by_key(|(template, _)| {
                template
                    .iter()
                    .map(|t| !t.starts_with('{'))
                    .collect::<Vec<_>>()
            })?;
        Some(methods.iter().cloned().collect::<Vec<_>>().join(", "))
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_by_segment() {
        let t = AllowTable::from_spec(
            r#"{"paths": {"/v2/apps/{id}": {"get": {}, "post": {}, "delete": {}},
                          "/v2/apps/{id}/config": {"get": {}, "post": {}},
                          "/v2/apps/{id}/pods/{ptype}": {"get": {}},
                          "/v2/apps/{id}/pods/restart": {"post": {}},
                          "/v2/apps": {"get": {}, "post": {}}}}"#,
        );
        assert_eq!(
            t.allow("/v2/apps/web/").as_deref(),
            Some("DELETE, GET, POST")
        );
        assert_eq!(t.allow("/v2/apps/web/config").as_deref(), Some("GET, POST"));
        assert_eq!(
            t.allow("/v2/apps/web/pods/restart").as_deref(),
            Some("POST")
        );
        assert_eq!(t.allow("/v2/apps/web/pods/web").as_deref(), Some("GET"));
        assert_eq!(t.allow("/v2/nothing"), None);
    }
}
