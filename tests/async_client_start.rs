//! A client start that returns at once (issue 23, item 3), against the scripted fake: held in
//! `initialize` (`FAKE_HOLD_INITIALIZE`: the fake writes its pid into the file when the hold
//! begins and answers once the test removes it), the start is surely not over; releasing it
//! completes the start through the descriptor, the callback and a wait; freeing a held start
//! cancels it (the child is killed). Waits are bounded loops on a condition, never sleeps that
//! order things.
#![cfg(unix)]

use codex_app_server::core::client::starting::Starting;
use codex_app_server::core::client::Timeout;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{ErrorKind, Options};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod fake;

const SAFETY: Duration = Duration::from_secs(60);

/// The error kind of a take that must fail.
fn kind_of(
    taken: codex_app_server::core::error::Result<codex_app_server::core::Client>,
) -> ErrorKind {
    match taken {
        Ok(_) => panic!("the take succeeded"),
        Err(err) => err.kind,
    }
}

fn readable(fd: std::ffi::c_int, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    unsafe { libc::poll(&mut p, 1, timeout_ms) == 1 }
}

/// Options of a fake held in `initialize` by a fresh file, and that file.
fn held(name: &str) -> (Options, PathBuf) {
    let path =
        std::env::temp_dir().join(format!("codex-async-start-{}-{name}", std::process::id()));
    std::fs::write(&path, "").unwrap();
    let hold = path.to_str().unwrap().to_owned();
    let options = fake::options("normal", &[("FAKE_HOLD_INITIALIZE", &hold)]);
    (options, path)
}

/// The pid the holding fake wrote, once it holds.
fn holder(path: &PathBuf) -> i32 {
    let deadline = Instant::now() + SAFETY;
    loop {
        if let Some(pid) = std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok()) {
            return pid;
        }
        assert!(Instant::now() < deadline, "the fake never held initialize");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_start_returns_at_once_and_completes_through_descriptor_callback_and_wait() {
    let (options, path) = held("done");
    let starting = Starting::begin(&options).unwrap();
    let fd = starting.fd().unwrap();
    holder(&path);
    assert!(!starting.is_done());
    assert!(!readable(fd, 0), "readable before initialize was answered");
    assert_eq!(starting.wait(Wait::After(Duration::ZERO)).unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(kind_of(starting.take()), ErrorKind::InvalidArgument);
    let (tx, rx) = crossbeam_channel::bounded(1);
    starting.on_complete(Box::new(move || tx.send(()).unwrap())).unwrap();
    std::fs::remove_file(&path).unwrap(); // the fake answers now
    assert!(readable(fd, SAFETY.as_millis() as i32));
    rx.recv_timeout(SAFETY).expect("the callback ran");
    starting.wait(Wait::After(SAFETY)).unwrap();
    let client = starting.take().unwrap();
    assert_eq!(kind_of(starting.take()), ErrorKind::InvalidArgument, "taken once");
    assert!(readable(fd, 0), "it stays readable");
    assert_eq!(client.request("test/echo", Some("[1]"), Timeout::Default).unwrap(), "[1]");
    drop(starting); // the client taken is the program's
    assert_eq!(client.request("test/echo", Some("[2]"), Timeout::Default).unwrap(), "[2]");
}

#[test]
fn freeing_a_start_under_way_cancels_it() {
    let (mut options, path) = held("cancel");
    options.start_timeout = Duration::from_secs(3600);
    let starting = Starting::begin(&options).unwrap();
    let pid = holder(&path);
    drop(starting);
    // The child is killed: it is gone (reaped by the library) within the bound.
    let deadline = Instant::now() + SAFETY;
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(Instant::now() < deadline, "the held fake was not stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_failed_start_reports_its_error_every_time() {
    let mut options = Options::default();
    options.transport.codex_bin = Some(PathBuf::from("/nonexistent/codex-async-start"));
    let starting = Starting::begin(&options).unwrap();
    starting.wait(Wait::After(SAFETY)).unwrap();
    assert_eq!(kind_of(starting.take()), ErrorKind::Spawn);
    assert_eq!(kind_of(starting.take()), ErrorKind::Spawn);
    // A callback given after the end runs at once.
    let (tx, rx) = crossbeam_channel::bounded(1);
    starting.on_complete(Box::new(move || tx.send(()).unwrap())).unwrap();
    rx.try_recv().expect("ran at once");
}
