//! A short soak in the suite (the long one is `make bench-soak`): 500 turns on one client, half
//! polled and half with a callback. Open file descriptors and threads of the process must come
//! back to where they were; the route table must be empty. One test in its own binary, so no
//! other test's threads or pipes are counted.
//! Linux only: it counts through /proc.
#![cfg(target_os = "linux")]

use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, Options};
use std::time::{Duration, Instant};

mod fake;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn fds() -> usize {
    count("/proc/self/fd")
}

fn threads() -> usize {
    count("/proc/self/task")
}

/// Waits, with a generous bound, for `f` to reach `want`: threads end a moment after they are
/// told to, and this test must not depend on how long a moment is.
fn settles_to(what: &str, f: impl Fn() -> usize, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while f() != want {
        assert!(Instant::now() < deadline, "{what}: {} instead of {want}", f());
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn pidfds_work() -> bool {
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, std::process::id() as libc::pid_t, 0) };
    if fd >= 0 {
        unsafe { libc::close(fd as i32) };
    }
    fd >= 0
}

#[test]
fn five_hundred_turns_leave_no_threads_fds_or_routes_behind() {
    let options = Options { callback_threads: 2, ..fake::options("early", &[]) };
    // A first client starts the process-wide threads (the timer, and where pidfds work the
    // child watcher), a fixed cost that is not the subject here. Its own threads end once its
    // server has exited, which close does not wait for.
    let (fds_at_first, threads_at_first) = (fds(), threads());
    Client::start(&options).unwrap().close();
    let shared = 1 + usize::from(pidfds_work());
    settles_to("threads after a first client", threads, threads_at_first + shared);
    settles_to("file descriptors after a first client", fds, fds_at_first + shared - 1);
    let (fds_before, threads_before) = (fds(), threads());
    let client = Client::start(&options).unwrap();
    let (thread, _) = client.thread_start(None).unwrap();
    let (fds_started, threads_started) = (fds(), threads());
    // A client costs its reader and writer threads: the timer and the child watcher are
    // shared by the process (where the kernel has pidfds; else the child gets two more).
    if pidfds_work() {
        assert_eq!(threads_started - threads_before, 2, "threads of one client");
    }
    for i in 0..500 {
        let callback = (i % 2 == 1)
            .then(|| Box::new(|_event| {}) as codex_app_server::core::routing::dispatch::Callback);
        let turn = client.turn_start(&thread, "soak", None, callback).unwrap();
        let outcome = turn.run(|| Wait::from_millis(30_000)).unwrap();
        assert_eq!(outcome.status, "completed");
    }
    assert_eq!(client.active_turns(), 0);
    assert_eq!(fds(), fds_started, "file descriptors after 500 turns");
    // Plus the client's two callback workers, started by its first callback turn.
    settles_to("threads after 500 turns", threads, threads_started + 2);
    client.close();
    drop(client);
    settles_to("file descriptors after close", fds, fds_before);
    settles_to("threads after close", threads, threads_before);
}
