//! Answers to server requests, kept until the server confirms them (`serverRequest/resolved`)
//! or their turn ends: after a reconnect the server sends a request that was pending at the drop
//! again, with the same id, and one the program had answered already (before the drop, or while
//! the connection was down and the answer could not be sent) is answered again the same way
//! instead of being put to the program a second time. A repeat is recognized by its id, method
//! and params together, so a new request that happens to reuse an id is never taken for one.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// Answers kept at most; the oldest go first (a server confirms each within a round trip).
const KEPT: usize = 256;

struct Answered {
    id: String,
    method: String,
    params: String,
    turn_id: Option<String>,
    line: Vec<u8>,
}

#[derive(Default)]
pub struct AnswerMemory {
    answered: Mutex<VecDeque<Answered>>,
}

impl AnswerMemory {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Answered>> {
        self.answered.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the answer `line` to request `id`.
    pub fn remember(
        &self,
        id: &str,
        method: &str,
        params: &str,
        turn_id: Option<&str>,
        line: &[u8],
    ) {
        let mut answered = self.lock();
        answered.retain(|a| a.id != id);
        if answered.len() >= KEPT {
            answered.pop_front();
        }
        answered.push_back(Answered {
            id: id.to_owned(),
            method: method.to_owned(),
            params: params.to_owned(),
            turn_id: turn_id.map(str::to_owned),
            line: line.to_vec(),
        });
    }

    /// The server has the answer to `id`.
    pub fn resolved(&self, id: &str) {
        self.lock().retain(|a| a.id != id);
    }

    /// The turn ended: its requests are never sent again.
    pub fn turn_ended(&self, turn_id: &str) {
        self.lock().retain(|a| a.turn_id.as_deref() != Some(turn_id));
    }

    /// The answer given before, when this request is a repeat of one answered.
    pub fn replay(&self, id: &str, method: &str, params: &str) -> Option<Vec<u8>> {
        let answered = self.lock();
        let same = answered.iter().find(|a| a.id == id && a.method == method && a.params == params);
        same.map(|a| a.line.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_gets_the_same_answer_until_resolved_or_its_turn_ends() {
        let memory = AnswerMemory::default();
        memory.remember("0", "m", "{}", Some("t1"), b"answer-0");
        memory.remember("1", "m", "{}", Some("t2"), b"answer-1");
        assert_eq!(memory.replay("0", "m", "{}").as_deref(), Some(&b"answer-0"[..]));
        assert_eq!(memory.replay("0", "m", r#"{"other":1}"#), None, "another request");
        assert_eq!(memory.replay("0", "n", "{}"), None, "another method");
        memory.resolved("0");
        assert_eq!(memory.replay("0", "m", "{}"), None);
        memory.turn_ended("t2");
        assert_eq!(memory.replay("1", "m", "{}"), None);
    }

    #[test]
    fn only_the_latest_answers_are_kept() {
        let memory = AnswerMemory::default();
        for i in 0..KEPT + 10 {
            memory.remember(&i.to_string(), "m", "{}", None, b"a");
        }
        assert_eq!(memory.replay("0", "m", "{}"), None);
        assert!(memory.replay(&(KEPT + 9).to_string(), "m", "{}").is_some());
    }
}
