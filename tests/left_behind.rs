//! Nothing left behind, nothing wedged: the host's death ends the app-server and the command it
//! runs; a server flooding its stderr while the library writes a long message does not
//! deadlock; an approval nobody answers holds up no other turn of the client.
//!
//! Not on Windows: the real codex here is the Linux one, and the host test uses signals.
#![cfg(unix)]

mod fake;
mod support;

use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::ffi::event::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const THREAD: &str = r#"{"approvalPolicy":"on-request","sandbox":"read-only"}"#;

/// The environment variable that makes `host_role` the host of `a_killed_host_...`.
const HOST_PATHS: &str = "LEFT_BEHIND_HOST_PATHS";

/// A process's state letter from /proc (None once it is gone; 'Z' for a zombie nobody reaped).
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next())
}

fn is_running(pid: u32) -> bool {
    process_state(pid).is_some_and(|s| s != 'Z' && s != 'X')
}

/// Waits (bounded) until `done` holds; returns how long it took.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

#[test]
fn a_killed_host_leaves_neither_the_app_server_nor_its_command() {
    let env = Offline::new(&json!({
        "responses": [{"match": "RUN-THE-LONG-COMMAND", "function_call": {
            "name": "exec_command", "call_id": "call-long",
            "arguments": {"cmd": "echo $$ > ../command.pid; exec sleep 300",
                          "sandbox_permissions": "require_escalated",
                          "justification": "a command that outlives its host unless ended",
                          "yield_time_ms": 120000}}}],
        "default": {"text": "done", "phase": "final_answer"}}));
    let paths = [&env.dir, &env.home, &env.workspace].map(|p| p.display().to_string()).join("\n");
    let mut host = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "host_role", "--ignored", "--nocapture", "--test-threads=1"])
        .env(HOST_PATHS, paths)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The host prints the app-server's pid once it has approved the command.
    let mut server_pid = None;
    for line in BufReader::new(host.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // The test harness writes "test host_role ... " before the test's own output.
        if let Some((_, pid)) = line.split_once("app-server pid ") {
            server_pid = Some(pid.trim().parse::<u32>().unwrap());
            break;
        }
    }
    let server_pid = server_pid.expect("the host started the app-server and approved");
    let pid_file = env.dir.join("command.pid");
    wait_for("the approved command starts", Duration::from_secs(60), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|t| t.trim().parse::<u32>().is_ok())
    });
    let command_pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(is_running(server_pid) && is_running(command_pid));

    unsafe { libc::kill(host.id() as i32, libc::SIGKILL) };
    host.wait().unwrap();
    let took = wait_for("the app-server and its command end", Duration::from_secs(30), || {
        !is_running(server_pid) && !is_running(command_pid)
    });
    println!("host SIGKILLed: app-server {server_pid} and command {command_pid} gone in {took:?}");
}

/// The host of the test above, in a process of its own (run by it, ignored otherwise): starts
/// the real codex, approves the long command, says so, and waits to be killed.
#[test]
#[ignore = "the child process of a_killed_host_leaves_neither_the_app_server_nor_its_command"]
fn host_role() {
    let paths = std::env::var(HOST_PATHS).expect("run by the host test");
    let [dir, home, workspace]: [PathBuf; 3] =
        paths.lines().map(PathBuf::from).collect::<Vec<_>>().try_into().unwrap();
    let client = start_client(offline_options(&dir, &home, &workspace)).unwrap();
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "RUN-THE-LONG-COMMAND").unwrap();
    loop {
        match turn.next(60_000) {
            Next::Event(e) if e.kind == CODEX_EVENT_SERVER_REQUEST => {
                e.request
                    .unwrap()
                    .approve(codex_app_server::ffi::request::CODEX_DECISION_ACCEPT)
                    .unwrap();
                break;
            }
            Next::Event(_) => {}
            Next::End | Next::Failed(_) => panic!("the turn ended before its approval"),
        }
    }
    println!("app-server pid {}", client.server_pid());
    // Killed here by the parent; stdin never closes before that.
    let _ = std::io::stdin().read_line(&mut String::new());
    std::mem::forget(turn);
    std::mem::forget(client);
}

#[test]
fn a_server_flooding_stderr_while_a_long_message_is_written_does_not_deadlock() {
    let client = fake::client("normal", &[], |_| {});
    let flood = std::thread::scope(|s| {
        let flood = s.spawn(|| {
            client.request("test/stderr_flood", None, Timeout::After(Duration::from_secs(120)))
        });
        // The fake is flooding (its stdin thread blocked on stderr unless the library drains
        // it) before the long message is written.
        loop {
            let e = client
                .next_event(Wait::Until(Instant::now() + Duration::from_secs(60)))
                .expect("the fake says it floods");
            if e.method() == "test/flooding" {
                break;
            }
        }
        let text = "y".repeat(8 << 20);
        let params = json!({ "text": text }).to_string();
        let echoed = client
            .request("test/echo", Some(&params), Timeout::After(Duration::from_secs(120)))
            .expect("the 8 MiB request is answered");
        assert_eq!(echoed.len(), params.len());
        flood.join().unwrap()
    });
    let lines: serde_json::Value = serde_json::from_str(&flood.expect("the flood ends")).unwrap();
    println!("stderr: {} lines of 200 bytes while 8 MiB went the other way", lines["lines"]);
}

#[test]
fn an_unanswered_approval_holds_up_no_other_turn() {
    const DELTAS: usize = 100_000;
    let env = Offline::new(&json!({
        "responses": [
            {"match": "ASK-AND-WAIT", "function_call": {"name": "exec_command", "call_id": "call-wait",
                "arguments": {"cmd": "echo approved-late", "sandbox_permissions": "require_escalated",
                              "justification": "left unanswered while another turn streams"}}},
            {"match": "STREAM-A-LOT", "chunks": vec!["z"; DELTAS], "phase": "final_answer"}],
        "default": {"text": "the approved command ran", "phase": "final_answer"}}));
    let client = env.start();
    let (waiting, streaming) = (client.thread_start(THREAD), client.thread_start(THREAD));
    let asking = client.turn_start(&waiting, "ASK-AND-WAIT").unwrap();
    let request = loop {
        match asking.next(60_000) {
            Next::Event(e) if e.kind == CODEX_EVENT_SERVER_REQUEST => break e.request.unwrap(),
            Next::Event(_) => {}
            Next::End | Next::Failed(_) => panic!("the turn ended before its approval"),
        }
    };
    let started = Instant::now();
    let events = client.turn_start(&streaming, "STREAM-A-LOT").unwrap().collect();
    let took = started.elapsed();
    assert_eq!(deltas(&events).concat(), "z".repeat(DELTAS));
    assert!(request.is_open(), "the approval is still waiting for the program");
    println!("{DELTAS} deltas of another turn in {took:?} while an approval waited");
    request.approve(codex_app_server::ffi::request::CODEX_DECISION_ACCEPT).unwrap();
    let result = asking.run();
    assert_eq!(result.status, "completed");
    assert!(result.items.to_string().contains("approved-late"), "{}", result.items);
}
