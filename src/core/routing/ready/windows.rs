//! Windows: no event descriptor yet. A socket or event handle would not fit the `int` that
//! `codex_client_event_fd` returns, so the call is refused with a clear error; programs there
//! wait on turns from threads (`codex_turn_next_event`) or take callbacks.

use crate::core::error::{Error, Result};
use std::ffi::c_int;

pub enum Signal {}

impl Signal {
    pub fn new() -> Result<Signal> {
        Err(Error::invalid_argument(
            "codex_client_event_fd is not available on Windows yet: wait on turns from threads \
             (codex_turn_next_event) or use callbacks",
        ))
    }

    pub fn read_end(&self) -> c_int {
        match *self {}
    }

    pub fn raise(&self) {
        match *self {}
    }

    pub fn lower(&self) {
        match *self {}
    }
}
