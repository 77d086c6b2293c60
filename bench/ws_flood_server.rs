//! A WebSocket flood server for the transport benchmark: the "flood" scenario of the scripted
//! fake (tools/fake_app_server), over `ws://` or `unix://` instead of stdio.
//!
//!   ws_flood_server ws://127.0.0.1:0 | unix:///path.sock  TURNS DELTAS_PER_TURN
//!
//! Prints the URL to connect to on stdout, serves one client, then exits. It answers
//! `initialize`, `thread/start` (threads thr_1, thr_2, ...) and `turn/start` (turn_N on thr_N);
//! once TURNS turns have started it writes every turn's deltas interleaved, then each turn's
//! completion, one message per text frame, from frames built before the first client came, as
//! the fake writes a prebuilt blob. Then it reads until the client closes.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::{Message, WebSocket};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: {} ws://127.0.0.1:0|unix:///path.sock TURNS DELTAS_PER_TURN", args[0]);
        std::process::exit(2);
    }
    let turns: usize = args[2].parse().expect("TURNS");
    let deltas: usize = args[3].parse().expect("DELTAS_PER_TURN");
    let flood = build_flood(turns, deltas);
    if let Some(addr) = args[1].strip_prefix("ws://") {
        let listener = TcpListener::bind(addr.trim_end_matches('/')).expect("bind");
        println!("ws://{}", listener.local_addr().unwrap());
        let (stream, _) = listener.accept().expect("accept");
        stream.set_nodelay(true).unwrap();
        serve(stream, turns, &flood);
    } else if let Some(path) = args[1].strip_prefix("unix://") {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).expect("bind");
        println!("unix://{path}");
        let (stream, _) = listener.accept().expect("accept");
        serve(stream, turns, &flood);
        let _ = std::fs::remove_file(path);
    } else {
        eprintln!("not a ws:// or unix:// URL: {}", args[1]);
        std::process::exit(2);
    }
}

/// Every turn's deltas interleaved, then each turn's completion: the fake's flood, framed.
fn build_flood(turns: usize, deltas: usize) -> Vec<u8> {
    let mut blob = Vec::new();
    let mut frame = |text: String| {
        Frame::message(text.into_bytes(), OpCode::Data(Data::Text), true)
            .format(&mut blob)
            .expect("into a Vec");
    };
    for i in 0..deltas {
        for t in 1..=turns {
            frame(format!(
                "{{\"method\":\"item/agentMessage/delta\",\"params\":{{\"threadId\":\"thr_{t}\",\
                 \"turnId\":\"turn_{t}\",\"itemId\":\"msg_turn_{t}\",\"delta\":\"tok{i:06} \"}},\
                 \"emittedAtMs\":1764000000000}}"
            ));
        }
    }
    for t in 1..=turns {
        frame(
            json!({"method": "turn/completed", "params": {"threadId": format!("thr_{t}"),
                   "turn": {"id": format!("turn_{t}"), "status": "completed", "items": [],
                            "error": null}},
                   "emittedAtMs": 1764000000000u64})
            .to_string(),
        );
    }
    blob
}

fn serve<S: Read + Write>(stream: S, turns: usize, flood: &[u8]) {
    let mut ws = tungstenite::accept(stream).expect("WebSocket upgrade");
    let (mut threads, mut started) = (0, 0);
    loop {
        let text = match ws.read() {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        };
        let msg: Value = serde_json::from_str(text.as_str()).expect("JSON");
        let Some(id) = msg.get("id").cloned() else { continue }; // initialized
        let result = match msg["method"].as_str().unwrap_or("") {
            "initialize" => json!({"userAgent": "ws-flood/0", "codexHome": "/nowhere",
                                   "platformFamily": "unix", "platformOs": "linux"}),
            "thread/start" => {
                threads += 1;
                json!({"thread": {"id": format!("thr_{threads}")}, "model": "flood"})
            }
            "turn/start" => {
                started += 1;
                let thread = msg["params"]["threadId"].as_str().unwrap_or("thr_0");
                let turn = format!("turn_{}", &thread[4..]);
                json!({"turn": {"id": turn, "status": "inProgress", "items": []}})
            }
            other => {
                send(&mut ws, json!({"id": id, "error": {"code": -32600, "message": other}}));
                continue;
            }
        };
        send(&mut ws, json!({"id": id, "result": result}));
        if started == turns && msg["method"] == "turn/start" {
            for chunk in flood.chunks(1 << 20) {
                if ws.get_mut().write_all(chunk).is_err() {
                    return;
                }
            }
            let _ = ws.get_mut().flush();
        }
    }
}

fn send<S: Read + Write>(ws: &mut WebSocket<S>, value: Value) {
    ws.send(Message::text(value.to_string())).expect("send");
}
