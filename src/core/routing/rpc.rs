//! Request ids, the table of callers waiting for a response, timeouts, and error mapping.

use super::wire::{ResponseOutcome, RpcErrorBody};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::transport::Transport;
use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// JSON-RPC code of "Server overloaded; retry later.".
pub(crate) const OVERLOADED_CODE: i64 = -32001;

type Outcome = Result<String>;

/// Runs on the reader thread with a response, before its caller gets it: what must change in
/// the response's place among the lines (a turn's start is confirmed or abandoned there).
pub type OnAnswer = Box<dyn FnOnce(&ResponseOutcome<'_>) + Send>;

/// Gets the outcome of an asynchronous request (`Rpc::start`): on the reader thread with the
/// response, or on whichever thread fails the connection. Must be short and never block.
pub type OnDone = Box<dyn FnOnce(Outcome) + Send>;

/// Where a waiter's outcome goes: a blocked caller's channel, or an asynchronous request's hook.
enum Reply {
    Blocked(Sender<Outcome>),
    Hook(OnDone),
}

impl Reply {
    fn send(self, outcome: Outcome) {
        match self {
            Reply::Blocked(tx) => drop(tx.send(outcome)),
            Reply::Hook(done) => done(outcome),
        }
    }
}

struct Waiter {
    method: String,
    reply: Reply,
    on_answer: Option<OnAnswer>,
}

#[derive(Default)]
struct Table {
    waiters: HashMap<u64, Waiter>,
    /// Once set, every new request fails with this error at once.
    failed: Option<Error>,
}

#[derive(Default)]
pub struct Rpc {
    next_id: AtomicU64,
    table: Mutex<Table>,
}

impl Rpc {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `method` with raw JSON `params` and waits for the response (`None` waits forever).
    pub fn call(
        &self,
        transport: &Transport,
        method: &str,
        params: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<String> {
        self.call_then(transport, method, params, timeout, None)
    }

    /// `call`, with `on_answer` run by the reader thread when the response arrives. It runs
    /// exactly when the caller gets the response: not after a timeout or a failure.
    pub fn call_then(
        &self,
        transport: &Transport,
        method: &str,
        params: Option<&str>,
        timeout: Option<Duration>,
        on_answer: Option<OnAnswer>,
    ) -> Result<String> {
        let (tx, rx) = bounded(1);
        let id = self.send_request(transport, method, params, on_answer, Reply::Blocked(tx))?;
        let outcome = match timeout {
            Some(t) => rx.recv_timeout(t),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match outcome {
            Ok(outcome) => outcome,
            Err(_) => {
                if self.table().waiters.remove(&id).is_none() {
                    // The reader took the waiter first: its reply (or its failure) is on the
                    // way, and `on_answer` ran or is running.
                    if let Ok(outcome) = rx.recv() {
                        return outcome;
                    }
                }
                let ms = timeout.map_or(0, |t| t.as_millis());
                log::warn!("{method} (request {id}): no response within {ms} ms");
                Err(Error::new(ErrorKind::Timeout, format!("{method}: no response within {ms} ms")))
            }
        }
    }

    /// Sends `method` and returns its id at once; `done` gets the outcome exactly once, unless
    /// the request is cancelled first (`cancel`). `on_answer` runs as for `call_then`. Fails
    /// (without calling `done`) only when nothing was sent: the connection had failed already,
    /// or the write was refused before the connection's failure reached the waiter.
    pub fn start(
        &self,
        transport: &Transport,
        method: &str,
        params: Option<&str>,
        on_answer: Option<OnAnswer>,
        done: OnDone,
    ) -> Result<u64> {
        self.send_request(transport, method, params, on_answer, Reply::Hook(done))
    }

    /// Forgets the waiter of request `id`: its answer, when it comes, is dropped. False when the
    /// outcome has been (or is being) delivered already.
    pub fn cancel(&self, id: u64) -> bool {
        self.table().waiters.remove(&id).is_some()
    }

    /// Fails request `id` with `error` if it still waits (an asynchronous request's timeout).
    pub fn expire(&self, id: u64, error: Error) -> bool {
        let Some(waiter) = self.table().waiters.remove(&id) else {
            return false;
        };
        log::warn!("{} (request {id}): {}", waiter.method, error.message);
        waiter.reply.send(Err(error));
        true
    }

    /// Registers the waiter, then writes the request. A failed write whose waiter the
    /// connection's failure already took reports through the waiter (the caller's one path).
    fn send_request(
        &self,
        transport: &Transport,
        method: &str,
        params: Option<&str>,
        on_answer: Option<OnAnswer>,
        reply: Reply,
    ) -> Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut table = self.table();
            if let Some(err) = &table.failed {
                return Err(err.clone());
            }
            table.waiters.insert(id, Waiter { method: method.to_owned(), reply, on_answer });
        }
        if let Err(e) = transport.send(request_line(id, method, params)) {
            if self.table().waiters.remove(&id).is_some() {
                return Err(e);
            }
        }
        Ok(id)
    }

    /// A request line with a fresh id and no waiter: its response is dropped on arrival.
    pub fn unanswered_line(&self, method: &str, params: Option<&str>) -> Vec<u8> {
        request_line(self.next_id.fetch_add(1, Ordering::Relaxed), method, params)
    }

    /// Registers a waiter for a request that is never sent, as `call` would before sending:
    /// lets the fuzz target (and tests) route responses to someone who waits for them.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn expect_response(
        &self,
        method: &str,
    ) -> (u64, crossbeam_channel::Receiver<Outcome>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = bounded(1);
        self.table().waiters.insert(
            id,
            Waiter { method: method.to_owned(), reply: Reply::Blocked(tx), on_answer: None },
        );
        (id, rx)
    }

    /// `expect_response` with a hook, as `call_then` registers it.
    #[cfg(test)]
    pub(crate) fn expect_response_then(
        &self,
        method: &str,
        on_answer: OnAnswer,
    ) -> (u64, crossbeam_channel::Receiver<Outcome>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = bounded(1);
        let reply = Reply::Blocked(tx);
        let waiter = Waiter { method: method.to_owned(), reply, on_answer: Some(on_answer) };
        self.table().waiters.insert(id, waiter);
        (id, rx)
    }

    /// What a caller does when its wait times out: its waiter goes (tests).
    #[cfg(test)]
    pub(crate) fn give_up(&self, id: u64) -> bool {
        self.table().waiters.remove(&id).is_some()
    }

    /// Called by the reader thread with a response to request `id`.
    pub fn complete(&self, id: u64, outcome: ResponseOutcome<'_>) -> bool {
        let Some(waiter) = self.table().waiters.remove(&id) else {
            return false;
        };
        if let Some(on_answer) = waiter.on_answer {
            on_answer(&outcome);
        }
        let outcome = match outcome {
            ResponseOutcome::Result(raw) => Ok(raw.to_owned()),
            ResponseOutcome::Error(body) => Err(rpc_error(&waiter.method, &body)),
            ResponseOutcome::Malformed(why) => {
                Err(Error::protocol(format!("{} (request {id}): {why}", waiter.method)))
            }
        };
        waiter.reply.send(outcome);
        true
    }

    /// Fails every waiter and every later request with `error`.
    pub fn fail_all(&self, error: &Error) {
        let waiters = {
            let mut table = self.table();
            table.failed.get_or_insert_with(|| error.clone());
            std::mem::take(&mut table.waiters)
        };
        for (_, waiter) in waiters {
            waiter.reply.send(Err(error.clone()));
        }
    }

    /// The connection dropped and is being reconnected: every waiter fails with `Transport`
    /// and `why` (which says whether the server may have acted); later requests are not
    /// refused (unlike `fail_all`).
    pub fn fail_in_flight(&self, why: &str) {
        let waiters = std::mem::take(&mut self.table().waiters);
        for (id, waiter) in waiters {
            let message = format!("{} (request {id}): {why}", waiter.method);
            waiter.reply.send(Err(Error::new(ErrorKind::Transport, message)));
        }
    }
}

fn rpc_error(method: &str, body: &RpcErrorBody<'_>) -> Error {
    let kind = if body.code == OVERLOADED_CODE { ErrorKind::Overloaded } else { ErrorKind::Rpc };
    Error {
        kind,
        message: format!("{method}: {} (JSON-RPC error {})", body.message, body.code),
        rpc_code: Some(body.code),
        rpc_data: body.data.map(|d| d.get().to_owned()).filter(|d| d != "null"),
    }
}

/// `{"id":N,"method":M,"params":P}` with P already validated JSON.
pub fn request_line(id: u64, method: &str, params: Option<&str>) -> Vec<u8> {
    let mut line = format!("{{\"id\":{id},\"method\":{}", json_string(method));
    if let Some(p) = params {
        line.push_str(",\"params\":");
        line.push_str(p);
    }
    line.push('}');
    line.into_bytes()
}

/// `{"method":M}` (a notification without params).
pub fn notification_line(method: &str) -> Vec<u8> {
    format!("{{\"method\":{}}}", json_string(method)).into_bytes()
}

/// The answer to a server request: `{"id":ID,"result":R}` or `{"id":ID,"error":{...}}`.
pub fn answer_line(id_raw: &str, answer: &Answer) -> Vec<u8> {
    match answer {
        Answer::Result(result) => format!("{{\"id\":{id_raw},\"result\":{result}}}").into_bytes(),
        Answer::Error { code, message } => format!(
            "{{\"id\":{id_raw},\"error\":{{\"code\":{code},\"message\":{}}}}}",
            json_string(message)
        )
        .into_bytes(),
    }
}

/// What a server request is answered with.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Raw JSON result.
    Result(String),
    Error {
        code: i64,
        message: String,
    },
}

pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a str always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_valid_json() {
        let line = request_line(4, "thread/start", Some(r#"{"a":1}"#));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["id"], 4);
        assert_eq!(v["method"], "thread/start");
        assert_eq!(v["params"]["a"], 1);
        let v: serde_json::Value = serde_json::from_slice(&request_line(1, "m\"x", None)).unwrap();
        assert_eq!(v["method"], "m\"x");
        assert!(v.get("params").is_none());
        let err = Answer::Error { code: -32601, message: "no \"handler\"".into() };
        let v: serde_json::Value = serde_json::from_slice(&answer_line("0", &err)).unwrap();
        assert_eq!(v["error"]["code"], -32601);
        assert_eq!(v["error"]["message"], "no \"handler\"");
    }

    #[test]
    fn overloaded_has_its_own_kind() {
        let body = RpcErrorBody {
            code: -32001,
            message: "Server overloaded; retry later.".into(),
            data: None,
        };
        assert_eq!(rpc_error("x", &body).kind, ErrorKind::Overloaded);
        let body = RpcErrorBody { code: -32600, message: "Not initialized".into(), data: None };
        let e = rpc_error("thread/start", &body);
        assert_eq!(e.kind, ErrorKind::Rpc);
        assert_eq!(e.rpc_code, Some(-32600));
        assert!(e.message.contains("Not initialized"));
    }
}
