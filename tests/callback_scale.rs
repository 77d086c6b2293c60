//! 2,000 turns with callbacks at once on one client: every event reaches its own callback in
//! order, and the process stays under 20 threads (callbacks run on a small pool of workers,
//! not a thread per turn). One test in its own binary, so only its threads are counted.
//! Linux only: it counts threads through /proc.
#![cfg(target_os = "linux")]

use codex_app_server::core::routing::dispatch::Callback;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::EventKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod fake;

const TURNS: usize = 2000;
const DELTAS: usize = 20;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn two_thousand_callback_turns_at_once_on_a_few_threads() {
    // The fake starts writing once every turn has started: all of them are live together,
    // their deltas interleaved on the wire.
    let (turns_env, deltas_env) = (TURNS.to_string(), DELTAS.to_string());
    let client =
        fake::client("flood", &[("FAKE_TURNS", &turns_env), ("FAKE_DELTAS", &deltas_env)], |_| {});
    let most_threads = Arc::new(AtomicUsize::new(threads()));
    let mut turns = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..TURNS {
        let (thread, _) = client.thread_start(None).unwrap();
        let deltas = Arc::new(Mutex::new(Vec::new()));
        let (sink, most) = (deltas.clone(), most_threads.clone());
        let callback: Callback = Box::new(move |event| {
            if event.kind() == EventKind::AgentMessageDelta {
                sink.lock().unwrap().push(event.delta().unwrap().to_owned());
                most.fetch_max(threads(), Ordering::Relaxed);
            }
        });
        turns.push(client.turn_start(&thread, "flood", None, Some(callback)).unwrap());
        seen.push(deltas);
    }
    for (turn, deltas) in turns.iter().zip(&seen) {
        let outcome = turn.run(|| Wait::from_millis(120_000)).unwrap();
        assert_eq!(outcome.status, "completed");
        let want: Vec<String> = (0..DELTAS).map(|i| format!("tok{i:06} ")).collect();
        assert_eq!(*deltas.lock().unwrap(), want, "turn {}", turn.id());
    }
    let most = most_threads.load(Ordering::Relaxed);
    assert!(most < 20, "{most} threads for {TURNS} callback turns");
    println!("{TURNS} callback turns, {} deltas each: at most {most} threads", DELTAS);
}
