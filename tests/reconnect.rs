//! Reconnect and resume against the real `codex app-server` (offline mock model), over
//! `ws://` and `unix://`, through a proxy the test controls: it cuts the connection under the
//! client, and refuses new ones while blocked. Nothing here races the clock: a turn that must
//! still run across the drop is held by the mock until the test releases it; a turn that must
//! end during the gap is watched ending through a second client connected straight to the
//! server. Everything binds 127.0.0.1 on free ports (or sockets in the test's folder).
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::event::*;
use codex_app_server::ffi::request::*;
use codex_app_server::ffi::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const HELD_TEXT: &str = "the whole reply, streamed across a dropped connection";

/// A real `codex app-server --listen ...`, killed on drop.
struct AppServer {
    child: Child,
    /// `ws://127.0.0.1:PORT` or `unix://PATH`.
    url: String,
}

impl AppServer {
    fn start(env: &Offline, unix: bool) -> AppServer {
        if unix {
            let socket = env.dir.join("server.sock");
            let listen = format!("unix://{}", socket.display());
            let child = env
                .command(&["app-server", "--listen", &listen])
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Killed on drop, also when it never listens.
            let server = AppServer { child, url: listen };
            for _ in 0..600 {
                if UnixStream::connect(&socket).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("nothing listens on {}", socket.display());
        }
        let mut child = env
            .command(&["app-server", "--listen", "ws://127.0.0.1:0"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let url = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the server ended");
            if let Some(at) = line.find("listening on: ") {
                break line[at + "listening on: ".len()..].trim().to_owned();
            }
        };
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        AppServer { child, url }
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A byte stream the proxy can copy and cut.
trait Duplex: Read + Write + Send + Sized + 'static {
    fn dup(&self) -> Self;
    fn shut(&self);
}

impl Duplex for TcpStream {
    fn dup(&self) -> Self {
        self.try_clone().unwrap()
    }
    fn shut(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Duplex for UnixStream {
    fn dup(&self) -> Self {
        self.try_clone().unwrap()
    }
    fn shut(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

#[derive(Default)]
struct ProxyState {
    blocked: AtomicBool,
    accepted: AtomicUsize,
    live: Mutex<Vec<Box<dyn Fn() + Send>>>,
    /// Where new connections go: the server's address or socket path.
    upstream: Mutex<String>,
    /// While set, what the client writes is swallowed (counted in `swallowed`), never forwarded.
    stalled: AtomicBool,
    swallowed: AtomicUsize,
}

/// Forwards connections to the server; `cut` drops every one of them, `block` refuses new ones.
struct Proxy {
    url: String,
    state: Arc<ProxyState>,
}

impl Proxy {
    fn start(env: &Offline, server: &AppServer) -> Proxy {
        let state = Arc::new(ProxyState::default());
        let proxy = |url: String| {
            let proxy = Proxy { url, state: state.clone() };
            proxy.set_upstream(server);
            proxy
        };
        if server.url.starts_with("unix://") {
            let socket = env.dir.join("proxy.sock");
            let listener = UnixListener::bind(&socket).unwrap();
            let st = state.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming().flatten() {
                    let upstream = PathBuf::from(st.upstream.lock().unwrap().clone());
                    forward(&st, conn, || UnixStream::connect(&upstream).ok());
                }
            });
            return proxy(format!("unix://{}", socket.display()));
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let upstream = st.upstream.lock().unwrap().clone();
                forward(&st, conn, || TcpStream::connect(&upstream).ok());
            }
        });
        proxy(url)
    }

    /// New connections go to `server` from now on.
    fn set_upstream(&self, server: &AppServer) {
        let url = &server.url;
        let upstream = url.strip_prefix("unix://").or(url.strip_prefix("ws://")).unwrap();
        *self.state.upstream.lock().unwrap() = upstream.to_owned();
    }

    /// Drops every connection open now (both sides see it end).
    fn cut(&self) {
        for shut in self.state.live.lock().unwrap().drain(..) {
            shut();
        }
    }

    /// What the client writes from now on is swallowed; returns once `bytes` more have been.
    fn stall_until_swallowed(&self, bytes: usize, write: impl FnOnce()) {
        self.state.stalled.store(true, Ordering::SeqCst);
        let before = self.state.swallowed.load(Ordering::SeqCst);
        write();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.state.swallowed.load(Ordering::SeqCst) < before + bytes {
            assert!(Instant::now() < deadline, "the client wrote nothing");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn block(&self, blocked: bool) {
        self.state.blocked.store(blocked, Ordering::SeqCst);
    }

    fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

fn forward<S: Duplex>(state: &Arc<ProxyState>, client: S, connect: impl FnOnce() -> Option<S>) {
    state.accepted.fetch_add(1, Ordering::SeqCst);
    if state.blocked.load(Ordering::SeqCst) {
        client.shut();
        return;
    }
    let Some(server) = connect() else {
        client.shut();
        return;
    };
    let (c, s) = (client.dup(), server.dup());
    state.live.lock().unwrap().push(Box::new(move || {
        c.shut();
        s.shut();
    }));
    pump(client.dup(), server.dup(), Some(state.clone()));
    pump(server, client, None);
}

/// Copies `from` to `to` until either ends; the client's side (`stall` given) is swallowed
/// while the proxy is stalled.
fn pump<S: Duplex>(mut from: S, mut to: S, stall: Option<Arc<ProxyState>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 << 10];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(state) = stall.as_ref().filter(|s| s.stalled.load(Ordering::SeqCst)) {
                state.swallowed.fetch_add(n, Ordering::SeqCst);
                continue;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        from.shut();
        to.shut();
    });
}

/// Client-stream events until one of `kind` (others are skipped); panics after a minute.
fn wait_client_event(client: &Client, kind: u32) -> Ev {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no client event of kind {kind}");
        if let Some(ev) = client.next_client_event(1000) {
            if ev.kind == kind {
                return ev;
            }
        }
    }
}

fn first_delta(turn: &Turn) {
    loop {
        match turn.next(60_000) {
            Next::Event(e) if e.kind == CODEX_EVENT_AGENT_MESSAGE_DELTA => return,
            Next::Event(_) => {}
            Next::End => panic!("the turn ended before its first delta"),
            Next::Failed(e) => panic!("turn failed: {}", e.message),
        }
    }
}

fn held_script() -> serde_json::Value {
    json!({"responses": [{"match": "HELD-PROMPT", "text": HELD_TEXT, "chunk_size": 4,
                          "hold_after": 1, "phase": "final_answer"}],
           "default": {"text": "next turn ok", "phase": "final_answer"}})
}

/// The turn's status as a client straight to the server reads it.
fn turn_status(direct: &Client, thread: &str, turn: &str) -> Option<String> {
    let params = json!({"threadId": thread, "includeTurns": true}).to_string();
    let read = direct.request("thread/read", Some(&params), 10_000).ok()?;
    let read: serde_json::Value = serde_json::from_str(&read).unwrap();
    let turns = read["thread"]["turns"].as_array()?.clone();
    turns.iter().find(|t| t["id"] == turn).and_then(|t| t["status"].as_str().map(str::to_owned))
}

fn held_turn_continues_on_its_handle(unix: bool) {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, unix);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    proxy.cut();
    let down = wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    assert_eq!(down.method, "codex/disconnected");
    let up = wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    println!(
        "{}: reconnected and resumed in {} ms ({} attempts)",
        if unix { "unix" } else { "ws" },
        up.params["downMs"],
        up.params["attempts"]
    );
    let resumed = &up.params["threads"];
    assert_eq!(resumed[0]["threadId"], thread.as_str(), "{resumed}");
    assert_eq!(resumed[0]["status"], "inProgress", "{resumed}");
    // Only now does the model go on: the rest of the reply is the live tail.
    env.release(Some("HELD-PROMPT"));
    let mut kinds = Vec::new();
    loop {
        match turn.next(60_000) {
            Next::Event(e) => kinds.push(e.kind),
            Next::End => break,
            Next::Failed(e) => panic!("turn failed: {}: {}", code_name(e.code), e.message),
        }
    }
    assert_eq!(kinds.first(), Some(&CODEX_EVENT_GAP), "the gap comes first: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == CODEX_EVENT_GAP).count(), 1);
    let result = turn.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some(HELD_TEXT));
    assert!(result.gap);
    // The connection works for new turns.
    let next = client.turn_start(&thread, "another").unwrap();
    let next = next.run();
    assert_eq!(
        (next.status.as_str(), next.final_answer.as_deref()),
        ("completed", Some("next turn ok"))
    );
    assert!(!next.gap);
    assert_eq!(proxy.accepted(), 2);
}

#[test]
fn ws_a_turn_held_across_a_drop_completes_on_its_handle() {
    held_turn_continues_on_its_handle(false);
}

#[test]
fn unix_a_turn_held_across_a_drop_completes_on_its_handle() {
    held_turn_continues_on_its_handle(true);
}

fn turn_ending_in_the_gap(unix: bool) {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, unix);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let direct = connect(&server.url, |_| {}).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    let turn_id = turn.id();
    proxy.block(true);
    proxy.cut();
    wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    env.release(Some("HELD-PROMPT"));
    // The turn ends while nobody is subscribed: seen from the second client.
    let deadline = Instant::now() + Duration::from_secs(60);
    while turn_status(&direct, &thread, &turn_id).as_deref() != Some("completed") {
        assert!(Instant::now() < deadline, "the turn did not complete on the server");
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy.block(false);
    let up = wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    assert_eq!(up.params["threads"][0]["status"], "completed", "{}", up.params);
    let events = turn.collect();
    let kinds: Vec<u32> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [CODEX_EVENT_GAP, CODEX_EVENT_TURN_COMPLETED]);
    assert_eq!(events[1].params["codexGap"], true);
    let result = turn.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some(HELD_TEXT));
    assert!(result.gap);
}

#[test]
fn ws_a_turn_that_completes_during_the_gap_ends_with_its_final_answer() {
    turn_ending_in_the_gap(false);
}

#[test]
fn unix_a_turn_that_completes_during_the_gap_ends_with_its_final_answer() {
    turn_ending_in_the_gap(true);
}

fn turn_error(turn: &Turn) -> CError {
    loop {
        match turn.next(60_000) {
            Next::Event(_) => {}
            Next::End => panic!("the turn ended instead of failing"),
            Next::Failed(e) => return e,
        }
    }
}

#[test]
fn the_window_running_out_fails_everything_with_the_reason() {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, false);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, reconnect_window(300)).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    proxy.block(true);
    proxy.cut();
    let err = turn_error(&turn);
    assert_eq!(err.code, CODEX_ERR_TRANSPORT, "{}", err.message);
    assert!(err.message.contains("reconnect window of 300 ms"), "{}", err.message);
    wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    let gave_up = wait_client_event(&client, CODEX_EVENT_RECONNECT_FAILED);
    assert!(gave_up.params["reason"].as_str().unwrap().contains("reconnect window"));
    let again = client.request("thread/list", Some("{}"), 10_000).unwrap_err();
    assert_eq!(again.code, CODEX_ERR_TRANSPORT);
    assert!(again.message.contains("reconnect window"), "{}", again.message);
    assert!(proxy.accepted() >= 2, "it tried again");
    env.release(None);
}

#[test]
fn with_reconnect_off_a_drop_fails_everything_at_once() {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, true);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, reconnect_window(0)).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    proxy.cut();
    let err = turn_error(&turn);
    assert_eq!(err.code, CODEX_ERR_TRANSPORT, "{}", err.message);
    assert!(!err.message.contains("reconnect"), "{}", err.message);
    let again = client.request("thread/list", Some("{}"), 10_000).unwrap_err();
    assert_eq!(again.code, CODEX_ERR_TRANSPORT);
    assert_eq!(proxy.accepted(), 1, "no second connection");
    env.release(None);
}

// ----- server requests across a drop -----

const APPROVAL_THREAD: &str = r#"{"approvalPolicy": "on-request", "approvalsReviewer": "user"}"#;

/// The model asks to run a command that appends a line to `runs.log` in the workspace, with
/// escalated permissions: the server asks the client for approval.
fn approval_script() -> serde_json::Value {
    json!({"responses": [
        {"match": "RUN-THE-COMMAND", "function_call": {"name": "exec_command", "call_id": "call-1",
            "arguments": {"cmd": "echo ran >> runs.log", "sandbox_permissions": "require_escalated",
                          "justification": "test"}}}],
        "default": {"text": "after the command", "phase": "final_answer"}})
}

/// The turn's events until its first server request, which is returned unanswered.
fn until_request(turn: &Turn) -> Ev {
    loop {
        match turn.next(60_000) {
            Next::Event(e) if e.request.is_some() => return e,
            Next::Event(_) => {}
            Next::End => panic!("the turn ended without asking"),
            Next::Failed(e) => panic!("turn failed: {}", e.message),
        }
    }
}

/// The rest of the turn: its events' kinds, and the result.
fn finish(turn: &Turn) -> (Vec<Ev>, RunResult) {
    let mut events = Vec::new();
    loop {
        match turn.next(60_000) {
            Next::Event(e) => events.push(e),
            Next::End => break,
            Next::Failed(e) => panic!("turn failed: {}: {}", code_name(e.code), e.message),
        }
    }
    (events, turn.run())
}

fn runs(env: &Offline) -> usize {
    std::fs::read_to_string(env.workspace.join("runs.log")).unwrap_or_default().lines().count()
}

#[test]
fn an_approval_pending_at_the_drop_is_asked_again_and_the_command_runs_once() {
    let env = Offline::new(&approval_script());
    let server = AppServer::start(&env, false);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let thread = client.thread_start(APPROVAL_THREAD);
    let turn = client.turn_start(&thread, "RUN-THE-COMMAND").unwrap();
    let first = until_request(&turn);
    proxy.cut();
    wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    // The server sends it again with the same id: the program is asked again.
    let again = until_request(&turn);
    assert_eq!(again.params, first.params);
    let (old, new) = (first.request.unwrap(), again.request.unwrap());
    assert!(!old.is_open(), "the repeat supersedes the request of before the drop");
    new.approve(CODEX_DECISION_ACCEPT).unwrap();
    let (events, result) = finish(&turn);
    assert!(events.iter().all(|e| e.request.is_none()), "asked twice only");
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some("after the command"));
    assert_eq!(runs(&env), 1, "the command ran once");
}

#[test]
fn an_approval_answered_while_the_connection_is_down_is_not_asked_again() {
    let env = Offline::new(&approval_script());
    let server = AppServer::start(&env, true);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let thread = client.thread_start(APPROVAL_THREAD);
    let turn = client.turn_start(&thread, "RUN-THE-COMMAND").unwrap();
    let asked = until_request(&turn);
    proxy.block(true);
    proxy.cut();
    wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    // Answered while nothing can be sent: kept, and given when the server asks again.
    asked.request.as_ref().unwrap().approve(CODEX_DECISION_ACCEPT).unwrap();
    proxy.block(false);
    wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    let (events, result) = finish(&turn);
    assert!(events.iter().all(|e| e.request.is_none()), "the program is not asked twice");
    assert_eq!(events[0].kind, CODEX_EVENT_GAP);
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some("after the command"));
    assert_eq!(runs(&env), 1, "the command ran once");
}

// ----- the server killed and started again -----

fn server_restarted_under_a_turn(unix: bool) {
    let env = Offline::new(&held_script());
    let mut server = AppServer::start(&env, unix);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    // Killed: the client's connection ends with it, and every attempt is refused meanwhile.
    drop(server);
    wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    if unix {
        let _ = std::fs::remove_file(env.dir.join("server.sock"));
    }
    server = AppServer::start(&env, unix);
    proxy.set_upstream(&server);
    let up = wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    assert_eq!(up.params["threads"][0]["status"], "interrupted", "{}", up.params);
    let (events, result) = finish(&turn);
    let kinds: Vec<u32> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [CODEX_EVENT_GAP, CODEX_EVENT_TURN_COMPLETED]);
    assert_eq!(result.status, "interrupted");
    assert!(result.gap);
    // The thread is back on the new server: a new turn works.
    let next = client.turn_start(&thread, "another").unwrap().run();
    assert_eq!(
        (next.status.as_str(), next.final_answer.as_deref()),
        ("completed", Some("next turn ok"))
    );
    drop(server);
}

#[test]
fn ws_the_server_restarted_on_the_same_home_ends_the_turn_interrupted_and_the_thread_goes_on() {
    server_restarted_under_a_turn(false);
}

#[test]
fn unix_the_server_restarted_on_the_same_home_ends_the_turn_interrupted_and_the_thread_goes_on() {
    server_restarted_under_a_turn(true);
}

// ----- a pool member -----

#[test]
fn a_pool_member_that_reconnects_keeps_its_threads_and_their_turns() {
    use codex_app_server::ffi::pool::*;
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, false);
    let proxy = Proxy::start(&env, &server);
    let member = remote_options(&proxy.url, |_| {});
    let mut pool = std::ptr::null_mut();
    set(|e| unsafe { codex_pool_start([member as *const _].as_ptr(), 1, &mut pool, e) }).unwrap();
    unsafe { codex_app_server::ffi::options::codex_options_free(member) };
    let mut id = std::ptr::null_mut();
    set(|e| unsafe {
        codex_pool_thread_start(pool, cs("{}").as_ptr(), &mut id, std::ptr::null_mut(), e)
    })
    .unwrap();
    let thread = unsafe { std::ffi::CStr::from_ptr(id) }.to_str().unwrap().to_owned();
    unsafe { codex_string_free(id) };
    let client_of =
        |thread: &str| -> Result<*const codex_app_server::ffi::client::codex_client, CError> {
            let mut client = std::ptr::null();
            set(|e| unsafe {
                codex_pool_client_for_thread(pool, cs(thread).as_ptr(), &mut client, e)
            })?;
            Ok(client)
        };
    let turn_start = |input: &str| {
        let mut turn = std::ptr::null_mut();
        set(|e| unsafe {
            codex_pool_turn_start(
                pool,
                cs(&thread).as_ptr(),
                cs(input).as_ptr(),
                std::ptr::null(),
                &mut turn,
                e,
            )
        })
        .unwrap();
        Turn(turn)
    };
    let turn = turn_start("HELD-PROMPT");
    first_delta(&turn);
    // The member's client, borrowed from the pool (never freed here).
    let client = std::mem::ManuallyDrop::new(Client(client_of(&thread).unwrap() as *mut _));
    proxy.cut();
    wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    assert_eq!(client_of(&thread).unwrap(), client.0 as *const _, "the thread stays on its member");
    assert!(unsafe { codex_pool_member_healthy(pool, 0) });
    env.release(Some("HELD-PROMPT"));
    let result = turn.run();
    assert_eq!(result.final_answer.as_deref(), Some(HELD_TEXT));
    assert!(result.gap);
    let next = turn_start("another").run();
    assert_eq!(next.final_answer.as_deref(), Some("next turn ok"));
    drop(turn);
    unsafe { codex_pool_free(pool) };
}

#[test]
fn drops_in_a_row_are_each_reconnected_and_the_turn_goes_on() {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, true);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let thread = client.thread_start("{}");
    let turn = client.turn_start(&thread, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    for _ in 0..3 {
        proxy.cut();
        wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
        let up = wait_client_event(&client, CODEX_EVENT_RECONNECTED);
        assert_eq!(up.params["threads"][0]["status"], "inProgress", "{}", up.params);
    }
    env.release(Some("HELD-PROMPT"));
    let (events, result) = finish(&turn);
    let gaps = events.iter().filter(|e| e.kind == CODEX_EVENT_GAP).count();
    assert_eq!(gaps, 3, "one gap per drop");
    assert_eq!(result.final_answer.as_deref(), Some(HELD_TEXT));
    assert_eq!(proxy.accepted(), 4);
}

#[test]
fn a_thread_idle_at_the_drop_is_subscribed_again_and_its_next_turn_streams() {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, false);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    let idle = client.thread_start("{}");
    assert_eq!(client.turn_start(&idle, "first").unwrap().run().status, "completed");
    // A thread without a turn has nothing stored yet: the server cannot resume it.
    let fresh = client.thread_start("{}");
    let busy = client.thread_start("{}");
    let turn = client.turn_start(&busy, "HELD-PROMPT").unwrap();
    first_delta(&turn);
    proxy.cut();
    let up = wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    let threads = up.params["threads"].as_array().unwrap().clone();
    assert_eq!(threads.len(), 3, "{threads:?}");
    let status_of =
        |t: &str| threads.iter().find(|r| r["threadId"] == t).unwrap()["status"].clone();
    assert_eq!(status_of(&idle), "idle", "{threads:?}");
    assert_eq!(status_of(&busy), "inProgress", "{threads:?}");
    assert_eq!(status_of(&fresh), "notResumed", "{threads:?}");
    // The idle thread streams again on the new connection.
    let next = client.turn_start(&idle, "another").unwrap().run();
    assert_eq!(next.final_answer.as_deref(), Some("next turn ok"));
    // A turn on the thread that could not be resumed would get no events: refused, saying so.
    let Err(refused) = client.turn_start(&fresh, "another") else {
        panic!("a turn on a thread that was not resumed started");
    };
    assert_eq!(refused.code, CODEX_ERR_TRANSPORT);
    assert!(refused.message.contains("could not be subscribed to again"), "{}", refused.message);
    // So is an asynchronous start: it goes through the same check.
    let (mut turn_out, mut err) = (std::ptr::null_mut(), std::ptr::null_mut());
    let rc = unsafe {
        codex_app_server::ffi::turn_async::codex_turn_start_async(
            client.0,
            cs(&fresh).as_ptr(),
            cs("another").as_ptr(),
            std::ptr::null(),
            &mut turn_out,
            &mut err,
        )
    };
    let refused = take_error(rc, err);
    assert_eq!(refused.code, CODEX_ERR_TRANSPORT, "{}", refused.message);
    assert!(refused.message.contains("could not be subscribed to again"), "{}", refused.message);
    env.release(Some("HELD-PROMPT"));
    assert_eq!(turn.run().final_answer.as_deref(), Some(HELD_TEXT));
}

// ----- requests across a drop -----

#[test]
fn a_request_in_flight_at_the_drop_may_have_been_acted_on_one_during_the_gap_was_not_sent() {
    let env = Offline::new(&held_script());
    let server = AppServer::start(&env, false);
    let proxy = Proxy::start(&env, &server);
    let client = connect(&proxy.url, |_| {}).unwrap();
    std::thread::scope(|s| {
        let mut waiter = None;
        // The request leaves the client (the proxy swallows it): it is in flight at the drop.
        // (40 bytes: more than a keepalive ping, less than the request's frame.)
        proxy.stall_until_swallowed(40, || {
            waiter = Some(s.spawn(|| client.request("thread/list", Some("{}"), 60_000)));
        });
        proxy.block(true);
        proxy.cut();
        let err = waiter.unwrap().join().unwrap().unwrap_err();
        assert_eq!(err.code, CODEX_ERR_TRANSPORT, "{}", err.message);
        assert!(err.message.contains("may have acted on it"), "{}", err.message);
    });
    proxy.state.stalled.store(false, Ordering::SeqCst);
    wait_client_event(&client, CODEX_EVENT_DISCONNECTED);
    let err = client.request("thread/list", Some("{}"), 60_000).unwrap_err();
    assert_eq!(err.code, CODEX_ERR_TRANSPORT, "{}", err.message);
    assert!(err.message.contains("not sent"), "{}", err.message);
    proxy.block(false);
    wait_client_event(&client, CODEX_EVENT_RECONNECTED);
    client.request("thread/list", Some("{}"), 60_000).unwrap();
}
