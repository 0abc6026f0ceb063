//! How Drycc process types map onto Dokku's.
//!
//! Drycc runs an image without a Procfile as process type `cmd` (the image's
//! own CMD). Dokku has no way to name that process anything but `web` — a
//! Procfile line needs a command, and the image's CMD is not known to the
//! controller — so a release without a Procfile is deployed without one and
//! Dokku's `web` *is* Drycc's `cmd`. Such deploys carry the container label
//! [`WEB_IS_CMD_LABEL`], which tells the adapter (from `docker-options:report`
//! or from a container's labels) to translate `cmd` ↔ `web`. With a Procfile,
//! names pass through unchanged.

use drydock_domain::name::ProcessType;

/// The Docker label option added to deploys whose `web` process is Drycc's `cmd`.
pub const WEB_IS_CMD_LABEL: &str = "--label=com.drycc.web-is-cmd=true";
/// The container label key of [`WEB_IS_CMD_LABEL`].
pub const WEB_IS_CMD_KEY: &str = "com.drycc.web-is-cmd";

/// The Dokku process type for a Drycc one.
pub fn to_dokku(t: &ProcessType, web_is_cmd: bool) -> ProcessType {
    if web_is_cmd && *t == ProcessType::cmd() {
        ProcessType::web()
    } else {
        t.clone()
    }
}

/// The Drycc process type for a Dokku one.
pub fn to_drycc(t: &str, web_is_cmd: bool) -> String {
    if web_is_cmd && t == "web" {
        "cmd".into()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_cmd_only_in_cmd_mode() {
        let cmd = ProcessType::cmd();
        assert_eq!(to_dokku(&cmd, true), ProcessType::web());
        assert_eq!(to_dokku(&cmd, false), cmd);
        assert_eq!(to_drycc("web", true), "cmd");
        assert_eq!(to_drycc("web", false), "web");
        assert_eq!(to_drycc("worker", true), "worker");
    }
}
