//! Simulated apps, domains, certificates, nginx/proxy settings and ssh keys.

use std::sync::LazyLock;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use regex::Regex;
use sha2::{Digest, Sha256};

use super::{app_mut, fail, Ctx, Outcome, Res};
use crate::sim::state::{SimApp, SimCert, SimSshKey, SimState};

static APP_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.-]*$").expect("static regex"));
static HOSTNAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9.*-]*[a-z0-9*-]$").expect("static regex"));

pub(super) fn create(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let name = args
        .first()
        .ok_or_else(|| fail("Please specify an app to run the command on"))?;
    if !APP_NAME_RE.is_match(name) {
        return Err(fail("App name must begin with lowercase alphanumeric character, and cannot include uppercase characters, colons, or underscores"));
    }
    if state.apps.contains_key(name) {
        return Err(fail("Name is already taken"));
    }
    state.apps.insert(name.clone(), SimApp::default());
    Ok(Outcome::ok(ctx.info(&format!("Creating {name}..."))))
}

pub(super) fn destroy(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, _) = app_mut(state, args)?;
    if !ctx.force {
        // Dokku prompts for the name; stdin is /dev/null under the daemon.
        return Err(fail(format!("Confirmation did not match {name}. Aborted.")));
    }
    state.apps.remove(&name);
    Ok(Outcome::ok(ctx.info(&format!(
        "Destroying {name} (including all add-ons)"
    ))))
}

pub(super) fn list(state: &SimState, ctx: &Ctx) -> Res {
    if state.apps.is_empty() {
        return Ok(Outcome::ok(
            " !     You haven't deployed any applications yet",
        ));
    }
    let names: Vec<&str> = state.apps.keys().map(String::as_str).collect();
    let header = if ctx.quiet { "" } else { "=====> My Apps\n" };
    Ok(Outcome::ok(format!("{header}{}", names.join("\n"))))
}

pub(super) fn domains_add(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    if args.len() < 2 {
        return Err(fail("Please specify a domain name"));
    }
    let mut out = String::new();
    for d in &args[1..] {
        if !HOSTNAME_RE.is_match(d) {
            return Err(fail(format!("{d} is invalid. exiting...")));
        }
        if app.domains.contains(d) {
            out.push_str(&format!("Skipping: {d} already added\n"));
        } else {
            app.domains.push(d.clone());
        }
    }
    out.push_str(&ctx.info(&format!("Added {} to {name}", args[1..].join(" "))));
    Ok(Outcome::ok(out))
}

/// `domains:report APP --domains-app-vhosts`: the app's own hostnames, space-separated.
pub(super) fn domains_report(state: &mut SimState, args: &[String]) -> Res {
    let (flags, positional) = super::options(args, &[])?;
    if !flags.contains_key("--domains-app-vhosts") || flags.len() != 1 {
        return Err(fail(
            "sim: only domains:report APP --domains-app-vhosts is simulated",
        ));
    }
    let (_, app) = app_mut(state, &positional)?;
    Ok(Outcome::ok(app.domains.join(" ")))
}

pub(super) fn domains_remove(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    if args.len() < 2 {
        return Err(fail("Please specify a domain name"));
    }
    app.domains.retain(|d| !args[1..].contains(d));
    Ok(Outcome::ok(ctx.info(&format!(
        "Removed {} from {name}",
        args[1..].join(" ")
    ))))
}

pub(super) fn certs_add(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    let (Some(crt_path), Some(key_path)) = (args.get(1), args.get(2)) else {
        return Err(fail(if ctx.stdin.is_some() {
            "sim: tar import on stdin is not simulated"
        } else {
            "Tar archive containing server.crt and server.key expected on stdin"
        }));
    };
    let crt = std::fs::read_to_string(crt_path)
        .map_err(|_| fail("CRT file specified not found, please check file paths"))?;
    let key = std::fs::read_to_string(key_path)
        .map_err(|_| fail("KEY file specified not found, please check file paths"))?;
    app.cert = Some(SimCert { crt, key });
    Ok(Outcome::ok(
        ctx.info(&format!("Configuring {name} with SSL")),
    ))
}

pub(super) fn certs_remove(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    if app.cert.take().is_none() {
        return Err(fail(format!(
            "An app-specific SSL endpoint is not defined for {name}"
        )));
    }
    Ok(Outcome::ok(
        ctx.info(&format!("Removing SSL endpoint from {name}")),
    ))
}

pub(super) fn certs_report(state: &mut SimState, args: &[String]) -> Res {
    let (_, app) = app_mut(state, args)?;
    match args.get(1).map(String::as_str) {
        Some("--ssl-enabled") => Ok(Outcome::ok(app.cert.is_some().to_string())),
        _ => Err(fail("Invalid flag passed, valid flags: --ssl-enabled")),
    }
}

pub(super) fn nginx_set(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    let key = args.get(1).ok_or_else(|| fail("No property specified"))?;
    const KEYS: [&str; 4] = [
        "hsts",
        "hsts-include-subdomains",
        "hsts-max-age",
        "hsts-preload",
    ];
    if !KEYS.contains(&key.as_str()) {
        return Err(fail(format!(
            "Invalid property specified, valid properties include: {}",
            KEYS.join(", ")
        )));
    }
    match args.get(2) {
        Some(value) => {
            app.nginx.insert(key.clone(), value.clone());
            Ok(Outcome::ok(ctx.info(&format!("Setting {key} to {value}"))))
        }
        None => {
            app.nginx.remove(key);
            Ok(Outcome::ok(
                ctx.info(&format!("Unsetting {key} for {name}")),
            ))
        }
    }
}

pub(super) fn proxy_build_config(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = app_mut(state, args)?;
    app.proxy_builds += 1;
    Ok(Outcome::ok(ctx.info(&format!("Configuring {name}..."))))
}

pub(super) fn ssh_keys_add(state: &mut SimState, args: &[String]) -> Res {
    let (Some(name), Some(path)) = (args.first(), args.get(1)) else {
        return Err(fail("No key specified via file or pipe"));
    };
    let text =
        std::fs::read_to_string(path).map_err(|_| fail("No key specified via file or pipe"))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let [line] = lines.as_slice() else {
        return Err(fail("Key specified in is not a valid ssh public key"));
    };
    let mut parts = line.split_whitespace();
    let blob = match (parts.next(), parts.next()) {
        (Some(kind), Some(b64))
            if kind.starts_with("ssh-")
                || kind.starts_with("ecdsa-")
                || kind.starts_with("sk-") =>
        {
            STANDARD.decode(b64).ok()
        }
        _ => None,
    }
    .ok_or_else(|| fail("Key specified in is not a valid ssh public key"))?;
    if state.ssh_keys.contains_key(name) {
        return Err(fail("Duplicate ssh key name"));
    }
    let fingerprint = format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&blob)));
    if state
        .ssh_keys
        .values()
        .any(|k| k.fingerprint == fingerprint)
    {
        return Err(fail("Duplicate ssh public key specified"));
    }
    state.ssh_keys.insert(
        name.clone(),
        SimSshKey {
            key: (*line).to_owned(),
            fingerprint: fingerprint.clone(),
        },
    );
    Ok(Outcome::ok(fingerprint))
}

pub(super) fn ssh_keys_remove(state: &mut SimState, args: &[String]) -> Res {
    let name = args.first().ok_or_else(|| fail("A key name is required"))?;
    if state.ssh_keys.remove(name).is_none() {
        return Err(fail("Invalid ssh key name specified"));
    }
    Ok(Outcome::ok(""))
}
