//! Turns this client did not start, against the real `codex app-server` (pinned, offline mock
//! model): a turn another connection started, found in progress by `thread/resume` on a second
//! connection of a `ws://` app-server, and followed to its end by an attached handle. The turn
//! is held by the mock (`hold_after`) until the test releases it, so it is surely running when
//! the second connection resumes the thread: nothing races the clock. And `review/start` as a
//! turn, the model's verdict in its result.
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::attach::*;
use codex_app_server::ffi::client::codex_client_active_turns;
use codex_app_server::ffi::turn::{
    codex_turn_result_free, codex_turn_result_review, codex_turn_run,
};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use support::*;

/// `codex app-server --listen ws://127.0.0.1:0`; its address from stderr; killed on drop.
struct WsServer {
    child: Child,
    url: String,
}

impl WsServer {
    fn start(env: &Offline) -> WsServer {
        let mut child = env
            .command(&["app-server", "--listen", "ws://127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut url = None;
        for _ in 0..200 {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(at) = line.find("listening on: ") {
                url = Some(line[at + "listening on: ".len()..].trim().to_owned());
                break;
            }
        }
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        WsServer { child, url: url.expect("the server's address") }
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn attach(client: &Client, thread: &str) -> Turn {
    let mut turn = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let rc = unsafe {
        codex_client_turn_attach(
            client.0,
            cs(thread).as_ptr(),
            std::ptr::null(),
            &mut turn,
            &mut err,
        )
    };
    result(rc, err).expect("attach");
    Turn(turn)
}

#[test]
fn a_turn_found_in_progress_by_resume_on_a_second_connection_is_followed_to_its_end() {
    let text = "resumed and followed to the end ".repeat(3);
    let env = Offline::new(&json!({"responses": [
        {"match": "RESUME-ME", "text": text, "chunk_size": 8, "hold_after": 1, "phase": "final_answer"}
    ]}));
    let server = WsServer::start(&env);
    let first = connect(&server.url, |_| {}).unwrap();
    let thread = first.thread_start("{}");
    let started = first.turn_start(&thread, "RESUME-ME").unwrap();
    // The first delta: the mock holds the rest, so the turn is running from here on.
    loop {
        match started.next(60_000) {
            Next::Event(e) if e.delta.is_some() => break,
            Next::Event(_) => {}
            _ => panic!("the turn ended before its hold"),
        }
    }

    // A second connection: attach first, then resume, so no event of the live tail can pass
    // the handle by.
    let second = connect(&server.url, |_| {}).unwrap();
    let attached = attach(&second, &thread);
    let (_, resumed) = second.thread_resume(&thread).unwrap();
    let turns = resumed["thread"]["turns"].as_array().expect("turns in the snapshot");
    let running = turns.iter().find(|t| t["status"] == "inProgress").expect("a turn in progress");
    let running_id = running["id"].as_str().unwrap().to_owned();
    env.release(None);

    let events = attached.collect();
    let last = events.last().expect("events");
    assert_eq!(last.method, "turn/completed");
    assert!(events.iter().all(|e| e.turn_id.as_deref() == Some(&running_id)), "its turn only");
    assert_eq!(attached.id(), running_id);
    let result = attached.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some(text.as_str()), "the completed message");
    // The first connection's handle ends too; the thread takes a new turn on the second.
    assert_eq!(started.run().status, "completed");
    assert_eq!(unsafe { codex_client_active_turns(second.0) }, 0);
    drop(server);
}

fn review_start(client: &Client, thread: &str, params: &str) -> Turn {
    let mut turn = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let rc = unsafe {
        codex_review_start(client.0, cs(thread).as_ptr(), cs(params).as_ptr(), &mut turn, &mut err)
    };
    result(rc, err).expect("review/start");
    Turn(turn)
}

/// `review/start` as a turn: the model's review (a JSON verdict, as codex asks its reviewer
/// for) comes back rendered in the result.
#[test]
fn a_review_is_a_turn_whose_result_carries_the_model_s_review() {
    let verdict = json!({
        "findings": [],
        "overall_correctness": "patch is correct",
        "overall_explanation": "REVIEW-VERDICT: nothing to fix.",
        "overall_confidence_score": 0.9
    });
    let env = Offline::new(&json!({"responses": [{"text": verdict.to_string()}]}));
    let client = env.start();
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let params = r#"{"target":{"type":"custom","instructions":"Review the greeting."}}"#;
    let turn = review_start(&client, &thread, params);
    let events = turn.collect();
    let items: Vec<String> = events
        .iter()
        .filter(|e| e.method == "item/completed")
        .map(|e| e.params["item"]["type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(items.first().map(String::as_str), Some("enteredReviewMode"), "{items:?}");
    assert!(items.iter().any(|i| i == "exitedReviewMode"), "{items:?}");
    assert_eq!(turn.run().status, "completed");
    let mut review = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let rc = unsafe { codex_turn_run(turn.0, 60_000, &mut review, &mut err) };
    result(rc, err).expect("run");
    let text = unsafe { std::ffi::CStr::from_ptr(codex_turn_result_review(review)) };
    let text = text.to_str().unwrap().to_owned();
    unsafe { codex_turn_result_free(review) };
    assert!(text.contains("REVIEW-VERDICT: nothing to fix."), "{text}");
}
