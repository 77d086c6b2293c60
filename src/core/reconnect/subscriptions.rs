//! The threads this connection is subscribed to, so that a reconnect subscribes the new
//! connection to all of them again (a thread not resumed would get no events: a turn started on
//! it after the reconnect would wait forever). Learnt from the answers to the requests that
//! subscribe (`thread/start`, `thread/resume`, `thread/fork`), whoever sent them, and forgotten
//! on `thread/unsubscribe`.

use crate::core::error::{Error, ErrorKind, Result};
use crate::core::protocol::params::thread_id_of;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Threads lost kept at most (for their error message); the oldest go first.
const LOST_KEPT: usize = 1024;

#[derive(Default)]
pub(crate) struct Subscriptions {
    threads: Mutex<BTreeSet<String>>,
    /// Threads a reconnect could not resume, and why: a turn started on one would get no events
    /// (the server does not send them to a connection not subscribed), so it is refused.
    lost: Mutex<BTreeMap<String, String>>,
}

impl Subscriptions {
    /// Looks at a request that was answered successfully.
    pub(crate) fn observe(&self, method: &str, params: Option<&str>, result: &str) {
        match method {
            "thread/start" | "thread/resume" | "thread/fork" => {
                if let Ok(thread) = thread_id_of(result, method) {
                    self.lost().remove(&thread);
                    self.lock().insert(thread);
                }
            }
            "thread/unsubscribe" => {
                let params = params.and_then(|p| serde_json::from_str::<Value>(p).ok());
                if let Some(thread) = params.as_ref().and_then(|p| p["threadId"].as_str()) {
                    self.lock().remove(thread);
                }
            }
            _ => {}
        }
    }

    /// The resume of `thread` failed after a reconnect (`why`): it is not resumed again, and
    /// turns on it are refused until the program resumes it itself.
    pub(crate) fn lose(&self, thread: &str, why: &str) {
        self.lock().remove(thread);
        let mut lost = self.lost();
        if lost.len() >= LOST_KEPT {
            lost.pop_first();
        }
        lost.insert(thread.to_owned(), why.to_owned());
    }

    /// Refuses a `turn/start` on a thread a reconnect could not resume.
    pub(crate) fn check(&self, method: &str, params: Option<&str>) -> Result<()> {
        if method != "turn/start" {
            return Ok(());
        }
        let params = params.and_then(|p| serde_json::from_str::<Value>(p).ok());
        let Some(thread) = params.as_ref().and_then(|p| p["threadId"].as_str()) else {
            return Ok(());
        };
        match self.lost().get(thread) {
            None => Ok(()),
            Some(why) => Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "thread {thread} could not be subscribed to again after the connection dropped \
                     ({why}): its events would not reach this client. Resume it with \
                     thread/resume, or start a new thread"
                ),
            )),
        }
    }

    fn lost(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.lost.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn all(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.threads.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribing_answers_add_threads_and_unsubscribe_removes_them() {
        let subs = Subscriptions::default();
        subs.observe("thread/start", None, r#"{"thread":{"id":"a"}}"#);
        subs.observe("thread/resume", Some(r#"{"threadId":"b"}"#), r#"{"thread":{"id":"b"}}"#);
        subs.observe("thread/fork", None, r#"{"thread":{"id":"c"}}"#);
        subs.observe("thread/list", None, r#"{"data":[{"id":"d"}]}"#);
        subs.observe("thread/start", None, r#"{"no":"thread"}"#);
        assert_eq!(subs.all(), ["a", "b", "c"]);
        subs.observe("thread/unsubscribe", Some(r#"{"threadId":"b"}"#), r#"{}"#);
        subs.lose("c", "gone");
        assert_eq!(subs.all(), ["a"]);
        let start = |t: &str| subs.check("turn/start", Some(&format!(r#"{{"threadId":"{t}"}}"#)));
        assert!(start("a").is_ok());
        let refused = start("c").unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Transport);
        assert!(refused.message.contains("gone"), "{}", refused.message);
        subs.observe("thread/resume", None, r#"{"thread":{"id":"c"}}"#);
        assert!(start("c").is_ok(), "resumed by the program");
    }
}
