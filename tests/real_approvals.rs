//! Approvals answered by the program, against the real `codex app-server` and the mock model:
//! the model asks to run `echo` with escalated permissions on a thread with
//! `approvalPolicy: on-request`, `approvalsReviewer: user`.
//! Not on Windows: under wine the test cannot spawn the Python mock model.
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::event::*;
use codex_app_server::ffi::request::*;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

const THREAD: &str =
    r#"{"approvalPolicy": "on-request", "approvalsReviewer": "user", "ephemeral": true}"#;
const MARKER: &str = "approval-marker-4711";

fn script() -> serde_json::Value {
    json!({"responses": [
        {"match": "RUN-THE-COMMAND", "function_call": {"name": "exec_command", "call_id": "call-1",
            "arguments": {"cmd": format!("echo {MARKER}"), "sandbox_permissions": "require_escalated",
                          "justification": "test"}}}],
        "default": {"text": "after the command", "phase": "final_answer"}})
}

/// Runs the turn, answering the approval with `decision` (or not at all), and returns the
/// command item as completed, the turn's status, and how long after `turn/start` was sent the
/// command item completed.
fn run_with(decision: Option<u32>, timeout_ms: i64) -> (serde_json::Value, String, Duration) {
    let env = Offline::new(&script());
    let client = env.start_with(answer_timeout(timeout_ms));
    let thread = client.thread_start(THREAD);
    let started = Instant::now();
    let turn = client.turn_start(&thread, "RUN-THE-COMMAND").unwrap();
    let mut asked = false;
    let mut command = serde_json::Value::Null;
    let mut status = String::new();
    let mut completed_after = Duration::ZERO;
    loop {
        match turn.next(60_000) {
            Next::Event(e) => {
                if let Some(req) = &e.request {
                    assert_eq!(req.method(), "item/commandExecution/requestApproval");
                    assert!(e.params.to_string().contains(MARKER), "the request names the command");
                    asked = true;
                    if let Some(d) = decision {
                        req.approve(d).unwrap();
                        // Answered once: a second answer is refused.
                        assert_eq!(
                            req.approve(d).unwrap_err().code,
                            codex_app_server::ffi::CODEX_ERR_STALE_REQUEST
                        );
                    }
                }
                if e.kind == CODEX_EVENT_ITEM_COMPLETED
                    && e.params["item"]["type"] == "commandExecution"
                {
                    command = e.params["item"].clone();
                    completed_after = started.elapsed();
                }
                if e.kind == CODEX_EVENT_TURN_COMPLETED {
                    status = e.status.clone().unwrap();
                }
            }
            Next::End => break,
            Next::Failed(e) => panic!("{}", e.message),
        }
    }
    assert!(asked, "the server asked for approval");
    (command, status, completed_after)
}

#[test]
fn accept_runs_the_command_and_its_output_is_in_the_completed_item() {
    let (command, status, _) = run_with(Some(CODEX_DECISION_ACCEPT), 60_000);
    assert_eq!(command["status"], "completed", "{command}");
    assert!(command["aggregatedOutput"].as_str().unwrap().contains(MARKER), "{command}");
    assert_eq!(status, "completed");
}

#[test]
fn decline_skips_the_command_and_the_turn_goes_on() {
    let (command, status, _) = run_with(Some(CODEX_DECISION_DECLINE), 60_000);
    assert_eq!(command["status"], "declined", "{command}");
    assert_eq!(status, "completed");
}

#[test]
fn cancel_ends_the_turn_interrupted() {
    let (_, status, _) = run_with(Some(CODEX_DECISION_CANCEL), 60_000);
    assert_eq!(status, "interrupted");
}

#[test]
fn no_answer_within_the_timeout_is_a_decline() {
    let (command, status, waited) = run_with(None, 300);
    assert_eq!(command["status"], "declined", "{command}");
    assert_eq!(status, "completed");
    // The request arrived after turn/start was sent, and the decline waited 300 ms from its
    // arrival: a lower bound that no scheduling delay of this thread can break.
    assert!(waited >= Duration::from_millis(300), "declined {waited:?} after turn/start");
}

#[test]
fn freeing_the_turn_while_a_request_is_open_declines_it() {
    let env = Offline::new(&script());
    let client = env.start();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "RUN-THE-COMMAND").unwrap();
    let turn_id = turn.id();
    let request = loop {
        match turn.next(60_000) {
            Next::Event(e) if e.request.is_some() => break e.request.unwrap(),
            Next::Event(_) => {}
            _ => panic!("no approval request"),
        }
    };
    assert!(request.is_open());
    drop(turn);
    assert!(!request.is_open(), "freeing the turn answered the request");
    assert_eq!(
        request.approve(CODEX_DECISION_ACCEPT).unwrap_err().code,
        codex_app_server::ffi::CODEX_ERR_STALE_REQUEST
    );
    // The turn goes on in the server; its events now reach the client stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut declined = false;
    while Instant::now() < deadline {
        let Some(ev) = client.next_client_event(1000) else { continue };
        if ev.turn_id.as_deref() != Some(turn_id.as_str()) {
            continue;
        }
        if ev.kind == CODEX_EVENT_ITEM_COMPLETED && ev.params["item"]["type"] == "commandExecution"
        {
            assert_eq!(ev.params["item"]["status"], "declined");
            declined = true;
        }
        if ev.kind == CODEX_EVENT_TURN_COMPLETED {
            break;
        }
    }
    assert!(declined);
}
