//! A scripted stand-in for `codex app-server`, for what the real server won't do on demand
//! (README.md in this folder).
//!
//! Spawned by the library like the real binary, `fake_app_server [-c k=v ...] app-server
//! --listen stdio://` (all arguments are ignored), it speaks the same JSON-RPC lines on stdio.
//! FAKE_SCENARIO picks the behaviour; the other FAKE_* variables tune it (config.rs). A turn
//! whose input text contains "hold-after:N" holds its stream after N deltas until it is
//! interrupted, steered or released.
//!
//! `fake_app_server --sleep SECONDS` only sleeps: the orphan the `orphan_pipe` scenario leaves
//! behind.
//!
//! It replaces a Python fake and writes what that one wrote, byte for byte where the client
//! could tell (hence the Python names in comments: json.dumps, repr, a dict's keys).

mod config;
mod flood;
mod json;
mod message;
mod output;
mod scenarios;
mod script;
mod server;
mod stderr_flood;
mod threads;
mod turn;

use message::{Message, Unusable};
use output::{bytes_repr, log};
use server::Server;
use std::io::{self, BufRead};

fn main() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == "--sleep") {
        let seconds = args.next().and_then(|s| s.to_str()?.trim().parse::<f64>().ok());
        let Some(seconds) = seconds else {
            log("--sleep takes a number of seconds");
            std::process::exit(2)
        };
        std::thread::sleep(config::seconds(seconds));
        return;
    }

    let cfg = config::config();
    for i in 0..cfg.stderr_lines {
        log(&format!("startup line {i}"));
    }
    // Shared with the streaming threads for the life of the process.
    let server: &'static Server = Box::leak(Box::new(Server::new()));

    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                log(&format!("stdin: {e}"));
                std::process::exit(1)
            }
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        let msg = match Message::parse(&line) {
            Ok(msg) => msg,
            Err(Unusable::NotJson) => {
                let head = &line[..line.len().min(200)];
                log(&format!("unparsable line from the client: {}", bytes_repr(head)));
                continue;
            }
            Err(Unusable::NotObject) => {
                // The Python fake died of these (exit 1) too; a client never sends one.
                let head = &line[..line.len().min(200)];
                log(&format!("not a JSON object from the client: {}", bytes_repr(head)));
                std::process::exit(1)
            }
        };
        // A failed write to stdout (the client is gone) ends the fake, as it ended the Python
        // one.
        if let Err(e) = server.handle(msg) {
            log(&format!("stdout: {e}"));
            std::process::exit(1)
        }
    }
}
