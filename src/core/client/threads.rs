//! Threads as resources of a connection: fork, list (paged), read, archive, unarchive, name,
//! compact, and letting go (unsubscribe). `thread/start` and `thread/resume` stay in `mod`.

use super::{Client, Timeout};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::protocol::params::thread_id_of;
use crate::core::protocol::threads::{thread_params, Paging, ThreadListPage};
use serde_json::Value;

impl Client {
    /// `thread/fork` of `thread_id`: a new thread with its history, to which this connection is
    /// subscribed. `include_turns` false asks the server to leave the turns out of the result
    /// (the fork still has them). Returns the new thread's id and the full result.
    pub fn thread_fork(
        &self,
        thread_id: &str,
        include_turns: bool,
        params: Option<&str>,
    ) -> Result<(String, String)> {
        let params = thread_params(thread_id, params, &["excludeTurns"], |map| {
            if !include_turns {
                map.insert("excludeTurns".into(), Value::Bool(true));
            }
        })?;
        let result = self.shared.call("thread/fork", Some(&params), Timeout::Default)?;
        let fork = thread_id_of(&result, "thread/fork")?;
        log::debug!("thread {thread_id} forked into {fork}");
        Ok((fork, result))
    }

    /// The next page of a `thread/list` listing; `None` after the last page.
    pub fn thread_list_page(&self, paging: &mut Paging) -> Result<Option<ThreadListPage>> {
        let Some(params) = paging.next_params() else {
            return Ok(None);
        };
        let result = self.shared.call("thread/list", Some(&params), Timeout::Default)?;
        let page = ThreadListPage::parse(result)?;
        paging.advance(page.next_cursor.as_deref());
        Ok(Some(page))
    }

    /// `thread/read`: the thread's metadata and, with `include_turns`, its turns and items.
    pub fn thread_read(&self, thread_id: &str, include_turns: bool) -> Result<String> {
        let params = thread_params(thread_id, None, &[], |map| {
            map.insert("includeTurns".into(), Value::Bool(include_turns));
        })?;
        self.shared.call("thread/read", Some(&params), Timeout::Default)
    }

    /// `thread/turns/list`: one page of the thread's turns (`params`: `cursor`, `limit`,
    /// `sortDirection`, `itemsView`).
    pub fn thread_turns_list(&self, thread_id: &str, params: Option<&str>) -> Result<String> {
        let params = thread_params(thread_id, params, &[], |_| {})?;
        self.shared.call("thread/turns/list", Some(&params), Timeout::Default)
    }

    /// A call whose only param is the thread: archive, unarchive, compact.
    pub fn thread_call(&self, method: ThreadCall, thread_id: &str) -> Result<String> {
        let params = thread_params(thread_id, None, &[], |_| {})?;
        self.shared.call(method.name(), Some(&params), Timeout::Default)
    }

    /// `thread/name/set`.
    pub fn thread_set_name(&self, thread_id: &str, name: &str) -> Result<String> {
        let params = thread_params(thread_id, None, &[], |map| {
            map.insert("name".into(), Value::String(name.to_owned()));
        })?;
        self.shared.call("thread/name/set", Some(&params), Timeout::Default)
    }

    /// Lets go of `thread_id` on this connection: `thread/unsubscribe`, after which the server
    /// may unload it (its memory) once no connection is subscribed. Refused with `TurnActive`
    /// while a turn of this client runs on it (its events would stop); no turn can start on
    /// the thread while the request is out.
    pub fn thread_unsubscribe(&self, thread_id: &str) -> Result<String> {
        let params = thread_params(thread_id, None, &[], |_| {})?;
        let claim = self.shared.router.begin_turn(thread_id).map_err(|err| match err.kind {
            ErrorKind::TurnActive => Error::new(
                ErrorKind::TurnActive,
                format!(
                    "thread {thread_id} has a turn running or starting on this client; let it \
                     complete (or interrupt it with codex_turn_interrupt) before letting the \
                     thread go, or its events would stop"
                ),
            ),
            _ => err,
        })?;
        let result = self.shared.call("thread/unsubscribe", Some(&params), Timeout::Default);
        self.shared.router.abandon_turn(thread_id, &claim.0);
        if result.is_ok() {
            log::debug!("thread {thread_id} unsubscribed");
        }
        result
    }
}

/// The calls that take nothing but the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadCall {
    Archive,
    Unarchive,
    Compact,
}

impl ThreadCall {
    fn name(self) -> &'static str {
        match self {
            ThreadCall::Archive => "thread/archive",
            ThreadCall::Unarchive => "thread/unarchive",
            ThreadCall::Compact => "thread/compact/start",
        }
    }
}
