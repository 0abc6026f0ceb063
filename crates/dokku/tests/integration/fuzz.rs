//! The command line as a security boundary: arbitrary bytes in every
//! user-facing argument either are refused with a typed error or reach the
//! simulated Dokku exactly — never as a second command, a redirection or a
//! split argument.

use std::collections::BTreeMap;
use std::time::Duration;

use drydock_dokku::sim::daemon;
use drydock_domain::name::{AppName, ConfigKey, DomainName, ProcessType, SshKeyName};
use drydock_domain::platform::{Platform, PlatformError, ReleaseSpec};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tokio::runtime::Runtime;

use crate::harness::{app, command_word, TestEnv, PLATFORM_COMMANDS};

/// Strings built to hurt: shell and daemon syntax, control bytes, unicode, and now and then 100 kB.
fn nasty() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = " \t\n\r\0<>\"'\\$;|&`*?[](){}=+/-.:@#~!aZ09é😀\u{1b}\u{7f}\u{2028}"
        .chars()
        .collect();
    let small = prop::collection::vec(prop::sample::select(alphabet.clone()), 0..64)
        .prop_map(|v| v.into_iter().collect::<String>());
    let big = (prop::sample::select(alphabet), 90_000usize..100_001)
        .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect::<String>());
    prop_oneof![
        6 => small,
        3 => any::<String>(),
        1 => big,
    ]
}

struct Fixture {
    rt: Runtime,
    t: TestEnv,
}

impl Fixture {
    fn new() -> Self {
        let rt = Runtime::new().unwrap();
        let t = rt.block_on(async {
            let t = TestEnv::start_with(|s| s.run_output_cap = 1 << 20).await;
            t.platform.create_app(&app("shop")).await.unwrap();
            t
        });
        Self { rt, t }
    }

    /// Every line the sim received since `from` is one the platform may send,
    /// valid for the daemon, without redirection characters.
    fn check_lines(&self, from: usize) -> Result<(), TestCaseError> {
        for line in &self.t.sim.commands()[from..] {
            prop_assert!(
                PLATFORM_COMMANDS.contains(&command_word(line)),
                "unexpected line {line:?}"
            );
            prop_assert!(!line.contains(['<', '>', '\n', '\0']), "{line:?}");
            let words = daemon::split_words(line, None);
            prop_assert!(
                daemon::is_valid(&words, drydock_dokku::sim::dokku::COMMANDS),
                "{line:?}"
            );
        }
        Ok(())
    }
}

fn is_refusal(e: &PlatformError) -> bool {
    matches!(e, PlatformError::InvalidArgument(_))
}

#[test]
fn config_values_round_trip_or_are_refused() {
    let f = Fixture::new();
    let shop = app("shop");
    proptest!(ProptestConfig::with_cases(48), |(value in nasty(), other in nasty())| {
        let before = f.t.sim.commands().len();
        let env: BTreeMap<ConfigKey, String> = [("VALUE", &value), ("OTHER", &other)]
            .into_iter()
            .map(|(k, v)| (ConfigKey::parse(k).unwrap(), v.clone()))
            .collect();
        let spec = ReleaseSpec { version: 1, env: env.clone(), ..ReleaseSpec::default() };
        let result = f.rt.block_on(f.t.platform.apply_release(&shop, &spec));
        f.check_lines(before)?;
        match result {
            Ok(()) => {
                let config = f.t.sim.state().apps["shop"].config.clone();
                prop_assert_eq!(config.get("VALUE"), Some(&value));
                prop_assert_eq!(config.get("OTHER"), Some(&other));
                prop_assert_eq!(config.len(), 2);
            }
            Err(e) => prop_assert!(is_refusal(&e) && value.len().max(other.len()) > 90_000, "{e:?}"),
        }
    });
}

#[test]
fn names_are_validated_before_they_reach_dokku() {
    let f = Fixture::new();
    let shop = app("shop");
    proptest!(ProptestConfig::with_cases(64), |(s in nasty())| {
        let before = f.t.sim.commands().len();
        if let Ok(d) = DomainName::parse(&s) {
            f.rt.block_on(f.t.platform.add_domain(&shop, &d)).unwrap();
            prop_assert!(f.t.sim.state().apps["shop"].domains.contains(&d.fold()));
        }
        if let Ok(a) = AppName::parse(&s) {
            let r = f.rt.block_on(f.t.platform.create_app(&a));
            prop_assert!(r.is_ok() || matches!(r, Err(PlatformError::Rejected(_))), "{r:?}");
            prop_assert!(f.t.sim.state().app(&s).is_some());
        }
        if let Ok(t) = ProcessType::parse(&s) {
            let r = f.rt.block_on(f.t.platform.scale(&shop, &BTreeMap::from([(t, 1)])));
            prop_assert!(r.is_ok(), "{r:?}");
        }
        if let Ok(k) = SshKeyName::parse(&s) {
            let r = f.rt.block_on(f.t.platform.remove_ssh_key(&k));
            prop_assert!(matches!(r, Err(PlatformError::Rejected(_))), "{r:?}");
        }
        f.check_lines(before)?;
    });
}

#[test]
fn file_contents_arrive_byte_for_byte() {
    let f = Fixture::new();
    let shop = app("shop");
    let name = SshKeyName::parse("fuzz").unwrap();
    proptest!(ProptestConfig::with_cases(32), |(crt in nasty(), key in nasty(), comment in nasty())| {
        let before = f.t.sim.commands().len();
        f.rt.block_on(f.t.platform.install_certificate(&shop, &crt, &key)).unwrap();
        let cert = f.t.sim.state().apps["shop"].cert.clone().unwrap();
        prop_assert_eq!(&cert.crt, &crt);
        prop_assert_eq!(&cert.key, &key);

        let line = format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl {comment}");
        match f.rt.block_on(f.t.platform.add_ssh_key(&name, &line)) {
            Ok(()) => {
                let stored = f.t.sim.state().ssh_keys["fuzz"].key.clone();
                prop_assert_eq!(stored.trim_end(), line.trim_end_matches(['\n', '\r']).trim_end());
                f.rt.block_on(f.t.platform.remove_ssh_key(&name)).unwrap();
            }
            Err(e) => prop_assert!(
                is_refusal(&e) || matches!(e, PlatformError::Rejected(_)),
                "{e:?}"
            ),
        }
        prop_assert!(f.t.spool_files().is_empty());
        f.check_lines(before)?;
    });
}

#[test]
fn run_commands_arrive_exactly_or_are_refused() {
    let f = Fixture::new();
    let shop = app("shop");
    f.rt.block_on(f.t.platform.apply_release(
        &shop,
        &ReleaseSpec {
            version: 1,
            image: Some("shop:1".into()),
            ..ReleaseSpec::default()
        },
    ))
    .unwrap();
    proptest!(ProptestConfig::with_cases(48), |(command in nasty())| {
        let before = f.t.sim.commands().len();
        let runs_before = f.t.sim.state().apps["shop"].runs.len();
        let r = f.rt.block_on(f.t.platform.run(&shop, &command, Duration::from_secs(5)));
        f.check_lines(before)?;
        let runs = f.t.sim.state().apps["shop"].runs.clone();
        match r {
            Ok(_) => {
                prop_assert_eq!(runs.len(), runs_before + 1);
                prop_assert_eq!(runs.last().unwrap().command.as_deref(), Some(command.as_str()));
            }
            Err(e) => {
                prop_assert!(is_refusal(&e) && command.len() > 90_000, "{e:?}");
                prop_assert_eq!(runs.len(), runs_before);
            }
        }
    });
}

#[test]
fn images_and_procfiles_are_refused_or_deployed_verbatim() {
    let f = Fixture::new();
    let shop = app("shop");
    let image_chars = prop::collection::vec(
        prop::sample::select("a/:.@-_ \nZ0".chars().collect::<Vec<_>>()),
        1..24,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    proptest!(ProptestConfig::with_cases(48), |(image in prop_oneof![nasty(), image_chars], command in nasty())| {
        let before = f.t.sim.commands().len();
        let mut spec = ReleaseSpec { version: 2, image: Some(image.clone()), ..ReleaseSpec::default() };
        spec.procfile.insert(ProcessType::web(), command.clone());
        let r = f.rt.block_on(f.t.platform.apply_release(&shop, &spec));
        f.check_lines(before)?;
        match r {
            Ok(()) => {
                let deploy = f.t.sim.state().apps["shop"].deploy.clone().unwrap();
                prop_assert_eq!(&deploy.image, &image);
                prop_assert_eq!(deploy.procfile["web"].as_str(), command.trim());
            }
            Err(e) => {
                prop_assert!(is_refusal(&e), "{e:?}");
                prop_assert_eq!(f.t.sim.commands().len(), before, "refused before anything was sent");
            }
        }
    });
}
