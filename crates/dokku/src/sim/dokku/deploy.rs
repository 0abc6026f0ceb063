//! Simulated `git:from-archive`: fetches a `file://` URL, reads the tar's
//! `Dockerfile`, `Procfile`, `app.json` and Drydock's release marker, and
//! "deploys": formation, containers with the current labels, `GIT_REV`.
//! Other URL schemes fail as curl would without network.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::{app_mut, fail, options, ps, Ctx, Outcome, Res};
use crate::archive::RELEASE_MARKER;
use crate::sim::state::{SimDeploy, SimState};

pub(super) fn from_archive(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["--archive-type"])?;
    if flags.get("--archive-type").is_some_and(|t| t != "tar") {
        return Err(fail("sim: only tar archives are simulated"));
    }
    let (name, app) = app_mut(state, &positional)?;
    let url = positional
        .get(1)
        .ok_or_else(|| fail("Please specify an archive url or -- to read from stdin"))?;
    let bytes = if url == "--" {
        ctx.stdin
            .clone()
            .ok_or_else(|| fail("No archive on stdin"))?
    } else {
        let path = url.strip_prefix("file://").ok_or_else(|| {
            fail(format!(
                "curl: (6) Could not resolve host for {url}\n !     Failed to download archive"
            ))
        })?;
        std::fs::read(path)
            .map_err(|e| fail(format!("curl: (37) Couldn't open file {path}: {e}")))?
    };
    let files = untar(&bytes).map_err(|e| fail(format!("Invalid archive: {e}")))?;
    let dockerfile = files
        .get("Dockerfile")
        .ok_or_else(|| fail("Unable to select a buildpack (no Dockerfile in the archive)"))?
        .clone();
    let image = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM "))
        .map(str::trim)
        .ok_or_else(|| fail("Dockerfile has no FROM line"))?
        .to_owned();
    let procfile = files
        .get("Procfile")
        .map(|p| parse_procfile(p))
        .unwrap_or_default();
    let app_json = files
        .get("app.json")
        .map(|j| serde_json::from_str(j).map_err(|e| fail(format!("Invalid app.json: {e}"))))
        .transpose()?;
    let marker: Option<serde_json::Value> = files
        .get(RELEASE_MARKER)
        .and_then(|m| serde_json::from_str(m).ok());
    let release = marker
        .as_ref()
        .and_then(|m| m.get("release"))
        .and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok());
    let git_rev: String = Sha256::digest(&bytes)
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect();

    let deploy = SimDeploy {
        image: image.clone(),
        dockerfile,
        procfile,
        app_json,
        marker,
        release,
        source_url: url.clone(),
        git_rev: git_rev.clone(),
    };
    let types = deploy.process_types();
    app.scale.retain(|t, _| types.contains(t));
    for t in &types {
        // Like Dokku: a new `web` starts with one container, other new types with none.
        app.scale.entry(t.clone()).or_insert(u32::from(t == "web"));
    }
    app.config.insert("GIT_REV".into(), git_rev);
    app.config
        .insert("DOKKU_APP_TYPE".into(), "dockerfile".into());
    app.deploy = Some(deploy);
    app.deploy_count += 1;
    ps::restart_types(&name, app, None, ctx.now);
    let mut out = ctx.info(&format!("Building {name} from Dockerfile"));
    out.push_str(&format!(
        "  % Total    % Received\r  0     0\r100   {}\n\u{1b}[1mStep 1/1 : FROM {image}\u{1b}[0m\n",
        bytes.len()
    ));
    out.push_str(&format!(
        "=====> Application deployed:\n       http://{name}.dokku.me"
    ));
    Ok(Outcome::ok(out))
}

/// Regular files of a tar, by path without a leading `./`, as text.
fn untar(bytes: &[u8]) -> Result<BTreeMap<String, String>, std::io::Error> {
    let mut archive = tar::Archive::new(bytes);
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        files.insert(
            path.trim_start_matches("./").to_owned(),
            String::from_utf8_lossy(&data).into_owned(),
        );
    }
    Ok(files)
}

fn parse_procfile(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(t, c)| (t.trim().to_owned(), c.trim().to_owned()))
        .collect()
}
