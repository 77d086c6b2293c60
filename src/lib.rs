//! libcodex_app_server: a threaded client of OpenAI Codex's `codex app-server`
//! (JSON-RPC over the child's stdio, or over a WebSocket to a remote one) with a C ABI.
//!
//! `core` is safe Rust with no C types and can be tested without a process; `ffi` is the C ABI
//! over it (argument checks, panic boundary, result codes, ownership). The generated header is
//! `include/codex_app_server.h`.

pub mod core;
pub mod ffi;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
