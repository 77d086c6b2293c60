//! A turn: its messages, and the hold of a turn whose input says `hold-after:N`.

use crate::config::config;
use crate::json::{obj, Json};
use crate::output::log;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a streamed message is, for the hold and the interrupt.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Started,
    Delta,
    Completed,
    Other,
}

/// A sticky flag that can be waited for (Python's threading.Event).
pub struct Release {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Release {
    fn new() -> Release {
        Release { set: Mutex::new(false), changed: Condvar::new() }
    }

    pub fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_all();
    }

    fn is_set(&self) -> bool {
        *self.set.lock().unwrap()
    }

    /// Waits until set or `timeout` passes; whether it is set.
    fn wait(&self, timeout: Duration) -> bool {
        let set = self.set.lock().unwrap();
        let (set, _) = self.changed.wait_timeout_while(set, timeout, |set| !*set).unwrap();
        *set
    }
}

/// A turn's messages to stream, as (kind, line) pairs.
pub type Events = Vec<(Kind, String)>;

pub struct Turn {
    pub thread_id: String,
    pub turn_id: String,
    deltas: usize,
    /// "hold-after:N" in the input: the stream stops after N deltas until `release` is set (by
    /// turn/interrupt, turn/steer or test/release) or the hold timeout passes.
    hold_after: Option<usize>,
    interrupted: AtomicBool,
    pub release: Release,
    deltas_sent: AtomicUsize,
    /// When the round robin stops waiting for the release (set when it first finds the hold).
    hold_deadline: Mutex<Option<Instant>>,
}

/// The number after the first `marker` in `text` that has one (a regex `marker(\d+)`).
fn marker(text: &str, marker: &str) -> Option<usize> {
    text.match_indices(marker).find_map(|(at, _)| {
        let rest = &text[at + marker.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // A number too big for usize is one no turn reaches.
        (digits > 0).then(|| rest[..digits].parse().unwrap_or(usize::MAX))
    })
}

/// Milliseconds since the epoch, the `emittedAtMs` of a notification.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A notification.
pub fn note(method: &str, params: Json) -> Json {
    obj! { "method" => method, "params" => params, "emittedAtMs" => now_ms() }
}

/// The turn/completed notification of a turn.
pub fn completed_note(thread_id: &str, turn_id: &str, status: &str) -> Json {
    let turn =
        obj! { "id" => turn_id, "status" => status, "items" => vec![], "error" => Json::Null };
    note("turn/completed", obj! { "threadId" => thread_id, "turn" => turn })
}

fn usage() -> Json {
    let part = || {
        obj! {
            "totalTokens" => 8, "inputTokens" => 5, "cachedInputTokens" => 0, "outputTokens" => 3,
            "reasoningOutputTokens" => 0,
        }
    };
    obj! { "total" => part(), "last" => part(), "modelContextWindow" => 1000 }
}

impl Turn {
    /// A turn of the input `text`, which may carry `deltas=N` and `hold-after:N`.
    pub fn new(thread_id: String, turn_id: String, text: &str) -> Turn {
        Turn {
            thread_id,
            turn_id,
            deltas: marker(text, "deltas=").unwrap_or(config().deltas),
            hold_after: marker(text, "hold-after:"),
            interrupted: AtomicBool::new(false),
            release: Release::new(),
            deltas_sent: AtomicUsize::new(0),
            hold_deadline: Mutex::new(None),
        }
    }

    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.release.set();
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    fn held_back(&self) -> bool {
        self.hold_after.is_some_and(|n| self.deltas_sent.load(Ordering::SeqCst) >= n)
    }

    /// Whether the stream must wait, without blocking (for the round robin).
    pub fn holding(&self) -> bool {
        if !self.held_back() || self.release.is_set() {
            return false;
        }
        let mut deadline = self.hold_deadline.lock().unwrap();
        // The timeout is clamped (config::seconds), so the sum cannot overflow.
        let deadline = *deadline.get_or_insert_with(|| Instant::now() + config().hold_timeout());
        if Instant::now() < deadline {
            return true;
        }
        self.hold_timed_out();
        false
    }

    /// Blocks while the stream must wait (for a turn's own streaming thread).
    pub fn wait_while_held(&self) {
        if self.held_back() && !self.release.wait(config().hold_timeout()) {
            self.hold_timed_out();
        }
    }

    fn hold_timed_out(&self) {
        log(&format!(
            "{} held {:.0} s without interrupt, steer or test/release; going on",
            self.turn_id,
            config().hold_timeout_s
        ));
        self.release.set();
    }

    pub fn sent(&self, kind: Kind) {
        if kind == Kind::Delta {
            self.deltas_sent.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// `{"threadId", "turnId", ...extra}`.
    pub fn ids(&self, extra: Vec<(&'static str, Json)>) -> Json {
        let mut fields =
            vec![("threadId", Json::from(&self.thread_id)), ("turnId", Json::from(&self.turn_id))];
        fields.extend(extra);
        Json::Obj(fields)
    }

    pub fn started(&self) -> Json {
        let turn = obj! { "id" => &self.turn_id, "status" => "inProgress", "items" => vec![] };
        note("turn/started", obj! { "threadId" => &self.thread_id, "turn" => turn })
    }

    pub fn completed(&self, status: &str) -> Json {
        completed_note(&self.thread_id, &self.turn_id, status)
    }

    fn delta_text(&self, i: usize) -> String {
        format!("{}:{i};", self.turn_id)
    }

    pub fn delta(&self, delta: String) -> Json {
        let params = self.ids(vec![
            ("itemId", Json::Str(format!("msg_{}", self.turn_id))),
            ("delta", Json::Str(delta)),
        ]);
        note("item/agentMessage/delta", params)
    }

    /// The standard messages of a turn, as (kind, line) pairs, stamped now.
    pub fn events(&self) -> Events {
        let item_id = format!("msg_{}", self.turn_id);
        let item = obj! { "type" => "agentMessage", "id" => &item_id, "text" => "" };
        let mut events = vec![
            (Kind::Started, self.started().line()),
            (Kind::Other, note("item/started", self.ids(vec![("item", item)])).line()),
        ];
        events
            .extend((0..self.deltas).map(|i| (Kind::Delta, self.delta(self.delta_text(i)).line())));
        let text: String = (0..self.deltas).map(|i| self.delta_text(i)).collect();
        let done = obj! {
            "type" => "agentMessage", "id" => &item_id, "text" => text, "phase" => "final_answer",
        };
        let status = obj! { "threadId" => &self.thread_id, "status" => obj! { "type" => "idle" } };
        events.extend([
            (
                Kind::Other,
                note("item/completed", self.ids(vec![("item", done), ("completedAtMs", 1.into())]))
                    .line(),
            ),
            (
                Kind::Other,
                note("thread/tokenUsage/updated", self.ids(vec![("tokenUsage", usage())])).line(),
            ),
            (Kind::Other, note("thread/status/changed", status).line()),
            (Kind::Completed, self.completed("completed").line()),
        ]);
        events
    }
}
