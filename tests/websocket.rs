//! The WebSocket transport's failure semantics against small WebSocket fakes written here (a
//! close frame, a silent peer, pings, an oversized message, a refused or silent connection) and
//! the checks of remote settings. Portable: these also run on Windows (under wine), where the
//! tests of tests/remote.rs, which need the Python mock model, do not.

mod support;

use codex_app_server::ffi::client::*;
use codex_app_server::ffi::options::*;
use codex_app_server::ffi::*;
use serde_json::json;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;
use support::*;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

/// A WebSocket fake on 127.0.0.1: accepts one connection, answers `initialize`, then runs
/// `script` with the socket. Returns its URL.
fn ws_fake(script: impl FnOnce(&mut tungstenite::WebSocket<TcpStream>) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        let init = next_request(&mut ws).expect("initialize");
        assert_eq!(init["method"], "initialize");
        let result = json!({"userAgent": "ws-fake/0", "codexHome": "/nowhere",
                            "platformFamily": "unix", "platformOs": "linux"});
        ws.send(Message::text(json!({"id": init["id"], "result": result}).to_string())).unwrap();
        script(&mut ws);
    });
    url
}

/// The next JSON-RPC request the fake gets (notifications and pings skipped).
fn next_request(ws: &mut tungstenite::WebSocket<TcpStream>) -> Option<serde_json::Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v.get("id").is_some() {
                    return Some(v);
                }
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn a_close_frame_fails_the_waiter_with_its_code_and_reason() {
    let url = ws_fake(|ws| {
        let request = next_request(ws).unwrap();
        assert_eq!(request["method"], "test/wait");
        // The request is in: close under it.
        let frame = CloseFrame { code: CloseCode::Away, reason: "maintenance window".into() };
        ws.close(Some(frame)).unwrap();
        while ws.read().is_ok() {}
    });
    let client = connect(&url, |_| {}).unwrap();
    let e = client.request("test/wait", None, 60_000).unwrap_err();
    assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
    assert!(
        e.message.contains("1001") && e.message.contains("maintenance window"),
        "{}",
        e.message
    );
    assert!(e.message.contains(&url), "{}", e.message);
}

#[test]
fn a_peer_that_stops_answering_pings_is_given_up_by_the_keepalive() {
    let (hold_tx, hold_rx) = mpsc::channel::<()>();
    let url = ws_fake(move |_ws| {
        // Never reads again, so never answers a ping; holds the connection open until the
        // test ends.
        let _ = hold_rx.recv();
    });
    let client = connect(&url, |o| {
        set(|e| unsafe { codex_options_set_keepalive_ms(o, 50, 200, e) }).unwrap();
    })
    .unwrap();
    let e = client.request("test/never", None, -1).unwrap_err();
    assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
    assert!(e.message.contains("keepalive"), "{}", e.message);
    drop(hold_tx);
}

#[test]
fn pongs_keep_a_quiet_connection_alive() {
    // The fake answers pings (its library does, while it reads) and counts them; after many
    // more pings than the silence limit allows without pongs, a request still gets through.
    let url = ws_fake(|ws| {
        let mut pings = 0;
        loop {
            match ws.read() {
                Ok(Message::Ping(_)) => pings += 1,
                Ok(Message::Text(t)) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["method"] == "test/pings" {
                        let _ = ws.send(Message::text(
                            json!({"id": v["id"], "result": {"pings": pings}}).to_string(),
                        ));
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // The margins are wide so a loaded machine cannot delay a pong past the limit.
    let client = connect(&url, |o| {
        set(|e| unsafe { codex_options_set_keepalive_ms(o, 5, 2000, e) }).unwrap();
    })
    .unwrap();
    loop {
        let answer: serde_json::Value =
            serde_json::from_str(&client.request("test/pings", None, 30_000).unwrap()).unwrap();
        // 1000 pings 5 ms apart span two and a half times the 2005 ms silence limit.
        if answer["pings"].as_u64().unwrap() >= 1000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn close_sends_a_close_frame() {
    let (frame_tx, frame_rx) = mpsc::channel();
    let url = ws_fake(move |ws| loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                let _ = frame_tx.send(frame.map(|f| u16::from(f.code)));
                while ws.read().is_ok() {}
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let client = connect(&url, |_| {}).unwrap();
    unsafe { codex_client_close(client.0) };
    let code = frame_rx.recv_timeout(Duration::from_secs(30)).expect("a close frame");
    assert_eq!(code, Some(1000));
}

#[test]
fn a_message_over_the_limit_ends_the_connection_naming_the_limit() {
    let (frame_tx, frame_rx) = mpsc::channel();
    let url = ws_fake(move |ws| {
        let request = next_request(ws).unwrap();
        let big = "x".repeat(5000);
        ws.send(Message::text(json!({"id": request["id"], "result": big}).to_string())).unwrap();
        loop {
            match ws.read() {
                Ok(Message::Close(frame)) => {
                    let _ = frame_tx.send(frame.map(|f| u16::from(f.code)));
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let client = connect(&url, |o| {
        set(|e| unsafe { codex_options_set_max_line_bytes(o, 1000, e) }).unwrap();
    })
    .unwrap();
    let e = client.request("test/big", None, 60_000).unwrap_err();
    assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
    assert!(e.message.contains("limit of 1000 bytes"), "{}", e.message);
    let code = frame_rx.recv_timeout(Duration::from_secs(30)).expect("a close frame");
    assert_eq!(code, Some(1009), "Message Too Big");
}

#[test]
fn a_refused_connection_is_a_transport_error_naming_the_address() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let e = connect(&format!("ws://127.0.0.1:{port}"), |_| {}).err().expect("refused");
    assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{}", e.message);
    let missing = connect("unix:///nonexistent/codex.sock", |_| {}).err().expect("no socket");
    assert_eq!(code_name(missing.code), "CODEX_ERR_TRANSPORT", "{}", missing.message);
    assert!(missing.message.contains("/nonexistent/codex.sock"), "{}", missing.message);
    if cfg!(windows) {
        assert!(missing.message.contains("not available on Windows"), "{}", missing.message);
    }
}

#[test]
fn a_server_that_never_answers_the_upgrade_times_out_within_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (_silent, _) = listener.accept().unwrap();
        let _ = done_rx.recv(); // holds the connection, says nothing
    });
    let e = connect(&url, |o| {
        set(|e| unsafe { codex_options_set_connect_timeout_ms(o, 300, e) }).unwrap();
    })
    .err()
    .expect("no upgrade answer");
    assert_eq!(code_name(e.code), "CODEX_ERR_TRANSPORT", "{}", e.message);
    assert!(e.message.contains("connect timeout (300 ms)"), "{}", e.message);
    drop(done_tx);
}

#[test]
fn settings_of_a_spawned_server_are_refused_with_a_remote_url() {
    let e = connect("ws://127.0.0.1:9", |o| {
        set(|e| unsafe { codex_options_set_codex_bin(o, cs("/bin/codex").as_ptr(), e) }).unwrap();
    })
    .err()
    .expect("refused");
    assert_eq!(e.code, CODEX_ERR_INVALID_ARGUMENT);
    assert!(e.message.contains("codex binary"), "{}", e.message);
}

#[test]
fn bad_urls_and_tokens_are_invalid_arguments() {
    let o = codex_options_new();
    for (url, names) in [
        ("ws//x", "no scheme"),
        ("http://h:1", "unsupported scheme"),
        ("unix://relative.sock", "absolute"),
        ("ws://h:70000", "not a port"),
    ] {
        let e = set(|e| unsafe { codex_options_set_url(o, cs(url).as_ptr(), e) }).unwrap_err();
        assert_eq!(e.code, CODEX_ERR_INVALID_ARGUMENT);
        assert!(e.message.starts_with("url:") && e.message.contains(names), "{}", e.message);
    }
    let e = set(|e| unsafe { codex_options_set_url(o, std::ptr::null(), e) }).unwrap_err();
    assert!(e.message.contains("url"), "{}", e.message);
    let e = set(|e| unsafe { codex_options_set_auth_token(o, cs("has space-secret").as_ptr(), e) })
        .unwrap_err();
    assert_eq!(e.code, CODEX_ERR_INVALID_ARGUMENT);
    assert!(!e.message.contains("secret"), "the token is not quoted: {}", e.message);
    let e = set(|e| unsafe { codex_options_set_ca_file(o, cs("/nonexistent/ca.pem").as_ptr(), e) })
        .unwrap_err();
    assert!(e.message.contains("/nonexistent/ca.pem"), "{}", e.message);
    unsafe { codex_options_free(o) };
}
