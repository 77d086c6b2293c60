//! Routing when messages come late, twice, or not at all (issue 25), and when the turn id of
//! the `turn/start` answer is not the one the events carry (issue 19, item 1), against the
//! fake's `scripted` scenario: the fake answers no `turn/start` by itself, and `test/script`
//! writes the lines a test gives once the fake has received the turn/starts it names.
//!
//! Nothing here races the clock: a script's answer comes after its lines on the one stream the
//! reader routes in order, so when `script` returns, every line of it has been routed. Waits are
//! bounded by `SAFETY` only so that a broken library fails instead of hanging.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, ErrorKind, Event, EventKind, Options, Turn};
use serde_json::{json, Value};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod fake;

const SAFETY: Duration = Duration::from_secs(60);

fn safely() -> Wait {
    Wait::Until(Instant::now() + SAFETY)
}

fn scripted(tune: impl FnOnce(&mut Options)) -> &'static Client {
    // Leaked: turn starts run on threads of their own while the test scripts the server.
    Box::leak(Box::new(fake::client("scripted", &[], tune)))
}

/// Writes `lines` from the server once it has received `after_starts` turn/starts (`$START`
/// is the id of the last of them); returns when all of them have been routed.
fn script(client: &Client, after_starts: usize, lines: &[Value]) {
    let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
    let params = json!({ "afterStarts": after_starts, "lines": lines }).to_string();
    client.request("test/script", Some(&params), Timeout::After(SAFETY)).expect("test/script");
}

/// `script`, for lines that are not JSON values as serde writes them (a lone surrogate escape,
/// the `$START` placeholder as an id).
fn script_raw(client: &Client, after_starts: usize, lines: &[&str]) {
    let params = json!({ "afterStarts": after_starts, "lines": lines }).to_string();
    client.request("test/script", Some(&params), Timeout::After(SAFETY)).expect("test/script");
}

fn start(
    client: &'static Client,
    thread: &str,
) -> JoinHandle<Result<Turn, codex_app_server::core::Error>> {
    let thread = thread.to_owned();
    std::thread::spawn(move || client.turn_start(&thread, "hi", None, None))
}

fn started(thread: &str, turn: &str) -> Value {
    json!({"method":"turn/started","params":{"threadId":thread,"turn":{"id":turn,"status":"inProgress","items":[]}}})
}

fn delta(thread: &str, turn: &str, text: &str) -> Value {
    json!({"method":"item/agentMessage/delta","params":{"threadId":thread,"turnId":turn,"itemId":"m","delta":text}})
}

fn completed(thread: &str, turn: &str) -> Value {
    json!({"method":"turn/completed","params":{"threadId":thread,"turn":{"id":turn,"status":"completed","items":[]}}})
}

/// The answer to the last awaited turn/start.
fn answer(turn: &str) -> String {
    format!(
        r#"{{"id":$START,"result":{{"turn":{{"id":"{turn}","status":"inProgress","items":[]}}}}}}"#
    )
}

fn collect(turn: &Turn) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        match turn.next_event(safely()).expect("event") {
            Next::Event(e) => events.push(e),
            Next::End => return events,
        }
    }
}

fn turn_ids(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.turn_id().unwrap_or("-").to_owned()).collect()
}

/// What the client stream holds now (everything routed so far), as (method, turn id).
fn client_stream(client: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(e) = client.next_event(Wait::from_millis(0)) {
        if e.method() == "thread/started" {
            continue; // the fake's answer to thread/start
        }
        out.push((e.method().to_owned(), e.turn_id().unwrap_or("-").to_owned()));
    }
    out
}

/// A plain turn on `thread` works: answered, streamed, completed, and nothing of it elsewhere.
fn a_turn_works(client: &'static Client, thread: &str, starts_so_far: usize, id: &str) {
    let pending = start(client, thread);
    script_raw(
        client,
        starts_so_far + 1,
        &[
            &started(thread, id).to_string(),
            &answer(id),
            &delta(thread, id, "x").to_string(),
            &completed(thread, id).to_string(),
        ],
    );
    let turn = pending.join().unwrap().expect("the turn starts");
    let events = collect(&turn);
    assert_eq!(turn_ids(&events), [id, id, id]);
    assert_eq!(turn.id(), id);
}

/// Issue 25, case 1: a failed or unanswered start after turn/started and a delta; the late
/// tail of that turn arrives while the next start waits for its answer.
#[test]
fn a_failed_start_s_late_tail_never_reaches_the_next_turn() {
    let error = r#"{"id":$START,"error":{"code":-32600,"message":"no"}}"#;
    let numeric = r#"{"id":$START,"result":{"turn":{"id":2,"status":"inProgress","items":[]}}}"#;
    // (An answer that never comes ends the same way, by a timeout: the router's unit test
    // `an_abandoned_start_s_late_tail_is_not_adopted_by_the_next_turn` covers it, since here
    // the timeout could fire before the script's lines are routed.)
    for (case, failure) in [("error", error), ("numeric id", numeric)] {
        let client = scripted(|_| {});
        let (thread, _) = client.thread_start(None).unwrap();
        let first = start(client, &thread);
        let mut lines =
            vec![started(&thread, "turn-2").to_string(), delta(&thread, "turn-2", "a").to_string()];
        lines.push(failure.to_owned());
        script_raw(client, 1, &lines.iter().map(String::as_str).collect::<Vec<_>>());
        let err = first.join().unwrap().expect_err(case);
        let want = if case == "error" { ErrorKind::Rpc } else { ErrorKind::Protocol };
        assert_eq!(err.kind, want, "{case}: {err:?}");
        if case == "numeric id" {
            assert!(err.message.contains("turn.id is not a string (2)"), "{}", err.message);
        }
        // What the abandoned start had buffered is on the client stream.
        assert_eq!(client_stream(client).len(), 2, "{case}");

        let second = start(client, &thread);
        script_raw(
            client,
            2,
            &[
                &delta(&thread, "turn-2", "late").to_string(),
                &completed(&thread, "turn-2").to_string(),
                &started(&thread, "turn-3").to_string(),
                &delta(&thread, "turn-3", "b").to_string(),
                &answer("turn-3"),
                &delta(&thread, "turn-3", "c").to_string(),
                &completed(&thread, "turn-3").to_string(),
            ],
        );
        let turn = second.join().unwrap().expect("turn-3 starts");
        let events = collect(&turn);
        assert_eq!(turn_ids(&events), ["turn-3"; 4], "{case}");
        let deltas: Vec<_> = events.iter().filter_map(|e| e.delta()).collect();
        assert_eq!(deltas, ["b", "c"], "{case}");
        let late = client_stream(client);
        assert_eq!(
            late.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            ["turn-2"; 2],
            "{case}"
        );
        // The thread takes a new turn, and so does a new thread.
        a_turn_works(client, &thread, 2, "turn-4");
        let (other, _) = client.thread_start(None).unwrap();
        a_turn_works(client, &other, 3, "turn-5");
        client.close();
    }
}

/// Issue 25, case 4: a turn/completed of an unknown turn before the answer ends nothing.
#[test]
fn a_ghost_completion_before_the_answer_ends_nothing() {
    let client = scripted(|_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let pending = start(client, &thread);
    script_raw(
        client,
        1,
        &[
            &completed(&thread, "ghost").to_string(),
            &started(&thread, "real").to_string(),
            &answer("real"),
            &completed(&thread, "ghost").to_string(),
            &delta(&thread, "real", "x").to_string(),
            &completed(&thread, "real").to_string(),
        ],
    );
    let turn = pending.join().unwrap().unwrap();
    assert_eq!(turn_ids(&collect(&turn)), ["real"; 3]);
    let ghosts = client_stream(client);
    let ghost = ("turn/completed".to_owned(), "ghost".to_owned());
    assert_eq!(ghosts, [ghost.clone(), ghost]);
    a_turn_works(client, &thread, 1, "next");
}

/// Issue 19, item 1: the answer's id is not the events' id; the events come before the
/// answer, after it, or belong to a turn that was already running (started by someone else)
/// when the start was steered into it. The handle gets them all, ends on their completion,
/// reports their id, and the thread takes a second turn.
#[test]
fn drift_never_hangs_a_handle() {
    for case in
        ["events before the answer", "events after the answer", "steered into a running turn"]
    {
        let client = scripted(|_| {});
        let (thread, _) = client.thread_start(None).unwrap();
        if case.starts_with("steered") {
            // Another client's turn, running before this one starts: nobody here holds it.
            script(client, 0, &[started(&thread, "running"), delta(&thread, "running", "0")]);
            assert_eq!(client_stream(client).len(), 2);
        }
        let pending = start(client, &thread);
        let item = json!({"method":"item/started","params":{"threadId":&thread,"turnId":"running","item":{"type":"userMessage","id":"u"}}});
        let (before, after): (Vec<Value>, Vec<Value>) = if case == "events before the answer" {
            (vec![item, delta(&thread, "running", "a")], vec![delta(&thread, "running", "b")])
        } else {
            (vec![], vec![item, delta(&thread, "running", "a"), delta(&thread, "running", "b")])
        };
        let mut lines: Vec<String> = before.iter().map(Value::to_string).collect();
        lines.push(answer("submission-9"));
        script_raw(client, 1, &lines.iter().map(String::as_str).collect::<Vec<_>>());
        let turn = pending.join().unwrap().unwrap_or_else(|e| panic!("{case}: {e:?}"));
        let expected_id = if before.is_empty() { "submission-9" } else { "running" };
        assert_eq!(turn.id(), expected_id, "{case}: the events' id once one arrived");
        script(client, 0, &after);
        assert_eq!(turn.id(), "running", "{case}");
        script(client, 0, &[completed(&thread, "running")]);
        let events = collect(&turn);
        assert_eq!(turn_ids(&events), ["running"; 4], "{case}");
        assert_eq!(events.last().unwrap().kind(), EventKind::TurnCompleted);
        assert!(client_stream(client).is_empty(), "{case}");
        assert_eq!(client.active_turns(), 0, "{case}: the thread is free");
        a_turn_works(client, &thread, 1, "second");
        client.close();
    }
}

/// Issue 25, case 3: the same server-request id twice. The repeat supersedes the first: the
/// first handle answers STALE, and one answer goes out for the id.
#[test]
fn a_repeated_server_request_id_gets_one_answer() {
    let client = scripted(|_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let pending = start(client, &thread);
    let request = json!({"id":7,"method":"item/commandExecution/requestApproval","params":{"threadId":&thread,"turnId":"t","itemId":"c","command":"ls"}});
    script_raw(
        client,
        1,
        &[
            &answer("t"),
            &started(&thread, "t").to_string(),
            &request.to_string(),
            &request.to_string(),
        ],
    );
    let turn = pending.join().unwrap().unwrap();
    script(client, 0, &[completed(&thread, "t")]);
    let requests: Vec<Event> =
        collect(&turn).into_iter().filter(|e| e.kind() == EventKind::ServerRequest).collect();
    assert_eq!(requests.len(), 2);
    let (first, again) = (requests[0].request().unwrap(), requests[1].request().unwrap());
    let accept = codex_app_server::core::routing::requests::Answer::Result(
        r#"{"decision":"accept"}"#.into(),
    );
    let decline = codex_app_server::core::routing::requests::Answer::Result(
        r#"{"decision":"decline"}"#.into(),
    );
    // The turn completed: both are closed, and neither can send anything now.
    assert_eq!(first.answer(accept.clone()).unwrap_err().kind, ErrorKind::StaleRequest);
    assert_eq!(again.answer(decline.clone()).unwrap_err().kind, ErrorKind::StaleRequest);

    // Again on an open turn: the older handle is stale, the newer answers once.
    let pending = start(client, &thread);
    let request = json!({"id":8,"method":"item/commandExecution/requestApproval","params":{"threadId":&thread,"turnId":"u","itemId":"c","command":"ls"}});
    script_raw(client, 2, &[&answer("u"), &request.to_string(), &request.to_string()]);
    let turn = pending.join().unwrap().unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        if let Next::Event(e) = turn.next_event(safely()).unwrap() {
            got.push(e);
        }
    }
    let err = got[0].request().unwrap().answer(accept).unwrap_err();
    assert_eq!(err.kind, ErrorKind::StaleRequest);
    assert!(err.message.contains("superseded"), "{}", err.message);
    got[1].request().unwrap().answer(decline).unwrap();
    let answers = answers(client);
    assert_eq!(answers, [json!({"id":8,"result":{"decision":"decline"}})]);
    script(client, 0, &[completed(&thread, "u")]);
    collect(&turn);
}

/// The answers the fake received to requests it (or a script) sent, in order.
fn answers(client: &Client) -> Vec<Value> {
    let got = client.request("test/answers", None, Timeout::After(SAFETY)).unwrap();
    let got: Value = serde_json::from_str(&got).unwrap();
    got["answers"].as_array().unwrap().clone()
}

/// Issue 25, case 5: a server request dropped from the full client stream is declined at once,
/// not at the answer timeout.
#[test]
fn a_request_evicted_from_the_full_client_stream_is_declined_at_once() {
    let client = scripted(|o| o.client_stream_capacity = 1);
    let request = |id: i64| json!({"id":id,"method":"item/commandExecution/requestApproval","params":{"threadId":"nobody","turnId":"t","itemId":"c","command":"ls"}});
    script(client, 0, &[request(1), request(2)]);
    assert_eq!(answers(client), [json!({"id":1,"result":{"decision":"decline"}})]);
    let kept = client.next_event(Wait::from_millis(0)).unwrap();
    assert_eq!(kept.request_id(), Some("2"));
    assert!(kept.request().unwrap().is_open());
}

/// Issue 25, case 5: the smaller cases.
#[test]
fn malformed_and_unusable_messages_are_counted_and_behave_as_documented() {
    let client = scripted(|_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let skipped = client.skipped_lines();
    // Responses nobody waits for: ids that are no number this client sends, one never sent.
    script_raw(
        client,
        0,
        &[
            r#"{"id":"abc","result":{}}"#,
            r#"{"id":1.5,"result":{}}"#,
            r#"{"id":99999999999999999999,"result":{}}"#,
            r#"{"id":424242,"result":{}}"#,
        ],
    );
    assert_eq!(client.skipped_lines() - skipped, 4);
    // A server request with a null id: declined with a null id, counted, not shown.
    script_raw(
        client,
        0,
        &[
            r#"{"id":null,"method":"item/commandExecution/requestApproval","params":{"threadId":"x","turnId":"t"}}"#,
        ],
    );
    assert_eq!(client.skipped_lines() - skipped, 5);
    assert!(client_stream(client).is_empty());
    assert_eq!(answers(client), [json!({"id":null,"result":{"decision":"decline"}})]);

    // A turn/completed without threadId ends its handle; a lone surrogate in a delta becomes
    // U+FFFD instead of vanishing.
    let pending = start(client, &thread);
    script_raw(
        client,
        1,
        &[
            &answer("t1"),
            &started(&thread, "t1").to_string(),
            &format!(
                r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"{thread}","turnId":"t1","delta":"ab\ud83d"}}}}"#
            ),
            r#"{"method":"turn/completed","params":{"turn":{"id":"t1","status":"completed","items":[]}}}"#,
        ],
    );
    let turn = pending.join().unwrap().unwrap();
    let events = collect(&turn);
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].delta(), Some("ab\u{fffd}"));
    assert!(events[1].params().contains(r"ab\ud83d"), "the raw params keep the escape");
    assert_eq!(client.active_turns(), 0);

    // A response with neither result nor error is an error for its caller, not a null result.
    let caller = std::thread::spawn(move || {
        client.request("test/hang_notify", None, Timeout::After(SAFETY))
    });
    let hanging = loop {
        let e = client.next_event(safely()).unwrap();
        if e.method() == "test/hanging" {
            break serde_json::from_str::<Value>(e.params()).unwrap()["requestId"].clone();
        }
    };
    script_raw(client, 0, &[&format!(r#"{{"id":{hanging}}}"#)]);
    let err = caller.join().unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("neither result nor error"), "{}", err.message);
}

/// The known hole of issue 25: a `turn/start` the client gave up on (its wait timed out, or the
/// server answered with an error) while the server went on running that turn; the next start
/// on the thread is steered by the server into the running turn and answered with an id no
/// event carries. The new handle takes the running turn's events after the answer, ends on its
/// completion exactly once, and the thread takes new turns afterwards.
#[test]
fn a_start_steered_into_the_turn_a_given_up_start_left_running_ends() {
    let error = r#"{"id":$START,"error":{"code":-32600,"message":"busy"}}"#;
    for case in ["timed out", "answered with an error"] {
        // The timeout bounds only the first start's wait, and whichever comes first (its
        // timeout or the script's lines) the outcome checked below is the same: the lines are
        // then the client stream's, as a turn nobody here started. It is short so that the
        // test does not wait long; the scripts use their own long timeout.
        let client = scripted(|o| {
            if case == "timed out" {
                o.request_timeout = Some(Duration::from_secs(2));
            }
        });
        let (thread, _) = client.thread_start(None).unwrap();
        let first = start(client, &thread);
        let mut lines = vec![started(&thread, "running").to_string()];
        lines.push(delta(&thread, "running", "a").to_string());
        if case != "timed out" {
            lines.push(error.to_owned());
        }
        script_raw(client, 1, &lines.iter().map(String::as_str).collect::<Vec<_>>());
        let err = first.join().unwrap().expect_err(case);
        let want = if case == "timed out" { ErrorKind::Timeout } else { ErrorKind::Rpc };
        assert_eq!(err.kind, want, "{case}: {err:?}");
        assert_eq!(client_stream(client).len(), 2, "{case}: the given-up start's events");

        // The next start joins the running turn: the server's answer names a submission id.
        let second = start(client, &thread);
        script_raw(
            client,
            2,
            &[
                // Before the answer the library cannot tell a late tail from the joined
                // turn: the client stream's.
                &delta(&thread, "running", "b").to_string(),
                &answer("submission-9"),
                &delta(&thread, "running", "c").to_string(),
                &delta(&thread, "running", "d").to_string(),
            ],
        );
        let turn = second.join().unwrap().unwrap_or_else(|e| panic!("{case}: {e:?}"));
        script(client, 0, &[completed(&thread, "running"), completed(&thread, "running")]);
        let events = collect(&turn);
        assert_eq!(turn_ids(&events), ["running"; 3], "{case}");
        let deltas: Vec<_> = events.iter().filter_map(|e| e.delta()).collect();
        assert_eq!(deltas, ["c", "d"], "{case}");
        assert_eq!(turn.id(), "running", "{case}: the id steer and interrupt need");
        // The delta before the answer, and the duplicate completion, are the client stream's.
        let rest = client_stream(client);
        assert_eq!(
            rest,
            [
                ("item/agentMessage/delta".to_owned(), "running".to_owned()),
                ("turn/completed".to_owned(), "running".to_owned())
            ],
            "{case}"
        );
        assert_eq!(client.active_turns(), 0, "{case}: the thread is free");
        a_turn_works(client, &thread, 2, "next");
        client.close();
    }
}
