//! `codex_options`: how a client is started.

use super::error::codex_error;
use super::{
    at_most, c_str, codex_result, free_handle, guard_result, handle, into_handle, invalid,
    opt_c_str, Handle, MAX_TIMEOUT_MS,
};
use crate::core::options::{Keepalive, Secret};
use crate::core::Options;
use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Duration;

/// Settings for `codex_client_start`. Create with `codex_options_new`, change with the
/// setters, free with `codex_options_free` (the client keeps its own copy, so the options may
/// be freed right after the start). Not thread-safe: use one options object from one thread
/// at a time.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_options {
    magic: u64,
    options: Options,
}

handle_type!(codex_options, 0x636f_6465_786f_7074);

pub(crate) unsafe fn options_of<'a>(
    ptr: *const codex_options,
) -> Result<&'a Options, crate::core::Error> {
    handle(ptr, "options").map(|o| &o.options)
}

/// Runs `change` on the options behind `opts`.
pub(crate) unsafe fn with_options(
    opts: *mut codex_options,
    err_out: *mut *mut codex_error,
    change: impl FnOnce(&mut Options) -> Result<(), crate::core::Error>,
) -> codex_result {
    guard_result(err_out, || handle(opts, "opts").and_then(|_| change(&mut (*opts).options)))
}

/// `ms` milliseconds, refused unless positive; `name` names the argument in the error.
fn positive_ms(name: &str, ms: i64) -> Result<Duration, crate::core::Error> {
    if ms <= 0 {
        return Err(invalid(format!("{name}: {ms} is not a positive number")));
    }
    Ok(Duration::from_millis(at_most(name, ms, MAX_TIMEOUT_MS)? as u64))
}

/// `ms` milliseconds, refused when negative (0 has a meaning of its own to the caller).
fn zero_or_positive_ms(name: &str, ms: i64) -> Result<Duration, crate::core::Error> {
    if ms < 0 {
        return Err(invalid(format!("{name}: {ms} is not 0 or a positive number")));
    }
    Ok(Duration::from_millis(at_most(name, ms, MAX_TIMEOUT_MS)? as u64))
}

/// The most callback worker threads a client may ask for.
pub const CODEX_MAX_CALLBACK_THREADS: usize = 1024;
/// The most events a client stream or a turn's buffer may be sized for.
pub const CODEX_MAX_BUFFERED_EVENTS: usize = 1 << 24;
/// The longest line (message) limit, in bytes (1 GiB).
pub const CODEX_MAX_LINE_BYTES: usize = 1 << 30;

/// New options with the defaults: spawn (`stdio://`) the codex binary from `$CODEX_BIN`, else
/// `codex` on PATH; client name "libcodex_app_server"; start timeout 15000 ms; request timeout
/// 120000 ms; client stream of 1024 events; for remote URLs a connect timeout of 10000 ms and a keepalive ping
/// every 30000 ms.
/// Free with `codex_options_free`.
///
/// - **Threads:** any thread.
/// - **Ownership:** the options are the caller's: free them with `codex_options_free` (a client
///   copies them at start).
/// - **Errors:** none: never NULL.
#[no_mangle]
pub extern "C" fn codex_options_new() -> *mut codex_options {
    into_handle(codex_options { magic: codex_options::MAGIC, options: Options::default() })
}

/// Frees options. NULL is ignored.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** releases `opts`; clients started from them are not affected.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `opts` must be NULL or options from `codex_options_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_options_free(opts: *mut codex_options) {
    super::guard_value((), || free_handle(opts))
}

/// The codex binary to run (a path; `PATH` is not searched for it).
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string `path`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `path` a NUL-terminated string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_codex_bin(
    opts: *mut codex_options,
    path: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let path = c_str(path, "path")?;
        if path.is_empty() {
            return Err(invalid("path: must not be empty".into()));
        }
        o.transport.codex_bin = Some(PathBuf::from(path));
        Ok(())
    })
}

/// Appends one argument placed before the `app-server` subcommand (for example `"-c"` then
/// `"model=\"o3\""`). See also `codex_options_add_config`.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string `arg`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `arg` a NUL-terminated string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_add_arg(
    opts: *mut codex_options,
    arg: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.transport.args.push(c_str(arg, "arg")?.to_owned());
        Ok(())
    })
}

/// Adds a config override `-c key=value` (value in TOML, e.g. `"model=\"o3\""`).
/// `CODEX_ERR_INVALID_ARGUMENT` when there is no `=` or the key is empty.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string, or one without `=` or with an empty key; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `key_value` a NUL-terminated string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_add_config(
    opts: *mut codex_options,
    key_value: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let kv = c_str(key_value, "key_value")?;
        match kv.split_once('=') {
            Some((key, _)) if !key.trim().is_empty() => {
                o.transport.args.push("-c".into());
                o.transport.args.push(kv.to_owned());
                Ok(())
            }
            _ => Err(invalid(format!("key_value: \"{kv}\" is not of the form key=value"))),
        }
    })
}

/// Sets (or, with `value` NULL, removes) an environment variable of the app-server process.
/// The rest of its environment is this process's.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string `name` (or an empty one, or one with `=`), a non-UTF-8 `value`; the options
///   are unchanged then.
///
/// # Safety
/// `opts` must be live options; `name` a NUL-terminated string; `value` NULL or one.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_env(
    opts: *mut codex_options,
    name: *const c_char,
    value: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let name = c_str(name, "name")?;
        if name.is_empty() || name.contains('=') {
            return Err(invalid(format!("name: \"{name}\" is not a valid variable name")));
        }
        let value = opt_c_str(value, "value")?.map(str::to_owned);
        o.transport.env.retain(|(n, _)| n != name);
        o.transport.env.push((name.to_owned(), value));
        Ok(())
    })
}

/// The working directory of the app-server process (default: this process's).
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string `dir`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `dir` a NUL-terminated string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_cwd(
    opts: *mut codex_options,
    dir: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.transport.cwd = Some(PathBuf::from(c_str(dir, "dir")?));
        Ok(())
    })
}

/// The `clientInfo` sent in `initialize`. `title` may be NULL.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a NULL or
///   non-UTF-8 string `name` or `version`, a non-UTF-8 `title`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `name` and `version` NUL-terminated strings; `title` NULL or one.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_client_info(
    opts: *mut codex_options,
    name: *const c_char,
    title: *const c_char,
    version: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let name = c_str(name, "name")?;
        if name.is_empty() {
            return Err(invalid("name: must not be empty".into()));
        }
        let title = opt_c_str(title, "title")?;
        let version = c_str(version, "version")?;
        o.client_name = name.to_owned();
        o.client_title = title.map(str::to_owned);
        o.client_version = version.to_owned();
        Ok(())
    })
}

/// Whether `initialize` asks for the experimental API (`capabilities.experimentalApi`).
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options; the options
///   are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_experimental_api(
    opts: *mut codex_options,
    enabled: bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.experimental_api = enabled;
        Ok(())
    })
}

/// The timeout of requests that pass `timeout_ms` 0 (and of the helpers): a positive number
/// of milliseconds (at most 2147483647, as every timeout), or -1 for no limit. Default 120000.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a value that
///   is neither positive nor -1; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_request_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.request_timeout = match timeout_ms {
            -1 => None,
            ms if ms > 0 => Some(positive_ms("timeout_ms", ms)?),
            ms => return Err(invalid(format!("timeout_ms: {ms} is not -1 or a positive number"))),
        };
        Ok(())
    })
}

/// The longest start accepted: an hour (beyond it a start is hung, not slow).
const MAX_START_TIMEOUT_MS: i64 = 3_600_000;

/// How long `codex_client_start` (and the start or restart of a pool member) may take, from
/// spawning or connecting to the server's answer to `initialize`, in milliseconds (1 to
/// 3600000, an hour; default 15000). A server that starts but never answers `initialize` (a
/// wedged process, a proxy that accepts and stalls) then fails the start with
/// `CODEX_ERR_TIMEOUT` saying so, instead of holding it for the request timeout. A remote
/// connect is also bounded by `codex_options_set_connect_timeout_ms`.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a value that
///   is not positive or over 3600000; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_start_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        if timeout_ms > MAX_START_TIMEOUT_MS {
            return Err(invalid(format!(
                "timeout_ms: {timeout_ms} is over {MAX_START_TIMEOUT_MS} (an hour)"
            )));
        }
        o.start_timeout = positive_ms("timeout_ms", timeout_ms)?;
        Ok(())
    })
}

/// How many events the client stream holds (default 1024, at least 1, at most
/// `CODEX_MAX_BUFFERED_EVENTS`). When it is full the
/// oldest are dropped; `codex_client_dropped_events` counts them.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a capacity
///   of 0 or above `CODEX_MAX_BUFFERED_EVENTS`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_client_event_capacity(
    opts: *mut codex_options,
    capacity: usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        if capacity == 0 {
            return Err(invalid("capacity: must be at least 1".into()));
        }
        o.client_stream_capacity = at_most("capacity", capacity, CODEX_MAX_BUFFERED_EVENTS)?;
        Ok(())
    })
}

/// The longest message accepted from the server, in bytes (default 67108864, 64 MiB; 0: no
/// limit; at most `CODEX_MAX_LINE_BYTES`, 1 GiB). Over stdio, a longer line is discarded as it streams in, never held in memory whole:
/// it is counted in `codex_client_skipped_lines` and reported on the client stream as a
/// `CODEX_EVENT_SKIPPED` event (method `codex/lineSkipped`) that names the limit; the
/// connection goes on. If the discarded message was a response, its caller times out; if it was
/// a turn's event, the turn misses it. Over a WebSocket (`ws://`, `wss://`, `unix://`) a
/// message over the limit is refused as soon as its frame header announces it (so it is never
/// buffered either), but the WebSocket library cannot skip it and go on: the connection is
/// closed (close code 1009) and every waiter and turn fails with `CODEX_ERR_TRANSPORT`, whose
/// message names the size and the limit.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, or
///   a value above `CODEX_MAX_LINE_BYTES`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_max_line_bytes(
    opts: *mut codex_options,
    max_bytes: usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.transport.max_line_bytes = at_most("max_bytes", max_bytes, CODEX_MAX_LINE_BYTES)?;
        Ok(())
    })
}

/// How many library threads run this client's callbacks (turns started with a callback, the
/// client's event callback and request handler): default the number of CPUs, at least 2;
/// at most `CODEX_MAX_CALLBACK_THREADS`; started on the first callback (if the system refuses
/// every one of them, each callback turn fails with `CODEX_ERR_INTERNAL` naming the cause,
/// and its callback is released). A slow callback holds one of them and delays only its own
/// stream; when every one is inside a slow callback, the other callback streams wait for one
/// to return.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `threads` is 0 or above
///   `CODEX_MAX_CALLBACK_THREADS`, or `opts` is NULL or not live options; the options are
///   unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_callback_threads(
    opts: *mut codex_options,
    threads: usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        if threads == 0 {
            return Err(invalid("threads: must be at least 1".into()));
        }
        o.callback_threads = at_most("threads", threads, CODEX_MAX_CALLBACK_THREADS)?;
        Ok(())
    })
}

/// How many unconsumed events a turn may buffer (default 65536; 0: no limit; at most
/// `CODEX_MAX_BUFFERED_EVENTS`). When a turn's
/// waiting events reach it, the library never drops silently: the turn fails with
/// `CODEX_ERR_OVERFLOW` naming the turn and the count, its buffered events are freed, the
/// library sends `turn/interrupt` for it, and its later events are discarded and counted
/// (`codex_turn_dropped_events`). Other turns are not affected.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, or
///   a value above `CODEX_MAX_BUFFERED_EVENTS`; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_turn_buffer_events(
    opts: *mut codex_options,
    max_events: usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.turn_buffer_events = at_most("max_events", max_events, CODEX_MAX_BUFFERED_EVENTS)?;
        Ok(())
    })
}

/// The timeout of `codex_turn_steer` and `codex_turn_interrupt`, in milliseconds (positive;
/// default 10000), independent of the request timeout: a user pressing "stop" expects an
/// answer in seconds, even from a server that stopped reading.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a value that
///   is not positive; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_control_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.control_timeout = positive_ms("timeout_ms", timeout_ms)?;
        Ok(())
    })
}

/// An idle watchdog for turns (default 0: off). A turn that receives no event for this many
/// milliseconds ends with `CODEX_ERR_TIMEOUT` and the library sends `turn/interrupt` for it;
/// its later events go to the client stream. The watchdog is checked while the turn is waited
/// on (`codex_turn_next_event`, `codex_turn_run`, or its callback thread, which always waits),
/// so a polled turn nobody waits on ends at its next wait.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a negative
///   value; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_turn_idle_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let timeout = zero_or_positive_ms("timeout_ms", timeout_ms)?;
        o.turn_idle_timeout = (!timeout.is_zero()).then_some(timeout);
        Ok(())
    })
}

/// How long a dropped `ws://`, `wss://` or `unix://` connection is made again before the client
/// fails, in milliseconds: 0 turns reconnecting off (a drop fails every turn and request with
/// `CODEX_ERR_TRANSPORT` at once); default 30000. A spawned server (`stdio://`) is never
/// reconnected: a dead child is dead.
///
/// Within the window the library connects again with backoff, sends `initialize`, and resumes
/// (`thread/resume`) every thread of the client (started, resumed or forked through it, and
/// every thread with a turn; `thread/unsubscribe` takes one off). A thread the server cannot
/// resume (one that never had a turn has nothing stored yet; an ephemeral one after a restart)
/// is reported `notResumed`, and a turn started on it fails with `CODEX_ERR_TRANSPORT` saying
/// so until the program resumes it. A turn still running goes on on the same
/// handle after one `CODEX_EVENT_GAP` event; a turn that ended meanwhile ends its handle with
/// the status and final answer of the snapshot (`codex_turn_result_gap` is true). Requests in
/// flight at the drop fail with `CODEX_ERR_TRANSPORT` (the message says the server may have
/// acted on them), and so do requests made before the connection is back ("not sent"). The
/// client stream gets `CODEX_EVENT_DISCONNECTED`, then `CODEX_EVENT_RECONNECTED`, or
/// `CODEX_EVENT_RECONNECT_FAILED` when the window runs out, after which everything fails as
/// without reconnecting, with that reason.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a negative
///   value; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_reconnect_window_ms(
    opts: *mut codex_options,
    window_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.reconnect_window = zero_or_positive_ms("window_ms", window_ms)?;
        Ok(())
    })
}

/// How long a server request (an approval, a question) waits for the program's answer before
/// the library answers it fail-closed (approvals declined, other requests a JSON-RPC error):
/// a positive number of milliseconds, or 0 to answer every request fail-closed at once without
/// asking the program. Default 300000 (5 minutes).
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a negative
///   value; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_server_request_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.server_request_timeout = zero_or_positive_ms("timeout_ms", timeout_ms)?;
        Ok(())
    })
}

/// Where the app-server is (the string is copied):
/// - `stdio://` (the default): spawn `codex app-server` and talk over its stdin/stdout;
/// - `ws://HOST:PORT[/path]`: a WebSocket to an app-server started with
///   `codex app-server --listen ws://IP:PORT` (the port defaults to 80); reach one on another
///   machine through an SSH port-forward, since the app-server binds loopback only;
/// - `wss://HOST[:PORT][/path]`: the same through TLS (for an app-server behind a TLS proxy);
///   servers are verified against the built-in webpki (Mozilla) roots plus
///   `codex_options_set_ca_file`;
/// - `unix:///absolute/path.sock`: the same WebSocket protocol over a Unix socket
///   (`codex app-server --listen unix:///path.sock`);
/// - `unix://` alone: the user's local app-server daemon (`codex app-server daemon start`),
///   whose socket is `$CODEX_HOME/app-server-control/app-server-control.sock`, CODEX_HOME
///   defaulting to `~/.codex`; resolved from this process's environment at
///   `codex_client_start`.
///
/// With a remote URL, `codex_client_start` connects (within `codex_options_set_connect_timeout_ms`)
/// instead of spawning, and `codex_client_server_pid` is 0. Settings for the other kind are
/// refused at `codex_client_start` with `CODEX_ERR_INVALID_ARGUMENT` rather than ignored: a
/// codex binary, arguments, config overrides, environment or working directory with a remote
/// URL (they would not reach the remote server); an auth token with `stdio://`; a CA file with
/// anything but `wss://`. Remote-only tuning (connect timeout, keepalive) is ignored by stdio.
///
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` naming the problem for a URL that is not one of the
/// above (no scheme, another scheme, no host, a bad port, a relative socket path, credentials
/// in the URL: use `codex_options_set_auth_token`, a `#fragment`); the options are unchanged then.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a URL that
///   is not one of the forms above; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `url` a NUL-terminated string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_url(
    opts: *mut codex_options,
    url: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.transport.endpoint = crate::core::transport::parse_url(c_str(url, "url")?)?;
        Ok(())
    })
}

/// The token sent to a remote app-server as `Authorization: Bearer <token>` in the WebSocket
/// upgrade (for `codex app-server --ws-auth capability-token`); NULL removes it. The token is
/// copied; it never appears in an error message or in debug output. A server that refuses it
/// fails `codex_client_start` with `CODEX_ERR_AUTH`. Refused at start with a `stdio://` URL.
///
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` for an empty token or one with characters an HTTP
/// header cannot carry (control characters, spaces, non-ASCII); the message does not quote it.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, an empty
///   token or one an HTTP header cannot carry; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `token` NULL or a NUL-terminated string; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_auth_token(
    opts: *mut codex_options,
    token: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let Some(token) = opt_c_str(token, "token")? else {
            o.transport.auth_token = None;
            return Ok(());
        };
        if token.is_empty() {
            return Err(invalid("token: must not be empty (pass NULL to remove it)".into()));
        }
        if let Some(at) = token.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(invalid(format!(
                "token: the character at byte {at} cannot be sent in an HTTP header (only \
                 visible ASCII can)"
            )));
        }
        o.transport.auth_token = Some(Secret::new(token.to_owned()));
        Ok(())
    })
}

/// A PEM file of CA certificates trusted for `wss://`, besides the built-in webpki roots: for
/// an app-server behind a TLS proxy with a private CA or a self-signed certificate. NULL
/// removes it. The file is read and checked now (and read again at each start).
///
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` naming the file when it cannot be read, is not PEM, or
/// holds no certificate.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** the string is copied: the caller keeps (and may free) what it passed.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a file that
///   cannot be read, is not PEM or holds no certificate; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `path` NULL or a NUL-terminated string; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_ca_file(
    opts: *mut codex_options,
    path: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        let Some(path) = opt_c_str(path, "path")? else {
            o.transport.ca_file = None;
            return Ok(());
        };
        let path = PathBuf::from(path);
        crate::core::transport::check_ca_file(&path)?;
        o.transport.ca_file = Some(path);
        Ok(())
    })
}

/// How long `codex_client_start` may take to reach a remote app-server: connecting, TLS and
/// the WebSocket upgrade together, in milliseconds (positive; default 10000). When it passes,
/// the start fails with `CODEX_ERR_TRANSPORT` naming the address. Ignored for `stdio://`.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a value that
///   is not positive; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_connect_timeout_ms(
    opts: *mut codex_options,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.transport.connect_timeout = positive_ms("timeout_ms", timeout_ms)?;
        Ok(())
    })
}

/// The keepalive of a remote connection: a WebSocket ping every `interval_ms` milliseconds,
/// and when nothing at all (no pong, no message) arrived for `interval_ms + timeout_ms`, the
/// connection is shut down and every waiter and turn fails with `CODEX_ERR_TRANSPORT`, whose
/// message says the keepalive gave up. `interval_ms` 0 turns it off (`timeout_ms` is then
/// ignored): a peer that vanishes without closing the connection is then only noticed when the
/// operating system gives up on it. Default: a ping every 30000 ms, 20000 ms to answer.
/// Ignored for `stdio://`.
///
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` for a negative interval, or a timeout that is not
/// positive while the interval is.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options, a negative
///   interval or a timeout that is not positive; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_keepalive_ms(
    opts: *mut codex_options,
    interval_ms: i64,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        if interval_ms < 0 {
            return Err(invalid(format!("interval_ms: {interval_ms} is negative")));
        }
        at_most("interval_ms", interval_ms, MAX_TIMEOUT_MS)?;
        // With the keepalive off the timeout is ignored, whatever it is.
        let timeout = if interval_ms > 0 {
            positive_ms("timeout_ms", timeout_ms)?
        } else {
            Duration::from_millis(timeout_ms.max(0) as u64)
        };
        o.transport.keepalive =
            Keepalive { interval: Duration::from_millis(interval_ms as u64), timeout };
        Ok(())
    })
}

/// Whether `initialize` declares the `requiredHumanApproval` capability (codex 0.171 and later;
/// default off, and then the capability is not sent at all). With it the server may ask
/// command approvals of kind `humanCommand` (`"kind"` in the request's params): a checkpoint
/// that needs a fresh human decision, for which only `CODEX_DECISION_ACCEPT`, `_DECLINE` and
/// `_CANCEL` are valid — `codex_request_approve` refuses `CODEX_DECISION_ACCEPT_FOR_SESSION`.
///
/// - **Threads:** exclusive on `opts` (one call at a time on the same options; different options
///   are independent).
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` when `opts` is NULL or not live options; the options
///   are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_required_human_approval(
    opts: *mut codex_options,
    enabled: bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        o.required_human_approval = enabled;
        Ok(())
    })
}
