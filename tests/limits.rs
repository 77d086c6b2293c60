//! What happens at each limit, against the scripted fake app-server: a line over the length
//! limit, a turn nobody consumes, control calls against a server that stopped reading, a turn
//! that goes quiet, turns started through the generic request.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, ErrorKind, EventKind};
use fake::client as fake_with;
use std::time::{Duration, Instant};

mod fake;

#[test]
fn a_line_over_the_limit_is_skipped_counted_and_reported_and_the_turn_goes_on() {
    // The garbage scenario sends a 2 MiB delta among three regular ones.
    let limit = 1 << 20;
    let client =
        fake_with("garbage", &[("FAKE_DELTAS", "3")], |o| o.transport.max_line_bytes = limit);
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

/// Turn ids the fake has received a `turn/interrupt` for.
fn interrupts_seen(client: &Client) -> Vec<String> {
    let result = client.request("test/interrupts", Some("{}"), Timeout::Default).unwrap();
    let value: serde_json::Value = serde_json::from_str(&result).unwrap();
    value["turnIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// Waits (with a generous bound, never a fixed sleep) until the fake got `turn/interrupt` for
/// `turn`.
fn wait_for_interrupt(client: &Client, turn: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !interrupts_seen(client).iter().any(|t| t == turn) {
        assert!(Instant::now() < deadline, "no turn/interrupt for {turn}");
        std::thread::yield_now();
    }
}

#[test]
fn a_turn_nobody_consumes_overflows_is_interrupted_and_others_go_on() {
    let client = fake_with("normal", &[], |o| o.turn_buffer_events = 100);
    let (idle_thread, _) = client.thread_start(None).unwrap();
    let (busy_thread, _) = client.thread_start(None).unwrap();
    let idle = client.turn_start(&idle_thread, "nobody reads deltas=3000", None, None).unwrap();
    // Fewer events than the limit, so it cannot overflow however late it is read.
    let busy = client.turn_start(&busy_thread, "read all deltas=80", None, None).unwrap();
    wait_for_interrupt(&client, idle.id());
    // The other turn gets every one of its deltas, in order.
    let mut deltas = 0;
    while let Next::Event(e) = busy.next_event(Wait::from_millis(30_000)).unwrap() {
        if let Some(d) = e.delta() {
            assert_eq!(d, format!("{}:{deltas};", busy.id()));
            deltas += 1;
        }
    }
    assert_eq!(deltas, 80);
    // The unread one failed with the overflow, named, and holds no events.
    let err = idle.next_event(Wait::from_millis(30_000)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Overflow);
    assert!(
        err.message.contains(idle.id()) && err.message.contains("100 events"),
        "{}",
        err.message
    );
    assert!(idle.dropped_events() >= 101, "dropped {}", idle.dropped_events());
    // Once its turn/completed arrived (discarded, counted) the thread is free again and the
    // route table is empty.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.active_turns() > 0 {
        assert!(Instant::now() < deadline, "the overflowed turn never completed");
        std::thread::yield_now();
    }
    let again = client.turn_start(&idle_thread, "again deltas=3", None, None).unwrap();
    assert!(matches!(again.run(|| Wait::from_millis(30_000)), Ok(o) if o.status == "completed"));
}

#[test]
fn interrupt_and_steer_give_up_after_the_control_timeout() {
    let client = fake_with("silent", &[("FAKE_IGNORE", "turn/interrupt,turn/steer")], |o| {
        o.control_timeout = Duration::from_millis(200);
        o.request_timeout = Some(Duration::from_secs(600));
    });
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let err = turn.interrupt().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("turn/interrupt: no response within 200 ms"), "{}", err.message);
    let err = turn.steer("more").unwrap_err();
    assert!(err.message.contains("turn/steer: no response within 200 ms"), "{}", err.message);
}

#[test]
fn a_turn_that_goes_quiet_ends_with_a_timeout_and_is_interrupted() {
    let client =
        fake_with("silent", &[], |o| o.turn_idle_timeout = Some(Duration::from_millis(300)));
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    // turn/started, then nothing: a wait without limit ends with the idle timeout.
    let first = turn.next_event(Wait::Forever).unwrap();
    assert!(matches!(first, Next::Event(e) if e.kind() == EventKind::TurnStarted));
    let err = turn.next_event(Wait::Forever).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("no event for 300 ms"), "{}", err.message);
    wait_for_interrupt(&client, turn.id());
    // The end is final.
    assert_eq!(turn.next_event(Wait::from_millis(0)).unwrap_err().kind, ErrorKind::Timeout);
}

#[test]
fn the_generic_request_refuses_turn_start_and_points_at_codex_turn_start() {
    let client = fake_with("normal", &[], |_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let params = format!(r#"{{"threadId":"{thread}","input":[]}}"#);
    let err = client.request("turn/start", Some(&params), Timeout::Default).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("codex_turn_start"), "{}", err.message);
    assert_eq!(client.active_turns(), 0);
}

#[test]
fn the_route_table_forgets_turns_once_they_complete() {
    let client = fake_with("early", &[("FAKE_DELTAS", "1")], |_| {});
    for _ in 0..50 {
        let (thread, _) = client.thread_start(None).unwrap();
        let turn = client.turn_start(&thread, "hi", None, None).unwrap();
        assert!(turn.run(|| Wait::from_millis(30_000)).is_ok());
    }
    assert_eq!(client.active_turns(), 0);
}
