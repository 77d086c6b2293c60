//! Asynchronous starts (issue 23) end to end against the real `codex app-server` and the mock
//! model, through the C API: one loop thread starts ten threads and ten turns without ever
//! waiting on a request, and consumes everything through the event descriptor's ready list.
#![cfg(unix)]

mod support;

use codex_app_server::ffi::client::*;
use codex_app_server::ffi::error::*;
use codex_app_server::ffi::event::*;
use codex_app_server::ffi::json::*;
use codex_app_server::ffi::pending::*;
use codex_app_server::ffi::ready::*;
use codex_app_server::ffi::turn::*;
use codex_app_server::ffi::turn_async::*;
use codex_app_server::ffi::*;
use serde_json::json;
use std::collections::HashMap;
use std::ffi::CStr;
use std::time::{Duration, Instant};
use support::*;

const SAFETY_MS: i32 = 60_000;
const THREADS: usize = 10;

fn poll_readable(fd: std::ffi::c_int) {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    assert_eq!(unsafe { libc::poll(&mut p, 1, SAFETY_MS) }, 1, "the descriptor stayed quiet");
}

/// The thread id of a finished `thread/start`, read through the pending's document.
unsafe fn thread_id_of(pending: *mut codex_pending) -> String {
    let mut json = std::ptr::null();
    let mut err = std::ptr::null_mut();
    let rc = codex_pending_result_json(pending, &mut json, &mut err);
    assert_eq!(rc, CODEX_OK, "{}", take_error(rc, err).message);
    let (mut text, mut len) = (std::ptr::null(), 0usize);
    let rc = codex_json_get_string(json, cs("/thread/id").as_ptr(), &mut text, &mut len, &mut err);
    assert_eq!(rc, CODEX_OK);
    CStr::from_ptr(text).to_str().unwrap().to_owned()
}

#[test]
fn ten_threads_and_turns_started_from_one_loop_thread_each_answered_exactly() {
    let texts: Vec<String> = (0..THREADS).map(|i| format!("async-reply-{i} ").repeat(3)).collect();
    let responses: Vec<_> = (0..THREADS)
        .map(|i| json!({"match": format!("ASYNC-PROMPT-{i}"), "text": texts[i], "chunk_size": 4}))
        .collect();
    let env = Offline::new(&json!({ "responses": responses }));
    let client = env.start();
    let mut fd = 0;
    let mut err = std::ptr::null_mut();
    unsafe {
        assert_eq!(codex_client_event_fd(client.0, &mut fd, &mut err), CODEX_OK);
        // A start cancelled at once: whenever its answer comes, it is dropped.
        let mut cancelled = std::ptr::null_mut();
        let params = cs(r#"{"ephemeral": true}"#);
        let rc =
            codex_client_thread_start_async(client.0, params.as_ptr(), &mut cancelled, &mut err);
        assert_eq!(rc, CODEX_OK);
        codex_pending_free(cancelled);
        // Ten thread starts, each watched: their index by handle.
        let mut starts: HashMap<usize, usize> = HashMap::new();
        for i in 0..THREADS {
            let mut pending = std::ptr::null_mut();
            let rc =
                codex_client_thread_start_async(client.0, params.as_ptr(), &mut pending, &mut err);
            assert_eq!(rc, CODEX_OK);
            assert_eq!(codex_pending_watch(pending, &mut err), CODEX_OK);
            starts.insert(pending as usize, i);
        }
        let mut turns: HashMap<usize, (usize, *mut codex_turn, String)> = HashMap::new();
        let mut finished = Vec::new();
        while finished.len() < THREADS {
            poll_readable(fd);
            loop {
                let (mut turn, mut pending) = (std::ptr::null_mut(), std::ptr::null_mut());
                let rc = codex_client_next_ready(client.0, &mut turn, &mut pending, &mut err);
                if rc == CODEX_ERR_TIMEOUT {
                    break;
                }
                assert_eq!(rc, CODEX_OK);
                if !pending.is_null() {
                    let i = starts.remove(&(pending as usize)).expect("one of ours, once");
                    let thread = thread_id_of(pending);
                    codex_pending_free(pending);
                    let mut turn = std::ptr::null_mut();
                    let input = cs(format!("ASYNC-PROMPT-{i}"));
                    let rc = codex_turn_start_async(
                        client.0,
                        cs(&thread).as_ptr(),
                        input.as_ptr(),
                        std::ptr::null(),
                        &mut turn,
                        &mut err,
                    );
                    assert_eq!(rc, CODEX_OK);
                    turns.insert(turn as usize, (i, turn, String::new()));
                } else if !turn.is_null() {
                    let (i, handle, text) = turns.get_mut(&(turn as usize)).expect("our turn");
                    loop {
                        let mut ev = std::ptr::null_mut();
                        let rc = codex_turn_next_event(*handle, 0, &mut ev, &mut err);
                        if rc == CODEX_ERR_TIMEOUT {
                            break;
                        }
                        if rc == CODEX_STREAM_END {
                            // Reported once more after its end, it ends again: count it once.
                            if !finished.contains(i) {
                                finished.push(*i);
                            }
                            break;
                        }
                        assert_eq!(rc, CODEX_OK, "{}", take_error(rc, err).message);
                        if codex_event_kind(ev) == CODEX_EVENT_AGENT_MESSAGE_DELTA {
                            let delta = codex_event_delta(ev, std::ptr::null_mut());
                            text.push_str(CStr::from_ptr(delta).to_str().unwrap());
                        }
                        codex_event_free(ev);
                    }
                } else {
                    while client.next_client_event(0).is_some() {}
                }
            }
        }
        for (i, turn, text) in turns.into_values() {
            assert_eq!(text, texts[i], "turn {i} got exactly its own reply");
            codex_turn_free(turn);
        }
        finished.sort_unstable();
        assert_eq!(finished, (0..THREADS).collect::<Vec<_>>());
    }
}

/// Starts `method` without waiting; the pending request.
unsafe fn request_async(client: &Client, method: &str, params: &str) -> *mut codex_pending {
    let mut pending = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let rc = codex_client_request_async(
        client.0,
        cs(method).as_ptr(),
        cs(params).as_ptr(),
        0,
        &mut pending,
        &mut err,
    );
    assert_eq!(rc, CODEX_OK, "{}", take_error(rc, err).message);
    pending
}

/// The code of a finished pending request (`CODEX_OK` or its error's).
unsafe fn outcome(pending: *mut codex_pending) -> codex_result {
    let mut err = std::ptr::null_mut();
    assert_eq!(codex_pending_wait(pending, SAFETY_MS as i64, &mut err), CODEX_OK);
    let mut text = std::ptr::null();
    let rc = codex_pending_result(pending, &mut text, &mut err);
    if rc != CODEX_OK {
        codex_error_free(err);
    }
    rc
}

/// A request freed before its answer: the app-server is stopped (SIGSTOP) while the request
/// is sent and freed, so the answer surely comes after; once it runs again, that answer is
/// dropped and the client goes on.
#[test]
fn a_request_cancelled_before_its_answer_is_forgotten() {
    let env = Offline::new(&json!({ "responses": [] }));
    let client = env.start();
    let pid = client.server_pid() as i32;
    unsafe {
        assert_eq!(libc::kill(pid, libc::SIGSTOP), 0);
        let pending = request_async(&client, "thread/list", r#"{"limit": 1}"#);
        assert!(!codex_pending_is_done(pending));
        codex_pending_free(pending);
        let skipped = codex_client_skipped_lines(client.0);
        assert_eq!(libc::kill(pid, libc::SIGCONT), 0);
        // The client goes on: a later request is answered.
        let later = request_async(&client, "thread/list", r#"{"limit": 1}"#);
        assert_eq!(outcome(later), CODEX_OK);
        codex_pending_free(later);
        // The cancelled request's answer comes too (the server may answer the two in either
        // order), and is dropped, counted as a skipped line. Bounded only as a hang guard.
        let deadline = Instant::now() + Duration::from_millis(SAFETY_MS as u64);
        while codex_client_skipped_lines(client.0) == skipped && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(codex_client_skipped_lines(client.0), skipped + 1, "the late answer dropped");
    }
}

/// The app-server dies with requests in flight (stopped first, so none can be answered): each
/// fails with TRANSPORT through its own report — the ready list, a callback, a wait — and an
/// asynchronous turn start ends its turn's stream with it.
#[test]
fn the_server_s_death_fails_every_request_in_flight_with_transport() {
    let env = Offline::new(&json!({ "responses": [] }));
    let client = env.start();
    let thread = client.thread_start(r#"{"ephemeral": true}"#);
    let pid = client.server_pid() as i32;
    unsafe extern "C" fn on_done(userdata: *mut std::ffi::c_void, _pending: *mut codex_pending) {
        let tx = &*(userdata as *const std::sync::mpsc::SyncSender<()>);
        tx.send(()).unwrap();
    }
    unsafe {
        let mut fd = 0;
        let mut err = std::ptr::null_mut();
        assert_eq!(codex_client_event_fd(client.0, &mut fd, &mut err), CODEX_OK);
        assert_eq!(libc::kill(pid, libc::SIGSTOP), 0);
        let watched = request_async(&client, "thread/list", "{}");
        assert_eq!(codex_pending_watch(watched, &mut err), CODEX_OK);
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let called = request_async(&client, "model/list", "{}");
        let rc = codex_pending_set_callback(
            called,
            Some(on_done),
            &tx as *const _ as *mut std::ffi::c_void,
            None,
            &mut err,
        );
        assert_eq!(rc, CODEX_OK);
        let waited = request_async(&client, "account/read", "{}");
        let mut turn = std::ptr::null_mut();
        let rc = codex_turn_start_async(
            client.0,
            cs(&thread).as_ptr(),
            cs("hello").as_ptr(),
            std::ptr::null(),
            &mut turn,
            &mut err,
        );
        assert_eq!(rc, CODEX_OK);
        assert_eq!(libc::kill(pid, libc::SIGKILL), 0);
        assert_eq!(outcome(waited), CODEX_ERR_TRANSPORT);
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the callback ran");
        assert_eq!(outcome(called), CODEX_ERR_TRANSPORT);
        let mut reported = false;
        while !reported {
            poll_readable(fd);
            loop {
                let (mut t, mut p) = (std::ptr::null_mut(), std::ptr::null_mut());
                if codex_client_next_ready(client.0, &mut t, &mut p, std::ptr::null_mut())
                    != CODEX_OK
                {
                    break;
                }
                reported |= p == watched;
            }
        }
        assert_eq!(outcome(watched), CODEX_ERR_TRANSPORT);
        let mut ev = std::ptr::null_mut();
        let rc = codex_turn_next_event(turn, SAFETY_MS as i64, &mut ev, &mut err);
        assert_eq!(rc, CODEX_ERR_TRANSPORT, "the turn's stream ends with the failure");
        codex_error_free(err);
        for p in [watched, called, waited] {
            codex_pending_free(p);
        }
        codex_turn_free(turn);
    }
}
