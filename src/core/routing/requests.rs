//! Server→client requests (approvals, questions, tool calls). A request left unanswered blocks
//! its turn forever, so every one is answered exactly once: by the program, or — when nobody
//! answers within the client's answer timeout, its turn handle is freed, it is dropped from the
//! full client stream, or the client closes — with the fail-closed answer (approvals declined,
//! anything else a JSON-RPC error).
//!
//! The table is keyed by the request, not by its id alone: a server may send an id again while
//! the first is open (it re-sends pending requests after a `thread/resume`). The repeat
//! supersedes the older request, which closes unanswered (its handles answer STALE), so one
//! answer goes out for the id, from the newer request; whatever ends a request (an answer, the
//! timer) removes that request only, never a newer one with the same id.

use super::replay::AnswerMemory;
use super::rpc::answer_line;
pub use super::rpc::Answer;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::protocol::server_requests::{
    approval_kind, handled_method, FailClosed, HUMAN_COMMAND, LEGACY_DENIED,
};
use crate::core::timer;
use crate::core::transport::Writer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// JSON-RPC "method not found", for requests nobody handles.
pub(crate) const NO_HANDLER_CODE: i64 = -32601;

/// The answer that grants nothing (`protocol::server_requests` lists each method's); methods
/// nobody listed get the "no handler" error.
pub fn fail_closed_answer(method: &str) -> Answer {
    match handled_method(method).map(|h| h.fail_closed) {
        Some(FailClosed::Result(result)) => Answer::Result(result.to_owned()),
        Some(FailClosed::Error) | None => Answer::Error {
            code: NO_HANDLER_CODE,
            message: format!("{method}: this client has no handler for this request"),
        },
    }
}

fn is_legacy(method: &str) -> bool {
    matches!(method, "execCommandApproval" | "applyPatchApproval")
}

/// The program's decision on an approval request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    AcceptForSession,
    Decline,
    Cancel,
}

/// The result JSON that carries `decision` for an approval request of `method`.
pub fn approval_answer(method: &str, params: &str, decision: Decision) -> Result<String> {
    use Decision::*;
    let word = |modern: &'static str, legacy: &'static str| match is_legacy(method) {
        true => legacy,
        false => modern,
    };
    match method {
        "item/commandExecution/requestApproval"
        | "item/fileChange/requestApproval"
        | "execCommandApproval"
        | "applyPatchApproval" => {
            if decision == AcceptForSession
                && approval_kind(params).as_deref() == Some(HUMAN_COMMAND)
            {
                return Err(Error::invalid_argument(
                    "decision: CODEX_DECISION_ACCEPT_FOR_SESSION is not valid for a humanCommand \
                     approval (a checkpoint that needs a fresh human decision each time): \
                     accept, decline or cancel it",
                ));
            }
            let d = match decision {
                Accept => word("accept", "approved"),
                AcceptForSession => word("acceptForSession", "approved_for_session"),
                Decline if is_legacy(method) => return Ok(LEGACY_DENIED.to_owned()),
                Decline => "decline",
                Cancel => word("cancel", "abort"),
            };
            Ok(format!(r#"{{"decision":"{d}"}}"#))
        }
        "item/permissions/requestApproval" => Ok(match decision {
            Accept | AcceptForSession => {
                let requested = serde_json::from_str::<serde_json::Value>(params)
                    .ok()
                    .and_then(|p| p.get("permissions").cloned())
                    .unwrap_or_else(|| serde_json::json!({}));
                let scope = if decision == Accept { "turn" } else { "session" };
                serde_json::json!({ "permissions": requested, "scope": scope }).to_string()
            }
            Decline | Cancel => r#"{"permissions":{}}"#.to_owned(),
        }),
        "mcpServer/elicitation/request" => Ok(match decision {
            Accept | AcceptForSession => r#"{"action":"accept","content":{}}"#,
            Decline => r#"{"action":"decline"}"#,
            Cancel => r#"{"action":"cancel"}"#,
        }
        .to_owned()),
        _ => Err(Error::invalid_argument(format!(
            "request: {method} is not an approval request; answer it with a result JSON"
        ))),
    }
}

#[derive(Clone, Debug)]
enum State {
    Open,
    /// Answered or otherwise finished; the string says how, for the stale error.
    Closed(String),
}

/// One request from the server, shared by its event, its handles and the pending table.
pub struct ServerRequest {
    /// Raw JSON of the id, used to answer.
    pub id: String,
    pub method: String,
    pub params: String,
    pub thread_id: Option<String>,
    pub turn_id: Option<String>,
    state: Mutex<State>,
    pending: Arc<PendingRequests>,
}

impl std::fmt::Debug for ServerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRequest").field("id", &self.id).field("method", &self.method).finish()
    }
}

impl ServerRequest {
    /// Sends the program's answer. Fails with `StaleRequest` when the request is no longer
    /// open (answered, resolved, its turn ended, declined by timeout, the client closed).
    pub fn answer(&self, answer: Answer) -> Result<()> {
        self.finish(answer, "answered by the program")
    }

    /// Closes the request and sends `answer`, unless it is closed already. The table's lock is
    /// held across the change of state, so a repeat of the id (`register`) either finds this
    /// request open and supersedes it, or finds it gone: never both answered.
    fn finish(&self, answer: Answer, how: &str) -> Result<()> {
        {
            let mut table = self.pending.table();
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let State::Closed(why) = &*state {
                return Err(Error::new(
                    ErrorKind::StaleRequest,
                    format!(
                        "server request {} ({}) is no longer open: {why}",
                        self.id, self.method
                    ),
                ));
            }
            *state = State::Closed(how.to_owned());
            if table.open.get(&self.id).is_some_and(|r| std::ptr::eq(&**r, self)) {
                table.open.remove(&self.id);
            }
        }
        let line = answer_line(&self.id, &answer);
        let (method, params, turn) = (&self.method, &self.params, self.turn_id.as_deref());
        self.pending.answers.remember(&self.id, method, params, turn, &line);
        match self.pending.send(line) {
            // The connection is down and being made again: the server sends the request again
            // after the resume, and gets this answer then (`replay`).
            Err(e) if e.kind == ErrorKind::Transport => Ok(()),
            sent => sent,
        }
    }

    /// Marks the request finished without answering (the server no longer waits for it).
    fn close_unanswered(&self, why: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, State::Open) {
            *state = State::Closed(why.to_owned());
        }
    }

    /// Answers with the fail-closed answer if nobody answered yet.
    pub fn decline_unanswered(&self, why: &str) {
        let _ = self.finish(fail_closed_answer(&self.method), why);
    }

    pub fn is_open(&self) -> bool {
        matches!(*self.state.lock().unwrap_or_else(|p| p.into_inner()), State::Open)
    }
}

#[derive(Default)]
struct Table {
    open: HashMap<String, Arc<ServerRequest>>,
    stopped: bool,
}

/// The open server requests of one client, and the timer that fails them closed.
pub struct PendingRequests {
    table: Mutex<Table>,
    /// `None`: the program is never asked; every request is answered fail-closed at once.
    answer_timeout: Option<Duration>,
    writer: OnceLock<Writer>,
    /// Answers given, for requests the server sends again after a reconnect.
    pub(crate) answers: AnswerMemory,
}

impl PendingRequests {
    pub fn new(answer_timeout: Duration) -> Arc<PendingRequests> {
        Arc::new(PendingRequests {
            table: Mutex::new(Table::default()),
            answer_timeout: (!answer_timeout.is_zero()).then_some(answer_timeout),
            writer: OnceLock::new(),
            answers: AnswerMemory::default(),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connects the writer.
    pub fn start(&self, writer: Writer) {
        let _ = self.writer.set(writer);
    }

    /// Queues a message for the server (answers, and requests the library decides to send).
    pub(crate) fn send(&self, line: Vec<u8>) -> Result<()> {
        match self.writer.get() {
            Some(w) => w.send(line),
            None => Err(Error::new(ErrorKind::Closed, "the client is not started")),
        }
    }

    /// Registers a request that the program may answer. Returns `None` when the program is
    /// never asked (answer timeout 0): the caller answers fail-closed at once.
    pub fn register(
        self: &Arc<Self>,
        id: &str,
        method: &str,
        params: &str,
        thread_id: Option<&str>,
        turn_id: Option<&str>,
    ) -> Option<Arc<ServerRequest>> {
        let timeout = self.answer_timeout?;
        let request = Arc::new(ServerRequest {
            id: id.to_owned(),
            method: method.to_owned(),
            params: params.to_owned(),
            thread_id: thread_id.map(str::to_owned),
            turn_id: turn_id.map(str::to_owned),
            state: Mutex::new(State::Open),
            pending: self.clone(),
        });
        let mut table = self.table();
        if table.stopped {
            return None;
        }
        if let Some(older) = table.open.insert(id.to_owned(), request.clone()) {
            // Under the table's lock: see `finish`.
            older.close_unanswered("superseded: the server sent a request with the same id again");
            log::debug!("server request {id} ({method}) sent again: the repeat supersedes it");
        }
        drop(table);
        // On the process's timer thread; a request answered before then is gone by then.
        let (pending, expiring) = (Arc::downgrade(self), Arc::downgrade(&request));
        timer::after(timeout, move || {
            if let (Some(pending), Some(request)) = (pending.upgrade(), expiring.upgrade()) {
                pending.expire(&request);
            }
        });
        Some(request)
    }

    /// Requests open now (for tests and the fuzz target's invariants).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn open_count(&self) -> usize {
        self.table().open.len()
    }

    /// `serverRequest/resolved`: the server no longer waits for this request.
    pub fn resolved(&self, id: &str) {
        self.answers.resolved(id);
        let request = self.table().open.remove(id);
        if let Some(request) = request {
            request.close_unanswered("resolved by the server");
        }
    }

    fn take_where(&self, pick: impl Fn(&ServerRequest) -> bool) -> Vec<Arc<ServerRequest>> {
        let mut table = self.table();
        let ids: Vec<String> =
            table.open.iter().filter(|(_, r)| pick(r)).map(|(id, _)| id.clone()).collect();
        ids.iter().filter_map(|id| table.open.remove(id)).collect()
    }

    /// The turn completed: its requests no longer need an answer.
    pub fn turn_ended(&self, turn_id: &str) {
        self.answers.turn_ended(turn_id);
        for request in self.take_where(|r| r.turn_id.as_deref() == Some(turn_id)) {
            request.close_unanswered("its turn has completed");
        }
    }

    /// The turn's handle was freed: nobody will answer, so decline now.
    pub fn fail_turn(&self, turn_id: &str) {
        for request in self.take_where(|r| r.turn_id.as_deref() == Some(turn_id)) {
            request.decline_unanswered("declined: its turn handle was freed");
        }
    }

    /// The client is closing: decline everything still open and stop the timer.
    pub fn fail_all(&self, why: &str) {
        let all = {
            let mut table = self.table();
            table.stopped = true;
            table.open.drain().map(|(_, r)| r).collect::<Vec<_>>()
        };
        for request in all {
            request.decline_unanswered(why);
        }
    }

    /// The answer timeout of `request` has passed: decline it if nobody answered.
    fn expire(&self, request: &ServerRequest) {
        let why = "declined: nobody answered within the answer timeout";
        if request.finish(fail_closed_answer(&request.method), why).is_ok() {
            log::warn!(
                "server request {} ({}) got no answer within the answer timeout: declined",
                request.id,
                request.method
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_decline_and_others_error() {
        assert_eq!(
            fail_closed_answer("item/commandExecution/requestApproval"),
            Answer::Result(r#"{"decision":"decline"}"#.into())
        );
        assert_eq!(
            fail_closed_answer("item/fileChange/requestApproval"),
            Answer::Result(r#"{"decision":"decline"}"#.into())
        );
        // A tool call fails as a tool result (the model goes on); unknown kinds get an error.
        assert!(matches!(
            fail_closed_answer("item/tool/call"),
            Answer::Result(r) if r.contains(r#""success":false"#)
        ));
        for method in ["item/tool/requestUserInput", "some/futureRequest"] {
            assert!(matches!(
                fail_closed_answer(method),
                Answer::Error { code: NO_HANDLER_CODE, .. }
            ));
        }
    }

    #[test]
    fn a_human_command_approval_refuses_accept_for_session() {
        let cmd = "item/commandExecution/requestApproval";
        let human = r#"{"kind":"humanCommand","command":"deploy"}"#;
        let err = approval_answer(cmd, human, Decision::AcceptForSession).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("humanCommand"), "{}", err.message);
        for (decision, word) in [
            (Decision::Accept, "accept"),
            (Decision::Decline, "decline"),
            (Decision::Cancel, "cancel"),
        ] {
            let answer = approval_answer(cmd, human, decision).unwrap();
            assert_eq!(answer, format!(r#"{{"decision":"{word}"}}"#));
        }
    }

    #[test]
    fn decisions_map_to_each_method_s_words() {
        let cmd = "item/commandExecution/requestApproval";
        assert_eq!(
            approval_answer(cmd, "{}", Decision::AcceptForSession).unwrap(),
            r#"{"decision":"acceptForSession"}"#
        );
        assert_eq!(
            approval_answer("execCommandApproval", "{}", Decision::Decline).unwrap(),
            r#"{"decision":{"denied":{"rejection":"declined by the client"}}}"#
        );
        let perms = approval_answer(
            "item/permissions/requestApproval",
            r#"{"permissions":{"network":{"enabled":true}}}"#,
            Decision::Accept,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&perms).unwrap();
        assert_eq!(v["permissions"]["network"]["enabled"], true);
        assert_eq!(v["scope"], "turn");
        assert_eq!(
            approval_answer("item/tool/call", "{}", Decision::Accept).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn a_request_is_answered_once_and_then_stale() {
        let pending = PendingRequests::new(Duration::from_secs(60));
        let r = pending
            .register("0", "item/fileChange/requestApproval", "{}", None, Some("t"))
            .unwrap();
        pending.resolved("0");
        let err = r.answer(Answer::Result("{}".into())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::StaleRequest);
        assert!(err.message.contains("resolved by the server"), "{}", err.message);
        assert!(PendingRequests::new(Duration::ZERO)
            .register("1", "m", "{}", None, None)
            .is_none());
    }

    /// Issue 25, case 3: the same id twice. The repeat supersedes the open request: the older
    /// handle answers STALE, one answer goes out for the id, and the table keeps no orphan.
    #[test]
    fn a_repeated_id_supersedes_the_open_request_and_one_answer_goes_out() {
        let pending = PendingRequests::new(Duration::from_secs(3600));
        let (tx, rx) = crossbeam_channel::unbounded();
        pending.start(Writer::to_channel(tx));
        let method = "item/commandExecution/requestApproval";
        let first = pending.register("5", method, "{}", Some("thr"), Some("t")).unwrap();
        let again = pending.register("5", method, "{}", Some("thr"), Some("t")).unwrap();
        assert_eq!(pending.open_count(), 1);
        assert!(!first.is_open() && again.is_open());
        let err = first.answer(Answer::Result(r#"{"decision":"accept"}"#.into())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::StaleRequest);
        assert!(err.message.contains("superseded"), "{}", err.message);
        again.answer(Answer::Result(r#"{"decision":"decline"}"#.into())).unwrap();
        assert_eq!(
            again.answer(Answer::Result("{}".into())).unwrap_err().kind,
            ErrorKind::StaleRequest
        );
        let sent: Vec<String> = rx.try_iter().map(|l| String::from_utf8(l).unwrap()).collect();
        assert_eq!(sent, [r#"{"id":5,"result":{"decision":"decline"}}"#]);
        assert_eq!(pending.open_count(), 0);
        // Answering the older one first, then a repeat: the repeat is a new request.
        let first = pending.register("6", method, "{}", None, Some("t")).unwrap();
        first.answer(Answer::Result("{}".into())).unwrap();
        let again = pending.register("6", method, "{}", None, Some("t")).unwrap();
        assert!(again.is_open());
        // Ending the turn closes the open one; the older, answered one is untouched.
        pending.turn_ended("t");
        assert!(!again.is_open());
        assert_eq!(pending.open_count(), 0);
    }
}
