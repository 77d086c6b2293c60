//! The core against the scripted fake app-server, for what the real server won't do on
//! demand: events before the response, garbage lines, late events, a server that closes
//! stdout, server requests answered fail-closed.
//!
//! Nothing here races the clock: a turn that must still be running carries the fake's
//! `hold-after:N` marker (its stream waits for a steer, an interrupt or `test/release`), and
//! "promptly" is shown by what the failure reports or by what is still alive when it comes,
//! never by a measured time. Waits are bounded by `SAFETY` only so that a broken library fails
//! instead of hanging.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, ErrorKind, Event, EventKind, Options};
use std::time::{Duration, Instant};

mod fake;

/// The bound of every wait: reached only when something is broken.
const SAFETY: Duration = Duration::from_secs(60);

/// A wait bounded by `SAFETY`.
fn safely() -> Wait {
    Wait::Until(Instant::now() + SAFETY)
}

fn fake(scenario: &str, env: &[(&str, &str)]) -> Client {
    fake_with(scenario, env, |_| {})
}

fn fake_with(scenario: &str, env: &[(&str, &str)], tune: impl FnOnce(&mut Options)) -> Client {
    fake::client(scenario, env, tune)
}

fn collect(turn: &codex_app_server::core::Turn) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        match turn.next_event(safely()).expect("event") {
            Next::Event(e) => events.push(e),
            Next::End => return events,
        }
    }
}

fn deltas(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| e.delta().map(str::to_owned)).collect()
}

#[test]
fn events_sent_before_the_turn_start_response_reach_the_turn() {
    let client = fake("early", &[("FAKE_DELTAS", "4")]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let events = collect(&turn);
    assert_eq!(events.first().unwrap().kind(), EventKind::TurnStarted);
    assert_eq!(events.last().unwrap().kind(), EventKind::TurnCompleted);
    let id = turn.id();
    assert_eq!(deltas(&events), (0..4).map(|i| format!("{id}:{i};")).collect::<Vec<_>>());
    // The thread is free again at once.
    let again = client.turn_start(&thread, "again", None, None).unwrap();
    assert_eq!(collect(&again).last().unwrap().turn_status(), Some("completed"));
}

#[test]
fn garbage_lines_are_skipped_and_counted_and_a_huge_line_passes() {
    let client = fake("garbage", &[("FAKE_DELTAS", "3")]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let d = deltas(&collect(&turn));
    let id = turn.id();
    let huge: Vec<&String> = d.iter().filter(|s| s.len() == 2 * 1024 * 1024).collect();
    assert_eq!(huge.len(), 1, "the 2 MiB delta arrives whole");
    let regular: Vec<&String> = d.iter().filter(|s| s.len() < 100).collect();
    assert_eq!(
        regular,
        (0..3).map(|i| format!("{id}:{i};")).collect::<Vec<_>>().iter().collect::<Vec<_>>()
    );
    // Not JSON, truncated JSON, an array: three skipped lines (the empty line is ignored).
    assert_eq!(client.skipped_lines(), 3);
    // The client still works.
    assert!(client.request("test/echo", Some("{}"), Timeout::Default).is_ok());
}

#[test]
fn an_event_after_turn_completed_reaches_the_client_stream() {
    let client = fake("late_event", &[("FAKE_DELTAS", "2")]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let events = collect(&turn);
    assert_eq!(events.last().unwrap().kind(), EventKind::TurnCompleted);
    let deadline = Instant::now() + SAFETY;
    loop {
        let e = client.next_event(Wait::Until(deadline)).expect("the late event arrives");
        if e.kind() == EventKind::CommandOutputDelta {
            assert_eq!(e.turn_id(), Some(turn.id()));
            assert_eq!(e.delta(), Some("late"));
            break;
        }
    }
}

#[test]
fn with_answer_timeout_zero_server_requests_are_answered_fail_closed_at_once() {
    let client = fake_with("approval", &[], |o| o.server_request_timeout = Duration::ZERO);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "run it", None, None).unwrap();
    let events = collect(&turn);
    let requests: Vec<&Event> =
        events.iter().filter(|e| e.kind() == EventKind::ServerRequest).collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method(), "item/commandExecution/requestApproval");
    assert_eq!(requests[0].request_id(), Some("0"));
    let completed: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e.kind() == EventKind::ItemCompleted)
        .map(|e| serde_json::from_str(e.params()).unwrap())
        .collect();
    assert!(requests.iter().all(|r| r.request().is_none()), "nothing left to answer");
    let command = completed.iter().find(|v| v["item"]["type"] == "commandExecution").unwrap();
    assert_eq!(command["item"]["status"], "declined");
    assert_eq!(command["item"]["decisionReceived"]["decision"], "decline");
    let message = completed.iter().find(|v| v["item"]["type"] == "agentMessage").unwrap();
    let text = message["item"]["text"].as_str().unwrap();
    assert!(text.contains("-32601"), "unknown request answered with an error: {text}");
}

/// Whether this Windows program runs under wine (whose ntdll says its version).
#[cfg(windows)]
fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

#[cfg(not(windows))]
fn under_wine() -> bool {
    false
}

#[test]
fn a_server_that_closes_stdout_fails_the_turn_promptly() {
    // Under wine the console host (conhost.exe) that CREATE_NO_WINDOW gives the app-server
    // inherits the pipe ends of the child, so closing stdout in the child gives no EOF while
    // the child lives: there the fake lingers 1 s, and the turn fails on its exit instead.
    let wine = under_wine();
    // The fake closes stdout and then lives on (30 s) before it exits with status 0.
    let client = fake("close_stdout", &[("FAKE_LINGER_S", if wine { "1" } else { "30" })]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let err = loop {
        match turn.next_event(safely()) {
            Ok(Next::Event(_)) => continue,
            Ok(Next::End) => panic!("the turn cannot complete"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message);
    // Promptly: on the EOF, not at the exit. Had the library waited for the exit, the message
    // would give its status; instead the server, still running, was killed.
    let reason = if wine { "exited (exit status 0)" } else { "closed its stdout; it was killed" };
    assert!(err.message.contains(reason), "{}", err.message);
    assert!(err.message.contains("fake: fatal line"), "{}", err.message);
}

#[test]
fn a_freed_turn_keeps_the_thread_busy_until_it_completes() {
    let client = fake("normal", &[("FAKE_DELTAS", "20")]);
    let (thread, _) = client.thread_start(None).unwrap();
    // Held by the fake after 5 deltas until test/release: surely still running when freed.
    let turn = client.turn_start(&thread, "hi hold-after:5", None, None).unwrap();
    let id = turn.id().to_owned();
    drop(turn);
    let err = client.turn_start(&thread, "again", None, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TurnActive);
    let params = format!(r#"{{"turnId":"{id}"}}"#);
    let released = client.request("test/release", Some(&params), Timeout::Default).unwrap();
    assert!(released.contains(&id), "{released}");
    // Its events now go to the client stream, ending with its turn/completed.
    loop {
        let e = client.next_event(safely()).unwrap();
        if e.kind() == EventKind::TurnCompleted {
            assert_eq!(e.turn_id(), Some(id.as_str()));
            break;
        }
    }
    assert!(client.turn_start(&thread, "again", None, None).is_ok());
}

#[test]
fn the_program_answers_server_requests_and_answers_go_stale_after() {
    use codex_app_server::core::routing::requests::{approval_answer, Answer, Decision};
    let client = fake("approval", &[]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "run it", None, None).unwrap();
    let mut events = Vec::new();
    let mut held = Vec::new();
    while let Next::Event(e) = turn.next_event(safely()).expect("event") {
        if let Some(request) = e.request() {
            let answer = match request.method.as_str() {
                "item/commandExecution/requestApproval" => Answer::Result(
                    approval_answer(&request.method, &request.params, Decision::Accept).unwrap(),
                ),
                _ => Answer::Error { code: -32000, message: "not here".into() },
            };
            request.answer(answer).unwrap();
            held.push(request.clone());
        }
        events.push(e);
    }
    let command = events
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e.params()).unwrap())
        .find(|v| v["item"]["type"] == "commandExecution")
        .unwrap();
    assert_eq!(command["item"]["status"], "completed");
    assert_eq!(command["item"]["decisionReceived"]["decision"], "accept");
    assert_eq!(held.len(), 2);
    let again = held[0].answer(Answer::Result("{}".into())).unwrap_err();
    assert_eq!(again.kind, ErrorKind::StaleRequest);
}

#[test]
fn an_unanswered_request_is_declined_when_the_answer_timeout_passes() {
    let client =
        fake_with("approval", &[], |o| o.server_request_timeout = Duration::from_millis(200));
    let (thread, _) = client.thread_start(None).unwrap();
    // The request cannot arrive before turn/start is sent, so its deadline, counted from its
    // arrival, is at least 200 ms after this (however late this thread runs afterwards).
    let started = Instant::now();
    let turn = client.turn_start(&thread, "run it", None, None).unwrap();
    let events = collect(&turn);
    // It waited for the answer, then declined.
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    let command = events
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e.params()).unwrap())
        .find(|v| v["item"]["type"] == "commandExecution")
        .unwrap();
    assert_eq!(command["item"]["status"], "declined");
}

#[test]
fn a_crash_in_the_middle_of_a_flood_ends_every_turn_with_an_unbroken_prefix() {
    const TURNS: usize = 20;
    let turns = TURNS.to_string();
    let client = fake(
        "flood",
        &[("FAKE_TURNS", &turns), ("FAKE_DELTAS", "20000"), ("FAKE_CRASH_AT", "0.5")],
    );
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..TURNS)
            .map(|_| {
                let client = &client;
                s.spawn(move || {
                    let (thread, _) = client.thread_start(None).unwrap();
                    let turn = client.turn_start(&thread, "flood", None, None).unwrap();
                    let mut next = 0;
                    let err = loop {
                        match turn.next_event(safely()) {
                            Ok(Next::Event(e)) => {
                                let delta = e.delta().unwrap();
                                // Deltas are "tokNNNNNN ": each turn sees 0, 1, 2, ... with no gap.
                                assert_eq!(delta, format!("tok{next:06} "), "turn {}", turn.id());
                                next += 1;
                            }
                            Ok(Next::End) => panic!("the flood cannot complete"),
                            Err(e) => break e,
                        }
                    };
                    assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message);
                    assert!(err.message.contains("exit status 4"), "{}", err.message);
                    next
                })
            })
            .collect();
        let received: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        // About half of each turn's 20,000 deltas arrived before the crash.
        assert!(received.iter().all(|&n| (8_000..=12_000).contains(&n)), "{received:?}");
    });
}

#[test]
fn a_full_client_stream_drops_its_oldest_events_and_counts_them() {
    let client = fake_with("normal", &[], |o| o.client_stream_capacity = 2);
    for _ in 0..5 {
        client.thread_start(None).unwrap(); // each sends a turn-less thread/started
    }
    let deadline = Instant::now() + SAFETY;
    while client.dropped_events() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(client.dropped_events(), 3);
    let kept: Vec<String> = (0..2)
        .map(|_| client.next_event(safely()).unwrap().thread_id().unwrap().to_owned())
        .collect();
    assert_eq!(kept, ["thr_4", "thr_5"]);
}

/// Whether `pid` is a live (not zombie) orphan of the fake: the fake itself, run as
/// `fake_app_server --sleep SECONDS`.
#[cfg(unix)]
fn orphan_is_running(pid: i32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
    let sleeping = cmdline.split(|&b| b == 0).nth(1) == Some(&b"--sleep"[..]);
    sleeping && !matches!(state, None | Some('Z') | Some('X'))
}

#[cfg(unix)]
fn kill_orphan(pid: i32) {
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Whether process `pid` is still running (a Windows pid is not reused while a handle to the
/// process is open, and the test only asks while it could still be the orphan).
#[cfg(windows)]
fn orphan_is_running(pid: i32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid as u32);
        if process.is_null() {
            return false;
        }
        let mut code = 0u32;
        let ok = GetExitCodeProcess(process, &mut code);
        CloseHandle(process);
        ok != 0 && code == STILL_ACTIVE as u32
    }
}

#[test]
fn a_server_that_exits_while_a_grandchild_holds_its_stdout_fails_the_turn_promptly() {
    // The grandchild (the fake again, sleeping) keeps the pipes open for up to 60 s; the fake
    // names its pid on stderr, which the failure reports.
    let client = fake("orphan_pipe", &[("FAKE_ORPHAN_SECONDS", "60")]);
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "hi", None, None).unwrap();
    let err = loop {
        match turn.next_event(safely()) {
            Ok(Next::Event(_)) => continue,
            Ok(Next::End) => panic!("the turn cannot complete"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message);
    assert!(err.message.contains("exit status 5"), "{}", err.message);
    let orphan: i32 = err
        .message
        .split("the orphan (pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no orphan pid in: {}", err.message));
    // Promptly: the turn failed on the exit, while the grandchild still holds the pipe (no EOF
    // could have told it).
    assert!(orphan_is_running(orphan), "the grandchild {orphan} ended before the turn failed");
    client.close();
    if cfg!(windows) {
        // The app-server's Job Object ends its whole process tree on close.
        let deadline = Instant::now() + SAFETY;
        while orphan_is_running(orphan) {
            assert!(Instant::now() < deadline, "close left the grandchild {orphan} running");
            std::thread::sleep(Duration::from_millis(5));
        }
    } else {
        // Closing does not wait for the grandchild either.
        assert!(orphan_is_running(orphan), "close waited for the grandchild {orphan}");
        #[cfg(unix)]
        kill_orphan(orphan);
    }
}
