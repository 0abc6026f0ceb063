//! Procfiles: the process types of a build and the command each runs.

use std::collections::BTreeMap;

use crate::name::ProcessType;
use crate::DomainError;

/// Validates a build's procfile from the client's JSON object `{"web": "cmd", …}`.
/// Commands must be one line: they end up in a generated Procfile.
pub fn parse(raw: &BTreeMap<String, String>) -> Result<BTreeMap<ProcessType, String>, DomainError> {
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let t = ProcessType::parse(k)?;
        if v.trim().is_empty() {
            return Err(DomainError::field(
                "procfile",
                format!("The command for process type {k} is empty"),
            ));
        }
        if v.contains(['\n', '\r', '\0']) {
            return Err(DomainError::field(
                "procfile",
                format!("The command for process type {k} must be a single line"),
            ));
        }
        out.insert(t, v.clone());
    }
    Ok(out)
}

/// The process types a build runs: its Procfile's, or `cmd` for an image with none.
pub fn process_types(procfile: &BTreeMap<ProcessType, String>) -> Vec<ProcessType> {
    if procfile.is_empty() {
        vec![ProcessType::cmd()]
    } else {
        procfile.keys().cloned().collect()
    }
}

/// The type scaled to one by an app's first build: `web` if present, else the sole or first type.
pub fn default_scaled_type(procfile: &BTreeMap<ProcessType, String>) -> ProcessType {
    let types = process_types(procfile);
    if types.contains(&ProcessType::web()) {
        ProcessType::web()
    } else {
        types.into_iter().next().unwrap_or_else(ProcessType::cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_defaults() {
        let mut raw = BTreeMap::new();
        raw.insert("worker".to_string(), "run-worker".to_string());
        let p = parse(&raw).unwrap();
        assert_eq!(default_scaled_type(&p).as_str(), "worker");
        assert_eq!(default_scaled_type(&BTreeMap::new()).as_str(), "cmd");
        raw.insert("web".into(), "serve".into());
        assert_eq!(default_scaled_type(&parse(&raw).unwrap()).as_str(), "web");
        raw.insert("Bad".into(), "x".into());
        assert!(parse(&raw).is_err());
        let mut nl = BTreeMap::new();
        nl.insert("web".to_string(), "a\nb".to_string());
        assert!(parse(&nl).is_err());
    }
}
