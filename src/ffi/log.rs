//! The log hook. The core logs through the `log` facade; this file is its sink for C programs:
//! the program's callback (`codex_set_log_callback`) or, while there is none, stderr at the
//! level that `CODEX_APP_SERVER_LOG` names. Only this library's own records pass (those of the
//! crates it uses, the WebSocket library's headers for one, never do).
//!
//! Replacing the callback while other threads log: the current sink is an `Arc` taken under a
//! read lock for each call; the setter swaps it and then waits until no call of the old one is
//! running (unless the setter is itself inside a call on this thread), so `userdata_free` runs
//! exactly once, after the last call.

use super::callback::codex_userdata_free;
use super::error::codex_error;
use super::{codex_result, guard_result, invalid};
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, Once, RwLock};

/// A log level: `CODEX_LOG_OFF` or one of `CODEX_LOG_ERROR` .. `CODEX_LOG_DEBUG`.
pub type codex_log_level = u32;

/// No messages.
pub const CODEX_LOG_OFF: codex_log_level = 0;
/// Failures: the app-server died or its connection was lost, a pool member failed.
pub const CODEX_LOG_ERROR: codex_log_level = 1;
/// Things that cost the program something: a skipped message, a timeout, a turn that
/// overflowed, a server request declined because nobody answered, a pool member restarted.
pub const CODEX_LOG_WARN: codex_log_level = 2;
/// The life of a connection: the app-server's command line (without secrets) and pid, its exit
/// status, connects and reconnects.
pub const CODEX_LOG_INFO: codex_log_level = 3;
/// Details for debugging: each thread and turn started, and the first bytes of a skipped line
/// (which may hold text of a conversation, so only at this level). Never the auth token.
pub const CODEX_LOG_DEBUG: codex_log_level = 4;

/// Receives one log message. `level` is one of `CODEX_LOG_ERROR` .. `CODEX_LOG_DEBUG`;
/// `message` is one line of UTF-8 text without a newline, borrowed for the call only.
///
/// Called on whichever thread logs: the program's own threads inside library calls, and the
/// library's threads (the one that reads the server's messages, the timer, a pool's
/// supervisor). Calls may run at once on several threads, so the callback must be thread-safe.
/// It is never called with a library lock held, but it should return quickly and must not
/// wait for the app-server (a request, a turn's events, closing a client): it may be running
/// on the thread that would deliver the answer. Quick calls into this library are fine;
/// messages they would log on the same thread are dropped rather than delivered re-entrantly.
pub type codex_log_callback = Option<
    unsafe extern "C" fn(userdata: *mut c_void, level: codex_log_level, message: *const c_char),
>;

/// Only records of this crate pass the sink.
const OWN_TARGET: &str = "codex_app_server";
/// Names the level from the environment when no callback is set.
const ENV_VAR: &str = "CODEX_APP_SERVER_LOG";

struct Sink {
    call: unsafe extern "C" fn(*mut c_void, codex_log_level, *const c_char),
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    level: LevelFilter,
}

// The program promises, by handing these to codex_set_log_callback, that they may be used from
// any thread at once.
unsafe impl Send for Sink {}
unsafe impl Sync for Sink {}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(free) = self.userdata_free {
            unsafe { free(self.userdata) };
        }
    }
}

struct Logger {
    sink: RwLock<Option<Arc<Sink>>>,
    /// The level of the stderr sink, from the environment (read once).
    env_level: LevelFilter,
    /// Notified after each call of a callback ends, for a setter waiting for the old one.
    call_ended: Condvar,
    calls: Mutex<()>,
}

thread_local! {
    /// This thread is inside a call of the program's log callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

static LOGGER: once_cell::sync::Lazy<Logger> = once_cell::sync::Lazy::new(|| Logger {
    sink: RwLock::new(None),
    env_level: std::env::var(ENV_VAR).ok().map_or(LevelFilter::Off, |v| level_from_env(&v)),
    call_ended: Condvar::new(),
    calls: Mutex::new(()),
});
static INSTALL: Once = Once::new();

fn level_from_env(value: &str) -> LevelFilter {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" => LevelFilter::Error,
        "warn" | "warning" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" | "trace" => LevelFilter::Debug,
        _ => LevelFilter::Off,
    }
}

fn filter_of(level: codex_log_level) -> Option<LevelFilter> {
    Some(match level {
        CODEX_LOG_OFF => LevelFilter::Off,
        CODEX_LOG_ERROR => LevelFilter::Error,
        CODEX_LOG_WARN => LevelFilter::Warn,
        CODEX_LOG_INFO => LevelFilter::Info,
        CODEX_LOG_DEBUG => LevelFilter::Debug,
        _ => return None,
    })
}

fn code_of(level: Level) -> codex_log_level {
    match level {
        Level::Error => CODEX_LOG_ERROR,
        Level::Warn => CODEX_LOG_WARN,
        Level::Info => CODEX_LOG_INFO,
        Level::Debug | Level::Trace => CODEX_LOG_DEBUG,
    }
}

/// Makes this file the `log` facade's logger, once (called by the entry points that start
/// something, and by `codex_set_log_callback`). A Rust program that set its own logger first
/// keeps it: the records then go there.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        if log::set_logger(&*LOGGER).is_ok() {
            log::set_max_level(LOGGER.env_level);
        }
    });
}

impl Logger {
    fn current(&self) -> Option<Arc<Sink>> {
        self.sink.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The level the facade lets through: the callback's, or the environment's without one.
    fn max_level(&self, sink: Option<&Sink>) -> LevelFilter {
        sink.map_or(self.env_level, |s| s.level)
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with(OWN_TARGET)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) || IN_CALLBACK.with(Cell::get) {
            return;
        }
        let Some(sink) = self.current() else {
            if record.level() <= self.env_level {
                let text = one_line(record);
                let line = format!("codex_app_server {}: {text}\n", level_word(record.level()));
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            return;
        };
        if record.level() <= sink.level {
            let message = CString::new(one_line(record)).expect("NULs were replaced");
            IN_CALLBACK.with(|c| c.set(true));
            unsafe { (sink.call)(sink.userdata, code_of(record.level()), message.as_ptr()) };
            IN_CALLBACK.with(|c| c.set(false));
        }
        // The last holder of a replaced sink frees its userdata, here or in the setter.
        drop(sink);
        let _calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        self.call_ended.notify_all();
    }

    fn flush(&self) {}
}

/// The message on one line: the lines of a multi-line one (a stderr tail) joined by " | ".
fn one_line(record: &Record<'_>) -> String {
    let text = record.args().to_string();
    let text = text.trim_end().replace('\0', " ");
    if text.contains('\n') {
        text.split('\n').map(str::trim_end).collect::<Vec<_>>().join(" | ")
    } else {
        text
    }
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug | Level::Trace => "debug",
    }
}

/// Sends this library's log messages at `min_level` and more severe to `callback`
/// (`CODEX_LOG_DEBUG` sends all, `CODEX_LOG_ERROR` only errors, `CODEX_LOG_OFF` none), for the
/// whole process, from every client and pool. With no callback set, messages go to stderr at
/// the level named by the environment variable `CODEX_APP_SERVER_LOG` (`error`, `warn`, `info`
/// or `debug`; read once, when the library first starts something; unset: nothing).
///
/// `callback` NULL removes the current callback (back to the environment's level on stderr);
/// `userdata` is then released at once. Replacing or removing a callback while other threads
/// log is safe: when this returns, no call of the old callback is running or will start (it
/// waits for the running ones, unless called from inside the callback itself), and the old
/// `userdata_free` has run exactly once, after its last call (when called from inside the
/// callback: once that call returns).
///
/// What is logged: see `CODEX_LOG_ERROR` .. `CODEX_LOG_DEBUG`. Text of prompts and replies
/// never appears above `CODEX_LOG_DEBUG`; the auth token never appears. Logging that is off
/// costs one atomic load per message site.
///
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` for a `min_level` that is not a `CODEX_LOG_*` value
/// (the callback is then not taken, and `userdata` is released at once).
///
/// - **Threads:** any thread; the callback runs on whichever thread logs, on several at once (see
///   `codex_log_callback`).
/// - **Ownership:** the library owns `userdata` from now on and releases it with `userdata_free`
///   exactly once, after the last call (at once when this fails or `callback` is NULL).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (a `min_level` that is no `CODEX_LOG_*` value).
///
/// # Safety
/// `callback` and `userdata_free` NULL or callable from any thread, at once from several;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_set_log_callback(
    min_level: codex_log_level,
    callback: codex_log_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        install();
        let Some(level) = filter_of(min_level) else {
            super::callback::release(userdata, userdata_free);
            return Err(invalid(format!(
                "min_level: {min_level} is not CODEX_LOG_OFF (0) .. CODEX_LOG_DEBUG (4)"
            )));
        };
        let new = match callback {
            Some(call) => Some(Arc::new(Sink { call, userdata, userdata_free, level })),
            None => {
                super::callback::release(userdata, userdata_free);
                None
            }
        };
        let logger = &*LOGGER;
        let old = {
            let mut slot = logger.sink.write().unwrap_or_else(|p| p.into_inner());
            log::set_max_level(logger.max_level(new.as_deref()));
            std::mem::replace(&mut *slot, new)
        };
        if let Some(old) = old {
            if !IN_CALLBACK.with(Cell::get) {
                let mut calls = logger.calls.lock().unwrap_or_else(|p| p.into_inner());
                while Arc::strong_count(&old) > 1 {
                    calls = logger.call_ended.wait(calls).unwrap_or_else(|p| p.into_inner());
                }
            }
            drop(old); // userdata_free, unless a running call still holds it
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_levels() {
        assert_eq!(level_from_env("warn"), LevelFilter::Warn);
        assert_eq!(level_from_env(" DEBUG "), LevelFilter::Debug);
        assert_eq!(level_from_env("nonsense"), LevelFilter::Off);
        assert_eq!(filter_of(5), None);
        assert_eq!(filter_of(CODEX_LOG_INFO), Some(LevelFilter::Info));
    }
}
