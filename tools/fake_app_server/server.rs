//! The requests of the client, and the answers to the fake's own requests.

use crate::config::config;
use crate::json::{obj, Json};
use crate::message::{py_str, Message, Params};
use crate::output::send;
use crate::turn::{note, Events, Turn};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

pub struct Server {
    pub state: Mutex<State>,
    /// Signalled when an answer to one of the fake's requests arrives.
    pub answered: Condvar,
    /// Signalled when a turn/start arrives in scenario `scripted`.
    pub started: Condvar,
    initialized: AtomicBool,
    /// The prebuilt flood (scenario `flood`).
    pub flood_blob: Option<Vec<u8>>,
    pub flood_started: AtomicI64,
}

#[derive(Default)]
pub struct State {
    threads: u64,
    turns: u64,
    /// The running turn of each thread, by thread id.
    pub active: HashMap<String, Arc<Turn>>,
    /// Ids given to the fake's own requests so far.
    pub requests: i64,
    /// Answers to the fake's requests, in arrival order.
    pub answers: Vec<Message>,
    /// The turnId (as sent) of every turn/interrupt received.
    interrupts: Vec<Json>,
    /// Streams handed to the round robin of `interleaved`, not yet picked up by it.
    pub pending_streams: Vec<(Arc<Turn>, Events)>,
    pub emitter_started: bool,
    /// The ids of the turn/starts received in scenario `scripted`, in order.
    pub starts: Vec<Json>,
    /// thread/starts with `"fakeHold": true`, unanswered until `test/release_held`.
    held_starts: Vec<Json>,
}

pub fn result(rid: &Json, result: Json) -> io::Result<()> {
    send(&obj! { "id" => rid.clone(), "result" => result })
}

pub fn error(rid: &Json, code: i64, message: &str, data: Option<Json>) -> io::Result<()> {
    let mut err = vec![("code", Json::Int(code)), ("message", message.into())];
    err.extend(data.map(|data| ("data", data)));
    send(&obj! { "id" => rid.clone(), "error" => Json::Obj(err) })
}

/// A server that started but does not answer `initialize`: waits while `file` exists (the
/// test holds it), having written its pid into it so the test knows the hold has begun. Gives
/// up after the hold timeout, saying so on stderr, so nothing hangs for good.
fn hold_initialize(file: &std::path::Path) {
    use std::io::Write;
    // Never created here: a file the test removed already (released) must stay removed.
    let opened = std::fs::OpenOptions::new().write(true).truncate(true).open(file);
    if opened.and_then(|mut f| f.write_all(std::process::id().to_string().as_bytes())).is_err() {
        return; // no file: released before the hold began
    }
    let deadline = std::time::Instant::now() + config().hold_timeout();
    while file.exists() {
        if std::time::Instant::now() >= deadline {
            crate::output::log(&format!(
                "initialize held {} s while {} exists; answering",
                config().hold_timeout_s,
                file.display()
            ));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

impl Server {
    pub fn new() -> Server {
        Server {
            state: Mutex::new(State::default()),
            answered: Condvar::new(),
            started: Condvar::new(),
            initialized: AtomicBool::new(false),
            flood_blob: (config().scenario == "flood").then(crate::flood::build),
            flood_started: AtomicI64::new(0),
        }
    }

    /// One message of the client. An error is a failed write to stdout.
    pub fn handle(&'static self, msg: Message) -> io::Result<()> {
        let Some(method) = msg.value.get("method") else {
            // An answer to a request of the fake.
            self.state.lock().unwrap().answers.push(msg);
            self.answered.notify_all();
            return Ok(());
        };
        if msg.get("id").is_none() {
            return Ok(()); // a notification (initialized)
        }
        let rid = msg.raw("id");
        let params = msg.params();
        // A method that is no string names no handler (the former Python fake crashed on one).
        let method = method.as_str().map_or_else(|| method.to_string(), str::to_owned);
        if method == "turn/interrupt" {
            self.state.lock().unwrap().interrupts.push(params.raw("turnId"));
        }
        if config().ignored.contains(&method) {
            return Ok(());
        }
        if method == "initialize" {
            if self.initialized.swap(true, Ordering::SeqCst) {
                return error(&rid, -32600, "Already initialized", None);
            }
            if let Some(file) = &config().hold_initialize {
                hold_initialize(file);
            }
            let info = obj! {
                "userAgent" => "fake/0.0.1", "codexHome" => "/tmp/fake", "platformFamily" => "unix",
                "platformOs" => "linux",
            };
            return result(&rid, info);
        }
        if !self.initialized.load(Ordering::SeqCst) {
            return error(&rid, -32600, "Not initialized", None);
        }
        if let Some(answered) = crate::threads::handle(&method, &rid, &params) {
            return answered;
        }
        // Handlers are found by the method with "/" read as "_", as the former Python fake's do_*
        // methods were (so "test_echo" is test/echo too).
        match method.replace('/', "_").as_str() {
            "test_echo" => result(&rid, params.raw),
            "test_hang" => Ok(()),
            "test_stderr_flood" => crate::stderr_flood::stderr_flood(&rid),
            "test_interrupts" => {
                let ids = self.state.lock().unwrap().interrupts.clone();
                result(&rid, obj! { "turnIds" => ids })
            }
            // Like test/hang, but says it got the request first, so a test knows it is pending.
            "test_hang_notify" => send(&note("test/hanging", obj! { "requestId" => rid })),
            "test_release" => self.release(&rid, &params),
            "test_script" => self.script(rid, &params),
            // Every answer to the fake's own requests (or to scripted ones), as sent.
            "test_answers" => {
                let answers: Vec<Json> = {
                    let state = self.state.lock().unwrap();
                    state.answers.iter().map(|m| Json::Raw(m.text.trim().to_owned())).collect()
                };
                result(&rid, obj! { "answers" => answers })
            }
            "test_overloaded" => {
                let err = obj! {
                    "code" => -32001, "message" => "Server overloaded; retry later.",
                    "data" => Json::Null,
                };
                send(&obj! { "id" => rid, "error" => err })
            }
            "test_error_with_data" => {
                error(&rid, -32602, "Invalid params", Some(obj! { "field" => "x" }))
            }
            "model_list" => {
                let model = obj! { "id" => "fake-model", "model" => "fake-model" };
                result(&rid, obj! { "data" => vec![model], "nextCursor" => Json::Null })
            }
            "thread_list" => result(&rid, obj! { "data" => vec![], "nextCursor" => Json::Null }),
            "thread_start" if params.get("fakeHold").is_some() => {
                self.state.lock().unwrap().held_starts.push(rid);
                Ok(())
            }
            "thread_start" => self.thread_start(&rid),
            "test_release_held" => {
                let held = std::mem::take(&mut self.state.lock().unwrap().held_starts);
                for start in &held {
                    self.thread_start(start)?;
                }
                result(&rid, obj! { "released" => held.len() as i64 })
            }
            "turn_start" => self.turn_start(rid, &params),
            // A review runs as a turn: in scenario `scripted` it is a start like turn/start.
            "review_start" if config().scenario == "scripted" => self.start_scripted(rid),
            "turn_interrupt" => {
                if let Some(turn) = self.active_turn(&params) {
                    if params.get("turnId").and_then(|v| v.as_str()) == Some(&turn.turn_id) {
                        turn.interrupt();
                    }
                }
                result(&rid, obj! {})
            }
            "turn_steer" => match self.active_turn(&params) {
                Some(turn) if params.str("expectedTurnId") == Some(&turn.turn_id) => {
                    turn.release.set();
                    result(&rid, obj! { "turnId" => &turn.turn_id })
                }
                _ => error(&rid, -32600, "no active turn to steer", None),
            },
            _ => error(&rid, -32600, &format!("Invalid request: unknown variant `{method}`"), None),
        }
    }

    /// The running turn of the params' threadId.
    fn active_turn(&self, params: &Params) -> Option<Arc<Turn>> {
        let thread = params.str("threadId")?;
        self.state.lock().unwrap().active.get(thread).cloned()
    }

    /// Lets held turns go on: the one with this turnId, or every running turn.
    fn release(&self, rid: &Json, params: &Params) -> io::Result<()> {
        let wanted = params.get("turnId");
        let turns: Vec<Arc<Turn>> = {
            let state = self.state.lock().unwrap();
            state
                .active
                .values()
                .filter(|t| wanted.is_none_or(|w| w.as_str() == Some(&t.turn_id)))
                .cloned()
                .collect()
        };
        for turn in &turns {
            turn.release.set();
        }
        let mut ids: Vec<&str> = turns.iter().map(|t| t.turn_id.as_str()).collect();
        ids.sort_unstable();
        result(rid, obj! { "released" => ids.into_iter().map(Json::from).collect::<Vec<_>>() })
    }

    fn thread_start(&self, rid: &Json) -> io::Result<()> {
        let tid = {
            let mut state = self.state.lock().unwrap();
            state.threads += 1;
            format!("{}{}", config().thread_prefix, state.threads)
        };
        crate::threads::started(&tid);
        // The whole shape the real server answers, so typed clients (the Python SDK) accept it.
        let thread = obj! {
            "id" => &tid, "preview" => "", "modelProvider" => "fake", "cliVersion" => "0.0.1",
            "createdAt" => 1764000000, "updatedAt" => 1764000000, "cwd" => "/tmp",
            "ephemeral" => true, "sessionId" => format!("sess_{tid}"), "source" => "appServer",
            "status" => obj! { "type" => "idle" }, "turns" => vec![],
        };
        result(
            rid,
            obj! {
                "thread" => thread, "model" => "fake-model", "modelProvider" => "fake",
                "approvalPolicy" => "never", "approvalsReviewer" => "user", "cwd" => "/tmp",
                "sandbox" => obj! { "type" => "dangerFullAccess" },
            },
        )?;
        send(&note("thread/started", obj! { "thread" => obj! { "id" => tid } }))
    }

    fn turn_start(&'static self, rid: Json, params: &Params) -> io::Result<()> {
        let prefix = &config().thread_prefix;
        let tid = params.get("threadId");
        let turn = {
            let mut state = self.state.lock().unwrap();
            // Only a thread this fake started: PREFIX and a number from 1, no leading zero.
            let number = tid.and_then(|t| t.as_str()).and_then(|t| t.strip_prefix(prefix.as_str()));
            let known = number.is_some_and(|n| {
                !n.is_empty()
                    && !n.starts_with('0')
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && n.parse::<u64>().is_ok_and(|n| n <= state.threads)
            });
            let (Some(tid), Some(number), true) = (tid.and_then(|t| t.as_str()), number, known)
            else {
                drop(state);
                return error(&rid, -32600, &format!("thread not found: {}", py_str(tid)), None);
            };
            state.turns += 1;
            // The flood is built before any turn starts, so its turn ids follow the threads'.
            let number = if config().scenario == "flood" {
                number.to_owned()
            } else {
                state.turns.to_string()
            };
            let turn =
                Arc::new(Turn::new(tid.to_owned(), format!("turn_{number}"), &input_text(params)));
            state.active.insert(tid.to_owned(), turn.clone());
            turn
        };
        self.run_scenario(rid, turn)
    }
}

/// The text of a turn/start input, its text items joined.
fn input_text(params: &Params) -> String {
    let Some(items) = params.get("input").and_then(|v| v.as_array()) else {
        return String::new();
    };
    let texts: Vec<&str> = items
        .iter()
        .filter(|i| i.is_object())
        .map(|i| i.get("text").and_then(|t| t.as_str()).unwrap_or(""))
        .collect();
    texts.join(" ")
}
