//! After a reconnect: `thread/resume` of each thread the connection was subscribed to (a thread
//! not resumed gets no events), and for a thread with a turn handle, what its snapshot means for
//! the handle. The snapshot is applied by the reader thread in the response's place
//! among the lines (a waiter hook), so the gap event comes before the live tail that follows
//! the response. Per handle:
//! - the turn still runs (`inProgress`): one `codex/gap` event, then the live tail;
//! - it ended while the connection was down (its `turn/completed` is lost for good): the gap
//!   event, then a `turn/completed` made from the snapshot (`"codexGap": true` in its params);
//! - it is not in the snapshot, or the resume failed: the gap event and a `failed` completion
//!   that says why.
//!
//! The gap event's params carry the snapshot's turn (status and the items finished so far), so
//! a program can re-render what it missed; the turn's summary merges those items.

use super::{Link, Reconnector};
use crate::core::error::ErrorKind;
use crate::core::options::Timeout;
use crate::core::routing::event::{Event, EventKind, EventParts};
use crate::core::routing::requests::PendingRequests;
use crate::core::routing::router::{Router, TurnIds, Wakes};
use crate::core::routing::wire::ResponseOutcome;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

const GAP_REASON: &str = "the connection to the app-server dropped: events of this turn were \
                          missed until it was resumed; `turn` holds its state and the items \
                          finished so far";

impl Reconnector {
    /// Resumes each thread this connection was subscribed to: those with a turn handle with
    /// their turns (the snapshot decides what becomes of the handle), the others without. Returns
    /// what became of each (for the `codex/reconnected` event). A turn still starting is resumed
    /// as an idle thread: its `turn/start` failed with the drop, and the start gave the thread
    /// back. Stops at a new drop: the next round resumes them all.
    pub(super) fn resume_all(&self, connection: &dyn Link) -> Vec<Value> {
        let handles: BTreeMap<String, Arc<TurnIds>> = self.router.handles().into_iter().collect();
        let mut threads: BTreeSet<String> = self.subscriptions.all().into_iter().collect();
        threads.extend(handles.keys().cloned());
        let mut resumed = Vec::new();
        for thread in threads {
            let outcome = match handles.get(&thread).filter(|ids| !ids.current().is_empty()) {
                Some(ids) => self.resume_turn(connection, &thread, ids),
                None => self.resume_idle(connection, &thread),
            };
            match outcome {
                Some(report) => resumed.push(report),
                None => break,
            }
        }
        resumed
    }

    /// A thread without a running turn: subscribed again, no snapshot of its turns. `None` on
    /// a new drop.
    fn resume_idle(&self, connection: &dyn Link, thread: &str) -> Option<Value> {
        let params = json!({ "threadId": thread, "excludeTurns": true }).to_string();
        match connection.call("thread/resume", Some(&params), Timeout::Default) {
            Ok(_) => Some(json!({"threadId": thread, "status": "idle"})),
            Err(e) if e.kind == ErrorKind::Transport => None,
            Err(e) => {
                // Gone from the server (an ephemeral thread after a restart), or never used (a
                // thread has no rollout before its first turn): not tried again.
                self.subscriptions.lose(thread, &e.message);
                Some(json!({"threadId": thread, "status": "notResumed", "error": e.message}))
            }
        }
    }

    /// A thread with a turn handle: resumed with its turns, the snapshot applied to the handle.
    /// `None` on a new drop.
    fn resume_turn(
        &self,
        connection: &dyn Link,
        thread: &str,
        ids: &Arc<TurnIds>,
    ) -> Option<Value> {
        let turn = ids.current().to_owned();
        let seen = Arc::new(Mutex::new(None::<String>));
        let hook = {
            let (router, pending) = (self.router.clone(), self.pending.clone());
            let (thread, ids, seen) = (thread.to_owned(), ids.clone(), seen.clone());
            Box::new(move |outcome: &ResponseOutcome<'_>| {
                if let ResponseOutcome::Result(raw) = outcome {
                    let status = apply_snapshot(&router, &pending, &thread, &ids, raw);
                    *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
                }
            })
        };
        let params = json!({ "threadId": thread }).to_string();
        let outcome = connection.call_then("thread/resume", Some(&params), Timeout::Default, hook);
        let status = seen.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (outcome, status) {
            (Ok(_), Some(status)) => {
                Some(json!({"threadId": thread, "turnId": turn, "status": status}))
            }
            (Err(e), _) if e.kind == ErrorKind::Transport => None,
            (outcome, _) => {
                let why = match outcome {
                    Err(e) => format!("thread/resume failed after the reconnect: {}", e.message),
                    Ok(_) => "thread/resume answered without a usable snapshot".to_owned(),
                };
                end_turn(&self.router, &self.pending, thread, &turn, None, "failed", &why);
                Some(json!({"threadId": thread, "turnId": turn, "status": "failed", "error": why}))
            }
        }
    }
}

/// On the reader thread, with the `thread/resume` result: the gap event, and the end of the
/// turn when the snapshot says it ended. Returns the turn's status in the snapshot.
fn apply_snapshot(
    router: &Router,
    pending: &PendingRequests,
    thread: &str,
    ids: &TurnIds,
    raw: &str,
) -> String {
    let turn = ids.current().to_owned();
    let snapshot: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let found = snapshot
        .pointer("/thread/turns")
        .and_then(Value::as_array)
        .and_then(|turns| {
            turns.iter().find(|t| {
                t.get("id").and_then(Value::as_str).is_some_and(|id| ids.all().any(|own| own == id))
            })
        })
        .cloned();
    let Some(found) = found else {
        let why = format!("turn {turn} is not in thread {thread}'s snapshot after the reconnect");
        end_turn(router, pending, thread, &turn, None, "failed", &why);
        return "failed".to_owned();
    };
    let status = found.get("status").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    if status == "inProgress" {
        route(router, gap_event(thread, &turn, &found));
    } else {
        end_turn(router, pending, thread, &turn, Some(found), &status, "");
    }
    status
}

fn gap_event(thread: &str, turn: &str, snapshot_turn: &Value) -> Event {
    let params = json!({
        "threadId": thread,
        "turnId": turn,
        "reason": GAP_REASON,
        "turn": snapshot_turn,
    })
    .to_string();
    Event::new(
        EventKind::Gap,
        &EventParts {
            method: "codex/gap",
            thread_id: Some(thread),
            turn_id: Some(turn),
            params: &params,
            ..Default::default()
        },
    )
}

/// Ends the handle of `turn` with the gap event and a `turn/completed` of `status` made here:
/// from the snapshot's turn when there is one, else with `why` as its error.
fn end_turn(
    router: &Router,
    pending: &PendingRequests,
    thread: &str,
    turn: &str,
    snapshot_turn: Option<Value>,
    status: &str,
    why: &str,
) {
    let body = snapshot_turn.unwrap_or_else(
        || json!({"id": turn, "status": status, "items": [], "error": {"message": why}}),
    );
    route(router, gap_event(thread, turn, &body));
    let params = json!({ "threadId": thread, "turn": body, "codexGap": true }).to_string();
    let completed = Event::new(
        EventKind::TurnCompleted,
        &EventParts {
            method: "turn/completed",
            thread_id: Some(thread),
            turn_id: Some(turn),
            params: &params,
            turn_status: Some(status),
            ..Default::default()
        },
    );
    pending.turn_ended(turn);
    let mut wakes = Wakes::new();
    router.route(completed, true, &mut wakes);
    wakes.iter().for_each(|q| q.wake());
}

fn route(router: &Router, event: Event) {
    let mut wakes = Wakes::new();
    router.route(event, false, &mut wakes);
    wakes.iter().for_each(|q| q.wake());
}
