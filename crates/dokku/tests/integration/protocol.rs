//! The simulator speaks dokku-daemon's protocol byte for byte.

use std::time::Duration;

use drydock_domain::platform::Platform;

use crate::harness::{app, release, Raw, TestEnv};

const INVALID: &[u8] = b"{\"ok\":false,\"output\":\"Invalid command\"}\n";

#[tokio::test]
async fn validation_quirks() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    assert_eq!(raw.ask("").await, INVALID);
    assert_eq!(raw.ask("bogus:thing x").await, INVALID);
    assert_eq!(
        raw.ask("shell").await,
        b"{\"ok\":false,\"output\":\"Not implemented\"}\n"
    );
    assert_eq!(
        raw.ask("--quiet apps:create shop").await,
        b"{\"ok\":true,\"output\":\"\"}\n"
    );
    assert_eq!(
        raw.ask("apps:destroy shop").await,
        b"{\"ok\":false,\"output\":\"Requires --force flag\"}\n"
    );
    assert_eq!(
        raw.ask("apps:destroy shop --force").await,
        INVALID,
        "flags after the command word"
    );
    assert!(raw
        .ask("commands")
        .await
        .starts_with(b"{\"ok\":true,\"output\":\"apps:create\\napps:destroy"));
    assert_eq!(
        raw.ask("--force apps:destroy shop").await,
        b"{\"ok\":true,\"output\":\"-----> Destroying shop (including all add-ons)\"}\n"
    );
}

#[tokio::test]
async fn pipelined_commands_answer_in_order_and_unterminated_lines_are_dropped() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    raw.send(b"--quiet apps:create a1\n--quiet apps:create a2\n--quiet apps:list\n--quiet apps:create a3").await;
    assert_eq!(raw.line().await, b"{\"ok\":true,\"output\":\"\"}\n");
    assert_eq!(raw.line().await, b"{\"ok\":true,\"output\":\"\"}\n");
    assert_eq!(raw.line().await, b"{\"ok\":true,\"output\":\"a1\\na2\"}\n");
    raw.shutdown_write().await;
    assert_eq!(raw.line().await, b"", "no reply for the unterminated line");
    assert_eq!(t.sim.state().apps.len(), 2);
}

#[tokio::test]
async fn no_quoting_only_blanks_split() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    raw.ask("apps:create shop").await;
    raw.ask("domains:add shop 'a.com b.com'\t\"c.com\"").await;
    assert_eq!(
        t.sim.state().apps["shop"].domains,
        Vec::<String>::new(),
        "quotes are not valid hostnames"
    );
    raw.ask("  domains:add   shop a.com\tb.com  ").await;
    assert_eq!(t.sim.state().apps["shop"].domains, vec!["a.com", "b.com"]);
    // Globbing happens in the socket directory: `*.sock` names the socket itself.
    raw.ask("domains:add shop *.sock").await;
    assert!(t.sim.state().apps["shop"]
        .domains
        .contains(&"dokku.sock".to_owned()));
}

#[tokio::test]
async fn encoder_escapes_only_newlines_and_quotes() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    let value = "q\"b\\s\tt<\u{1}";
    t.platform
        .apply_release(&shop, &release(1, None, &[("V", value)]))
        .await
        .unwrap();
    let mut raw = Raw::connect(&t.socket()).await;
    let line = raw.ask("config:export --format json shop").await;
    // Go escapes (\" \\ \t \u003c \u0001); the daemon then escapes only the quotes.
    assert_eq!(
        line,
        [
            &br#"{"ok":true,"output":"{\"V\":\"q\\"b\\s\tt\u003c\u0001\"}"}"#[..],
            b"\n"
        ]
        .concat()
    );
    assert_eq!(t.sim.state().apps["shop"].config["V"], value);
    let out = raw.ask("--quiet apps:list").await;
    assert_eq!(out, b"{\"ok\":true,\"output\":\"shop\"}\n");
    let out = raw.ask("apps:list").await;
    assert_eq!(out, b"{\"ok\":true,\"output\":\"=====> My Apps\\nshop\"}\n");
}

#[tokio::test]
async fn redirections_report_a_stale_ok() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    raw.ask("apps:create shop").await;
    let out_file = t.dir.path().join("out.json");
    let line = format!("config:export --format json shop > {}", out_file.display());
    assert_eq!(raw.ask(&line).await, b"{\"ok\":true,\"output\":\"\"}\n");
    assert_eq!(std::fs::read(&out_file).unwrap(), b"{}");
    assert!(raw
        .ask("apps:create shop")
        .await
        .starts_with(b"{\"ok\":false"));
    // The redirected command succeeds, but reports the previous failure.
    let line = format!("apps:create other < {}", out_file.display());
    assert_eq!(
        raw.ask(&line).await,
        b"{\"ok\":false,\"output\":\"-----> Creating other...\"}\n"
    );
    assert!(t.sim.state().app("other").is_some());
    // A missing input file: empty output, stale flag, command not run.
    let mut fresh = Raw::connect(&t.socket()).await;
    assert_eq!(
        fresh.ask("apps:create third < /nonexistent").await,
        b"{\"ok\":true,\"output\":\"\"}\n"
    );
    assert!(t.sim.state().app("third").is_none());
}

#[tokio::test]
async fn half_close_loses_slow_replies() {
    let t = TestEnv::start().await;
    let shop = app("shop");
    t.platform.create_app(&shop).await.unwrap();
    t.platform
        .apply_release(&shop, &release(1, Some("shop:1"), &[]))
        .await
        .unwrap();
    let mut raw = Raw::connect(&t.socket()).await;
    raw.send(b"run shop sleep 1\n--quiet apps:create never\n")
        .await;
    raw.shutdown_write().await;
    assert_eq!(
        raw.line().await,
        b"",
        "socat tore the session down after 0.5 s"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let state = t.sim.state();
    assert_eq!(
        state.apps["shop"].runs.len(),
        1,
        "the command in flight still ran"
    );
    assert!(state.app("never").is_none(), "queued lines never run");
}

#[tokio::test]
async fn oversized_arguments_fail_like_execve() {
    let t = TestEnv::start().await;
    let mut raw = Raw::connect(&t.socket()).await;
    raw.ask("apps:create shop").await;
    let line = format!("config:set shop K={}", "A".repeat(140_000));
    assert_eq!(
        raw.ask(&line).await,
        b"{\"ok\":false,\"output\":\"/bin/bash: line 1: /usr/bin/flock: Argument list too long\"}\n"
    );
}
