//! C callbacks: a function pointer, the program's `userdata`, and its finalizer, turned into a
//! core `Callback`. Dropping it runs `userdata_free` — exactly once, after the last call.

use super::event::codex_event;
use crate::core::routing::dispatch::Callback;
use crate::core::Event;
use std::ffi::c_void;

/// Receives one event. `ev` is borrowed for the duration of the call only: copy what you need
/// (take a request handle with `codex_event_request` to answer later). Runs on a library thread,
/// never the stdout reader thread, with no internal lock held: it may call any function of this
/// library, including steer, interrupt, answering requests, starting turns, and freeing its own
/// turn. Events of one turn arrive in order, one call at a time; a slow callback delays only its
/// own stream.
pub type codex_event_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, ev: *const codex_event)>;

/// Releases `userdata`. Called exactly once, after the last call of its callback (or at once
/// when the function that took the callback fails). May be NULL.
pub type codex_userdata_free = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

struct CCallback {
    call: unsafe extern "C" fn(*mut c_void, *const codex_event),
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
}

// The program promises, by handing these to a callback API, that they may be used from a
// library thread.
unsafe impl Send for CCallback {}

impl Drop for CCallback {
    fn drop(&mut self) {
        if let Some(free) = self.userdata_free {
            unsafe { free(self.userdata) };
        }
    }
}

/// Releases the userdata of a callback that will never be called.
pub(crate) fn release(userdata: *mut c_void, userdata_free: codex_userdata_free) {
    if let Some(free) = userdata_free {
        unsafe { free(userdata) };
    }
}

/// A callback that must be given: `CODEX_ERR_INVALID_ARGUMENT` when `callback` is NULL (the
/// userdata is then released at once, as the header promises).
pub(crate) fn required(
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
) -> Result<Callback, crate::core::Error> {
    wrap(callback, userdata, userdata_free)
        .ok_or_else(|| crate::core::Error::invalid_argument("callback: is NULL"))
}

/// A core callback over the C one; `None` when `callback` is NULL (the userdata is then
/// released at once).
pub(crate) fn wrap(
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
) -> Option<Callback> {
    let Some(call) = callback else {
        release(userdata, userdata_free);
        return None;
    };
    let c = CCallback { call, userdata, userdata_free };
    Some(Box::new(move |event: Event| {
        let c = &c; // the whole struct moves into the closure, and is dropped with it
                    // A panic must not unwind into C, and a C callback cannot unwind into Rust.
        super::event::lend(event, |handle| unsafe { (c.call)(c.userdata, handle) });
    }))
}
