//! Awkward-but-legal use of the core, against the scripted fake (issue 24): a poll beside a
//! blocked waiter, a callback replaced mid-batch, two callbacks freeing each other's turns.
//! Nothing races the clock: turns are held by the fake (`hold-after:N`) and callbacks meet at
//! barriers; `SAFETY` bounds waits only so that a broken library fails instead of hanging.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{ErrorKind, Turn};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

mod fake;

const SAFETY: Duration = Duration::from_secs(60);

fn safely() -> Wait {
    Wait::Until(Instant::now() + SAFETY)
}

#[test]
fn a_poll_returns_at_once_while_another_thread_waits_on_the_turn() {
    // The hold timeout is the fake's own safety net: a library whose poll blocks behind the
    // waiter gets its answer only when the turn goes on, and fails below instead of hanging.
    let client =
        fake::client("normal", &[("FAKE_DELTAS", "2"), ("FAKE_HOLD_TIMEOUT_S", "20")], |_| {});
    let (thread, _) = client.thread_start(None).unwrap();
    let turn = client.turn_start(&thread, "poll hold-after:1", None, None).unwrap();
    // Everything before the hold, up to its one delta.
    while !matches!(turn.next_event(safely()), Ok(Next::Event(e)) if e.delta().is_some()) {}
    let (entering, entered) = mpsc::channel();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            entering.send(()).unwrap();
            turn.next_event(safely())
        });
        entered.recv().unwrap();
        for i in 0..1000 {
            let err = match turn.next_event(Wait::from_millis(0)) {
                Err(err) => err,
                Ok(_) => panic!("poll {i}: an event of a held turn (the poll waited for it)"),
            };
            assert_eq!(err.kind, ErrorKind::Timeout, "poll {i}: {}", err.message);
        }
        client.request("test/release", None, Timeout::Default).unwrap();
        assert!(matches!(waiter.join().unwrap(), Ok(Next::Event(_))));
    });
}

#[test]
fn a_callback_replaced_mid_batch_hands_the_rest_to_the_new_one() {
    let client =
        Arc::new(fake::client("normal", &[("FAKE_DELTAS", "1"), ("FAKE_DELAY_MS", "0")], |_| {}));
    // Ten turns run to their end: each leaves a thread/status/changed on the client stream.
    for _ in 0..10 {
        let (thread, _) = client.thread_start(None).unwrap();
        let turn = client.turn_start(&thread, "hi", None, None).unwrap();
        while let Next::Event(_) = turn.next_event(safely()).unwrap() {}
    }
    let queued = {
        let mut n = 0;
        while let Ok(e) = client.next_event(Wait::from_millis(0)) {
            n += usize::from(e.method() == "thread/status/changed");
        }
        n
    };
    assert!(queued >= 10, "{queued} status events");
    // Again, now kept for the callbacks.
    for _ in 0..10 {
        let (thread, _) = client.thread_start(None).unwrap();
        let turn = client.turn_start(&thread, "hi", None, None).unwrap();
        while let Next::Event(_) = turn.next_event(safely()).unwrap() {}
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let (done, all_seen) = mpsc::channel();
    let new_callback = {
        let seen = seen.clone();
        Box::new(move |e: codex_app_server::core::Event| {
            if e.method() == "thread/status/changed"
                && seen.fetch_add(1, Ordering::SeqCst) + 1 == queued
            {
                done.send(()).unwrap();
            }
        })
    };
    let replacement = Mutex::new(Some(new_callback));
    let old = {
        let (client, seen) = (Arc::downgrade(&client), seen.clone());
        Box::new(move |e: codex_app_server::core::Event| {
            seen.fetch_add(usize::from(e.method() == "thread/status/changed"), Ordering::SeqCst);
            // The first call replaces its own callback: the rest of the batch it was handed
            // must reach the new one.
            if let (Some(new), Some(client)) =
                (replacement.lock().unwrap().take(), client.upgrade())
            {
                client.set_event_callback(Some(new)).unwrap();
            }
        })
    };
    client.set_event_callback(Some(old)).unwrap();
    all_seen.recv_timeout(SAFETY).expect("every status event reached one callback or the other");
    assert_eq!(client.dropped_events(), 0);
}

/// Sends once when dropped: the program's userdata_free.
struct Released(mpsc::Sender<usize>, usize);
impl Drop for Released {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

#[test]
fn two_callbacks_that_free_each_others_turns_do_not_deadlock() {
    let client = fake::client("normal", &[("FAKE_DELTAS", "3")], |o| o.callback_threads = 2);
    let slots: Arc<[Mutex<Option<Turn>>; 2]> = Arc::new([Mutex::new(None), Mutex::new(None)]);
    let started = Arc::new(Barrier::new(3)); // main (slots filled) and both callbacks
    let both_inside = Arc::new(Barrier::new(2));
    let (released, releases) = mpsc::channel();
    let callback = |me: usize| {
        let (slots, started, both_inside) = (slots.clone(), started.clone(), both_inside.clone());
        let guard = Released(released.clone(), me);
        let mut acted = false;
        Box::new(move |e: codex_app_server::core::Event| {
            let _ = &guard;
            if acted || e.delta().is_none() {
                return;
            }
            acted = true;
            started.wait();
            both_inside.wait(); // both calls run now: each free meets the other's running call
            drop(slots[1 - me].lock().unwrap().take());
        }) as codex_app_server::core::routing::dispatch::Callback
    };
    for me in 0..2 {
        let (thread, _) = client.thread_start(None).unwrap();
        let turn = client.turn_start(&thread, "hi hold-after:1", None, Some(callback(me))).unwrap();
        *slots[me].lock().unwrap() = Some(turn);
    }
    started.wait();
    let mut got: Vec<usize> =
        (0..2).map(|_| releases.recv_timeout(SAFETY).expect("each userdata_free runs")).collect();
    got.sort();
    assert_eq!(got, [0, 1]);
    assert!(releases.recv_timeout(Duration::from_millis(0)).is_err(), "and only once");
    client.close();
}

/// A turn whose end the program read without taking it from the ready list (a blocking read
/// reached the end after its completion marked the turn) is not reported ready again: the
/// report is stale, and a loop would read the end twice.
#[cfg(unix)] // the event descriptor: not on Windows yet
#[test]
fn a_turn_read_to_its_end_is_not_reported_ready_again() {
    const TURN: usize = 8;
    let client = fake::client("normal", &[("FAKE_DELTAS", "4")], |_| {});
    client.event_fd().unwrap();
    let (thread, _) = client.thread_start(None).unwrap();
    // Held by the fake after 2 deltas until test/release.
    let mut turn = client.turn_start(&thread, "hi hold-after:2", None, None).unwrap();
    turn.report_ready_as(TURN);
    for _ in 0..2 {
        assert!(matches!(turn.next_event(safely()).unwrap(), Next::Event(_)));
    }
    let params = format!(r#"{{"turnId":"{}"}}"#, turn.id());
    client.request("test/release", Some(&params), Timeout::Default).unwrap();
    // Read to the end with a blocking wait; the rest of the turn marked it ready meanwhile.
    while let Next::Event(_) = turn.next_event(safely()).unwrap() {}
    while let Some(tag) = client.next_ready().unwrap() {
        assert_ne!(tag, TURN, "a turn read to its end was reported ready again");
    }
    // Reading it again still says it ended.
    assert!(matches!(turn.next_event(Wait::After(Duration::ZERO)).unwrap(), Next::End));
}
