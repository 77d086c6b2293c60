//! End to end against the real `codex app-server` (pinned 0.163.0) and the mock model, through
//! the C API, each test with a fresh CODEX_HOME and workspace.
//!
//! Nothing here races the clock: a reply that must still be streaming when the test acts on its
//! turn uses the mock's `hold_after`, which holds the model stream until codex closes it (as it
//! does on interrupt and steer, checked against 0.163.0) or the test releases it.
//! Not on Windows: under wine the test cannot spawn the Python mock model; the Windows build is
//! tested end to end against codex.exe by tests/c/real_codex_test.c, driven from Linux.
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::event::*;
use codex_app_server::ffi::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::*;

const THREAD: &str = r#"{"ephemeral": true}"#;
/// The bound of every wait: reached only when something is broken.
const SAFETY_MS: i64 = 60_000;

/// Waits (bounded) until `cond` holds.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_millis(SAFETY_MS as u64);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reads the turn until its first agent message delta.
fn first_delta(turn: &Turn) {
    loop {
        match turn.next(SAFETY_MS) {
            Next::Event(e) if e.kind == CODEX_EVENT_AGENT_MESSAGE_DELTA => return,
            Next::Event(_) => {}
            Next::End => panic!("the turn ended before streaming"),
            Next::Failed(e) => panic!("the turn failed before streaming: {}", e.message),
        }
    }
}

#[test]
fn one_turn_streams_deltas_in_order_with_answer_usage_and_status() {
    let chunks = ["The ", "quick ", "brown ", "fox."];
    let env = Offline::new(&json!({"responses": [
        {"chunks": chunks, "phase": "final_answer", "delay_ms": 5,
         "usage": {"input_tokens": 11, "output_tokens": 4}}]}));
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "hello").unwrap();
    let events = turn.collect();
    assert_eq!(deltas(&events), chunks);
    assert!(events.iter().all(|e| e.turn_id.as_deref() == Some(turn.id().as_str())));
    assert_eq!(events.last().unwrap().kind, CODEX_EVENT_TURN_COMPLETED);
    let result = turn.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some("The quick brown fox."));
    let usage = result.usage.expect("token usage");
    assert_eq!(usage["last"]["inputTokens"], 11);
    assert_eq!(usage["last"]["outputTokens"], 4);
    let kinds: Vec<&str> =
        result.items.as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["userMessage", "agentMessage"]);
}

#[test]
fn four_threads_stream_at_once_each_turn_gets_exactly_its_own_events() {
    // Each reply holds after its first delta until every turn has received its first delta:
    // only then are the streams released. A library that could not deliver one turn while
    // another is unfinished never gets there.
    let texts: Vec<String> = (0..4).map(|i| format!("reply-{i} ").repeat(12)).collect();
    let responses: Vec<_> = (0..4)
        .map(|i| json!({"match": format!("PARALLEL-PROMPT-{i}"), "text": texts[i], "chunk_size": 3, "hold_after": 1}))
        .collect();
    let env = Offline::new(&json!({ "responses": responses }));
    let client = env.start();
    let streaming = AtomicUsize::new(0);
    let results: Vec<(String, Vec<Ev>, Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (client, streaming) = (&client, &streaming);
                s.spawn(move || {
                    let thread = client.thread_start(THREAD);
                    let turn = client.turn_start(&thread, &format!("PARALLEL-PROMPT-{i}")).unwrap();
                    let mut events = Vec::new();
                    let mut first_delta = None;
                    loop {
                        match turn.next(SAFETY_MS) {
                            Next::Event(e) => {
                                if e.kind == CODEX_EVENT_AGENT_MESSAGE_DELTA
                                    && first_delta.is_none()
                                {
                                    first_delta = Some(Instant::now());
                                    streaming.fetch_add(1, Ordering::SeqCst);
                                }
                                events.push(e);
                            }
                            Next::End => break,
                            Next::Failed(e) => panic!("{}", e.message),
                        }
                    }
                    (turn.id(), events, first_delta.unwrap(), Instant::now())
                })
            })
            .collect();
        wait_until("all four turns streaming at once", || streaming.load(Ordering::SeqCst) == 4);
        env.release(None);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (turn_id, events, _, _)) in results.iter().enumerate() {
        assert!(
            events.iter().all(|e| e.turn_id.as_deref() == Some(turn_id)),
            "foreign event in turn {i}"
        );
        assert_eq!(
            deltas(events).concat(),
            texts[i],
            "turn {i}: lost, duplicated or foreign deltas"
        );
        assert_eq!(events.iter().filter(|e| e.kind == CODEX_EVENT_TURN_COMPLETED).count(), 1);
    }
    // The streams overlapped: every turn had its first delta before any turn completed.
    let last_first_delta = results.iter().map(|r| r.2).max().unwrap();
    let first_completion = results.iter().map(|r| r.3).min().unwrap();
    assert!(last_first_delta < first_completion, "the four turns did not stream at the same time");
    assert_eq!(env.model_requests().len(), 4);
    assert_eq!(env.ended_holds(), vec![Some("released".to_owned()); 4]);
}

#[test]
fn steer_reaches_the_running_turn() {
    // The first reply holds after one delta: the turn is surely running when steered. Codex
    // then drops that model stream and asks again with both inputs.
    let env = Offline::new(&json!({
        "responses": [{"match": "FIRST-STEER-PROMPT", "text": "slow ".repeat(40), "chunk_size": 5, "hold_after": 1}],
        "default": {"text": "steered reply", "phase": "final_answer"}}));
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "FIRST-STEER-PROMPT").unwrap();
    first_delta(&turn);
    turn.steer("EXTRA-STEERED-INPUT").unwrap();
    if !steer_ends_the_model_stream() {
        env.release(Some("FIRST-STEER-PROMPT"));
    }
    let result = turn.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some("steered reply"));
    let requests = env.model_requests();
    let last = requests.last().unwrap();
    assert_eq!(requests.len(), 2, "steer sends a new model request");
    assert!(last.contains("EXTRA-STEERED-INPUT") && last.contains("FIRST-STEER-PROMPT"), "{last}");
    // The held stream ended because codex closed it for the steer (not by a timeout), or,
    // with a codex that lets it finish, because the test released it.
    let ended = if steer_ends_the_model_stream() { "client_closed" } else { "released" };
    assert_eq!(env.ended_holds(), [Some(ended.to_owned()), None]);
}

/// Codex 0.163.0 and later end the model's stream at a steer and ask again with both inputs;
/// 0.158.0 and 0.147.0 (`make test-compat`) let the stream finish first, then ask again.
fn steer_ends_the_model_stream() -> bool {
    support::codex_version() >= (0, 163, 0)
}

/// Codex 0.158.0 and later end the model's stream at an interrupt; 0.147.0 leaves it open
/// (the turn is interrupted all the same).
fn interrupt_ends_the_model_stream() -> bool {
    support::codex_version() >= (0, 158, 0)
}

#[test]
fn interrupt_ends_a_slow_turn_and_the_thread_accepts_a_new_one() {
    // The reply holds after one delta until codex closes the stream: only the interrupt can end
    // the turn (after the mock's 60 s safety timeout it would complete instead).
    let env = Offline::new(&json!({
        "responses": [{"match": "SLOW-INTERRUPT-PROMPT", "text": "tick ".repeat(200), "chunk_size": 5, "hold_after": 1}],
        "default": {"text": "next turn ok"}}));
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "SLOW-INTERRUPT-PROMPT").unwrap();
    first_delta(&turn);
    turn.interrupt().unwrap();
    let result = turn.run();
    assert_eq!(result.status, "interrupted");
    if interrupt_ends_the_model_stream() {
        assert_eq!(env.ended_holds(), [Some("client_closed".to_owned())]);
    } else {
        env.release(Some("SLOW-INTERRUPT-PROMPT"));
        assert_eq!(env.ended_holds(), [Some("released".to_owned())]);
    }
    drop(turn);
    let next = client.turn_start(&thread, "again").unwrap();
    let result = next.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some("next turn ok"));
}

#[test]
fn a_second_turn_on_a_busy_thread_is_refused_then_accepted_after() {
    // The first turn's reply holds after one delta until the test releases it.
    let env = Offline::new(&json!({
        "responses": [{"match": "BUSY-TURN-PROMPT", "text": "working ".repeat(10), "hold_after": 1}],
        "default": {"text": "second"}}));
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "BUSY-TURN-PROMPT").unwrap();
    let refused = client.turn_start(&thread, "second").err().expect("refused");
    assert_eq!(refused.code, CODEX_ERR_TURN_ACTIVE);
    assert!(
        refused.message.contains(&turn.id()) && refused.message.contains("codex_turn_interrupt")
    );
    // Another thread is not affected.
    let other = client.thread_start(THREAD);
    assert_eq!(client.turn_start(&other, "second").unwrap().run().status, "completed");
    env.release(Some("BUSY-TURN-PROMPT"));
    assert_eq!(turn.run().status, "completed");
    assert_eq!(client.turn_start(&thread, "second").unwrap().run().status, "completed");
}

#[test]
fn a_broken_model_stream_fails_the_turn_with_its_message() {
    let env = Offline::new(&json!({"responses": [{"text": "never finishes", "break_after": 1}]}));
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let result = client.turn_start(&thread, "go").unwrap().run();
    assert_eq!(result.status, "failed");
    let message = result.error_message.expect("an error message");
    assert!(message.contains("stream disconnected"), "{message}");
}

#[test]
fn generic_requests_return_valid_json() {
    let env = Offline::new(&json!({"responses": [{"text": "hi"}]}));
    let client = env.start();
    let thread = client.thread_start(r#"{}"#);
    client.turn_start(&thread, "hi").unwrap().run();
    let models: serde_json::Value =
        serde_json::from_str(&client.request("model/list", Some("{}"), 0).unwrap()).unwrap();
    assert!(models["data"].is_array(), "{models}");
    let list: serde_json::Value =
        serde_json::from_str(&client.request("thread/list", Some("{}"), 0).unwrap()).unwrap();
    assert!(list["data"].is_array(), "{list}");
    let params = json!({"threadId": thread, "includeTurns": true}).to_string();
    let read: serde_json::Value =
        serde_json::from_str(&client.request("thread/read", Some(&params), 0).unwrap()).unwrap();
    assert_eq!(read["thread"]["id"], thread.as_str());
    let (resumed, result) = client.thread_resume(&thread).unwrap();
    assert_eq!(resumed, thread);
    assert_eq!(result["thread"]["id"], thread.as_str());
    // An unknown method is a JSON-RPC error with its code.
    let err = client.request("no/such/method", None, 0).unwrap_err();
    assert_eq!(err.code, CODEX_ERR_RPC);
}

/// Whether every thread of `pid` is stopped (SIGSTOP took effect).
fn all_threads_stopped(pid: i32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()) == Some('T')
    })
}

#[test]
fn killing_the_server_mid_turn_fails_the_turn_and_pending_requests() {
    // The reply holds after one delta, so the turn is surely mid-stream when the server dies.
    let env = Offline::new(
        &json!({"responses": [{"text": "tick ".repeat(200), "chunk_size": 5, "hold_after": 1}]}),
    );
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "long").unwrap();
    first_delta(&turn);
    let pid = client.server_pid() as i32;
    // Stopped first, the server cannot answer the request below: it is pending (or not yet
    // sent) when the server is killed, and must fail either way rather than hang. No timer
    // decides the outcome; the SIGKILL comes only once every thread of the server is stopped.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    wait_until("the server stopped", || all_threads_stopped(pid));
    let (request_error, turn_error) = std::thread::scope(|s| {
        // A request that waits without limit: it must be failed, not left hanging.
        let pending = s.spawn(|| client.request("thread/list", Some(r#"{"limit": 1}"#), -1));
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let turn_error = loop {
            match turn.next(SAFETY_MS) {
                Next::Event(_) => continue,
                Next::End => panic!("the turn cannot complete"),
                Next::Failed(e) => break e,
            }
        };
        (pending.join().unwrap(), turn_error)
    });
    // Within a second in practice (the failure comes from the EOF and the exit status, not a
    // timeout: a turn wait of SAFETY_MS would have ended CODEX_ERR_TIMEOUT); not timed here.
    assert_eq!(turn_error.code, CODEX_ERR_TRANSPORT, "{}", turn_error.message);
    assert!(turn_error.message.contains("signal 9"), "{}", turn_error.message);
    let request_error = request_error.expect_err("a stopped server answered");
    assert_eq!(request_error.code, CODEX_ERR_TRANSPORT, "{}", request_error.message);
    let later = client.request("thread/list", Some("{}"), -1).unwrap_err();
    assert_eq!(later.code, CODEX_ERR_TRANSPORT);
}

#[test]
fn config_overrides_and_client_info_reach_the_server() {
    use codex_app_server::ffi::options::*;
    let env = Offline::new(&json!({"responses": [{"text": "hi"}]}));
    let client = env.start_with(|o| unsafe {
        let kv = cs("model=\"override-model\"");
        assert_eq!(codex_options_add_config(o, kv.as_ptr(), std::ptr::null_mut()), CODEX_OK);
        let (name, version) = (cs("c_api_test"), cs("9.9.9"));
        let rc = codex_options_set_client_info(
            o,
            name.as_ptr(),
            std::ptr::null(),
            version.as_ptr(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, CODEX_OK);
    });
    let result: serde_json::Value =
        serde_json::from_str(&client.request("thread/start", Some("{}"), 0).unwrap()).unwrap();
    assert_eq!(result["model"], "override-model", "{result}");
    let init = unsafe {
        std::ffi::CStr::from_ptr(codex_app_server::ffi::client::codex_client_initialize_result(
            client.0,
        ))
    };
    let init: serde_json::Value = serde_json::from_str(init.to_str().unwrap()).unwrap();
    assert!(init["userAgent"].as_str().unwrap().starts_with("c_api_test/"), "{init}");
}
