//! What a turn/start does in each FAKE_SCENARIO (README.md has the table).

use crate::config::config;
use crate::json::{obj, python_dumps, Json};
use crate::message::id_is;
use crate::output::{close_stdout, log, send, send_raw};
use crate::server::{result, Server};
use crate::turn::{note, Events, Kind, Turn};
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The pause before the crash-like exits, so that what was written reaches the client first.
const BEFORE_EXIT: Duration = Duration::from_millis(50);

/// Runs `body` on a thread of its own; a failed write to stdout ends only that thread.
fn spawn(body: impl FnOnce() -> io::Result<()> + Send + 'static) {
    thread::spawn(move || {
        if let Err(e) = body() {
            log(&format!("stdout: {e}"));
        }
    });
}

fn turn_response(rid: &Json, turn: &Turn) -> io::Result<()> {
    let body = obj! { "id" => &turn.turn_id, "status" => "inProgress", "items" => vec![] };
    result(rid, obj! { "turn" => body })
}

/// Sends the first `n` standard messages of a turn.
fn send_first(turn: &Turn, n: usize) -> io::Result<()> {
    for (_, line) in turn.events().into_iter().take(n) {
        send_raw(line.as_bytes())?;
    }
    Ok(())
}

impl Server {
    pub fn run_scenario(&'static self, rid: Json, turn: Arc<Turn>) -> io::Result<()> {
        match config().scenario.as_str() {
            "normal" => {
                turn_response(&rid, &turn)?;
                spawn(move || self.stream(&turn, turn.events()));
                Ok(())
            }
            "silent" => {
                turn_response(&rid, &turn)?;
                send(&turn.started())
            }
            "early" => {
                self.stream(&turn, turn.events())?;
                turn_response(&rid, &turn)
            }
            "interleaved" => self.interleaved(&rid, turn),
            "scripted" => self.start_scripted(rid),
            "crash" => {
                turn_response(&rid, &turn)?;
                send_first(&turn, 4)?; // started, item/started, two deltas
                for i in 1..=3 {
                    log(&format!("fatal line {i}"));
                }
                thread::sleep(BEFORE_EXIT);
                std::process::exit(3)
            }
            "close_stdout" => {
                turn_response(&rid, &turn)?;
                send_first(&turn, 3)?;
                for i in 1..=3 {
                    log(&format!("fatal line {i}"));
                }
                close_stdout();
                thread::sleep(config().linger);
                std::process::exit(0)
            }
            "orphan_pipe" => orphan_pipe(&rid, &turn),
            "garbage" => self.garbage(&rid, turn),
            "late_event" => {
                turn_response(&rid, &turn)?;
                spawn(move || {
                    self.stream(&turn, turn.events())?;
                    thread::sleep(BEFORE_EXIT);
                    let params =
                        turn.ids(vec![("itemId", "cmd_late".into()), ("delta", "late".into())]);
                    send(&note("item/commandExecution/outputDelta", params))
                });
                Ok(())
            }
            "approval" => {
                turn_response(&rid, &turn)?;
                spawn(move || self.approval(&turn));
                Ok(())
            }
            "flood" => self.flood(&rid, &turn),
            other => {
                log(&format!("no such FAKE_SCENARIO: {other}"));
                std::process::exit(1)
            }
        }
    }

    /// Sends `events` in order, waiting while the turn is held; an interrupt ends the stream
    /// with an interrupted turn/completed in place of its next delta or completion.
    fn stream(&self, turn: &Arc<Turn>, events: Events) -> io::Result<()> {
        for (kind, line) in events {
            turn.wait_while_held();
            if turn.interrupted() && matches!(kind, Kind::Delta | Kind::Completed) {
                send(&turn.completed("interrupted"))?;
                break;
            }
            send_raw(line.as_bytes())?;
            turn.sent(kind);
            if !config().delay.is_zero() {
                thread::sleep(config().delay);
            }
        }
        let mut state = self.state.lock().unwrap();
        if state.active.get(&turn.thread_id).is_some_and(|t| Arc::ptr_eq(t, turn)) {
            state.active.remove(&turn.thread_id);
        }
        Ok(())
    }

    /// turn/started before the response, then the rest through the round robin.
    fn interleaved(&'static self, rid: &Json, turn: Arc<Turn>) -> io::Result<()> {
        let mut events = turn.events();
        let (_, started) = events.remove(0);
        send_raw(started.as_bytes())?;
        turn_response(rid, &turn)?;
        let mut state = self.state.lock().unwrap();
        state.pending_streams.push((turn, events));
        if !state.emitter_started {
            state.emitter_started = true;
            spawn(move || self.round_robin());
        }
        Ok(())
    }

    /// One message of each running stream in turn, `FAKE_DELAY_MS` between rounds; a held
    /// stream is skipped, the others go on. Runs for the life of the process.
    fn round_robin(&self) -> io::Result<()> {
        let mut streams: Vec<(Arc<Turn>, Events)> = Vec::new();
        loop {
            streams.append(&mut self.state.lock().unwrap().pending_streams);
            let mut i = 0;
            while i < streams.len() {
                let (turn, events) = &mut streams[i];
                if events.is_empty() {
                    // Ended in an earlier round.
                    streams.remove(i);
                    continue;
                }
                if turn.interrupted() {
                    events.clear();
                    send(&turn.completed("interrupted"))?;
                } else if !turn.holding() {
                    let (kind, line) = events.remove(0);
                    send_raw(line.as_bytes())?;
                    turn.sent(kind);
                }
                i += 1;
            }
            if config().delay.is_zero() {
                thread::yield_now();
            } else {
                thread::sleep(config().delay);
            }
        }
    }

    fn garbage(&self, rid: &Json, turn: Arc<Turn>) -> io::Result<()> {
        turn_response(rid, &turn)?;
        let mut events = turn.events();
        let rest = events.split_off(2);
        for (_, line) in &events {
            send_raw(line.as_bytes())?;
        }
        send_raw(b"this is not json\n")?;
        send_raw(b"{\"broken\": \n")?;
        send_raw(b"\n")?;
        send_raw(b"[1,2]\n")?;
        send(&turn.delta("x".repeat(2 * 1024 * 1024)))?;
        self.stream(&turn, rest)
    }

    /// Asks an approval and an unknown request, waits for both answers, and reports them in the
    /// completed items.
    fn approval(&self, turn: &Turn) -> io::Result<()> {
        send(&turn.started())?;
        let (approval_id, unknown_id) = {
            let mut state = self.state.lock().unwrap();
            state.requests += 2;
            (state.requests - 2, state.requests - 1)
        };
        let decisions = vec!["accept".into(), "decline".into(), "cancel".into()];
        let params = turn.ids(vec![
            ("itemId", "cmd_1".into()),
            ("command", "echo hi".into()),
            ("cwd", "/tmp".into()),
            ("availableDecisions", Json::Arr(decisions)),
        ]);
        let method = "item/commandExecution/requestApproval";
        send(&obj! { "id" => approval_id, "method" => method, "params" => params })?;
        let method = "fake/unknownRequest";
        send(&obj! { "id" => unknown_id, "method" => method, "params" => turn.ids(vec![]) })?;

        // The answers, the latest for each id (a dict keyed by id in the Python fake).
        let (decision, received, unknown_text) = {
            let answer = |state: &crate::server::State, id| {
                state.answers.iter().rposition(|m| m.value.get("id").is_some_and(|v| id_is(v, id)))
            };
            let mut state = self.state.lock().unwrap();
            let (a, u) = loop {
                if let (Some(a), Some(u)) =
                    (answer(&state, approval_id), answer(&state, unknown_id))
                {
                    break (a, u);
                }
                state = self.answered.wait(state).unwrap();
            };
            let approval = &state.answers[a];
            let decision = approval.value.get("result").and_then(|r| r.get("decision")).cloned();
            (decision, approval.raw("result"), python_dumps(&state.answers[u].text))
        };
        let status = match decision.as_ref().and_then(|d| d.as_str()) {
            Some("decline") => "declined",
            Some("accept") => "completed",
            _ => "failed",
        };
        let cmd = obj! {
            "type" => "commandExecution", "id" => "cmd_1", "command" => "echo hi",
            "status" => status, "decisionReceived" => received,
        };
        send(&note("item/completed", turn.ids(vec![("item", cmd), ("completedAtMs", 1.into())])))?;
        let msg = obj! {
            "type" => "agentMessage", "id" => format!("msg_{}", turn.turn_id),
            "phase" => "final_answer", "text" => format!("unknown-request-answer:{unknown_text}"),
        };
        send(&note("item/completed", turn.ids(vec![("item", msg), ("completedAtMs", 1.into())])))?;
        for request in [approval_id, unknown_id] {
            let params = obj! { "threadId" => &turn.thread_id, "requestId" => request };
            send(&note("serverRequest/resolved", params))?;
        }
        send(&turn.completed("completed"))
    }

    /// Once FAKE_TURNS turns have started, the whole flood; with FAKE_CRASH_AT, part of it and
    /// exit 4 (mid-line).
    fn flood(&self, rid: &Json, turn: &Turn) -> io::Result<()> {
        turn_response(rid, turn)?;
        let started = self.flood_started.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if started == config().flood_turns {
            let blob = self.flood_blob.as_deref().unwrap_or_default();
            crate::flood::write(blob, config().crash_at)?;
        }
        Ok(())
    }
}

/// A grandchild inherits stdout and stderr and outlives this process, so the client sees no EOF
/// when it exits: only the exit itself tells. The grandchild is this program again, sleeping
/// (`--sleep`), so no other program is needed on any platform.
fn orphan_pipe(rid: &Json, turn: &Turn) -> io::Result<()> {
    let orphan = std::env::current_exe()
        .and_then(|exe| {
            std::process::Command::new(exe).arg("--sleep").arg(&config().orphan_seconds).spawn()
        })
        .unwrap_or_else(|e| {
            log(&format!("cannot start the orphan: {e}"));
            std::process::exit(1)
        });
    turn_response(rid, turn)?;
    send_first(turn, 3)?;
    log(&format!("exiting, the orphan (pid {}) keeps the pipes", orphan.id()));
    thread::sleep(BEFORE_EXIT);
    std::process::exit(5)
}
