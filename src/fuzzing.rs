//! The entry point of the `inbound` fuzz target (`fuzz/`, `make fuzz`) and of its regression
//! tests: bytes from the app-server → lines → the reader thread's routing, the same
//! `InboundRouter` a client runs, with real `Rpc`, `Router` and `PendingRequests`. Every input
//! runs twice — program asked about server requests (handler on), and never asked (each request
//! answered fail-closed at once) — and after each run the invariants below must hold; a broken
//! one panics, which is what the fuzzer reports.
//!
//! Compiled for the crate's own tests and with the `fuzzing` feature only; not an API.

use crate::core::routing::event::{Event, EventKind};
use crate::core::routing::inbound::InboundRouter;
use crate::core::routing::keys;
use crate::core::routing::queue::{StreamEnd, Taken, Wait};
use crate::core::routing::requests::PendingRequests;
use crate::core::routing::router::{Router, TurnQueue};
use crate::core::routing::rpc::Rpc;
use crate::core::routing::wire::{self, Message, ResponseId, ResponseOutcome};
use crate::core::transport::Inbound;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The threads with a turn open before the input is fed (the seed corpus uses these ids):
/// `thr_1` knows its turn id, `thr_2` adopts the first one it sees, `thr_3`'s handle was freed.
const CONFIRMED: (&str, &str) = ("thr_1", "turn_1");
const ADOPTING: &str = "thr_2";
const DETACHED: (&str, &str) = ("thr_3", "turn_3");
/// Requests waiting for a response, ids 0..WAITERS.
const WAITERS: u64 = 4;

/// Where the events of one run went (for tests; the fuzz target only needs the checks).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events in the streams of the turns of `thr_1`, `thr_2` and `thr_3`.
    pub turn_events: [usize; 3],
    pub client_stream_events: usize,
    /// Answers written back at once (fail-closed), and lines counted as skipped.
    pub answers: usize,
    pub skipped: u64,
    /// Waiters (ids 0..4) that got a response.
    pub responses: usize,
}

/// Feeds `data` through the inbound path and checks the invariants; panics when one breaks.
/// Returns where the events went with the program asked about server requests, and without.
pub fn run(data: &[u8]) -> [Summary; 2] {
    check_framing(data);
    let lines = split_lines(data);
    [run_once(&lines, true), run_once(&lines, false)]
}

/// The transport's line reader over `data`, read a few bytes at a time with a small limit:
/// every byte is accounted for (lines, discarded lines, newlines), no line holds a newline or
/// exceeds the limit, and each discarded one did exceed it.
fn check_framing(data: &[u8]) {
    use crate::core::transport::{Frame, LineReader};
    const LIMIT: usize = 64;
    let mut reader = LineReader::new(data, 7, LIMIT);
    let mut accounted = 0u64;
    let mut frames = 0u64;
    while let Some(frame) = reader.next().expect("reading a slice cannot fail") {
        frames += 1;
        accounted += match frame {
            Frame::Line(line) => {
                assert!(!line.contains(&b'\n') && line.len() <= LIMIT, "line {line:?}");
                line.len() as u64
            }
            Frame::Oversized { bytes } => {
                assert!(bytes > LIMIT as u64, "discarded a line of {bytes} bytes");
                bytes
            }
        };
    }
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(accounted + newlines, data.len() as u64, "bytes lost or invented by the framing");
    // A frame per newline, plus one for a last line without a newline.
    let unterminated = u64::from(data.last().is_some_and(|&b| b != b'\n'));
    assert_eq!(frames, newlines + unterminated, "frames");
}

/// One entry per line: `None` ends a read batch (an empty line, as the reader thread's batches
/// end when its buffer runs dry), `Some` is fed to `line()`.
///
/// The framing here is the transport's (`\n` ends a line and is not part of it) written out in
/// a few lines, until the transport's own framing can be called without a process.
fn split_lines(data: &[u8]) -> Vec<Option<&[u8]>> {
    let mut lines: Vec<Option<&[u8]>> =
        data.split(|&b| b == b'\n').map(|l| (!l.is_empty()).then_some(l)).collect();
    if data.last().is_none_or(|&b| b == b'\n') {
        lines.pop(); // no line after the final newline (nor in no data at all)
    }
    lines
}

/// What one line is, independently of the router: the reference the invariants compare with.
#[derive(Debug)]
enum Expect {
    /// Empty or white space: ignored, not counted.
    Blank,
    /// Not a JSON-RPC message: counted in `skipped_lines`.
    Skipped,
    /// A response to our request `id` (numeric ids only), with its raw result or an error
    /// (`rpc`: a JSON-RPC error object; else neither result nor error).
    Response {
        id: u64,
        result: Option<String>,
        rpc: bool,
    },
    /// A response that cannot be ours (non-numeric id).
    ForeignResponse,
    Notification,
    /// A server request with its raw id.
    Request {
        id: String,
        method: String,
    },
}

fn expect(line: &[u8]) -> Expect {
    let Ok(text) = std::str::from_utf8(line) else { return Expect::Skipped };
    // The key scanner is meant for validated JSON, but must not panic on anything.
    let scanned = keys::read(text);
    if text.trim().is_empty() {
        return Expect::Blank;
    }
    let value = serde_json::from_str::<Value>(text).ok();
    if let Some(v) = &value {
        // The whole line is valid JSON too: the scanner must agree with serde on it.
        assert_keys_agree(&scanned, v, text);
    }
    let message = match wire::parse_line(text) {
        Err(_) => return Expect::Skipped,
        Ok(m) => m,
    };
    // The envelope parse accepted the line: serde must agree on what it holds.
    if let Some(v) = &value {
        assert!(v.is_object(), "only an object is a message: {text}");
    }
    match message {
        Message::Response { id, outcome } => {
            if let Some(v) = &value {
                let id_value = &v["id"];
                match &id {
                    ResponseId::Number(n) => assert_eq!(id_value.as_u64(), Some(*n), "{text}"),
                    ResponseId::Foreign(raw) => {
                        let raw: Value = serde_json::from_str(raw).expect("a raw id is JSON");
                        assert_eq!(&raw, id_value, "{text}");
                    }
                }
                if let ResponseOutcome::Result(raw) = &outcome {
                    let raw: Value = serde_json::from_str(raw).expect("a raw result is JSON");
                    assert_eq!(&raw, v.get("result").unwrap_or(&Value::Null), "{text}");
                }
            }
            match (id, outcome) {
                (ResponseId::Number(id), ResponseOutcome::Result(r)) => {
                    Expect::Response { id, result: Some(r.to_owned()), rpc: false }
                }
                (ResponseId::Number(id), ResponseOutcome::Error(_)) => {
                    Expect::Response { id, result: None, rpc: true }
                }
                (ResponseId::Number(id), ResponseOutcome::Malformed(_)) => {
                    if let Some(v) = &value {
                        assert!(v.get("result").is_none() && v.get("error").is_none(), "{text}");
                    }
                    Expect::Response { id, result: None, rpc: false }
                }
                (ResponseId::Foreign(_), _) => Expect::ForeignResponse,
            }
        }
        Message::Notification(notice) | Message::ServerRequest { notice, .. } => {
            if let Some(v) = &value {
                assert_eq!(v["method"].as_str(), Some(&*notice.method), "{text}");
                let params: Value = serde_json::from_str(notice.params).expect("params are JSON");
                assert_eq!(&params, v.get("params").unwrap_or(&Value::Null), "{text}");
                let found = keys::Keys {
                    thread_id: notice.thread_id.clone(),
                    turn_id: notice.turn_id.clone(),
                    delta: notice.delta.clone(),
                    turn_status: notice.turn_status.clone(),
                };
                assert_keys_agree(&found, &params, notice.params);
            }
            // `"id": null` makes a server request nobody can answer by its id.
            let request_id = match wire::parse_line(text) {
                Ok(Message::ServerRequest { id, .. }) => Some(id.get().to_owned()),
                _ => None,
            };
            if let (Some(v), Some(id)) = (&value, &request_id) {
                let raw: Value = serde_json::from_str(id).expect("a raw id is JSON");
                assert_eq!(&raw, &v["id"], "{text}");
            }
            match request_id {
                Some(id) => Expect::Request { id, method: notice.method.into_owned() },
                None => Expect::Notification,
            }
        }
    }
}

/// The routing keys of `params` computed the slow way, from the parsed value (where a member
/// given twice has its last value, as in every JSON object serde builds).
pub fn keys_of(params: &Value) -> [Option<&str>; 4] {
    fn s(x: Option<&Value>) -> Option<&str> {
        x.and_then(Value::as_str)
    }
    [
        s(params.get("threadId")).or_else(|| s(params.get("thread").and_then(|t| t.get("id")))),
        s(params.get("turnId")).or_else(|| s(params.get("turn").and_then(|t| t.get("id")))),
        s(params.get("delta")),
        s(params.get("turn").and_then(|t| t.get("status"))),
    ]
}

fn assert_keys_agree(found: &keys::Keys<'_>, params: &Value, text: &str) {
    let found =
        [&found.thread_id, &found.turn_id, &found.delta, &found.turn_status].map(|k| k.as_deref());
    assert_eq!(found, keys_of(params), "the key scanner disagrees with serde_json on {text}");
}

/// Answers written back must be JSON-RPC answers that echo the request's id byte for byte.
/// The id is checked as text only: serde_json takes a raw id it would not decode (a lone
/// surrogate escape), and the answer must carry it as the server wrote it.
fn assert_answer(answer: &[u8], request_id: &str) {
    let text = std::str::from_utf8(answer).expect("an answer line is UTF-8");
    let prefix = format!("{{\"id\":{request_id},");
    let Some(rest) = text.strip_prefix(&prefix) else {
        panic!("answer {text} does not start with the request's id {request_id}")
    };
    let v: Value = serde_json::from_str(&format!("{{\"id\":0,{rest}"))
        .unwrap_or_else(|e| panic!("answer {text} is not JSON after its id: {e}"));
    assert!(
        v.get("result").is_some() != v.get("error").is_some() && v.as_object().unwrap().len() == 2,
        "an answer has an id and a result or an error: {text}"
    );
}

fn drain(queue: &TurnQueue) -> (Vec<Event>, Option<StreamEnd>) {
    let mut out = VecDeque::new();
    loop {
        match queue.take_all(&mut out, Wait::from_millis(0)) {
            Taken::Got(()) => {}
            Taken::Ended(end) => return (out.into(), Some(end)),
            Taken::TimedOut => return (out.into(), None),
        }
    }
}

fn run_once(lines: &[Option<&[u8]>], asked: bool) -> Summary {
    let rpc = Arc::new(Rpc::default());
    // Never full during one input: every event is still there when the checks count them.
    let router = Arc::new(Router::new(lines.len() + 1, 0));
    router.set_handler_on(asked);
    // Not started: no timer thread, and answers the program or a decline would send fail
    // quietly ("not started"), as they do after a client closed.
    let timeout = if asked { Duration::from_secs(3600) } else { Duration::ZERO };
    let pending = PendingRequests::new(timeout);
    let waiters: Vec<_> = (0..WAITERS).map(|_| rpc.expect_response("fuzz/request")).collect();

    let (confirmed, _) = router.begin_turn(CONFIRMED.0).unwrap();
    router.answered(CONFIRMED.0, &confirmed, CONFIRMED.1);
    let (adopting, _) = router.begin_turn(ADOPTING).unwrap();
    let (detached, _) = router.begin_turn(DETACHED.0).unwrap();
    router.answered(DETACHED.0, &detached, DETACHED.1);
    router.detach(DETACHED.0, &detached); // what dropping its `Turn` does

    let skipped = Arc::new(AtomicU64::new(0));
    let mut inbound = InboundRouter {
        rpc: rpc.clone(),
        pending: pending.clone(),
        router: router.clone(),
        skipped_lines: skipped.clone(),
        wakes: Default::default(),
    };

    let mut summary = Summary::default();
    let (mut skipped_expected, mut events_expected, mut requests) = (0u64, 0usize, 0usize);
    let mut first_response: HashMap<u64, (Option<String>, bool)> = HashMap::new();
    for line in lines {
        let Some(line) = line else {
            inbound.batch_end();
            continue;
        };
        let expected = expect(line);
        let answer = inbound.line(line);
        match &expected {
            // Declined at once with a null id, counted, never shown to the program.
            Expect::Request { id, method } if id == "null" => {
                skipped_expected += 1;
                let answer = answer.unwrap_or_else(|| panic!("{method} with a null id unanswered"));
                assert_answer(&answer, id);
            }
            Expect::Request { id, method } => {
                events_expected += 1;
                requests += 1;
                match &answer {
                    Some(a) if !asked => {
                        assert_answer(a, id);
                        summary.answers += 1;
                    }
                    None if asked => {}
                    other => panic!("request {method} (asked: {asked}) answered {other:?}"),
                }
            }
            other => {
                assert!(answer.is_none(), "only server requests are answered, not {other:?}");
                match other {
                    Expect::Skipped => skipped_expected += 1,
                    Expect::Notification => events_expected += 1,
                    Expect::Response { id, result, rpc } => {
                        // Only the first response to a request we wait for is taken.
                        let waited = *id < WAITERS && !first_response.contains_key(id);
                        first_response.entry(*id).or_insert_with(|| (result.clone(), *rpc));
                        skipped_expected += u64::from(!waited);
                    }
                    Expect::ForeignResponse => skipped_expected += 1,
                    _ => {}
                }
            }
        }
    }
    inbound.batch_end();
    summary.skipped = skipped.load(Ordering::Relaxed);
    assert_eq!(summary.skipped, skipped_expected, "skipped lines");

    // Each waiter got exactly the first response with its id, and nothing else.
    for (id, reply) in &waiters {
        let got = reply.try_recv();
        summary.responses += usize::from(got.is_ok());
        match (first_response.get(id), got) {
            (None, Err(_)) => {}
            (Some((Some(raw), _)), Ok(Ok(got))) => assert_eq!(&got, raw, "response {id}"),
            (Some((None, rpc)), Ok(Err(e))) => assert_eq!(e.rpc_code.is_some(), *rpc, "{e:?}"),
            (want, got) => panic!("waiter {id}: wanted {want:?}, got {got:?}"),
        }
        assert!(reply.try_recv().is_err(), "waiter {id} got two responses");
    }

    // Every event went to exactly one stream; turn streams hold only their own turn's events.
    let mut routed = 0;
    for (i, (thread, queue, turn)) in [
        (CONFIRMED.0, &confirmed, Some(CONFIRMED.1)),
        (ADOPTING, &adopting, None),
        (DETACHED.0, &detached, Some(DETACHED.1)),
    ]
    .into_iter()
    .enumerate()
    {
        let (events, end) = drain(queue);
        routed += events.len();
        summary.turn_events[i] = events.len();
        // Its own turn only: the id it adopted from its first event, and the answer's id
        // (which differ after a drift: router's opening comment).
        let turns: HashSet<_> = events.iter().map(|e| e.turn_id()).collect();
        let adopted = events.first().and_then(|e| e.turn_id());
        assert!(
            turns.iter().all(|t| *t == adopted || (turn.is_some() && *t == turn)),
            "{thread} (answered {turn:?}) holds events of {turns:?}"
        );
        assert!(events.iter().all(|e| e.thread_id() == Some(thread)), "{thread}: foreign events");
        // A server *request* named turn/completed is a request to answer, not the end.
        let completions = events.iter().filter(|e| e.kind() == EventKind::TurnCompleted).count();
        if !Arc::ptr_eq(queue, &detached) {
            // Ended exactly when its turn/completed arrived, which is its last event.
            assert_eq!(completions, usize::from(end.is_some()), "{thread}");
            if end.is_some() {
                assert_eq!(events.last().map(Event::kind), Some(EventKind::TurnCompleted));
            }
        } else {
            assert!(events.is_empty() && end.is_none(), "a freed turn's stream takes nothing");
        }
    }
    while let Taken::Got(_) = router.client_stream().take_one(Wait::from_millis(0)) {
        summary.client_stream_events += 1;
    }
    assert_eq!(router.client_stream().dropped(), 0);
    assert_eq!(routed + summary.client_stream_events, events_expected, "events routed");
    let mut copies = 0;
    while let Taken::Got(e) = router.request_handler().take_one(Wait::from_millis(0)) {
        assert!(e.request().is_some(), "a handler copy carries its request");
        copies += 1;
    }
    assert_eq!(copies, if asked { requests } else { 0 }, "copies for the request handler");

    // Open requests and the pending table point at each other: closing breaks the cycle.
    pending.fail_all("the fuzz input ended");
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every file of a folder, through the same entry point as the fuzzer.
    fn run_folder(folder: &Path) -> usize {
        let mut n = 0;
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} broke an invariant (see the panic above)", path.display());
            n += 1;
        }
        n
    }

    /// The crashes `make fuzz` found, kept so they stay fixed (see tests/fuzz_regressions/).
    #[test]
    fn fuzz_regressions_stay_fixed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
        assert!(run_folder(&dir) > 0);
    }

    /// The seed corpus (real wire shapes) passes the invariants too.
    #[test]
    fn seed_corpus_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/inbound");
        assert!(run_folder(&dir) >= 10);
    }

    #[test]
    fn lines_split_on_newline_and_empty_lines_end_batches() {
        assert_eq!(split_lines(b""), Vec::<Option<&[u8]>>::new());
        assert_eq!(split_lines(b"a\n\nb\r\n"), vec![Some(&b"a"[..]), None, Some(&b"b\r"[..])]);
        assert_eq!(split_lines(b"a"), vec![Some(&b"a"[..])]);
    }

    #[test]
    fn a_turn_stream_gets_its_turn_and_the_rest_goes_to_the_client_stream() {
        let [asked, never_asked] = run(concat!(
            r#"{"method":"turn/started","params":{"threadId":"thr_2","turn":{"id":"tX","status":"inProgress","items":[]}}}"#,
            "\n",
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"thr_2","turnId":"tY","delta":"x"}}"#,
            "\n",
            r#"{"id":1,"result":{"turn":{"id":"tX"}}}"#,
            "\n\n",
            r#"{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"thr_3","turnId":"turn_3"}}"#,
            "\n",
            r#"{"method":"turn/completed","params":{"threadId":"thr_2","turn":{"id":"tX","status":"completed"}}}"#,
            "\n",
            "not json\n",
            r#"{"id":1,"result":"late: its waiter already has one"}"#,
            "\n",
        )
        .as_bytes());
        let want = Summary {
            // thr_2 adopted tX (started, completed); tY and the freed thr_3's request did not
            // go to a turn stream.
            turn_events: [0, 2, 0],
            client_stream_events: 2,
            answers: 0,
            // "not json", and the second response to id 1 (its waiter already has one).
            skipped: 2,
            responses: 1,
        };
        assert_eq!(asked, want);
        assert_eq!(never_asked, Summary { answers: 1, ..want });
    }
}
