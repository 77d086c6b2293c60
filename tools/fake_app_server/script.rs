//! Scenario `scripted`: the test writes the server's side. `turn/start` is never answered by
//! the fake; `test/script` sends the lines a test gives, once the fake has received the
//! turn/starts the test waits for, so a test orders everything by what the client sent and
//! nothing by the clock.

use crate::config::config;
use crate::json::Json;
use crate::message::Params;
use crate::output::{log, send_raw};
use crate::server::{result, Server};
use std::io;

impl Server {
    /// A `turn/start` in scenario `scripted`: remembered (its id is `$START` in a script), not
    /// answered.
    pub fn start_scripted(&self, rid: Json) -> io::Result<()> {
        self.state.lock().unwrap().starts.push(rid);
        self.started.notify_all();
        Ok(())
    }

    /// `test/script {"afterStarts": N, "lines": [...]}`: once N turn/starts have arrived (at
    /// once for 0), writes each line as it is, with `$START` replaced by the id of the N-th
    /// turn/start, then answers `{"sent": count}`. On a thread of its own, so the turn/start it
    /// waits for can still be read; the safety timeout of held turns bounds the wait.
    pub fn script(&'static self, rid: Json, params: &Params) -> io::Result<()> {
        let after = params.get("afterStarts").and_then(|n| n.as_u64()).unwrap_or(0) as usize;
        let lines: Vec<String> = params
            .get("lines")
            .and_then(|l| l.as_array())
            .map(|l| l.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        std::thread::spawn(move || {
            let start = {
                let state = self.state.lock().unwrap();
                let (state, waited) = self
                    .started
                    .wait_timeout_while(state, config().hold_timeout(), |s| s.starts.len() < after)
                    .unwrap();
                if waited.timed_out() {
                    log(&format!("test/script waited for {after} turn/starts in vain; going on"));
                }
                let start = after.checked_sub(1).and_then(|i| state.starts.get(i));
                start.map(|id| id.line().trim_end().to_owned())
            };
            let sent = (|| {
                for line in &lines {
                    let line = match &start {
                        Some(id) => line.replace("$START", id),
                        None => line.clone(),
                    };
                    send_raw(format!("{line}\n").as_bytes())?;
                }
                result(&rid, crate::json::obj! { "sent" => lines.len() as i64 })
            })();
            if let Err(e) = sent {
                log(&format!("stdout: {e}"));
            }
        });
        Ok(())
    }
}
