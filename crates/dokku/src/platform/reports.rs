//! Reading Dokku's `*:report --format json` output tolerantly.
//!
//! Report keys changed shape in 0.38 (`deploy` vs `docker-options-deploy`);
//! Go plugins emit both during 0.38.x (dokku-commands §2). Lookups here try the
//! short key first, then the plugin-prefixed one.

use drydock_domain::name::AppName;
use drydock_domain::platform::PlatformError;
use serde_json::{Map, Value};

use super::{Class, DokkuPlatform};
use crate::command::Command;

/// A report as a JSON object.
pub(super) type Report = Map<String, Value>;

/// Runs `<plugin>:report APP --format json`.
pub(super) async fn report(
    p: &DokkuPlatform,
    word: &'static str,
    app: &AppName,
) -> Result<Report, PlatformError> {
    let cmd = Command::new(word)
        .app(app)
        .literal("--format")
        .literal("json");
    Ok(p.send(cmd, Class::Quick).await?.json()?)
}

/// The value of `key` (or `<plugin>-<key>`) as text; absent or non-string → `None`.
pub(super) fn value<'a>(report: &'a Report, plugin: &str, key: &str) -> Option<&'a str> {
    report
        .get(key)
        .or_else(|| report.get(&format!("{plugin}-{key}")))
        .and_then(Value::as_str)
}

/// Keys with the `<plugin>-` head removed, with their string values.
pub(super) fn entries<'a>(
    report: &'a Report,
    plugin: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let head = format!("{plugin}-");
    report.iter().filter_map(move |(k, v)| {
        let key = k.strip_prefix(head.as_str()).unwrap_or(k);
        v.as_str().map(|v| (key, v))
    })
}

/// The app's deploy-phase docker options, one token each.
pub(super) async fn deploy_options(
    p: &DokkuPlatform,
    app: &AppName,
) -> Result<Vec<String>, PlatformError> {
    let r = report(p, "docker-options:report", app).await?;
    Ok(value(&r, "docker-options", "deploy")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_and_new_key_shapes() {
        let new = json!({"deploy": "--label=a=b --restart=always"});
        let old = json!({"docker-options-deploy": "--label=a=b"});
        assert_eq!(
            value(new.as_object().unwrap(), "docker-options", "deploy"),
            Some("--label=a=b --restart=always")
        );
        assert_eq!(
            value(old.as_object().unwrap(), "docker-options", "deploy"),
            Some("--label=a=b")
        );
        let r = json!({"resource-web.limit.cpu": "0.5", "web.limit.memory": "1g", "n": 1});
        let mut e: Vec<_> = entries(r.as_object().unwrap(), "resource").collect();
        e.sort();
        assert_eq!(
            e,
            vec![("web.limit.cpu", "0.5"), ("web.limit.memory", "1g")]
        );
    }
}
