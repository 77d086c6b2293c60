//! Turns this client did not start (issue 19, item 2): a handle attached to the turn running
//! on a thread or the next one there, to a turn named by id (as `thread/resume` shows it),
//! goal-continuation turns followed one after another, and `review/start` as a turn whose
//! result carries the review. Against the fake's `scripted` scenario (the real server will not
//! run another client's turn or a goal continuation on demand); ordered by what the client
//! sent, never by the clock: when `script` returns, every line of it has been routed.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::dispatch::Callback;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, ErrorKind, Event, Turn};
use serde_json::{json, Value};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod fake;

const SAFETY: Duration = Duration::from_secs(60);

fn safely() -> Wait {
    Wait::Until(Instant::now() + SAFETY)
}

fn scripted() -> &'static Client {
    Box::leak(Box::new(fake::client("scripted", &[], |_| {})))
}

fn script(client: &Client, after_starts: usize, lines: &[String]) {
    let params = json!({ "afterStarts": after_starts, "lines": lines }).to_string();
    client.request("test/script", Some(&params), Timeout::After(SAFETY)).expect("test/script");
}

fn started(thread: &str, turn: &str) -> String {
    json!({"method":"turn/started","params":{"threadId":thread,"turn":{"id":turn,"status":"inProgress","items":[]}}}).to_string()
}

fn delta(thread: &str, turn: &str, text: &str) -> String {
    json!({"method":"item/agentMessage/delta","params":{"threadId":thread,"turnId":turn,"itemId":"m","delta":text}}).to_string()
}

fn completed(thread: &str, turn: &str) -> String {
    json!({"method":"turn/completed","params":{"threadId":thread,"turn":{"id":turn,"status":"completed","items":[]}}}).to_string()
}

fn item_completed(thread: &str, turn: &str, item: Value) -> String {
    json!({"method":"item/completed","params":{"threadId":thread,"turnId":turn,"item":item}})
        .to_string()
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

fn summary(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| format!("{} {}", e.method(), e.turn_id().unwrap_or("-"))).collect()
}

/// What the client stream holds now, as "method turn".
fn client_stream(client: &Client) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(e) = client.next_event(Wait::from_millis(0)) {
        if e.method() != "thread/started" {
            out.push(format!("{} {}", e.method(), e.turn_id().unwrap_or("-")));
        }
    }
    out
}

#[test]
fn attach_takes_the_running_turn_then_the_next_one_and_keeps_one_handle_per_thread() {
    let client = scripted();
    let (thread, _) = client.thread_start(None).unwrap();
    // Another client's turn, running before anyone here holds it.
    script(client, 0, &[started(&thread, "other-1"), delta(&thread, "other-1", "a")]);
    assert_eq!(client_stream(client).len(), 2);
    let turn = client.turn_attach(&thread, None, None).unwrap();
    assert_eq!(turn.id(), "", "nothing names the turn yet");
    // One handle per turn: no start while it is held, no attach by id; an attach without an
    // id waits behind it (freed here before its turn: it holds nothing), and only one may.
    let busy = client.turn_start(&thread, "hi", None, None).unwrap_err();
    assert_eq!(busy.kind, ErrorKind::TurnActive);
    let by_id = client.turn_attach(&thread, Some("other-1"), None).unwrap_err();
    assert_eq!(by_id.kind, ErrorKind::TurnActive);
    let waiting = client.turn_attach(&thread, None, None).unwrap();
    assert_eq!(client.turn_attach(&thread, None, None).unwrap_err().kind, ErrorKind::TurnActive);
    drop(waiting);
    script(client, 0, &[delta(&thread, "other-1", "b"), completed(&thread, "other-1")]);
    let events = collect(&turn);
    assert_eq!(summary(&events), ["item/agentMessage/delta other-1", "turn/completed other-1"]);
    assert_eq!(turn.id(), "other-1");
    assert_eq!(client.active_turns(), 0);

    // Attached while nothing runs: the next turn, not the last one's late lines.
    let next = client.turn_attach(&thread, None, None).unwrap();
    script(
        client,
        0,
        &[
            delta(&thread, "other-1", "late"),
            completed(&thread, "other-1"),
            started(&thread, "other-2"),
            delta(&thread, "other-2", "c"),
            completed(&thread, "other-2"),
        ],
    );
    assert_eq!(
        summary(&collect(&next)),
        ["turn/started other-2", "item/agentMessage/delta other-2", "turn/completed other-2"]
    );
    assert_eq!(
        client_stream(client),
        ["item/agentMessage/delta other-1", "turn/completed other-1"]
    );

    // A turn that completed is refused by id; the handle of a turn whose first event is its
    // completion ends with it.
    let err = client.turn_attach(&thread, Some("other-2"), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err:?}");
    let ending = client.turn_attach(&thread, None, None).unwrap();
    script(client, 0, &[completed(&thread, "other-3")]);
    assert_eq!(summary(&collect(&ending)), ["turn/completed other-3"]);
    assert_eq!(client.active_turns(), 0, "the thread is free");
}

/// A turn named by id, as `thread/resume` shows one in progress: only its events, with a
/// callback; then goal-continuation turns, followed one after another.
#[test]
fn attach_by_id_with_a_callback_and_goal_continuations_one_after_another() {
    let client = scripted();
    let (thread, _) = client.thread_start(None).unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let tx = std::sync::Mutex::new(tx);
    let callback: Callback = Box::new(move |e: Event| {
        let _ = tx.lock().unwrap().send(format!("{} {}", e.method(), e.turn_id().unwrap_or("-")));
    });
    let turn = client.turn_attach(&thread, Some("resumed"), Some(callback)).unwrap();
    assert_eq!(turn.id(), "resumed");
    script(
        client,
        0,
        &[
            delta(&thread, "someone-else", "x"),
            delta(&thread, "resumed", "tail"),
            completed(&thread, "resumed"),
        ],
    );
    let outcome = turn.run(safely).unwrap();
    assert_eq!(outcome.status, "completed");
    let got: Vec<String> = rx.try_iter().collect();
    assert_eq!(got, ["item/agentMessage/delta resumed", "turn/completed resumed"]);
    assert_eq!(client_stream(client), ["item/agentMessage/delta someone-else"]);

    // Goal continuation: the server starts turn after turn on its own, the next right after
    // the last one's completion. A handle attached while the program holds the current one
    // waits behind it and misses nothing of the next turn, however soon it comes.
    let lines = |id: &str| [started(&thread, id), delta(&thread, id, "g"), completed(&thread, id)];
    let want = |id: &str| {
        ["turn/started", "item/agentMessage/delta", "turn/completed"].map(|m| format!("{m} {id}"))
    };
    let current = client.turn_attach(&thread, None, None).unwrap();
    let next = client.turn_attach(&thread, None, None).unwrap();
    script(client, 0, &[lines("goal-1"), lines("goal-2")].concat());
    assert_eq!(summary(&collect(&current)), want("goal-1"));
    assert_eq!(summary(&collect(&next)), want("goal-2"));
    let third = client.turn_attach(&thread, None, None).unwrap();
    script(client, 0, &lines("goal-3"));
    assert_eq!(summary(&collect(&third)), want("goal-3"));
    assert!(client_stream(client).is_empty());
    // A waiting handle freed before its turn holds nothing: the thread is free again.
    let waiting = client.turn_attach(&thread, None, None).unwrap();
    drop(waiting);
    assert_eq!(client.active_turns(), 0);
}

#[test]
fn attach_checks_its_arguments() {
    let client = scripted();
    assert_eq!(client.turn_attach("", None, None).unwrap_err().kind, ErrorKind::InvalidArgument);
    let err = client.turn_attach("thr_1", Some(""), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("turn_id"), "{}", err.message);
}

/// `review/start` is a turn: events before and after its answer, the review text in the result.
#[test]
fn a_review_is_a_turn_whose_result_carries_the_review() {
    let client = scripted();
    let (thread, _) = client.thread_start(None).unwrap();
    let bad = client.review_start(&thread, "{}", None).unwrap_err();
    assert!(bad.message.contains("target"), "{}", bad.message);
    let detached = r#"{"target":{"type":"uncommittedChanges"},"delivery":"detached"}"#;
    assert_eq!(
        client.review_start(&thread, detached, None).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );

    let pending = std::thread::spawn({
        let thread = thread.clone();
        move || client.review_start(&thread, r#"{"target":{"type":"uncommittedChanges"}}"#, None)
    });
    let review = "The change looks good.\n\n- [P2] Missing test";
    let answer = r#"{"id":$START,"result":{"turn":{"id":"rev-1","status":"inProgress","items":[]},"reviewThreadId":"THREAD"}}"#
        .replace("THREAD", &thread);
    script(
        client,
        1,
        &[
            started(&thread, "rev-1"),
            item_completed(
                &thread,
                "rev-1",
                json!({"type":"enteredReviewMode","id":"e","review":"current changes"}),
            ),
            answer,
            item_completed(
                &thread,
                "rev-1",
                json!({"type":"exitedReviewMode","id":"x","review":review}),
            ),
            completed(&thread, "rev-1"),
        ],
    );
    let turn = pending.join().unwrap().expect("the review starts");
    let outcome = turn.run(safely).unwrap();
    assert_eq!(outcome.review.as_deref(), Some(review));
    assert_eq!(outcome.status, "completed");
    assert_eq!(client.active_turns(), 0);
}
