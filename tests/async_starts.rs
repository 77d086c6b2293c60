//! Asynchronous starts (issue 23) against the scripted fake app-server: pending requests and
//! turns started without waiting, reported through the event loop's ready list, a callback or a
//! blocking wait; cancelled; bounded; failed by the server's death through the same path.
//!
//! Nothing races the clock: the fake holds a `thread/start` answer (`"fakeHold": true`) until
//! the test sends `test/release_held`, and `test/hang` is never answered, so what must still
//! be pending surely is. Waits are bounded by `SAFETY` only so a broken library fails instead
//! of hanging.

use codex_app_server::core::client::pending::Pending;
use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
#[cfg(unix)]
use codex_app_server::core::routing::ready::CLIENT_STREAM;
#[cfg(unix)]
use codex_app_server::core::Client;
use codex_app_server::core::{ErrorKind, EventKind, Turn};
use std::time::{Duration, Instant};

mod fake;

const SAFETY: Duration = Duration::from_secs(60);
#[cfg(unix)] // the event descriptor: not on Windows yet
const HELD: usize = 8;
#[cfg(unix)]
const TURN: usize = 16;
#[cfg(unix)]
const RELEASE: usize = 24;

fn safely() -> Wait {
    Wait::Until(Instant::now() + SAFETY)
}

/// Waits (bounded) until the event descriptor is readable, as an event loop's poll does.
#[cfg(unix)]
fn poll_readable(fd: std::ffi::c_int) {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let n = unsafe { libc::poll(&mut p, 1, SAFETY.as_millis() as i32) };
    assert_eq!(n, 1, "the event descriptor never became readable");
}

/// Takes every event the turn has now without waiting; true once it has ended.
#[cfg(unix)]
fn drain(turn: &Turn, deltas: &mut Vec<String>) -> bool {
    loop {
        match turn.next_event(Wait::After(Duration::ZERO)) {
            Ok(Next::Event(e)) => deltas.extend(e.delta().map(str::to_owned)),
            Ok(Next::End) => return true,
            Err(e) if e.kind == ErrorKind::Timeout => return false,
            Err(e) => panic!("the turn failed: {}", e.message),
        }
    }
}

/// Takes every client-stream event there is now, without waiting.
#[cfg(unix)]
fn drain_client(client: &Client) {
    while client.next_event(Wait::After(Duration::ZERO)).is_ok() {}
}

/// The issue's proof that the loop thread never waits on a request: the fake holds a
/// `thread/start` answer while a turn started on the same loop streams to its end; only then
/// does the loop release the held start, and both answers arrive through the ready list.
#[cfg(unix)]
#[test]
fn a_held_thread_start_never_stops_the_loop_from_delivering_a_turn() {
    let client = fake::client("normal", &[("FAKE_DELTAS", "6")], |_| {});
    let fd = client.event_fd().unwrap();
    let (thread, _) = client.thread_start(None).unwrap();
    let held = client.thread_start_async(Some(r#"{"fakeHold": true}"#)).unwrap();
    held.report_ready_as(HELD).unwrap();
    let mut turn = client.turn_start_async(&thread, "hi", None, None).unwrap();
    turn.report_ready_as(TURN);
    let mut deltas = Vec::new();
    let mut ended = false;
    while !ended {
        poll_readable(fd);
        while let Some(tag) = client.next_ready().unwrap() {
            match tag {
                TURN => ended = drain(&turn, &mut deltas),
                CLIENT_STREAM => drain_client(&client),
                _ => panic!("only the turn and the client stream can be ready: the start is held"),
            }
        }
        assert!(held.outcome().is_none(), "the held start was answered");
    }
    let id = turn.id().to_owned();
    assert_eq!(deltas, (0..6).map(|i| format!("{id}:{i};")).collect::<Vec<_>>());
    assert_eq!(client.pending_requests(), 1);
    // Now the loop lets the start go, without waiting either.
    let release = client.request_async("test/release_held", None, Timeout::Default).unwrap();
    release.report_ready_as(RELEASE).unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        poll_readable(fd);
        while let Some(tag) = client.next_ready().unwrap() {
            match tag {
                CLIENT_STREAM => drain_client(&client),
                tag => seen.push(tag),
            }
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, [HELD, RELEASE]);
    let result: serde_json::Value =
        serde_json::from_str(held.outcome().unwrap().as_ref().unwrap()).unwrap();
    assert_eq!(result["thread"]["id"], "thr_2");
    assert_eq!(release.outcome().unwrap().as_deref().unwrap(), r#"{"released":1}"#);
    assert_eq!(client.pending_requests(), 0);
}

#[test]
fn a_pending_request_completes_to_a_wait_and_to_a_callback() {
    let client = fake::client("normal", &[], |_| {});
    let echo = client.request_async("test/echo", Some(r#"{"a":1}"#), Timeout::Default).unwrap();
    assert_eq!(echo.wait(safely()).unwrap().as_deref().unwrap(), r#"{"a":1}"#);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let called = client.request_async("test/echo", Some("[2]"), Timeout::Default).unwrap();
    let worker = std::thread::current().id();
    called.on_complete(Box::new(move || tx.send(std::thread::current().id()).unwrap())).unwrap();
    let ran_on = rx.recv_timeout(SAFETY).expect("the callback ran");
    assert_ne!(ran_on, worker, "callbacks run on the client's workers");
    assert_eq!(called.outcome().unwrap().as_deref().unwrap(), "[2]");
    // One report per request.
    let err = called.on_complete(Box::new(|| {})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    // A server error is the request's outcome.
    let bad = client.request_async("no/such", None, Timeout::Default).unwrap();
    assert_eq!(bad.wait(safely()).unwrap().as_ref().unwrap_err().kind, ErrorKind::Rpc);
    // A wait that ends first says so; the request goes on.
    let hang = client.request_async("test/hang", None, Timeout::Forever).unwrap();
    assert_eq!(hang.wait(Wait::After(Duration::ZERO)).unwrap_err().kind, ErrorKind::Timeout);
    assert!(hang.outcome().is_none());
}

#[test]
fn a_pending_request_times_out_with_its_own_timeout() {
    let client = fake::client("normal", &[], |_| {});
    let after = Timeout::After(Duration::from_millis(20));
    let hang = client.request_async("test/hang", None, after).unwrap();
    let outcome = hang.wait(safely()).unwrap();
    assert_eq!(outcome.as_ref().unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(client.pending_requests(), 0);
}

#[test]
fn a_cancelled_request_is_forgotten_and_its_late_answer_dropped() {
    let client = fake::client("normal", &[], |_| {});
    let held = client.thread_start_async(Some(r#"{"fakeHold": true}"#)).unwrap();
    assert_eq!(client.pending_requests(), 1);
    drop(held);
    assert_eq!(client.pending_requests(), 0);
    let skipped = client.skipped_lines();
    // The held answer goes out now, to nobody; the client goes on.
    let released = client.request("test/release_held", None, Timeout::Default).unwrap();
    assert_eq!(released, r#"{"released":1}"#);
    assert_eq!(client.skipped_lines(), skipped + 1, "the late answer is dropped");
    assert_eq!(client.request("test/echo", Some("[1]"), Timeout::Default).unwrap(), "[1]");
}

#[test]
fn starts_beyond_the_bound_are_refused_until_some_complete() {
    let client = fake::client("normal", &[], |o| o.max_pending_requests = 3);
    let hangs: Vec<Pending> = (0..3)
        .map(|_| client.request_async("test/hang", None, Timeout::Forever).unwrap())
        .collect();
    let err = client.request_async("test/hang", None, Timeout::Forever).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyPending);
    assert!(err.message.contains("codex_options_set_max_pending_requests"), "{}", err.message);
    let (thread, _) = client.thread_start(None).unwrap();
    let refused = client.turn_start_async(&thread, "hi", None, None).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::TooManyPending);
    // The refused turn left its thread free; blocking calls are not counted.
    drop(hangs.into_iter().next());
    let turn = client.turn_start_async(&thread, "hi", None, None).unwrap();
    while let Next::Event(_) = turn.next_event(safely()).unwrap() {}
}

#[test]
fn a_failed_asynchronous_turn_start_ends_the_turn_s_stream_with_the_error() {
    let client = fake::client("normal", &[], |_| {});
    let turn = client.turn_start_async("thr_404", "hi", None, None).unwrap();
    let err = turn.next_event(safely()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Rpc);
    assert!(err.message.contains("thread not found"), "{}", err.message);
    assert_eq!(client.active_turns(), 0);
}

#[test]
fn many_turns_started_from_one_thread_each_get_exactly_their_events() {
    let client =
        fake::client("interleaved", &[("FAKE_DELTAS", "3"), ("FAKE_DELAY_MS", "0")], |_| {});
    let threads: Vec<String> = (0..50)
        .map(|_| client.thread_start_async(None).unwrap())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|p| {
            let result: serde_json::Value =
                serde_json::from_str(p.wait(safely()).unwrap().as_ref().unwrap()).unwrap();
            result["thread"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let turns: Vec<Turn> =
        threads.iter().map(|t| client.turn_start_async(t, "hi", None, None).unwrap()).collect();
    for turn in &turns {
        let mut deltas = Vec::new();
        while let Next::Event(e) = turn.next_event(safely()).unwrap() {
            deltas.extend(e.delta().map(str::to_owned));
        }
        let id = turn.id();
        assert_eq!(deltas, (0..3).map(|i| format!("{id}:{i};")).collect::<Vec<_>>());
    }
}

#[test]
fn the_server_s_death_fails_every_request_in_flight_through_the_same_path() {
    let client = fake::client("crash", &[], |_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let waited = client.request_async("test/hang", None, Timeout::Forever).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let called = client.request_async("test/hang", None, Timeout::Forever).unwrap();
    called.on_complete(Box::new(move || tx.send(()).unwrap())).unwrap();
    // The crash scenario dies two deltas into this turn, with both requests unanswered.
    let turn = client.turn_start_async(&thread, "hi", None, None).unwrap();
    let err = loop {
        match turn.next_event(safely()) {
            Ok(Next::Event(e)) => assert_ne!(e.kind(), EventKind::TurnCompleted),
            Ok(Next::End) => panic!("the crash scenario completed a turn"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(waited.wait(safely()).unwrap().as_ref().unwrap_err().kind, ErrorKind::Transport);
    rx.recv_timeout(SAFETY).expect("the callback ran");
    assert_eq!(called.outcome().unwrap().as_ref().unwrap_err().kind, ErrorKind::Transport);
    assert_eq!(client.pending_requests(), 0);
    // Later starts fail at once.
    let late = client.request_async("test/echo", None, Timeout::Default).unwrap_err();
    assert_eq!(late.kind, ErrorKind::Transport);
}

/// Reads the turn until its first delta: it is then surely running (held by the fake).
fn until_first_delta(turn: &Turn) {
    loop {
        match turn.next_event(safely()).unwrap() {
            Next::Event(e) if e.delta().is_some() => return,
            Next::Event(_) => {}
            Next::End => panic!("the turn ended before its first delta"),
        }
    }
}

#[test]
fn steer_and_interrupt_without_waiting() {
    let client = fake::client("normal", &[("FAKE_DELTAS", "3")], |_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    // Held after its first delta until steered: the steer's answer arrives by itself.
    let turn = client.turn_start_async(&thread, "go hold-after:1", None, None).unwrap();
    until_first_delta(&turn);
    let steer = turn.steer_async("more").unwrap();
    assert!(steer.wait(safely()).unwrap().is_ok());
    while let Next::Event(_) = turn.next_event(safely()).unwrap() {}
    drop(turn);
    // Held until interrupted.
    let turn = client.turn_start_async(&thread, "stop hold-after:1", None, None).unwrap();
    until_first_delta(&turn);
    let interrupt = turn.interrupt_async().unwrap();
    assert!(interrupt.wait(safely()).unwrap().is_ok());
    let outcome = turn.run(safely).unwrap();
    assert_eq!(outcome.status, "interrupted");
}
