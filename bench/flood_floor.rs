//! The floors of the flood benchmark: the same fake, the same flood, read by one thread that does
//! the least a client could do, timed like `bench_events flood` (from the last `turn/start` until
//! every turn's `turn/completed` has been read).
//!
//!   flood_floor value|raw|threads|starts FAKE_SERVER TURNS DELTAS_PER_TURN
//!
//! `value`: every line parsed into a `serde_json::Value`, each delta checked (its turn id and its
//! text are strings) and counted — a plain client that routes nothing to anyone. `raw`: the bytes
//! only, lines counted with memchr — the pipe itself. `threads`: `value`, then each delta (checked
//! by the reader, as in `value`) passed on as one byte to its turn's own thread (a queue, a mutex
//! and a condition variable per turn; each waiting thread woken once per read batch): the parse
//! plus what it costs to wake a blocked thread per turn, as polling with a pthread per turn does. All read like the
//! library: the pipe enlarged to 1 MiB (as the library does on Linux), 1 MiB reads.
//! `starts`: `value`, with the clock started before the first `turn/start` and every
//! `turn/start` written at once (by a second thread, so neither pipe fills while the other
//! waits), their answers parsed in the same pass: the floor of `bench/start_turns.c`.

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 || !matches!(args[1].as_str(), "value" | "raw" | "threads" | "starts") {
        eprintln!("usage: {} value|raw|threads|starts FAKE_SERVER TURNS DELTAS_PER_TURN", args[0]);
        std::process::exit(2);
    }
    let (mode, fake) = (args[1].as_str(), &args[2]);
    let turns: usize = args[3].parse().expect("TURNS");
    let deltas: usize = args[4].parse().expect("DELTAS_PER_TURN");
    let mut child = Command::new(fake)
        .args(["app-server", "--listen", "stdio://"])
        .env("FAKE_SCENARIO", "flood")
        .env("FAKE_TURNS", turns.to_string())
        .env("FAKE_DELTAS", deltas.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fake");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    #[cfg(target_os = "linux")]
    unsafe {
        libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
    let mut reader = BufReader::with_capacity(1 << 20, stdout);

    // The handshake and the threads, then every turn but the last, untimed.
    let mut id = 0u64;
    let mut request = |stdin: &mut std::process::ChildStdin, method: &str, params: &str| {
        id += 1;
        writeln!(stdin, r#"{{"id":{id},"method":"{method}","params":{params}}}"#).unwrap();
        stdin.flush().unwrap();
        id
    };
    let init =
        request(&mut stdin, "initialize", r#"{"clientInfo":{"name":"floor","version":"0"}}"#);
    await_response(&mut reader, init);
    writeln!(stdin, r#"{{"method":"initialized"}}"#).unwrap();
    let mut threads = Vec::with_capacity(turns);
    for _ in 0..turns {
        let id = request(&mut stdin, "thread/start", "{}");
        let v = await_response(&mut reader, id);
        threads.push(v["result"]["thread"]["id"].as_str().unwrap().to_owned());
    }
    let turn_params =
        |t: &str| format!(r#"{{"threadId":"{t}","input":[{{"type":"text","text":"flood"}}]}}"#);
    let mut turn_ids = HashMap::with_capacity(turns);
    let mut turn_id =
        |v: Value| turn_ids.insert(v["result"]["turn"]["id"].to_string(), turn_ids.len());
    let untimed = if mode == "starts" { 0 } else { turns - 1 };
    for thread in &threads[..untimed] {
        let id = request(&mut stdin, "turn/start", &turn_params(thread));
        turn_id(await_response(&mut reader, id));
    }
    let consumers = (mode == "threads").then(|| Consumers::start(turns));
    let started = Instant::now();
    let mut writer = None;
    if mode == "starts" {
        let lines: Vec<String> = threads
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let id = id + 1 + i as u64;
                format!(r#"{{"id":{id},"method":"turn/start","params":{}}}"#, turn_params(t))
            })
            .collect();
        writer = Some(std::thread::spawn(move || {
            for line in lines {
                writeln!(stdin, "{line}").unwrap();
            }
            stdin.flush().unwrap();
            stdin
        }));
    } else {
        let last = request(&mut stdin, "turn/start", &turn_params(&threads[turns - 1]));
        turn_id(await_response(&mut reader, last));
    }

    // The flood: turns * deltas delta lines, then one turn/completed per turn.
    let lines_wanted = turns * (deltas + 1);
    let (mut lines, mut got_deltas, mut completed) = (0usize, 0usize, 0usize);
    if mode == "raw" {
        let mut buf = vec![0u8; 1 << 20];
        // What the BufReader already holds first.
        let held = reader.buffer().to_vec();
        lines += memchr::memchr_iter(b'\n', &held).count();
        let mut pipe = reader.into_inner();
        while lines < lines_wanted {
            let n = pipe.read(&mut buf).unwrap();
            assert!(n > 0, "the fake ended early");
            lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        }
        got_deltas = turns * deltas;
        completed = turns;
    } else if let Some(consumers) = consumers {
        let mut line = Vec::with_capacity(4096);
        let mut owed = Vec::new();
        let mut routed_completions = 0;
        while routed_completions < turns {
            line.clear();
            assert!(reader.read_until(b'\n', &mut line).unwrap() > 0, "the fake ended early");
            lines += 1;
            let v: Value = serde_json::from_slice(&line).expect("a JSON line");
            let (turn, what) = match v.get("method").and_then(Value::as_str) {
                Some("item/agentMessage/delta") => {
                    let p = &v["params"];
                    let delta = if p["delta"].is_string() { DELTA } else { OTHER };
                    (p["turnId"].to_string(), delta)
                }
                Some("turn/completed") => {
                    routed_completions += 1;
                    (v["params"]["turn"]["id"].to_string(), COMPLETED)
                }
                _ => continue,
            };
            let slot = &consumers.slots[turn_ids[&turn]];
            let mut queue = slot.queue.lock().unwrap();
            queue.events.push_back(what);
            if queue.waiting && !queue.woken {
                queue.woken = true;
                owed.push(slot.clone());
            }
            drop(queue);
            if reader.buffer().is_empty() {
                owed.drain(..).for_each(|slot| slot.ready.notify_one());
            }
        }
        owed.drain(..).for_each(|slot| slot.ready.notify_one());
        (got_deltas, completed) = consumers.join();
    } else {
        let mut line = Vec::with_capacity(4096);
        while completed < turns {
            line.clear();
            assert!(reader.read_until(b'\n', &mut line).unwrap() > 0, "the fake ended early");
            lines += 1;
            let v: Value = serde_json::from_slice(&line).expect("a JSON line");
            match v.get("method").and_then(Value::as_str) {
                Some("item/agentMessage/delta") => {
                    let p = &v["params"];
                    if p["turnId"].is_string() && p["delta"].is_string() {
                        got_deltas += 1;
                    }
                }
                Some("turn/completed") => completed += 1,
                _ => {}
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(got_deltas, turns * deltas, "deltas");
    let events = got_deltas + completed;
    println!(
        "mode={mode} turns={turns} events={events} seconds={secs:.3} events/s={:.0} lines={lines}",
        events as f64 / secs
    );
    drop(writer.map(|w| w.join().unwrap()));
    let _ = child.kill();
    let _ = child.wait();
}

/// `threads` mode: a thread per turn, blocked until its queue has events.
struct Consumers {
    slots: Vec<Arc<Slot>>,
    threads: Vec<std::thread::JoinHandle<(usize, usize)>>,
}

struct Slot {
    queue: Mutex<Queue>,
    ready: Condvar,
}

const DELTA: u8 = 0;
const COMPLETED: u8 = 1;
const OTHER: u8 = 2;

#[derive(Default)]
struct Queue {
    events: VecDeque<u8>,
    waiting: bool,
    woken: bool,
}

impl Consumers {
    fn start(turns: usize) -> Consumers {
        let slots: Vec<Arc<Slot>> = (0..turns)
            .map(|_| Arc::new(Slot { queue: Mutex::default(), ready: Condvar::new() }))
            .collect();
        let threads = slots
            .iter()
            .map(|slot| {
                let slot = slot.clone();
                std::thread::Builder::new()
                    .stack_size(128 << 10)
                    .spawn(move || Self::consume(&slot))
                    .expect("a consumer thread")
            })
            .collect();
        Consumers { slots, threads }
    }

    /// Takes everything queued at each wake; counts the deltas and ends at turn/completed.
    fn consume(slot: &Slot) -> (usize, usize) {
        let mut deltas = 0;
        let mut taken = VecDeque::new();
        loop {
            let mut queue = slot.queue.lock().unwrap();
            while queue.events.is_empty() {
                queue.waiting = true;
                queue = slot.ready.wait(queue).unwrap();
                queue.waiting = false;
                queue.woken = false;
            }
            std::mem::swap(&mut queue.events, &mut taken);
            drop(queue);
            for what in taken.drain(..) {
                match what {
                    COMPLETED => return (deltas, 1),
                    DELTA => deltas += 1,
                    _ => {}
                }
            }
        }
    }

    fn join(self) -> (usize, usize) {
        self.threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// Reads until the response to request `want` (skipping notifications) and returns it.
fn await_response(reader: &mut BufReader<std::process::ChildStdout>, want: u64) -> Value {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the fake ended");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v.get("id").and_then(Value::as_u64) == Some(want) && v.get("method").is_none() {
            return v;
        }
    }
}
