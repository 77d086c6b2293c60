//! Remote transports through the C API against the real `codex app-server` (pinned 0.163.0,
//! offline mock model): over `ws://` with a capability token, over `unix://`, over `wss://`
//! through a TLS proxy started here, as the local daemon reached by `unix://`, a killed server,
//! and a pool of a spawned and a WebSocket member. (Failures against WebSocket fakes:
//! tests/websocket.rs.) Everything binds 127.0.0.1 on free ports and stops by itself.
//! Not on Windows: under wine the test cannot spawn the Python mock model (the Windows build is
//! tested end to end by tests/c/real_codex_test.c, driven from Linux).
#![cfg(not(windows))]

mod support;

use codex_app_server::ffi::client::*;
use codex_app_server::ffi::error::*;
use codex_app_server::ffi::event::*;
use codex_app_server::ffi::options::*;
use codex_app_server::ffi::*;
use serde_json::json;
use std::ffi::CStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use support::*;

const THREAD: &str = r#"{"ephemeral": true}"#;

fn token(token: &str) -> impl FnOnce(*mut codex_options) + '_ {
    move |o| set(|e| unsafe { codex_options_set_auth_token(o, cs(token).as_ptr(), e) }).unwrap()
}

/// A real `codex app-server --listen ...` started by the test; killed on drop.
struct AppServer {
    child: Child,
    url: String,
}

impl AppServer {
    /// On `ws://127.0.0.1:0`: the server picks a free port and prints its address on stderr.
    fn ws(env: &Offline, token: Option<&str>) -> AppServer {
        let mut args = vec!["app-server", "--listen", "ws://127.0.0.1:0"];
        let token_file = env.dir.join("ws-token");
        if let Some(token) = token {
            std::fs::write(&token_file, token).unwrap();
            args.extend(["--ws-auth", "capability-token", "--ws-token-file"]);
            args.push(token_file.to_str().unwrap());
        }
        let mut child = env.command(&args).stderr(Stdio::piped()).spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut url = None;
        let mut seen = String::new();
        for _ in 0..200 {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            seen.push_str(&line);
            if let Some(at) = line.find("listening on: ") {
                url = Some(line[at + "listening on: ".len()..].trim().to_owned());
                break;
            }
        }
        let url = url.unwrap_or_else(|| panic!("no listening address on stderr:\n{seen}"));
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        AppServer { child, url }
    }

    /// On a Unix socket; ready once the socket accepts connections.
    fn unix(env: &Offline, socket: &Path) -> AppServer {
        let listen = format!("unix://{}", socket.display());
        let child = env
            .command(&["app-server", "--listen", &listen])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_socket(socket);
        AppServer { child, url: listen }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_socket(socket: &Path) {
    for _ in 0..600 {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {} after 30 s", socket.display());
}

fn streaming_script(chunks: &[&str]) -> serde_json::Value {
    json!({"responses": [{"chunks": chunks, "phase": "final_answer", "delay_ms": 5}]})
}

/// One full turn on `client`, checked.
fn run_one_turn(client: &Client, chunks: &[&str]) {
    let thread = client.thread_start(THREAD);
    let turn = client.turn_start(&thread, "hello over a socket").unwrap();
    let events = turn.collect();
    assert_eq!(deltas(&events), chunks);
    assert_eq!(events.last().unwrap().kind, CODEX_EVENT_TURN_COMPLETED);
    let result = turn.run();
    assert_eq!(result.status, "completed");
    assert_eq!(result.final_answer.as_deref(), Some(chunks.concat().as_str()));
}

#[test]
fn a_turn_over_ws_with_a_capability_token() {
    let chunks = ["Over ", "a ", "web", "socket."];
    let env = Offline::new(&streaming_script(&chunks));
    let server = AppServer::ws(&env, Some("tok-right-7f3a9c"));
    let client = connect(&server.url, token("tok-right-7f3a9c")).unwrap();
    assert_eq!(client.server_pid(), 0, "no process of ours");
    run_one_turn(&client, &chunks);
}

#[test]
fn a_wrong_or_missing_token_is_refused_with_auth_and_never_echoed() {
    let env = Offline::new(&streaming_script(&["x"]));
    let server = AppServer::ws(&env, Some("tok-right-51d0e2"));
    let wrong = connect(&server.url, token("tok-WRONG-88e1b7")).err().expect("a wrong token fails");
    assert_eq!(code_name(wrong.code), "CODEX_ERR_AUTH", "{}", wrong.message);
    assert!(wrong.message.contains("401"), "{}", wrong.message);
    assert!(wrong.message.contains(server.url.trim_end_matches('/')), "{}", wrong.message);
    for secret in ["tok-WRONG-88e1b7", "tok-right-51d0e2"] {
        assert!(!wrong.message.contains(secret), "the token leaked: {}", wrong.message);
    }
    let missing = connect(&server.url, |_| {}).err().expect("no token fails");
    assert_eq!(code_name(missing.code), "CODEX_ERR_AUTH");
    assert!(missing.message.contains("codex_options_set_auth_token"), "{}", missing.message);
}

#[test]
fn a_turn_over_a_unix_socket() {
    let chunks = ["Unix ", "socket ", "turn."];
    let env = Offline::new(&streaming_script(&chunks));
    let server = AppServer::unix(&env, &env.dir.join("app-server.sock"));
    let client = connect(&server.url, |_| {}).unwrap();
    assert_eq!(client.server_pid(), 0);
    run_one_turn(&client, &chunks);
}

#[test]
fn the_server_killed_under_a_ws_client_fails_every_waiter_with_transport() {
    let slow = |tag: &str| json!({"match": tag, "text": "tick ".repeat(400), "chunk_size": 5, "delay_ms": 50});
    let env = Offline::new(&json!({"responses": [slow("SLOW-ONE"), slow("SLOW-TWO")]}));
    let mut server = AppServer::ws(&env, None);
    let url = server.url.clone();
    // A short reconnect window: the killed server never comes back (tests/reconnect.rs).
    let client = connect(&url, reconnect_window(200)).unwrap();
    let (streaming_tx, streaming_rx) = mpsc::channel();
    let outcomes: Vec<CError> = std::thread::scope(|s| {
        let waiters: Vec<_> = ["SLOW-ONE", "SLOW-TWO"]
            .into_iter()
            .map(|prompt| {
                let (client, streaming_tx) = (&client, streaming_tx.clone());
                s.spawn(move || {
                    let thread = client.thread_start(THREAD);
                    let turn = client.turn_start(&thread, prompt).unwrap();
                    let mut told = false;
                    loop {
                        match turn.next(60_000) {
                            Next::Event(e)
                                if e.kind == CODEX_EVENT_AGENT_MESSAGE_DELTA && !told =>
                            {
                                told = true;
                                streaming_tx.send(()).unwrap();
                            }
                            Next::Event(_) => {}
                            Next::End => panic!("the turn completed under a killed server"),
                            Next::Failed(e) => return e,
                        }
                    }
                })
            })
            .collect();
        // A third waiter blocks on the client stream.
        let client = &client;
        let stream_waiter = s.spawn(move || loop {
            let mut ev = std::ptr::null_mut();
            let mut err = std::ptr::null_mut();
            let rc = unsafe { codex_client_next_event(client.0, 60_000, &mut ev, &mut err) };
            if rc == CODEX_OK {
                unsafe { codex_event_free(ev) };
                continue;
            }
            let message = unsafe { CStr::from_ptr(codex_error_message(err)) };
            let e = CError { code: rc, message: message.to_string_lossy().into_owned() };
            unsafe { codex_error_free(err) };
            return e;
        });
        // Both turns are streaming: kill the server under them.
        streaming_rx.recv().unwrap();
        streaming_rx.recv().unwrap();
        server.kill();
        let mut all: Vec<CError> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        all.push(stream_waiter.join().unwrap());
        all
    });
    for e in &outcomes {
        assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
        assert!(e.message.contains(url.trim_end_matches('/')), "names the address: {}", e.message);
    }
    // Later calls fail the same way.
    let later = client.request("thread/list", Some("{}"), 10_000).unwrap_err();
    assert_eq!(code_name(later.code), "CODEX_ERR_TRANSPORT", "{}", later.message);
}

// ----- wss:// through a loopback TLS proxy -----

/// A throwaway CA and a certificate for 127.0.0.1 and localhost signed by it.
struct TestPki {
    ca_pem: String,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    key_der: rustls::pki_types::PrivateKeyDer<'static>,
}

fn test_pki() -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "libcodex test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    TestPki {
        ca_pem: ca.pem(),
        cert_der: leaf.der().clone(),
        key_der: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    }
}

/// Terminates TLS on 127.0.0.1 and forwards the plaintext to `backend`, one thread per
/// connection; stops accepting on drop.
struct TlsProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TlsProxy {
    fn start(pki: &TestPki, backend: SocketAddr) -> TlsProxy {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert_der.clone()], pki.key_der.clone_key())
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = proxy_connection(client, backend, config);
                });
            }
        });
        TlsProxy { addr, stop }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

fn proxy_connection(
    mut client: TcpStream,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let mut tls = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut upstream = TcpStream::connect(backend)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while tls.wants_write() {
            tls.write_tls(&mut client)?;
        }
        let mut fds = [
            libc::pollfd { fd: client.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: upstream.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if fds[0].revents != 0 {
            if tls.read_tls(&mut client)? == 0 {
                return Ok(());
            }
            tls.process_new_packets().map_err(std::io::Error::other)?;
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => upstream.write_all(&buf[..n])?,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        if fds[1].revents != 0 {
            let n = upstream.read(&mut buf)?;
            if n == 0 {
                tls.send_close_notify();
                while tls.wants_write() {
                    tls.write_tls(&mut client)?;
                }
                return Ok(());
            }
            tls.writer().write_all(&buf[..n])?;
        }
    }
}

#[test]
fn a_turn_over_wss_through_a_tls_proxy_with_a_private_ca() {
    let chunks = ["Through ", "TLS."];
    let env = Offline::new(&streaming_script(&chunks));
    let server = AppServer::ws(&env, Some("tok-tls-0b5e"));
    let backend: SocketAddr =
        server.url.trim_start_matches("ws://").trim_end_matches('/').parse().unwrap();
    let pki = test_pki();
    let proxy = TlsProxy::start(&pki, backend);
    let ca_file = env.dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let url = format!("wss://127.0.0.1:{}", proxy.addr.port());

    // Without the private CA the certificate is not trusted.
    let untrusted = connect(&url, token("tok-tls-0b5e")).err().expect("unknown CA fails");
    assert_eq!(code_name(untrusted.code), "CODEX_ERR_TRANSPORT", "{}", untrusted.message);
    assert!(untrusted.message.contains("TLS handshake"), "{}", untrusted.message);

    let client = connect(&url, |o| {
        token("tok-tls-0b5e")(o);
        set(|e| unsafe { codex_options_set_ca_file(o, cs(&ca_file).as_ptr(), e) }).unwrap();
    })
    .unwrap();
    run_one_turn(&client, &chunks);
}

// ----- the local daemon, reached as unix:// -----

/// Runs `codex app-server daemon SUBCOMMAND` and returns its JSON output.
fn daemon(env: &Offline, subcommand: &str) -> serde_json::Value {
    let out =
        env.command(&["app-server", "daemon", subcommand]).stderr(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| {
            panic!("daemon {subcommand}: no JSON (status {}): {text}", out.status)
        });
    serde_json::from_str(line).unwrap()
}

/// Stops the daemon and the helper it leaves behind, whatever the test did.
struct DaemonGuard<'a>(&'a Offline);

impl Drop for DaemonGuard<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command(&["app-server", "daemon", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // `daemon stop` leaves its pid-update-loop helper running: end it by its recorded pid.
        let pid_file = self.0.home.join("app-server-daemon/daemon-updater.pid");
        if let Ok(text) = std::fs::read_to_string(pid_file) {
            if let Some(pid) = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["pid"].as_i64())
            {
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
        }
    }
}

#[test]
fn a_turn_through_the_local_daemon_reached_as_unix() {
    let chunks = ["Daemon ", "turn."];
    let env = Offline::new(&streaming_script(&chunks));
    let _guard = DaemonGuard(&env);
    let started = daemon(&env, "start");
    let socket = PathBuf::from(started["socketPath"].as_str().expect("socketPath"));
    assert_eq!(socket, env.home.join("app-server-control/app-server-control.sock"));
    wait_for_socket(&socket);
    // `unix://` alone means $CODEX_HOME's daemon: the one this test started. No other test of
    // this binary uses `unix://` alone, and every codex they start gets CODEX_HOME explicitly.
    std::env::set_var("CODEX_HOME", &env.home);
    let client = connect("unix://", |_| {}).unwrap();
    assert_eq!(client.server_pid(), 0);
    run_one_turn(&client, &chunks);
}

/// A pool of one spawned and one WebSocket member of the real codex: six turns at once, three on
/// each; the WebSocket member's app-server is killed while every turn is mid-stream (each holds
/// after its first delta until released): only its three turns fail, the spawned member's
/// finish whole, and new threads land on the survivor, which keeps working.
#[test]
fn a_pool_of_a_spawned_and_a_websocket_member_loses_only_the_killed_members_turns() {
    let texts: Vec<String> =
        (0..6).map(|i| format!("Pool turn {i} streams its own words.")).collect();
    let mut responses: Vec<serde_json::Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"match": format!("POOL-TURN-{i}"), "text": t, "chunk_size": 4, "hold_after": 1}))
        .collect();
    responses.push(json!({"match": "AFTER-THE-KILL", "text": "The survivor answers."}));
    let env = Offline::new(&json!({ "responses": responses }));
    let mut remote = AppServer::ws(&env, Some("pool-token"));
    // A short reconnect window: the killed member never comes back (tests/reconnect.rs).
    let remote_member = remote_options(&remote.url, |o| {
        token("pool-token")(o);
        reconnect_window(200)(o);
    });
    let members = [env.options(), remote_member];
    let mut pool = std::ptr::null_mut();
    set(|e| unsafe {
        codex_app_server::ffi::pool::codex_pool_start(members.as_ptr().cast(), 2, &mut pool, e)
    })
    .unwrap();
    for o in members {
        unsafe { codex_options_free(o) };
    }
    use codex_app_server::ffi::pool::*;
    // The start returns once one member is up; placement below needs both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !(0..2).all(|i| unsafe { codex_pool_member_healthy(pool, i) }) {
        assert!(std::time::Instant::now() < deadline, "both members not up within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let thread_start = || {
        let mut id = std::ptr::null_mut();
        set(|e| unsafe {
            codex_pool_thread_start(pool, cs(THREAD).as_ptr(), &mut id, std::ptr::null_mut(), e)
        })
        .unwrap();
        let thread = unsafe { CStr::from_ptr(id) }.to_str().unwrap().to_owned();
        unsafe { codex_string_free(id) };
        thread
    };
    let member_of = |thread: &str| {
        let mut client = std::ptr::null();
        set(|e| unsafe { codex_pool_client_for_thread(pool, cs(thread).as_ptr(), &mut client, e) })
            .unwrap();
        unsafe { codex_client_server_pid(client) != 0 } // the spawned member has a pid
    };
    let turn_start = |thread: &str, input: &str| -> Result<Turn, CError> {
        let mut turn = std::ptr::null_mut();
        set(|e| unsafe {
            codex_pool_turn_start(
                pool,
                cs(thread).as_ptr(),
                cs(input).as_ptr(),
                std::ptr::null(),
                &mut turn,
                e,
            )
        })?;
        Ok(Turn(turn))
    };

    // Six threads alternate between the members (fewest threads placed breaks the tie).
    let threads: Vec<String> = (0..6).map(|_| thread_start()).collect();
    let spawned: Vec<bool> = threads.iter().map(|t| member_of(t)).collect();
    assert_eq!(spawned.iter().filter(|&&s| s).count(), 3, "{spawned:?}");
    let turns: Vec<Turn> = threads
        .iter()
        .enumerate()
        .map(|(i, t)| turn_start(t, &format!("POOL-TURN-{i}")).unwrap())
        .collect();
    // Every turn is mid-stream: its first delta arrived, the rest is held by the mock.
    let mut firsts = Vec::new();
    for turn in &turns {
        loop {
            match turn.next(60_000) {
                Next::Event(e) if e.delta.is_some() => break firsts.push(e.delta.unwrap()),
                Next::Event(_) => continue,
                Next::End => panic!("a turn ended before its first delta"),
                Next::Failed(e) => panic!("{}: {}", code_name(e.code), e.message),
            }
        }
    }

    remote.kill();
    for (i, turn) in turns.iter().enumerate() {
        if spawned[i] {
            continue;
        }
        let err = loop {
            match turn.next(60_000) {
                Next::Event(_) => continue,
                Next::End => panic!("turn {i} on the killed member completed"),
                Next::Failed(e) => break e,
            }
        };
        assert_eq!(err.code, CODEX_ERR_TRANSPORT, "turn {i}: {}", err.message);
    }
    // The spawned member never noticed: released, its turns finish with their whole text.
    env.release(None);
    for (i, turn) in turns.iter().enumerate() {
        if !spawned[i] {
            continue;
        }
        let rest: String = deltas(&turn.collect()).concat();
        assert_eq!(format!("{}{rest}", firsts[i]), texts[i], "turn {i}");
    }
    // The killed member is down; a new thread lands on the survivor, which keeps working.
    let mut down = 0;
    for i in 0..2 {
        if !unsafe { codex_pool_member_healthy(pool, i) } {
            down += 1;
        }
    }
    assert_eq!(down, 1);
    let thread = thread_start();
    assert!(member_of(&thread), "the new thread went to the dead member");
    let after = turn_start(&thread, "AFTER-THE-KILL").unwrap().run();
    assert_eq!(after.final_answer.as_deref(), Some("The survivor answers."));
    // A thread of the dead member is refused with the reason, not moved.
    let dead = threads.iter().zip(&spawned).find(|(_, &s)| !s).unwrap().0;
    let err = turn_start(dead, "x").err().expect("refused");
    assert_eq!(err.code, CODEX_ERR_TRANSPORT);
    assert!(err.message.contains("pool member"), "{}", err.message);
    drop(turns);
    unsafe { codex_pool_free(pool) };
}
