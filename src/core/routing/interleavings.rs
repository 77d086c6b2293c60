//! Property test of the adoption rule (router's opening comment): random interleavings, over a
//! few threads, of turn starts, their answers (right, drifted, failed, never coming), their
//! events, late tails of turns that ended, turns a failed start left running (which end before
//! the next start is answered, or which the next start is steered into), and ghost
//! completions, fed as lines through the
//! reader's entry (`InboundRouter`) with real waiters and the client's answer hook. After each
//! turn: its handle got exactly its turn's events, in order, and ended once; the thread takes
//! the next turn; at the end nothing is active and the table is within its bound.

use super::event::Event;
use super::inbound::InboundRouter;
use super::queue::{StreamEnd, Taken, Wait};
use super::requests::PendingRequests;
use super::router::{Router, TurnIds, TurnQueue};
use super::rpc::Rpc;
use crate::core::transport::Inbound;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// xorshift64*: the interleaving drawn from one seed (proptest picks and shrinks the seed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Right,
    /// Answered with an id no event carries (openai/codex#36866).
    Drifted,
    Error,
    NumericId,
    /// Never: the caller's wait times out.
    Never,
    /// Steered into the turn a failed start left running, answered with an id no event carries.
    Steered,
}

/// A line for the reader; the failed answer (`None`: the caller's wait times out), after
/// which the rest of the turn comes late.
enum Step {
    Line(String),
    Fail(Option<String>),
}

struct Start {
    turn: String,
    answer: Answer,
    queue: Arc<TurnQueue>,
    ids: Arc<TurnIds>,
    rpc_id: u64,
    reply: crossbeam_channel::Receiver<crate::core::error::Result<String>>,
    steps: VecDeque<Step>,
    /// The lines of its turn the handle must get, in order.
    expected: Vec<String>,
    /// After a failed start: the rest of its turn, sent late.
    tail: Vec<String>,
}

#[derive(Default)]
struct ThreadPlan {
    name: String,
    turns_left: usize,
    current: Option<Start>,
    /// Lines of turns that ended (late tails), sent at random moments later.
    late: VecDeque<String>,
    /// The turn a failed start left running, and the rest of its lines (its completion last):
    /// sent before the next start's answer, or the next start is steered into it.
    running: Option<(String, VecDeque<String>)>,
}

fn started(thread: &str, turn: &str) -> String {
    format!(
        r#"{{"method":"turn/started","params":{{"threadId":"{thread}","turn":{{"id":"{turn}"}}}}}}"#
    )
}
fn item(thread: &str, turn: &str) -> String {
    format!(r#"{{"method":"item/started","params":{{"threadId":"{thread}","turnId":"{turn}"}}}}"#)
}
fn delta(thread: &str, turn: &str, i: usize) -> String {
    format!(
        r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"{thread}","turnId":"{turn}","delta":"{i}"}}}}"#
    )
}
fn completed(thread: &str, turn: &str) -> String {
    format!(
        r#"{{"method":"turn/completed","params":{{"threadId":"{thread}","turn":{{"id":"{turn}","status":"completed"}}}}}}"#
    )
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

/// Runs one interleaving; returns the number of turns started.
fn run(seed: u64, threads: usize, turns: usize) -> usize {
    let mut rng = Rng(seed | 1);
    let rpc = Arc::new(Rpc::default());
    let router = Arc::new(Router::new(1 << 20, 0));
    let pending = PendingRequests::new(Duration::from_secs(3600));
    let mut inbound = InboundRouter {
        rpc: rpc.clone(),
        pending: pending.clone(),
        router: router.clone(),
        skipped_lines: Arc::new(AtomicU64::new(0)),
        wakes: Default::default(),
    };
    let mut plans: Vec<ThreadPlan> = (0..threads)
        .map(|t| ThreadPlan { name: format!("thr{t}"), turns_left: turns, ..Default::default() })
        .collect();
    let (mut started_turns, mut ghosts) = (0, 0);
    loop {
        let busy: Vec<usize> = (0..threads)
            .filter(|&t| plans[t].current.is_some() || plans[t].turns_left > 0)
            .collect();
        let Some(&t) = busy.get(rng.below(busy.len())) else { break };
        let plan = &mut plans[t];
        let thread = plan.name.clone();
        // Noise on the thread: a late tail line, or a ghost's completion.
        if rng.one_in(4) {
            if plan.current.is_none() {
                if let Some((_, lines)) = plan.running.as_mut() {
                    inbound.line(lines.pop_front().unwrap().as_bytes());
                    if lines.is_empty() {
                        plan.running = None;
                    }
                    continue;
                }
            }
            let line = match plan.late.pop_front() {
                Some(line) if rng.one_in(2) => line,
                other => {
                    plan.late.extend(other);
                    ghosts += 1;
                    completed(&thread, &format!("ghost{ghosts}"))
                }
            };
            inbound.line(line.as_bytes());
            continue;
        }
        let Some(start) = plan.current.as_mut() else {
            // The thread takes its next turn: the last one has ended.
            plan.turns_left -= 1;
            started_turns += 1;
            let (queue, ids) = router.begin_turn(&thread).expect("the thread is free");
            let hook = router.start_answer_hook(&thread, &queue);
            let (rpc_id, reply) = rpc.expect_response_then("turn/start", hook);
            let mut turn = format!("{thread}.{started_turns}");
            let mut answer =
                [Answer::Right, Answer::Drifted, Answer::Error, Answer::NumericId, Answer::Never]
                    [rng.below(5)];
            let mut steps: VecDeque<Step> = VecDeque::new();
            let (expected, tail);
            match plan.running.take() {
                Some((running, mut lines)) if rng.one_in(2) => {
                    // The server steers this start into the running turn: what comes before
                    // the answer is a late tail for all the handle knows; the rest is its.
                    let before = rng.below(lines.len());
                    steps.extend(lines.drain(..before).map(Step::Line));
                    let answer_line =
                        format!(r#"{{"id":{rpc_id},"result":{{"turn":{{"id":"sub-{turn}"}}}}}}"#);
                    steps.push_back(Step::Line(answer_line));
                    steps.extend(lines.iter().cloned().map(Step::Line));
                    (answer, turn) = (Answer::Steered, running);
                    (expected, tail) = (lines.into(), Vec::new());
                    let start =
                        Start { turn, answer, queue, ids, rpc_id, reply, steps, expected, tail };
                    plan.current = Some(start);
                    continue;
                }
                // The running turn ends before this one starts.
                Some((_, lines)) => steps.extend(lines.into_iter().map(Step::Line)),
                None => {}
            }
            let mut events = vec![started(&thread, &turn)];
            // A drifted start joins a turn that may have begun before: its turn/started is
            // then not among what follows.
            if answer == Answer::Drifted && rng.one_in(2) {
                events.clear();
            }
            events.push(item(&thread, &turn));
            events.extend((0..rng.below(4)).map(|i| delta(&thread, &turn, i)));
            events.push(completed(&thread, &turn));
            let answer_line = match answer {
                Answer::Right => {
                    format!(r#"{{"id":{rpc_id},"result":{{"turn":{{"id":"{turn}"}}}}}}"#)
                }
                Answer::Drifted => {
                    format!(r#"{{"id":{rpc_id},"result":{{"turn":{{"id":"sub-{turn}"}}}}}}"#)
                }
                Answer::Error => {
                    format!(r#"{{"id":{rpc_id},"error":{{"code":-32600,"message":"no"}}}}"#)
                }
                Answer::NumericId => format!(r#"{{"id":{rpc_id},"result":{{"turn":{{"id":7}}}}}}"#),
                Answer::Never => String::new(),
                Answer::Steered => unreachable!("steered starts are made above"),
            };
            let first = steps.len();
            if matches!(answer, Answer::Right | Answer::Drifted) {
                steps.extend(events.iter().cloned().map(Step::Line));
                steps.insert(first + rng.below(events.len() + 1), Step::Line(answer_line));
                (expected, tail) = (events, Vec::new());
            } else {
                // Fails after its turn/started and some events; the turn goes on running.
                let seen = 1 + rng.below(events.len() - 1);
                steps.extend(events[..seen].iter().cloned().map(Step::Line));
                steps.push_back(Step::Fail((answer != Answer::Never).then_some(answer_line)));
                (expected, tail) = (Vec::new(), events[seen..].to_vec());
            }
            let start = Start { turn, answer, queue, ids, rpc_id, reply, steps, expected, tail };
            plan.current = Some(start);
            continue;
        };
        match start.steps.pop_front() {
            Some(Step::Line(line)) => {
                inbound.line(line.as_bytes());
            }
            Some(Step::Fail(Some(line))) => {
                inbound.line(line.as_bytes());
                plan.running = Some((start.turn.clone(), start.tail.drain(..).collect()));
            }
            Some(Step::Fail(None)) => {
                // What `turn_start` does when its wait times out.
                assert!(rpc.give_up(start.rpc_id));
                router.abandon_turn(&thread, &start.queue);
                plan.running = Some((start.turn.clone(), start.tail.drain(..).collect()));
            }
            None => {
                let start = plan.current.take().unwrap();
                check_turn(&start, &thread);
                // Its lines may still come late (a duplicate completion, say); a failed
                // start's turn is still running (`running`).
                let ended =
                    matches!(start.answer, Answer::Right | Answer::Drifted | Answer::Steered);
                if ended && rng.one_in(2) {
                    plan.late.push_back(completed(&thread, &start.turn));
                }
            }
        }
        if rng.one_in(3) {
            inbound.batch_end();
        }
    }
    // The late tails that are left, then: nothing is active, the table is within its bound.
    for plan in &mut plans {
        for line in plan.running.take().into_iter().flat_map(|(_, lines)| lines) {
            inbound.line(line.as_bytes());
        }
        for line in plan.late.drain(..) {
            inbound.line(line.as_bytes());
        }
    }
    inbound.batch_end();
    assert_eq!(router.active_turns(), 0);
    assert!(router.threads_held() <= threads);
    // Everything else went to the client stream: late tails, ghosts, abandoned buffers.
    while let Taken::Got(e) = router.client_stream().take_one(Wait::from_millis(0)) {
        let turn = e.turn_id().unwrap_or_default();
        assert!(turn.starts_with("ghost") || turn.contains('.'), "{turn}");
    }
    pending.fail_all("done");
    started_turns
}

fn check_turn(start: &Start, thread: &str) {
    let (events, end) = drain(&start.queue);
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let params = e.params();
            match e.method() {
                "turn/started" => started(thread, e.turn_id().unwrap()),
                "item/started" => item(thread, e.turn_id().unwrap()),
                "turn/completed" => completed(thread, e.turn_id().unwrap()),
                _ => {
                    let i: usize = e.delta().unwrap().parse().unwrap();
                    assert!(params.contains(&format!(r#""delta":"{i}""#)));
                    delta(thread, e.turn_id().unwrap(), i)
                }
            }
        })
        .collect();
    let answered = start.reply.try_recv();
    match start.answer {
        Answer::Right | Answer::Drifted | Answer::Steered => {
            assert_eq!(lines, start.expected, "{}: {:?}", start.turn, start.answer);
            assert!(matches!(end, Some(StreamEnd::Completed)), "{}: ended once", start.turn);
            assert!(answered.unwrap().is_ok());
            assert_eq!(start.ids.current(), start.turn, "the handle reports the events' id");
        }
        // The caller got the failure; the handle never existed for the program.
        Answer::Error => assert!(answered.unwrap().is_err()),
        Answer::NumericId => {
            let result = answered.unwrap().unwrap();
            assert!(crate::core::protocol::params::turn_id_of(&result).is_err());
        }
        Answer::Never => assert!(answered.is_err()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_handle_gets_its_own_turn_and_ends_once(seed: u64, threads in 1usize..4, turns in 1usize..6) {
        prop_assert!(run(seed, threads, turns) == threads * turns);
    }
}
