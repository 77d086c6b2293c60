//! The pool against scripted fake app-servers: placement on the least busy member, a member
//! that dies failing only its own turns, its restart in the background, and threads of a dead
//! member refused rather than moved.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{ErrorKind, EventKind, Options, Pool};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod fake;

/// A fake member; thread ids carry a prefix of its own, as the real server's are unique.
fn fake(scenario: &str) -> Options {
    static MEMBERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MEMBERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    fake::options(scenario, &[("FAKE_THREAD_PREFIX", &format!("m{n}_thr_"))])
}

/// Waits for a condition the pool reaches by itself, with a generous bound.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn new_threads_go_to_the_member_with_the_fewest_active_turns() {
    let pool = Pool::start(vec![fake("silent"), fake("silent"), fake("silent")]).unwrap();
    assert_eq!(pool.member_count(), 3);
    // Each thread gets a turn that stays active (the silent fake never completes it), so each
    // new thread must land on a member without one.
    let mut turns = Vec::new();
    let mut members = Vec::new();
    for _ in 0..3 {
        let (thread, _) = pool.thread_start(None).unwrap();
        let (member, _) = pool.client_for_thread(&thread).unwrap();
        members.push(member);
        turns.push(pool.turn_start(&thread, "stay", None, None).unwrap());
    }
    members.sort();
    assert_eq!(members, [0, 1, 2]);
    for i in 0..3 {
        assert_eq!(pool.member_status(i).unwrap().active_turns, 1);
    }
    // Unknown threads are refused, not guessed.
    let err = pool.turn_start("thr_unknown", "x", None, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
}

#[test]
fn a_dead_member_fails_only_its_turns_restarts_and_takes_new_threads_again() {
    // Member 0 streams normally; member 1 crashes as soon as a turn starts on it.
    let pool = Pool::start(vec![fake("normal"), fake("crash")]).unwrap();
    let (healthy_thread, _) = pool.thread_start(None).unwrap();
    let (doomed_thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&healthy_thread).unwrap().0, 0);
    assert_eq!(pool.client_for_thread(&doomed_thread).unwrap().0, 1);

    let doomed = pool.turn_start(&doomed_thread, "crash", None, None).unwrap();
    let err = loop {
        match doomed.next_event(Wait::from_millis(30_000)) {
            Ok(Next::Event(_)) => continue,
            Ok(Next::End) => panic!("the crashed member's turn completed"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("exit status 3"), "{}", err.message);

    // The other member is untouched.
    let fine = pool.turn_start(&healthy_thread, "fine", None, None).unwrap();
    let outcome = fine.run(|| Wait::from_millis(30_000)).unwrap();
    assert_eq!(outcome.status, "completed");

    // The dead member's thread is not moved: its turns are refused with the reason.
    let err = pool.turn_start(&doomed_thread, "again", None, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("pool member 1"), "{}", err.message);

    // The supervisor restarts it; then it takes new threads again.
    eventually("member 1 back", || pool.member_status(1).unwrap().healthy);
    let status = pool.member_status(1).unwrap();
    assert!(status.last_error.unwrap().message.contains("exit status 3"));
    let err = pool.turn_start(&doomed_thread, "again", None, None).unwrap_err();
    assert!(err.message.contains("restarted") || err.message.contains("exit status 3"));
    let (thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&thread).unwrap().0, 1, "fewest threads placed");
    pool.close();
    assert!(pool.thread_start(None).is_err());
}

#[test]
fn a_pool_starts_when_one_member_cannot_and_retries_it() {
    let mut broken = fake("normal");
    broken.transport.codex_bin = Some(PathBuf::from("/nonexistent/codex"));
    let pool = Pool::start(vec![broken.clone(), fake("normal")]).unwrap();
    assert!(!pool.member_status(0).unwrap().healthy);
    assert!(pool.member_status(0).unwrap().last_error.unwrap().message.contains("/nonexistent"));
    let (thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&thread).unwrap().0, 1);
    let turn = pool.turn_start(&thread, "hi", None, None).unwrap();
    let first = turn.next_event(Wait::from_millis(30_000)).unwrap();
    assert!(matches!(first, Next::Event(e) if e.kind() == EventKind::TurnStarted));
    // No member at all: the error names each.
    let err = Pool::start(vec![broken.clone(), broken]).err().unwrap();
    assert!(
        err.message.contains("member 0") && err.message.contains("member 1"),
        "{}",
        err.message
    );
    assert!(Pool::start(vec![]).is_err());
}
