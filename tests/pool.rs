//! The pool against scripted fake app-servers: placement on the least busy member, a member
//! that dies failing only its own turns, its restart in the background, threads of a dead
//! member refused rather than moved, and members that hang in their start (a fake that does
//! not answer `initialize`, a WebSocket server that never upgrades, a connect that never
//! completes) holding up no other member, nor the pool's start, nor its close. A hung start is
//! held until the test releases it (or forever: its timeouts are an hour), so a start or close
//! that returns at all did not wait for it; durations are printed, never asserted.

use codex_app_server::core::client::turn::Next;
use codex_app_server::core::options::Endpoint;
use codex_app_server::core::routing::queue::Wait;
use codex_app_server::core::{Client, ErrorKind, EventKind, Options, Pool};
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::mpsc;
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

/// Pool start returns once one member is up; the others come up in the background.
fn all_up(pool: &Pool) {
    eventually("every member up", || {
        (0..pool.member_count()).all(|i| pool.member_status(i).unwrap().healthy)
    });
}

#[test]
fn new_threads_go_to_the_member_with_the_fewest_active_turns() {
    let pool = Pool::start(vec![fake("silent"), fake("silent"), fake("silent")]).unwrap();
    all_up(&pool);
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
    all_up(&pool);
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
    let last_error = || pool.member_status(0).unwrap().last_error.map(|e| e.message);
    eventually("member 0's failed start", || last_error().is_some());
    assert!(last_error().unwrap().contains("/nonexistent"), "{:?}", last_error());
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

/// Long enough that only the test (a release, a close) ends a held start, never a timeout.
const NEVER: Duration = Duration::from_secs(3600);

/// The file that holds `initialize` in the fakes given it (`FAKE_HOLD_INITIALIZE`): while it
/// exists they do not answer; the holding fake writes its pid into it.
struct InitHold {
    path: PathBuf,
}

impl InitHold {
    /// Not holding yet: `arm` starts holding the next `initialize`.
    fn new() -> InitHold {
        static HOLDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = HOLDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("codex-pool-test-{}-{n}.hold", std::process::id());
        InitHold { path: std::env::temp_dir().join(name) }
    }

    fn armed() -> InitHold {
        let hold = InitHold::new();
        hold.arm();
        hold
    }

    fn arm(&self) {
        std::fs::write(&self.path, "").unwrap();
    }

    /// A fake member held by this file; its start never times out by itself.
    fn member(&self, scenario: &str) -> Options {
        let mut options = fake(scenario);
        let path = self.path.to_str().unwrap().to_owned();
        options.transport.env.push(("FAKE_HOLD_INITIALIZE".into(), Some(path)));
        options.start_timeout = NEVER;
        options
    }

    /// The pid of the fake held in `initialize`, once one is.
    fn holder(&self) -> u32 {
        let pid = || std::fs::read_to_string(&self.path).ok().and_then(|t| t.parse().ok());
        eventually("a fake holding initialize", || pid().is_some());
        pid().unwrap()
    }

    fn still_held(&self) -> bool {
        self.path.exists()
    }

    fn release(&self) {
        std::fs::remove_file(&self.path).unwrap();
    }
}

impl Drop for InitHold {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` still exists (a zombie counts). Unix only: the look is `kill(pid, 0)`.
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// A turn on `thread` that the member's fake (scenario `crash`) dies under; returns once the
/// turn has failed, so the member is known to be down.
fn crash_member_of(pool: &Pool, thread: &str) {
    let turn = pool.turn_start(thread, "crash", None, None).unwrap();
    loop {
        match turn.next_event(Wait::from_millis(30_000)) {
            Ok(Next::Event(_)) => continue,
            Ok(Next::End) => panic!("the crashing member's turn completed"),
            Err(err) => break assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message),
        }
    }
}

#[test]
fn a_server_that_never_answers_initialize_fails_the_start_within_the_start_timeout() {
    let hold = InitHold::armed();
    let mut options = hold.member("normal");
    options.start_timeout = Duration::from_millis(300);
    let began = Instant::now();
    let err = Client::start(&options).err().expect("a start held in initialize fails");
    println!("a start held in initialize failed after {:?}", began.elapsed());
    assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
    assert!(
        err.message.contains("initialize") && err.message.contains("start timeout"),
        "{}",
        err.message
    );
    assert!(hold.still_held(), "the fake never answered: the start timeout ended the start");
}

#[test]
fn pool_start_returns_while_a_member_is_held_in_initialize() {
    let hold = InitHold::armed();
    let began = Instant::now();
    let pool = Pool::start(vec![hold.member("normal"), fake("normal")]).unwrap();
    println!("pool start returned after {:?} with member 0 held", began.elapsed());
    // Returning at all proves it: member 0 is still held in its start (`initialize` is not
    // answered before the release below, and its start never times out).
    let pid = hold.holder();
    assert!(!pool.member_status(0).unwrap().healthy);
    assert!(pool.member_status(1).unwrap().healthy);
    let (thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&thread).unwrap().0, 1, "only member 1 is up");
    let turn = pool.turn_start(&thread, "hi", None, None).unwrap();
    assert_eq!(turn.run(|| Wait::from_millis(30_000)).unwrap().status, "completed");

    // Released, the held start completes: the same process, not a retry.
    hold.release();
    eventually("member 0 up once released", || pool.member_status(0).unwrap().healthy);
    assert_eq!(pool.member_client(0).unwrap().unwrap().server_pid(), pid);
    pool.close();
}

#[test]
fn a_member_killed_while_another_restart_hangs_is_back_without_waiting_for_it() {
    let hold = InitHold::new(); // not holding yet: both members start
    let pool = Pool::start(vec![fake("crash"), hold.member("crash")]).unwrap();
    all_up(&pool);
    let (first, _) = pool.thread_start(None).unwrap();
    let (second, _) = pool.thread_start(None).unwrap();
    let on = |t: &str| pool.client_for_thread(t).unwrap().0;
    let (on_0, on_1) = if on(&first) == 0 { (first, second) } else { (second, first) };
    assert_eq!((on(&on_0), on(&on_1)), (0, 1));

    // Member 1 dies; its restart is held in `initialize`.
    hold.arm();
    crash_member_of(&pool, &on_1);
    let held = hold.holder();
    // Member 0 dies while it is held: it comes back by itself.
    let killed = Instant::now();
    crash_member_of(&pool, &on_0);
    eventually("member 0 back", || pool.member_status(0).unwrap().healthy);
    println!("member 0 was back {:?} after it died, member 1 held meanwhile", killed.elapsed());
    assert!(!pool.member_status(1).unwrap().healthy);
    assert!(hold.still_held());
    assert_eq!(std::fs::read_to_string(&hold.path).unwrap(), held.to_string(), "the same start");

    hold.release();
    eventually("member 1 back once released", || pool.member_status(1).unwrap().healthy);
    pool.close();
}

#[test]
fn close_and_free_return_while_starts_are_held_and_leave_no_child() {
    for free in [false, true] {
        let hold = InitHold::armed();
        let pool = Pool::start(vec![fake("normal"), hold.member("normal")]).unwrap();
        let held = hold.holder();
        let began = Instant::now();
        if free {
            drop(pool);
        } else {
            pool.close();
        }
        let how = if free { "dropping" } else { "closing" };
        println!("{how} the pool returned after {:?} with a start held", began.elapsed());
        // Returning at all proves it: the start was never released and never times out.
        assert!(hold.still_held());
        #[cfg(unix)]
        assert!(!process_exists(held), "{how} the pool left the held fake (pid {held}) running");
        #[cfg(not(unix))]
        let _ = held; // no cheap look at a pid here
    }
}

/// A server that accepts TCP connections and never answers the WebSocket upgrade. Reports each
/// connection it accepts, and when that connection is ended by the client.
fn never_upgrading_server() -> (String, mpsc::Receiver<&'static str>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            if tx.send("accepted").is_err() {
                return;
            }
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                while matches!(stream.read(&mut request), Ok(n) if n > 0) {}
                let _ = tx.send("ended by the client");
            });
        }
    });
    (url, rx)
}

fn ws_member(address: &str) -> Options {
    let (host, port) = address.rsplit_once(':').unwrap();
    let mut options = Options::default();
    options.transport.endpoint = Endpoint::Tcp {
        tls: false,
        host: host.to_owned(),
        port: port.parse().unwrap(),
        resource: "/".to_owned(),
    };
    // Only the close may end this start.
    options.transport.connect_timeout = NEVER;
    options.start_timeout = NEVER;
    options
}

#[test]
fn a_websocket_member_that_never_upgrades_holds_up_neither_start_nor_close() {
    let (address, events) = never_upgrading_server();
    let began = Instant::now();
    let pool = Pool::start(vec![ws_member(&address), fake("normal")]).unwrap();
    println!(
        "pool start returned after {:?} with the WebSocket upgrade unanswered",
        began.elapsed()
    );
    assert_eq!(events.recv_timeout(Duration::from_secs(30)), Ok("accepted"));
    assert!(!pool.member_status(0).unwrap().healthy);
    assert!(pool.member_status(1).unwrap().healthy);
    let (thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&thread).unwrap().0, 1);

    let began = Instant::now();
    pool.close();
    println!("closing the pool returned after {:?} with the upgrade in flight", began.elapsed());
    // The connect and start timeouts are an hour: only the close shut that socket.
    assert_eq!(events.recv_timeout(Duration::from_secs(30)), Ok("ended by the client"));
}

/// A WebSocket server whose first connection is a working app-server (it answers
/// `initialize`) until `drop_first` fires, when it closes that connection; it accepts the
/// connections after that and never upgrades them. Reports as `never_upgrading_server` does.
fn upgrading_once_server(drop_first: mpsc::Receiver<()>) -> (String, mpsc::Receiver<&'static str>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else { return };
        let mut ws = tungstenite::accept(stream).unwrap();
        let init = loop {
            let message = ws.read().unwrap();
            let value: serde_json::Value = match message.to_text() {
                Ok(text) => serde_json::from_str(text).unwrap(),
                Err(_) => continue,
            };
            if value["method"] == "initialize" {
                break value;
            }
        };
        let result = serde_json::json!({"userAgent": "ws-fake/0", "codexHome": "/nowhere",
                                         "platformFamily": "unix", "platformOs": "linux"});
        let answer = serde_json::json!({"id": init["id"], "result": result});
        ws.send(tungstenite::Message::text(answer.to_string())).unwrap();
        // The member's server goes away: a close frame, then the connection ends.
        let _ = drop_first.recv();
        let _ = ws.close(None);
        while ws.read().is_ok() {}
        drop(ws);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            if tx.send("accepted").is_err() {
                return;
            }
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                while matches!(stream.read(&mut request), Ok(n) if n > 0) {}
                let _ = tx.send("ended by the client");
            });
        }
    });
    (address, rx)
}

#[test]
fn a_member_killed_while_a_websocket_member_reconnects_into_a_stall_is_back() {
    let (drop_first, dropped) = mpsc::channel();
    let (address, events) = upgrading_once_server(dropped);
    let pool = Pool::start(vec![fake("crash"), ws_member(&address)]).unwrap();
    all_up(&pool);
    let (thread, _) = pool.thread_start(None).unwrap();
    assert_eq!(pool.client_for_thread(&thread).unwrap().0, 0, "tie: the first member");

    // The WebSocket member's server closes; its reconnect is accepted and never upgraded.
    drop_first.send(()).unwrap();
    assert_eq!(events.recv_timeout(Duration::from_secs(30)), Ok("accepted"));
    // Member 0 dies while that reconnect is stuck: it comes back by itself.
    let killed = Instant::now();
    crash_member_of(&pool, &thread);
    eventually("member 0 back", || pool.member_status(0).unwrap().healthy);
    println!("member 0 was back {:?} after it died, member 1's upgrade stalled", killed.elapsed());
    assert!(!pool.member_status(1).unwrap().healthy);
    assert_eq!(events.try_recv(), Err(mpsc::TryRecvError::Empty), "still stalled");

    let began = Instant::now();
    pool.close();
    println!("closing the pool returned after {:?} with the reconnect in flight", began.elapsed());
    assert_eq!(events.recv_timeout(Duration::from_secs(30)), Ok("ended by the client"));
}

/// A Unix socket whose listener never accepts and whose queue is full (Linux: backlog 0 and
/// one connection waiting), so a connect to it blocks in the kernel until the listener goes.
/// Returns the path and what keeps it full (dropped at the end of the test).
#[cfg(target_os = "linux")]
fn unix_socket_that_never_accepts() -> (PathBuf, Vec<std::os::fd::OwnedFd>) {
    use std::os::fd::{FromRawFd, OwnedFd};
    static SOCKETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SOCKETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("codex-pool-test-{}-{n}.sock", std::process::id());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    let unix_socket = |nonblocking: bool| unsafe {
        let kind = libc::SOCK_STREAM | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
        let fd = libc::socket(libc::AF_UNIX, kind, 0);
        assert!(fd >= 0);
        OwnedFd::from_raw_fd(fd)
    };
    let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    address.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, byte) in address.sun_path.iter_mut().zip(path.to_str().unwrap().bytes()) {
        *slot = byte as libc::c_char;
    }
    let size = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    let at = &address as *const libc::sockaddr_un as *const libc::sockaddr;
    use std::os::fd::AsRawFd;
    let listener = unix_socket(false);
    unsafe {
        assert_eq!(libc::bind(listener.as_raw_fd(), at, size), 0);
        assert_eq!(libc::listen(listener.as_raw_fd(), 0), 0);
    }
    let waiting = unix_socket(false);
    assert_eq!(unsafe { libc::connect(waiting.as_raw_fd(), at, size) }, 0);
    // Full now: a connect that may not block says it would.
    let probe = unix_socket(true);
    assert_eq!(unsafe { libc::connect(probe.as_raw_fd(), at, size) }, -1);
    assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EAGAIN));
    (path, vec![listener, waiting])
}

#[cfg(target_os = "linux")]
#[test]
fn a_member_whose_connect_never_completes_holds_up_neither_start_nor_close() {
    let (path, keep_full) = unix_socket_that_never_accepts();
    let mut stuck = ws_member("127.0.0.1:1");
    stuck.transport.endpoint = Endpoint::Unix { path: Some(path.clone()) };
    let began = Instant::now();
    let pool = Pool::start(vec![stuck, fake("normal")]).unwrap();
    println!("pool start returned after {:?} with member 0's connect blocked", began.elapsed());
    assert!(!pool.member_status(0).unwrap().healthy);
    assert!(pool.member_status(1).unwrap().healthy);
    let began = Instant::now();
    pool.close();
    println!("closing the pool returned after {:?} with the connect blocked", began.elapsed());
    // The connect timeout is an hour and the socket's queue is still full: only the cancel
    // let the close return. Dropping the listener ends the abandoned connect.
    drop(keep_full);
    let _ = std::fs::remove_file(&path);
}

#[cfg(target_os = "linux")]
#[test]
fn a_unix_connect_into_a_full_queue_fails_within_the_connect_timeout() {
    let (path, keep_full) = unix_socket_that_never_accepts();
    let mut options = ws_member("127.0.0.1:1");
    options.transport.endpoint = Endpoint::Unix { path: Some(path.clone()) };
    options.transport.connect_timeout = Duration::from_millis(300);
    let began = Instant::now();
    let err = Client::start(&options).err().expect("a connect that never completes fails");
    println!("a unix:// connect into a full queue failed after {:?}", began.elapsed());
    assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message);
    assert!(err.message.contains("connect timeout"), "{}", err.message);
    drop(keep_full);
    let _ = std::fs::remove_file(&path);
}
