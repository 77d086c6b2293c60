//! What happens at each limit, against the scripted fake app-server: a line over the length
//! limit, a turn nobody consumes, control calls against a server that stopped reading, a turn
//! that goes quiet, turns started through the generic request.

use codex_app_server::core::queue::Wait;
use codex_app_server::core::turn::Next;
use codex_app_server::core::{Client, EventKind, Options};
use std::path::PathBuf;

fn fake_with(scenario: &str, env: &[(&str, &str)], tune: impl FnOnce(&mut Options)) -> Client {
    let mut options = Options::default();
    tune(&mut options);
    options.codex_bin = Some(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fake_app_server/fake_app_server.py"),
    );
    options.env.push(("FAKE_SCENARIO".into(), Some(scenario.into())));
    for (k, v) in env {
        options.env.push((k.to_string(), Some(v.to_string())));
    }
    Client::start(&options).expect("the fake app-server starts")
}

#[test]
fn a_line_over_the_limit_is_skipped_counted_and_reported_and_the_turn_goes_on() {
    // The garbage scenario sends a 2 MiB delta among three regular ones.
    let limit = 1 << 20;
    let client = fake_with("garbage", &[("FAKE_DELTAS", "3")], |o| o.max_line_bytes = limit);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let mut deltas = Vec::new();
    while let Next::Event(e) = turn.next_event(Wait::from_millis(10_000)).unwrap() {
        deltas.extend(e.delta().map(str::to_owned));
    }
    let id = turn.id();
    assert_eq!(deltas, (0..3).map(|i| format!("{id}:{i};")).collect::<Vec<_>>());
    // Three lines that are not JSON-RPC messages, and the long one.
    assert_eq!(client.skipped_lines(), 4);
    let skipped = loop {
        match client.next_event(Wait::from_millis(0)) {
            Ok(e) if e.kind() == EventKind::Skipped => break e,
            Ok(_) => continue,
            Err(e) => panic!("no codex/lineSkipped event on the client stream: {e}"),
        }
    };
    assert_eq!(skipped.method(), "codex/lineSkipped");
    let params: serde_json::Value = serde_json::from_str(skipped.params()).unwrap();
    assert_eq!(params["limitBytes"], limit);
    assert!(params["bytes"].as_u64().unwrap() > 2 << 20, "{params}");
}
